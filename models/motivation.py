"""Motivation: each role's KPI weights, and what the variable pay they set will cost.

A role's variable pay is split over a few KPIs it controls. The plan says how much it cares
about each KPI (`motivation.kpis.<kpi>.priority`) and the scenario how much each role drives
each KPI (`motivation.controllability`); their product, normalised per role, is the role's
*ideal* split. The model chooses weights as close to that ideal as the rules allow: multiples
of `weight_step`, each at least `min_weight`, at most `max_kpis` per role, adding up to 1, and
never a KPI the role does not control (hunters are not paid on existing clients' volume). The
expected variable pay of all roles at those weights stays within `variable_budget`.

A role's variable pay at 100% attainment is its fte-months x `monthly_cost` x `variable_share`
(`monthly_cost` is the fully loaded monthly cost, variable pay at target included).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pandas as pd
import pulp

from models.motivation_payout import attainment_law, expected_payout_factor
from models.motivation_report import (
    Answer,
    Weights,
    error_result,
    infeasible_budget_result,
    solved_result,
    step_problem_result,
)
from optim.result import ModelResult, Status
from optim.schema import ROLE_KEYS, MissingSectionError, Motivation, ScenarioConfig
from optim.solver import ConstraintGroup, LinearModel, Solution, SolveOptions, solve

MODEL = "motivation"
# A later lexicographic stage keeps an earlier stage's optimum within this relative tolerance.
_KEEP_TOLERANCE = 1e-6
_ON_GRID = 1e-9  # how far from a multiple of weight_step still counts as on it


def headcount_from_team(config: ScenarioConfig, team: pd.DataFrame) -> pd.DataFrame:
    """Today's team as a headcount table of the staffing model's shape, constant over the year.

    One row per role x direction (as team.csv writes it, empty for "any") x month with the
    people in post and their fte. Open positions (an empty name) count from month
    1 + the role's `hire_lead_months`, as in the staffing model.
    """
    rows = []
    lead = {key: role.hire_lead_months for key, role in config.roles.items()}
    for person in team.itertuples(index=False):
        is_open = not str(person.name).strip()
        start = 1 + lead.get(str(person.role), 0) if is_open else 1
        for month in range(start, config.months + 1):
            rows.append((person.role, person.direction, month, 1, float(person.fte)))
    frame = pd.DataFrame(rows, columns=["role", "direction", "month", "headcount", "fte"])
    return (
        frame.groupby(["role", "direction", "month"], as_index=False)[["headcount", "fte"]]
        .sum()
        .sort_values(["role", "direction", "month"], ignore_index=True)
    )


def role_pay(config: ScenarioConfig, headcount: pd.DataFrame) -> pd.DataFrame:
    """Per role: people, fte-months and variable pay at 100% attainment.

    `people` is the role's headcount summed over directions and averaged over the months,
    rounded (at least 1 when it has any fte); the payout simulation draws that many people.
    """
    missing = {"role", "month", "fte"} - set(headcount.columns)
    if missing:
        raise ValueError(f"headcount needs the columns {', '.join(sorted(missing))}")
    counted = "headcount" if "headcount" in headcount.columns else "fte"
    by_role = headcount.groupby("role").agg(fte_months=("fte", "sum"), counted=(counted, "sum"))
    rows = []
    for role_key, figures in by_role.iterrows():
        role = config.require_role(str(role_key), why="motivation prices its variable pay")
        fte_months = float(figures["fte_months"])
        people = round(float(figures["counted"]) / config.months)
        rows.append(
            {
                "role": str(role_key),
                "people": max(people, 1) if fte_months > 0 else 0,
                "fte_months": fte_months,
                "monthly_cost": role.monthly_cost,
                "variable_share": role.variable_share,
                "target_variable_pay": fte_months * role.monthly_cost * role.variable_share,
            }
        )
    columns = [
        "role", "people", "fte_months", "monthly_cost", "variable_share", "target_variable_pay",
    ]  # fmt: skip
    order = {key: i for i, key in enumerate(ROLE_KEYS)}
    rows.sort(key=lambda row: order.get(str(row["role"]), len(order)))
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class RoleKpis:
    """A role's KPIs that may carry weight, with their ideal split (priority x control)."""

    role: str
    ideal: dict[str, float]  # eligible KPI -> ideal weight; the weights add up to 1
    control_only: bool = False  # the plan gives none of its KPIs priority: control alone


