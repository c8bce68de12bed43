"""The motivation model's answer as tables and sentences: weights with their reasons, payouts.

Kept apart from the model (models/motivation.py) as staffing keeps its tables apart: the model
decides, this module says what was decided and why, and runs the payout simulation on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models.motivation_payout import attainment_law, kpi_payout_table, simulate_role_cost
from optim.result import Explanation, ModelResult, Relaxation, Status
from optim.schema import ScenarioConfig

if TYPE_CHECKING:
    from models.motivation import RoleKpis
    from optim.solver import Solution

Weights = dict[str, dict[str, float]]  # role -> KPI -> weight (only the KPIs it is paid on)

MODEL = "motivation"
P90 = 0.9
_SAME = 1e-9  # weights closer than this are the same weight


@dataclass(frozen=True)
class Answer:
    """What the model found, with what a report needs to explain it."""

    config: ScenarioConfig
    pay: pd.DataFrame  # models.motivation.role_pay
    roles: list[RoleKpis]
    empty: list[str]  # roles that control none of the KPIs
    factor: dict[str, float]  # KPI -> expected payout factor
    weights: Weights
    without_budget: Weights  # the closest weights with no budget (equal when it does not bind)
    reached: dict[str, float] = field(default_factory=dict)  # stage -> optimum

    @property
    def target(self) -> dict[str, float]:
        return dict(zip(self.pay["role"], self.pay["target_variable_pay"], strict=True))

    def expected_cost(self, weights: Weights) -> float:
        target = self.target
        return sum(
            target.get(role, 0.0) * sum(w * self.factor[k] for k, w in split.items())
            for role, split in weights.items()
        )


# ----- results ------------------------------------------------------------------------------
def solved_result(answer: Answer, solution: Solution, *, seed: int, seconds: float) -> ModelResult:
    """Weights, payouts and the explanation of a solved model."""
    config = answer.config
    motivation = config.motivation
    assert motivation is not None
    simulation_started = time.perf_counter()
    payout, samples = _payout_table(answer, seed=seed)
    simulation_seconds = time.perf_counter() - simulation_started
    total = samples.sum(axis=0) if len(samples) else np.zeros(1)
    expected = answer.expected_cost(answer.weights)
    breakdown = {
        "variable pay at 100% attainment": float(answer.pay["target_variable_pay"].sum()),
        "expected variable pay": expected,
        "90th percentile of variable pay": float(np.quantile(total, P90)),
    }
    budget = motivation.variable_budget
    if budget is not None:
        breakdown["variable budget"] = budget
    within = f" of the {budget:,.0f} budget" if budget is not None else " (no budget set)"
    headline = (
        f"Motivation: {solution.status.value}; {len(answer.weights)} roles weighted; expected "
        f"variable pay {expected:,.0f} {config.currency}{within}, 90th percentile "
        f"{breakdown['90th percentile of variable pay']:,.0f}"
    )
    notes = [_role_sentence(answer, entry, payout) for entry in answer.roles]
    notes += _general_notes(answer)
    # The objective in points of pay (%) away from the ideal, summed over roles: 0 = ideal.
    points = 100.0 * answer.reached.get("distance from the ideal weights", 0.0)
    return ModelResult(
        model=MODEL,
        status=solution.status,
        objective=points,
        bound=points if solution.status is Status.OPTIMAL else None,
        solve_seconds=seconds,
        solver=solution.solver,
        frames={
            "motivation": _weights_table(answer),
            "motivation_roles": _roles_table(answer),
            "payout": payout,
            "kpi_payout": kpi_payout_table(motivation),
        },
        explanation=Explanation(headline, breakdown, notes=tuple(notes)),
        sense="min",
        details={
            "stages": answer.reached,
            "expected_payout_factor": answer.factor,
            "solver_seconds": solution.seconds,
            "simulation_seconds": simulation_seconds,
        },
    )


def infeasible_budget_result(answer: Answer, *, solver: str, seconds: float) -> ModelResult:
    """No valid weights keep the expected pay within the budget: what budget would."""
    motivation = answer.config.motivation
    assert motivation is not None and motivation.variable_budget is not None
    budget = motivation.variable_budget
    # Whole currency units, rounded up (after dropping float noise below a cent).
    least = float(np.ceil(round(answer.expected_cost(answer.weights), 2)))
    closest = float(np.ceil(round(answer.expected_cost(answer.without_budget), 2)))
    relaxations = [
        Relaxation(
            "motivation.variable_budget",
            budget,
            least,
            f"variable_budget {budget:,.0f} -> {least:,.0f}: the least expected variable pay "
            "of any valid weights",
        )
    ]
    if closest > least:
        relaxations.append(
            Relaxation(
                "motivation.variable_budget",
                budget,
                closest,
                f"variable_budget {budget:,.0f} -> {closest:,.0f}: every role keeps the weights "
                "closest to the plan's priorities",
            )
        )
    headline = (
        f"Motivation: infeasible; the variable budget {budget:,.0f} is below the least expected "
        f"variable pay of any valid weights, {least:,.0f} {answer.config.currency}"
    )
    notes = _general_notes(answer)
    return ModelResult(
        MODEL,
        Status.INFEASIBLE,
        None,
        None,
        seconds,
        solver,
        {},
        Explanation(headline, relaxations=tuple(relaxations), notes=tuple(notes)),
        details={"least_expected_cost": least, "closest_weights_cost": closest},
    )


def step_problem_result(config: ScenarioConfig, *, seconds: float) -> ModelResult:
    """weight_step does not divide 1: no weights can add up to exactly 1."""
    motivation = config.motivation
    assert motivation is not None
    step = motivation.weight_step
    steps = 1.0 / step
    options = sorted({1.0 / np.floor(steps), 1.0 / np.ceil(steps)}, reverse=True)
    relaxations = tuple(
        Relaxation(
            "motivation.weight_step",
            step,
            float(nearer),
            f"weight_step {step:g} -> {nearer:.6g}: {round(1 / nearer)} steps make exactly 1",
        )
        for nearer in options
    )
    headline = (
        f"Motivation: infeasible; weights in multiples of weight_step {step:g} cannot add up "
        "to exactly 1, for any role"
    )
    return ModelResult(
        MODEL,
        Status.INFEASIBLE,
        None,
        None,
        seconds,
        "none (the rules were checked before solving)",
        {},
        Explanation(headline, relaxations=relaxations),
    )


def error_result(solution: Solution, *, seconds: float) -> ModelResult:
    headline = f"Motivation: {solution.status.value} ({solution.message})"
    return ModelResult(
        MODEL, solution.status, None, None, seconds, solution.solver, {}, Explanation(headline)
    )


# ----- tables -------------------------------------------------------------------------------
def _weights_table(answer: Answer) -> pd.DataFrame:
    """One row per role that has controllability x KPI of the catalogue."""
    motivation = answer.config.motivation
    assert motivation is not None
    rows = []
    by_role = {entry.role: entry for entry in answer.roles}
    for role in [*(e.role for e in answer.roles), *answer.empty]:
        control = motivation.controllability[role]
        entry = by_role.get(role)
        for kpi, spec in motivation.kpis.items():
            ideal = entry.ideal.get(kpi, 0.0) if entry else 0.0
            weight = answer.weights.get(role, {}).get(kpi, 0.0)
            rows.append(
                {
                    "role": role,
                    "kpi": kpi,
                    "weight": weight,
                    "priority": spec.priority,
                    "controllability": control.get(kpi, 0.0),
                    "ideal_weight": ideal,
                    "reason": _kpi_reason(answer, role, kpi, entry),
                }
            )
    columns = ["role", "kpi", "weight", "priority", "controllability", "ideal_weight", "reason"]
    return pd.DataFrame(rows, columns=columns)


def _roles_table(answer: Answer) -> pd.DataFrame:
    """Per role: its weights in one line, how much of its pay sits where the ideal puts it."""
    rows = []
    for entry in answer.roles:
        weights = answer.weights.get(entry.role, {})
        rows.append(
            {
                "role": entry.role,
                "weights": ", ".join(f"{k} {w:g}" for k, w in weights.items()),
                "kpis_paid": len(weights),
                "alignment_share": _overlap(weights, entry.ideal),
                "binding_limits": ", ".join(_binding_limits(answer, entry)) or "none",
            }
        )
    columns = ["role", "weights", "kpis_paid", "alignment_share", "binding_limits"]
    return pd.DataFrame(rows, columns=columns)


def _payout_table(answer: Answer, *, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Per role: pay at target, expected and 90th-percentile cost; and the simulated totals."""
    motivation = answer.config.motivation
    assert motivation is not None
    laws = {kpi: attainment_law(motivation, kpi) for kpi in motivation.kpis}
    samples = motivation.attainment.samples
    rows, draws = [], []
    for person in answer.pay.itertuples(index=False):
        role = str(person.role)
        weights = answer.weights.get(role)
        if not weights:
            rows.append(_unweighted_payout_row(answer, person))
            continue
        target = float(person.target_variable_pay)
        simulated = simulate_role_cost(
            weights,
            laws,
            motivation.payout,
            people=int(person.people),
            target_variable_pay=target,
            samples=samples,
            seed=seed,
            role=role,
        )
        draws.append(simulated)
        factor = sum(w * answer.factor[k] for k, w in weights.items())
        rows.append(
            {
                "role": role,
                "people": int(person.people),
                "fte_months": float(person.fte_months),
                "target_variable_pay": target,
                "expected_payout_factor": factor,
                "expected_cost": target * factor,
                "p90_cost": float(np.quantile(simulated, P90)),
                "simulated_mean_cost": float(simulated.mean()),
                "note": "",
            }
        )
    columns = [
        "role", "people", "fte_months", "target_variable_pay", "expected_payout_factor",
        "expected_cost", "p90_cost", "simulated_mean_cost", "note",
    ]  # fmt: skip
    stacked = np.vstack(draws) if draws else np.zeros((0, samples))
    return pd.DataFrame(rows, columns=columns), stacked


