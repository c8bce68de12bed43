"""The quota model's output: frames with audit columns, the identity checks, the explanation.

Frames (money in the scenario's currency, to the cent):
- `quotas`: one row per person x month (rep_id, name, role, direction, month, quota, ramp).
- `quota_people`: one row per person: the annual quota and why (shares, stretch, the bound
  that binds, a `reason` sentence), with the unhedged layer and the hedge buffer.
- `quota_directions`: one row per direction: annual quota, plan share, pins, stretch, and one
  column per month (`month_1` ...).
- `quota_checks`: every identity of the cascade, with expected, actual and difference.
- `quota_conflicts` (infeasible runs only): the pins and bounds that cannot hold together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.quota_checks import check_table
from models.quota_months import Months
from models.quota_pins import Conflict, growth_factor, money
from optim.result import Explanation, Marginal, ModelResult, Status
from optim.solver import Solution, SolveOptions

if TYPE_CHECKING:
    from models.quota import QuotaInputs

# A bound "binds" when the person's fair quota at the common stretch is beyond it by more than
# this many cents (less is rounding).
BINDS_BEYOND_CENTS = 1.0
NAMES_IN_A_NOTE = 5


@dataclass(frozen=True)
class Split:
    """The solved cascade: people's annual quotas, directions, months, stretch per direction."""

    frame: pd.DataFrame  # the prepared people (see models.quota.fair_shares)
    annual_cents: np.ndarray
    directions: dict[str, int]
    levels: dict[str, float]  # common stretch of each direction's free people
    deviations: dict[str, float]  # the LP's least largest deviation per direction
    months: Months
    unhedged_directions: dict[str, int]  # the same cascade of the target without the hedge
    unhedged_people: np.ndarray


# ----- solved -----------------------------------------------------------------------------------
def solved_result(
    inputs: QuotaInputs,
    split: Split,
    solution: Solution,
    binding: tuple[Marginal, ...],
    size: dict[str, int],
    seconds: float,
) -> ModelResult:
    people = people_table(inputs, split)
    checks = check_table(inputs, split)
    frames = {
        "quotas": month_table(inputs, split),
        "quota_people": people,
        "quota_directions": direction_table(inputs, split),
        "quota_checks": checks,
    }
    explanation = _explain(inputs, split, people, checks, solution, binding)
    return ModelResult(
        model="quota",
        status=solution.status,
        objective=solution.objective,
        bound=solution.bound,
        solve_seconds=solution.seconds,
        solver=solution.solver,
        frames=frames,
        explanation=explanation,
        sense="min",
        details={
            "size": size,
            "total_seconds": round(seconds, 4),
            "identities": len(checks),
            "identities_hold": bool(checks["ok"].all()),
        },
    )


def month_table(inputs: QuotaInputs, split: Split) -> pd.DataFrame:
    frame = split.frame
    months = inputs.config.months
    productivity = np.divide(
        inputs.phasing,
        inputs.seasonality[None, :],
        out=np.zeros_like(inputs.phasing),
        where=inputs.seasonality[None, :] > 0,
    )
    repeat = np.repeat(np.arange(len(frame)), months)
    table = frame.iloc[repeat][["rep_id", "name", "role", "direction"]].reset_index(drop=True)
    table["month"] = np.tile(np.arange(1, months + 1), len(frame))
    table["quota"] = split.months.people.reshape(-1) / 100
    table["ramp"] = productivity.reshape(-1)
    return table


def people_table(inputs: QuotaInputs, split: Split) -> pd.DataFrame:
    frame = split.frame
    cents = split.annual_cents
    unhedged = split.unhedged_people
    direction_cents = frame["direction"].map(split.directions).to_numpy(dtype=float)
    level = frame["direction"].map(split.levels).fillna(1.0).to_numpy(dtype=float)
    fair = frame["fair_cents"].to_numpy(dtype=float)
    rly = frame["revenue_last_year"].to_numpy(dtype=float)
    table = frame[["rep_id", "name", "role", "direction", "start_month", "new_hire", "fte"]].copy()
    table["quota"] = cents / 100
    table["unhedged_quota"] = unhedged / 100
    table["hedge_buffer"] = (cents - unhedged) / 100
    table["share_of_direction"] = np.divide(
        cents, direction_cents, out=np.zeros(len(cents)), where=direction_cents > 0
    )
    table["fair_share"] = frame["fair_share"]
    table["fair_quota"] = fair / 100
    table["stretch"] = np.divide(cents, fair, out=np.full(len(cents), np.nan), where=fair > 0)
    table["common_stretch"] = level
    for column in (
        "potential",
        "potential_share",
        "capacity_hours",
        "capacity_share",
        "ramp_share",
    ):
        table[column] = frame[column]
    table["revenue_last_year"] = rly
    table["growth"] = (
        np.divide(cents / 100, rly, out=np.full(len(cents), np.nan), where=rly > 0) - 1
    )
    table["floor"] = frame["floor_cents"] / 100
    table["cap"] = frame["cap_cents"] / 100
    table["pinned"] = frame["pinned"]
    table["bound"] = pd.Series(_bounds(frame, cents, level), index=table.index, dtype=str)
    reasons = [_reason(inputs, row) for row in table.itertuples(index=False)]
    table["reason"] = pd.Series(reasons, index=table.index, dtype=str)
    return table