def role_kpis(motivation: Motivation) -> tuple[list[RoleKpis], list[str]]:
    """Eligible KPIs and ideal weights per role, and the roles that control no KPI.

    A KPI is eligible for a role when the role controls it (controllability > 0) and the plan
    gives it priority; its ideal weight is priority x control over the role's total. When the
    plan gives none of a role's controlled KPIs any priority, control alone sets the ideal.
    """
    order = {key: i for i, key in enumerate(ROLE_KEYS)}
    names = sorted(motivation.controllability, key=lambda r: (order.get(r, len(order)), r))
    roles, empty = [], []
    for role in names:
        control = motivation.controllability[role]
        unknown = sorted(set(control) - set(motivation.kpis))
        if unknown:
            raise ValueError(
                f"motivation.controllability.{role} names {', '.join(unknown)}, "
                "which motivation.kpis does not list"
            )
        controlled = {k: control[k] for k in motivation.kpis if control.get(k, 0.0) > 0}
        score = {k: motivation.kpis[k].priority * c for k, c in controlled.items()}
        if not controlled:
            empty.append(role)
        elif sum(score.values()) > 0:
            total = sum(score.values())
            roles.append(RoleKpis(role, {k: s / total for k, s in score.items() if s > 0}))
        else:
            total = sum(controlled.values())
            roles.append(RoleKpis(role, {k: c / total for k, c in controlled.items()}, True))
    return roles, empty


def weight_grid(motivation: Motivation) -> tuple[int, int]:
    """Steps in a weight of 1, and the fewest steps a paid KPI takes (min_weight rounded up)."""
    grid = round(1.0 / motivation.weight_step)
    least = max(1, math.ceil(motivation.min_weight * grid - _ON_GRID))
    return grid, least


def step_divides_one(motivation: Motivation) -> bool:
    """Whether weights in multiples of weight_step can add up to exactly 1."""
    steps = 1.0 / motivation.weight_step
    return abs(steps - round(steps)) <= _ON_GRID * steps


# ----- the model ----------------------------------------------------------------------------
_GROUPS = (
    ConstraintGroup("weights_sum_to_one", "{role}'s KPI weights add up to 1"),
    ConstraintGroup("only_used_kpis", "{role} is paid on {kpi} only if it is one of its KPIs"),
    ConstraintGroup("min_weight", "{role}'s weight on {kpi}, if paid, is at least min_weight"),
    ConstraintGroup("max_kpis", "{role} is paid on at most max_kpis KPIs"),
    ConstraintGroup("distance_to_ideal", "how far {role}'s weight on {kpi} is from its ideal"),
    ConstraintGroup("spread_like_ideal", "{role}'s weight on {kpi} over its ideal, at most"),
    ConstraintGroup(
        "variable_budget", "expected variable pay of all roles within the budget of {budget:,.0f}"
    ),
    ConstraintGroup("keeps_earlier_stage", "keeps the {stage} the earlier stage reached"),
)


@dataclass
class _Build:
    """The weights model and the expressions its stages optimise."""

    model: LinearModel
    step: float
    steps: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)
    distance: list[pulp.LpVariable] = field(default_factory=list)
    spread: list[pulp.LpVariable] = field(default_factory=list)
    alignment: list[pulp.LpAffineExpression] = field(default_factory=list)
    cost: list[pulp.LpAffineExpression] = field(default_factory=list)

    def weights(self, solution: Solution) -> Weights:
        chosen: Weights = {}
        for (role, kpi), steps in self.steps.items():
            count = round(solution.value(steps))
            if count:
                chosen.setdefault(role, {})[kpi] = round(count * self.step, 12)
        return chosen