def _unweighted_payout_row(answer: Answer, person: object) -> dict[str, object]:
    role = str(person.role)  # type: ignore[attr-defined]
    return {
        "role": role,
        "people": int(person.people),  # type: ignore[attr-defined]
        "fte_months": float(person.fte_months),  # type: ignore[attr-defined]
        "target_variable_pay": float(person.target_variable_pay),  # type: ignore[attr-defined]
        "expected_payout_factor": np.nan,
        "expected_cost": np.nan,
        "p90_cost": np.nan,
        "simulated_mean_cost": np.nan,
        "note": f"{role} controls none of the KPIs: its variable pay is not planned here",
    }


# ----- sentences ----------------------------------------------------------------------------
def _overlap(weights: dict[str, float], ideal: dict[str, float]) -> float:
    """Share of the pay that sits where the ideal puts it: sum of min(weight, ideal)."""
    return sum(min(weights.get(k, 0.0), share) for k, share in ideal.items())


def _least_weight(answer: Answer) -> float:
    from models.motivation import weight_grid

    motivation = answer.config.motivation
    assert motivation is not None
    grid, least = weight_grid(motivation)
    return least / grid


def _binding_limits(answer: Answer, entry: RoleKpis) -> list[str]:
    """The rules that keep the role's weights off its ideal, in the words of the scenario."""
    motivation = answer.config.motivation
    assert motivation is not None
    least = _least_weight(answer)
    grid = round(1.0 / motivation.weight_step)
    limits = []
    if len(entry.ideal) > motivation.max_kpis:
        limits.append("max_kpis")
    if any(share < least - _SAME for share in entry.ideal.values()):
        limits.append("min_weight")
    if any(abs(share * grid - round(share * grid)) > _SAME for share in entry.ideal.values()):
        limits.append("step rounding")
    if _moved_by_budget(answer, entry.role):
        limits.append("variable_budget")
    return limits