def _bounds(frame: pd.DataFrame, cents: np.ndarray, level: np.ndarray) -> list[str]:
    wanted = level * frame["fair_cents"].to_numpy(dtype=float)
    floor = frame["floor_cents"].to_numpy(dtype=float)
    cap = frame["cap_cents"].to_numpy(dtype=float)
    bounds = []
    for i, (pinned, ramp, fair) in enumerate(
        zip(frame["pinned"], frame["ramp_share"], frame["fair_cents"], strict=True)
    ):
        if pinned:
            bounds.append("pin")
        elif ramp <= 0:
            bounds.append("not in post")
        elif fair <= 0:
            bounds.append("no fair share")
        elif cents[i] == floor[i] and floor[i] > wanted[i] + BINDS_BEYOND_CENTS:
            bounds.append("growth_floor")
        elif cents[i] == cap[i] and cap[i] < wanted[i] - BINDS_BEYOND_CENTS:
            bounds.append("growth_cap")
        else:
            bounds.append("")
    return bounds


def _reason(inputs: QuotaInputs, row: Any) -> str:
    config = inputs.config
    who = f"{row.name} ({row.rep_id})" if str(row.name).strip() else str(row.rep_id)
    head = (
        f"{who}, {row.role} in {row.direction}: {row.quota:,.2f} = "
        f"{row.share_of_direction:.1%} of {row.direction}"
    )
    if row.bound == "pin":
        return f"{head}, pinned by the analyst; the rest of {row.direction} is rebalanced around it"
    if row.bound == "not in post":
        return f"{head}: starts in month {row.start_month}, after the plan's {config.months} months"
    time = ""
    if row.start_month > 1:
        time = (
            f", over {row.ramp_share:.0%} of a full year at full pace (in post from month "
            f"{row.start_month}{', ramping up' if row.new_hire else ''})"
        )
    fair = (
        f"fair share {row.fair_share:.1%} from {row.potential_share:.1%} of its potential and "
        f"{row.capacity_share:.1%} of its hours{time}"
    )
    if row.bound == "no fair share":
        return f"{head}: no potential and no hours, so its quota is its growth floor"
    growth = (
        f"{row.growth:+.1%} on last year's {row.revenue_last_year:,.0f}"
        if row.revenue_last_year > 0
        else "no revenue last year"
    )
    settings = config.quota
    if row.bound == "growth_floor":
        why = (
            f"held up by its growth floor (last year x ({growth_factor(settings.growth_floor)})): "
            f"stretch {row.stretch:.2f} against {row.direction}'s common {row.common_stretch:.2f}"
        )
    elif row.bound == "growth_cap":
        why = (
            f"held down by its growth cap (last year x ({growth_factor(settings.growth_cap)})): "
            f"stretch {row.stretch:.2f} against {row.direction}'s common {row.common_stretch:.2f}"
        )
    else:
        why = f"stretch {row.stretch:.2f}, {row.direction}'s common stretch"
    return f"{head}; {fair}; {why}; {growth}"


def direction_table(inputs: QuotaInputs, split: Split) -> pd.DataFrame:
    config = inputs.config
    people = split.frame
    unhedged = split.unhedged_directions
    company = inputs.company_cents
    members = people.groupby("direction", sort=False).indices
    free = ~people["fixed"].to_numpy()
    fair = people["fair_cents"].to_numpy()
    potential = people["potential"].to_numpy()
    last_year = people["revenue_last_year"].to_numpy()
    rows = []
    for index, direction in enumerate(split.directions):
        crew = members.get(direction, np.array([], dtype=int))
        cents = split.directions[direction]
        free_crew = crew[free[crew]]
        stretch = split.annual_cents[free_crew] / fair[free_crew]
        row = {
            "direction": direction,
            "plan_share": config.direction_share(direction),
            "plan_quota": company * config.direction_share(direction) / 100,
            "pinned": direction in inputs.pins.directions,
            "quota": cents / 100,
            "unhedged_quota": unhedged[direction] / 100,
            "hedge_buffer": (cents - unhedged[direction]) / 100,
            "share_of_company": cents / company if company else 0.0,
            "people": len(crew),
            "potential": float(potential[crew].sum()),
            "revenue_last_year": float(last_year[crew].sum()),
            "common_stretch": split.levels.get(direction, np.nan),
            "stretch_spread": float(stretch.max() - stretch.min()) if len(stretch) else 0.0,
            "largest_deviation": split.deviations.get(direction, 0.0),
            "follows_seasonality": split.months.seasonal[direction],
        }
        for month, value in enumerate(split.months.directions[index], start=1):
            row[f"month_{month}"] = value / 100
        rows.append(row)
    return pd.DataFrame(rows)


