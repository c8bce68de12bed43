"""The staffing model's answer as tables: headcount, hiring, budget, funnel, revenue."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from optim.funnel import in_year_revenue_share
from optim.solver import Solution

if TYPE_CHECKING:
    from models.staffing import StaffingInputs, _Build


def staffing_frames(
    inputs: StaffingInputs, built: _Build, solution: Solution
) -> dict[str, pd.DataFrame]:
    """Every output table of a solved staffing model."""
    return {
        "headcount": _headcount(inputs, built, solution),
        "hiring": _hiring(inputs, built, solution),
        "budget": _budget(inputs, built, solution),
        "funnel": _funnel(inputs, built, solution),
        "revenue": _revenue(inputs, built, solution),
        "coverage_gaps": _coverage_gaps(inputs, built, solution),
    }


def _headcount(inputs: StaffingInputs, built: _Build, solution: Solution) -> pd.DataFrame:
    rows = []
    for (role_key, d, t), persons in built.persons.items():
        role = inputs.roles[role_key]
        effective = solution.value(built.effective_fte.get((role_key, d, t), 0))
        capacity = (role.hours_per_month or 0.0) * effective
        needed = solution.value(built.hours_needed.get((role_key, d, t), 0))
        shared = sum(
            solution.value(var)
            for (index, direction, month), var in built.alloc.items()
            if direction == d and month == t and inputs.pools[index][0] == role_key
        )
        rows.append(
            {
                "role": role_key,
                "direction": d,
                "month": t,
                "headcount": round(solution.value(persons)),
                "fte": solution.value(built.pay_fte[role_key, d, t]) + shared,
                "effective_fte": effective,
                "hours_capacity": capacity,
                "hours_needed": needed,
                "utilisation": needed / capacity if capacity > 1e-9 else 0.0,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values(["role", "direction", "month"], ignore_index=True)


def _hiring(inputs: StaffingInputs, built: _Build, solution: Solution) -> pd.DataFrame:
    rows = []
    for (role_key, d, t), var in built.hires.items():
        count = round(solution.value(var))
        if count <= 0:
            continue
        role = inputs.roles[role_key]
        rows.append(
            {
                "role": role_key,
                "direction": d,
                "start_month": t,
                "open_by_month": t - role.hire_lead_months,
                "hires": count,
                "kind": "new seat",
                "hiring_cost": count * role.hire_cost,
            }
        )
    for (role_key, d), count in inputs.openings.items():
        role = inputs.roles[role_key]
        rows.append(
            {
                "role": role_key,
                "direction": d,
                "start_month": min(1 + role.hire_lead_months, inputs.config.months),
                "open_by_month": 0,  # open today
                "hires": count,
                "kind": "open position",
                "hiring_cost": 0.0,
            }
        )
    for (role_key, d, t), var in built.cuts.items():
        count = round(solution.value(var))
        if count > 0:
            rows.append(
                {
                    "role": role_key,
                    "direction": d,
                    "start_month": t,
                    "open_by_month": t,
                    "hires": -count,
                    "kind": "reduction",
                    "hiring_cost": 0.0,
                }
            )
    # Expected backfills for attrition, per role and direction over the year.
    for (role_key, d, _t), pay in built.pay_fte.items():
        role = inputs.roles[role_key]
        if role.attrition_monthly <= 0:
            continue
        rows.append(
            {
                "role": role_key,
                "direction": d,
                "start_month": 0,
                "open_by_month": 0,
                "hires": role.attrition_monthly * solution.value(pay),
                "kind": "expected backfill",
                "hiring_cost": role.attrition_monthly * solution.value(pay) * role.hire_cost,
            }
        )
    columns = ["role", "direction", "start_month", "open_by_month", "hires", "kind", "hiring_cost"]
    frame = pd.DataFrame(rows, columns=columns)
    backfill = frame["kind"] == "expected backfill"
    summed = (
        frame[backfill]
        .groupby(["role", "direction", "kind"], as_index=False)[["hires", "hiring_cost"]]
        .sum()
        .assign(start_month=1, open_by_month=1)
    )
    summed = summed[summed["hires"] > 1e-9]
    frame = pd.concat([frame[~backfill], summed[columns]], ignore_index=True)
    return frame.sort_values(["kind", "role", "direction", "start_month"], ignore_index=True)


def _budget(inputs: StaffingInputs, built: _Build, solution: Solution) -> pd.DataFrame:
    rows = []
    pool_cost: dict[tuple[str, str], float] = {}
    for role_key, directions, fte, _ in inputs.pools:
        label = ";".join(directions)  # people shared by these directions
        key = (role_key, label)
        pool_cost[key] = pool_cost.get(key, 0.0) + inputs.roles[role_key].monthly_cost * fte
    for (role_key, d, t), payroll in built.payroll.items():
        pay = solution.value(payroll)
        hiring = solution.value(built.hiring_cost[role_key, d, t])
        rows.append((role_key, d, t, pay, hiring))
    for (role_key, label), monthly in pool_cost.items():
        for t in inputs.months:
            rows.append((role_key, label, t, monthly, 0.0))
    frame = pd.DataFrame(
        rows, columns=["role", "direction", "month", "payroll_cost", "hiring_cost"]
    )
    frame["total_cost"] = frame["payroll_cost"] + frame["hiring_cost"]
    return frame.sort_values(["role", "direction", "month"], ignore_index=True)


def _funnel(inputs: StaffingInputs, built: _Build, solution: Solution) -> pd.DataFrame:
    config = inputs.config
    columns = [
        "direction", "segment", "month", "researched_contacts", "dials", "conversations",
        "meetings", "opportunities", "wins", "new_revenue_in_year", "hunter_hours",
        "telesales_hours", "assistant_hours",
    ]  # fmt: skip
    unit = inputs.unit
    if unit is None or config.funnel is None:
        return pd.DataFrame(columns=columns)
    cycle = config.funnel.cycle_months
    spread = max(cycle, 1)
    meetings = {key: solution.value(var) for key, var in built.meetings.items()}
    rows = []
    for segment_key, d in sorted(inputs.pursued):
        segment = config.segments[segment_key]
        for t in inputs.months:
            meet = meetings.get((segment_key, d, t), 0.0)
            won = meetings.get((segment_key, d, t - cycle), 0.0)
            wins = segment.win_rate * unit.opportunities * won
            rows.append(
                {
                    "direction": d,
                    "segment": segment_key,
                    "month": t,
                    "researched_contacts": unit.researched_contacts * meet,
                    "dials": unit.dials * meet,
                    "conversations": unit.conversations * meet,
                    "meetings": meet,
                    "opportunities": unit.opportunities * meet,
                    "wins": wins,
                    "new_revenue_in_year": wins
                    * segment.avg_deal
                    * in_year_revenue_share(t, config.months),
                    "hunter_hours": unit.hunter_hours_meeting * meet
                    + unit.hunter_hours_opportunity
                    / spread
                    * sum(
                        meetings.get((segment_key, d, k), 0.0) for k in range(t - spread + 1, t + 1)
                    ),
                    "telesales_hours": unit.telesales_hours * meet,
                    "assistant_hours": unit.assistant_hours * meet,
                }
            )
    frame = pd.DataFrame(rows, columns=columns)
    return frame


def _revenue(inputs: StaffingInputs, built: _Build, solution: Solution) -> pd.DataFrame:
    rows = []
    for d in inputs.config.directions:
        lost = solution.value(built.coverage_loss[d])
        base = inputs.base_revenue[d] - lost
        new = solution.value(built.new_revenue[d])
        total = base + new
        rows.append(
            {
                "direction": d,
                "target": inputs.target[d],
                "base_revenue": base,
                "coverage_gap_loss": lost,
                "new_business_revenue": new,
                "total_revenue": total,
                "shortfall": max(0.0, inputs.target[d] - total),
            }
        )
    return pd.DataFrame(rows)


def _coverage_gaps(inputs: StaffingInputs, built: _Build, solution: Solution) -> pd.DataFrame:
    """Clients left without their coverage in a month, and the revenue that costs."""
    loss = {
        (r.role, r.direction, r.month, r.segment, r.status): r.loss_per_client
        for r in inputs.existing.itertuples(index=False)
    }
    rows = []
    for key, var in built.uncovered.items():
        count = solution.value(var)
        if count > 1e-6:
            role, direction, month, segment, status = key
            rows.append((role, direction, month, segment, status, count, count * loss[key]))
    columns = [
        "role", "direction", "month", "segment", "status", "uncovered_clients", "lost_revenue",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["role", "direction", "month", "segment"], ignore_index=True)