def _moved_by_budget(answer: Answer, role: str) -> bool:
    mine, free = answer.weights.get(role, {}), answer.without_budget.get(role, {})
    return any(abs(mine.get(k, 0.0) - free.get(k, 0.0)) > _SAME for k in {*mine, *free})


def _kpi_reason(answer: Answer, role: str, kpi: str, entry: RoleKpis | None) -> str:
    motivation = answer.config.motivation
    assert motivation is not None
    control = motivation.controllability[role]
    priority = motivation.kpis[kpi].priority
    if kpi not in control:
        return f"not paid: no controllability of {role} over {kpi} is given (read as 0)"
    if control[kpi] <= 0:
        return f"not paid: {role} does not control {kpi} (controllability 0)"
    if entry is None or kpi not in entry.ideal:
        return f"not paid: the plan gives {kpi} priority 0"
    ideal = entry.ideal[kpi]
    weight = answer.weights.get(role, {}).get(kpi, 0.0)
    free = answer.without_budget.get(role, {}).get(kpi, 0.0)
    source = (
        f"control {control[kpi]:g} alone"
        if entry.control_only
        else f"priority {priority:g} x control {control[kpi]:g}"
    )
    why = f"ideal {ideal:.3f} from {source}"
    least = _least_weight(answer)
    if weight > 0:
        if abs(weight - ideal) <= _SAME:
            said = f"paid at its ideal weight ({why})"
        elif ideal < least - _SAME and abs(weight - least) <= _SAME:
            said = f"raised to min_weight {least:g} ({why})"
        elif weight > ideal and len(answer.weights.get(role, {})) < len(entry.ideal):
            said = f"above its ideal: takes up the weight of the KPIs left out ({why})"
        elif weight > ideal:
            said = f"above its ideal: rounded to weight_step {motivation.weight_step:g} ({why})"
        else:
            said = f"below its ideal: rounded to weight_step {motivation.weight_step:g} ({why})"
    else:
        rank = sorted(entry.ideal.values(), reverse=True).index(ideal) + 1
        if ideal < least - _SAME:
            said = f"dropped: below min_weight {least:g} ({why})"
        elif rank > motivation.max_kpis:
            said = f"dropped: max_kpis {motivation.max_kpis} keeps KPIs of higher ideal ({why})"
        else:
            said = f"dropped: the weights are closer to the ideal without it ({why})"
    if abs(weight - free) > _SAME:
        said += f"; without the variable budget it would weigh {free:g}"
    return said