# ----- explanation ------------------------------------------------------------------------------
def _explain(
    inputs: QuotaInputs,
    split: Split,
    people: pd.DataFrame,
    checks: pd.DataFrame,
    solution: Solution,
    binding: tuple[Marginal, ...],
) -> Explanation:
    config = inputs.config
    plan = config.plan
    assert plan is not None
    worst = max(split.deviations.items(), key=lambda item: item[1], default=("", 0.0))
    headline = (
        f"Quota: {solution.status.value}; {money(inputs.company_cents)} {config.currency} "
        f"(target {money(inputs.unhedged_cents)} x (1 + {plan.quota_hedge:.1%} hedge)) cascaded "
        f"to {len(split.directions)} directions, {len(people)} people and {config.months} months"
    )
    if worst[0]:
        headline += f"; largest stretch deviation {worst[1] * 100:.1f} points ({worst[0]})"
    breakdown = {
        "company quota": inputs.company_cents / 100,
        "revenue target": inputs.unhedged_cents / 100,
        "hedge buffer": (inputs.company_cents - inputs.unhedged_cents) / 100,
    }
    breakdown.update({f"{d} quota": c / 100 for d, c in split.directions.items()})
    crews = dict(iter(people.groupby("direction", sort=False)))
    notes = [_direction_note(d, split, crews.get(d, people.iloc[:0])) for d in split.directions]
    if inputs.pins.people or inputs.pins.directions:
        pins = {**inputs.pins.directions, **inputs.pins.people}
        listed = ", ".join(f"{k} = {money(v)}" for k, v in pins.items())
        notes.append(f"pins held: {listed}; everyone else rebalanced around them")
    for direction, seasonal in split.months.seasonal.items():
        if not seasonal:
            notes.append(
                f"{direction}'s months follow its people's start months and ramp, not the plan's "
                "seasonality: the people in post in its early months cannot carry them (nobody "
                "carries quota before they start)"
            )
    failed = int((~checks["ok"]).sum())
    notes.append(
        f"all {len(checks):,} identities hold to the cent (quota_checks)"
        if not failed
        else f"{failed} of {len(checks):,} identities fail (quota_checks): this is a bug"
    )
    return Explanation(headline, breakdown, binding, notes=tuple(notes))


def _direction_note(direction: str, split: Split, crew: pd.DataFrame) -> str:
    note = f"{direction}: {money(split.directions[direction])} over {len(crew)} people"
    if direction in split.levels:
        note += (
            f"; common stretch {split.levels[direction]:.2f}, largest deviation "
            f"{split.deviations[direction] * 100:.1f} points"
        )
    for bound, label in (
        ("growth_floor", "held up by their growth floor"),
        ("growth_cap", "held down by their growth cap"),
        ("pin", "pinned"),
        ("not in post", "not in post this plan"),
    ):
        ids = list(crew.loc[crew["bound"] == bound, "rep_id"])
        if ids:
            shown = ", ".join(ids[:NAMES_IN_A_NOTE])
            more = f" and {len(ids) - NAMES_IN_A_NOTE} more" if len(ids) > NAMES_IN_A_NOTE else ""
            note += f"; {label}: {shown}{more}"
    return note


# ----- infeasible -------------------------------------------------------------------------------
def infeasible_result(
    inputs: QuotaInputs,
    conflicts: list[Conflict],
    options: SolveOptions,
    seconds: float,
    *,
    solution: Solution | None = None,
) -> ModelResult:
    """The pins (and bounds) that cannot hold, by how much, and what would make them fit."""
    table = pd.DataFrame(
        {
            "level": [c.level for c in conflicts],
            "node": [c.node for c in conflicts],
            "pins": [", ".join(c.pins) for c in conflicts],
            "gap": [c.gap_cents / 100 for c in conflicts],
            "sentence": [c.sentence for c in conflicts],
        }
    )
    if solution is not None:
        status, solver, message = solution.status, solution.solver, solution.message
        headline = f"Quota: {status.value} ({message})"
    else:
        status, solver = Status.INFEASIBLE, options.label
        named = sorted({p for c in conflicts for p in c.pins})
        headline = (
            f"Quota: infeasible; {len(conflicts)} conflict(s)"
            + (f" among the pins {', '.join(named)}" if named else "")
            + f": {conflicts[0].sentence}"
        )
    return ModelResult(
        model="quota",
        status=status,
        objective=None,
        bound=None,
        solve_seconds=seconds,
        solver=solver,
        frames={"quota_conflicts": table},
        explanation=Explanation(
            headline,
            relaxations=tuple(r for c in conflicts for r in c.relaxations),
            notes=tuple(c.sentence for c in conflicts),
        ),
        sense="min",
    )