def _build(
    motivation: Motivation,
    roles: Sequence[RoleKpis],
    target: dict[str, float],
    factor: dict[str, float],
    *,
    budget: float | None,
) -> _Build:
    """Integer steps per role x eligible KPI, a "paid on it" binary, distances to the ideal."""
    grid, least = weight_grid(motivation)
    built = _Build(LinearModel(MODEL, sense="min"), step=1.0 / grid)
    model, step = built.model, built.step
    for group in _GROUPS:
        model.group(group)
    for entry in roles:
        role = entry.role
        used = {}
        # The largest weight / ideal ratio of the role: the lower, the more like the ideal.
        ratio = model.var("largest_ratio_to_ideal")
        built.spread.append(ratio)
        best_score = max(motivation.kpis[k].priority for k in entry.ideal) or 1.0
        for kpi, ideal in entry.ideal.items():
            labels = {"role": role, "kpi": kpi}
            steps = model.var(f"steps_{role}_{kpi}", ub=grid, integer=True)
            used[kpi] = model.var(f"paid_{role}_{kpi}", ub=1, integer=True)
            gap = model.var(f"gap_{role}_{kpi}")
            built.steps[role, kpi] = steps
            built.distance.append(gap)
            model.add("only_used_kpis", labels, steps <= grid * used[kpi])
            model.add("min_weight", labels, steps >= least * used[kpi])
            model.add("distance_to_ideal", labels, gap >= step * steps - ideal)
            model.add("distance_to_ideal", labels, gap >= ideal - step * steps)
            model.add("spread_like_ideal", labels, step * steps <= ideal * ratio)
            priority = motivation.kpis[kpi].priority / best_score
            built.alignment.append(priority * step * steps)
            built.cost.append(target.get(role, 0.0) * factor[kpi] * step * steps)
        paid = [built.steps[role, k] for k in used]
        model.add("weights_sum_to_one", {"role": role}, pulp.lpSum(paid) == grid)
        model.add("max_kpis", {"role": role}, pulp.lpSum(used.values()) <= motivation.max_kpis)
    if budget is not None:
        scale = max(budget, 1.0)  # the row in budget units keeps its coefficients near 1
        total = pulp.lpSum(built.cost) * (1.0 / scale)
        model.add("variable_budget", {"budget": budget}, total <= budget / scale)
    return built


def _lexicographic(
    built: _Build,
    stages: Sequence[tuple[str, pulp.LpAffineExpression]],
    options: SolveOptions,
    deadline: float,
) -> tuple[Solution, dict[str, float]]:
    """Minimise the stages in order, each keeping the optimum of the ones before.

    Returns the last solution and each stage's optimum, stopping at the first stage without a
    solution. The status is FEASIBLE when any stage stopped at its time limit.
    """
    model = built.model
    reached: dict[str, float] = {}
    status, seconds = Status.OPTIMAL, 0.0
    solution: Solution | None = None
    for index, (stage, expression) in enumerate(stages):
        if index:
            earlier, before = stages[index - 1]
            best = reached[earlier]
            bound = best + _KEEP_TOLERANCE * max(1.0, abs(best))
            model.add("keeps_earlier_stage", {"stage": earlier}, before <= bound)
        model.set_objective(expression)
        left = max(1.0, deadline - time.perf_counter())
        solution = solve(model, replace(options, time_limit=left))
        seconds += solution.seconds
        if not solution.status.has_solution:
            return replace(solution, seconds=seconds), reached
        if solution.status is Status.FEASIBLE:
            status = Status.FEASIBLE
        reached[stage] = solution.value(expression)
    assert solution is not None
    return replace(solution, status=status, seconds=seconds), reached