def _role_sentence(answer: Answer, entry: RoleKpis, payout: pd.DataFrame) -> str:
    motivation = answer.config.motivation
    assert motivation is not None
    role = entry.role
    weights = answer.weights.get(role, {})
    control = motivation.controllability[role]
    paid = ", ".join(f"{k} {w:g}" for k, w in weights.items())
    top = max(entry.ideal, key=lambda k: entry.ideal[k])
    if entry.control_only:
        driver = (
            f"the plan gives none of its KPIs priority, so control alone sets its ideal; "
            f"{top} leads with control {control[top]:g}"
        )
    else:
        driver = (
            f"driven by {top} (priority {motivation.kpis[top].priority:g} x control "
            f"{control[top]:g} = {entry.ideal[top]:.0%} of its ideal)"
        )
    limits = _binding_limits(answer, entry)
    bound = "binding: " + ", ".join(limits) if limits else "no limit binds: weights = ideal"
    uncontrolled = [k for k in motivation.kpis if control.get(k, 0.0) <= 0]
    never = f"; never paid on {', '.join(uncontrolled)} (not controlled)" if uncontrolled else ""
    share = _overlap(weights, entry.ideal)
    sentence = (
        f"{role}: {paid}; {driver}; {bound}{never}; {share:.0%} of its pay sits where the "
        "ideal puts it"
    )
    row = payout[payout["role"] == role]
    if len(row) and row["people"].iloc[0] > 0:
        figures = row.iloc[0]
        sentence += (
            f". Expected cost {figures['expected_cost']:,.0f} "
            f"({figures['expected_payout_factor']:.1%} of {figures['target_variable_pay']:,.0f} "
            f"at target), 90th percentile {figures['p90_cost']:,.0f}"
        )
    else:
        sentence += ". No people of this role in the headcount, so no cost"
    return sentence


def _general_notes(answer: Answer) -> list[str]:
    motivation = answer.config.motivation
    assert motivation is not None
    notes = []
    for role in answer.empty:
        notes.append(f"{role} controls none of the KPIs: it gets no weights")
    in_headcount = set(answer.pay["role"])
    weighted = {e.role for e in answer.roles} | set(answer.empty)
    for role in sorted(in_headcount - weighted):
        notes.append(f"{role} has no motivation.controllability: it gets no weights")
    least = _least_weight(answer)
    if least > motivation.min_weight + _SAME:
        notes.append(
            f"min_weight {motivation.min_weight:g} is not a multiple of weight_step "
            f"{motivation.weight_step:g}: the smallest weight paid is {least:g}"
        )
    factors = {round(f, 9) for f in answer.factor.values()}
    if len(factors) == 1 and motivation.variable_budget is not None:
        (factor,) = factors
        notes.append(
            f"every KPI pays {factor:.1%} of target on average, so the weights do not change the "
            "expected cost: the budget holds for all valid weights or for none"
        )
    if motivation.variable_budget is None:
        notes.append("no motivation.variable_budget: the expected cost is reported, not capped")
    elif answer.weights != answer.without_budget:
        free = answer.expected_cost(answer.without_budget)
        notes.append(
            f"the variable budget binds: the weights closest to the plan's priorities would "
            f"cost {free:,.0f}, {free - motivation.variable_budget:,.0f} over budget"
        )
    notes.append(
        f"payout: nothing below {motivation.payout.threshold:g} attainment, the attainment up "
        f"to 100%, slope {motivation.payout.accelerator:g} above, capped at "
        f"{motivation.payout.cap:g}; each person draws each KPI's attainment independently "
        f"({motivation.attainment.samples:,} samples), and a role's 90th percentile is that "
        "of the sum over its people"
    )
    return notes