def closest_weights(
    motivation: Motivation,
    roles: Sequence[RoleKpis],
    target: dict[str, float],
    factor: dict[str, float],
    *,
    budget: float | None,
    options: SolveOptions,
    deadline: float,
) -> tuple[Solution, dict[str, float], Weights]:
    """Weights closest to the ideal (L1), then spread most like it, then most aligned."""
    built = _build(motivation, roles, target, factor, budget=budget)
    stages = [
        ("distance from the ideal weights", pulp.lpSum(built.distance)),
        ("largest weight-to-ideal ratio", pulp.lpSum(built.spread)),
        ("alignment with the plan's priorities", -pulp.lpSum(built.alignment)),
    ]
    solution, reached = _lexicographic(built, stages, options, deadline)
    return solution, reached, built.weights(solution)


def cheapest_weights(
    motivation: Motivation,
    roles: Sequence[RoleKpis],
    target: dict[str, float],
    factor: dict[str, float],
    *,
    options: SolveOptions,
    deadline: float,
) -> tuple[Solution, Weights]:
    """The valid weights of least expected cost (the closest to the ideal among those)."""
    built = _build(motivation, roles, target, factor, budget=None)
    stages = [
        ("expected variable pay", pulp.lpSum(built.cost)),
        ("distance from the ideal weights", pulp.lpSum(built.distance)),
    ]
    solution, _ = _lexicographic(built, stages, options, deadline)
    return solution, built.weights(solution)


# ----- the entry point ----------------------------------------------------------------------
def solve_motivation(
    config: ScenarioConfig, headcount: pd.DataFrame, *, options: SolveOptions
) -> ModelResult:
    """Choose every role's KPI weights and price them at the expected and 90th-percentile payout.

    `headcount` is the staffing model's `headcount` table, or `headcount_from_team`'s.
    """
    motivation = config.motivation
    if motivation is None:
        raise MissingSectionError("motivation", "the motivation model chooses KPI weights from it")
    started = time.perf_counter()
    deadline = started + options.time_limit
    pay = role_pay(config, headcount)
    roles, empty = role_kpis(motivation)
    if not step_divides_one(motivation):
        return step_problem_result(config, seconds=time.perf_counter() - started)
    factor = {
        kpi: expected_payout_factor(attainment_law(motivation, kpi), motivation.payout)
        for kpi in motivation.kpis
    }
    target = dict(zip(pay["role"], pay["target_variable_pay"], strict=True))
    budget = motivation.variable_budget
    if not roles:
        nothing = Solution(Status.OPTIMAL, 0.0, 0.0, 0.0, "none (no role controls a KPI)")
        answer = Answer(config, pay, roles, empty, factor, {}, {})
        return solved_result(answer, nothing, seed=options.seed, seconds=0.0)
    solution, reached, weights = closest_weights(
        motivation, roles, target, factor, budget=budget, options=options, deadline=deadline
    )
    if solution.status is Status.INFEASIBLE and budget is not None:
        cheapest, least = cheapest_weights(
            motivation, roles, target, factor, options=options, deadline=deadline
        )
        if cheapest.status.has_solution:
            _, _, closest = closest_weights(
                motivation, roles, target, factor, budget=None, options=options, deadline=deadline
            )
            answer = Answer(config, pay, roles, empty, factor, least, closest)
            seconds = time.perf_counter() - started
            return infeasible_budget_result(answer, solver=cheapest.solver, seconds=seconds)
    if not solution.status.has_solution:
        return error_result(solution, seconds=time.perf_counter() - started)
    without_budget = weights
    if budget is not None:  # to tell whether the budget moved any weight
        free, _, without_budget = closest_weights(
            motivation, roles, target, factor, budget=None, options=options, deadline=deadline
        )
        solution = replace(solution, seconds=solution.seconds + free.seconds)
    answer = Answer(config, pay, roles, empty, factor, weights, without_budget, reached)
    result = solved_result(answer, solution, seed=options.seed, seconds=0.0)
    return replace(result, solve_seconds=time.perf_counter() - started)
