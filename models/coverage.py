"""Coverage: which role looks after each client segment and status, and which prospects to hunt.

For every segment x status of existing clients the model picks one option: key-account
managers, account managers, telesales-only (remote) coverage, or no coverage. Covering a client
keeps more of its revenue (retention) and grows it (growth); it costs the people whose hours
the service takes, counted in whole people per direction for the dedicated roles. New clients
stay with their hunter until `coverage.handoff_months` (the hand-off rule) and then follow the
choice made for active clients of their segment. For prospects, the model decides how many of
each segment hunters pursue, from the value of a won client against the funnel work it takes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pulp

from optim.funnel import per_meeting
from optim.result import Explanation, ModelResult
from optim.roles import availability, hourly_cost
from optim.schema import NO_COVERAGE, ScenarioConfig, Segment
from optim.solver import ConstraintGroup, LinearModel, SolveOptions, marginal_values, solve

FARMER_ROLES = ("key_account_manager", "account_manager")
REMOTE = "telesales"
SERVED_STATUSES = ("active", "key")


def option_rates(segment: Segment, option: str) -> tuple[float, float]:
    """Retention and growth of a segment's clients under a coverage option."""
    if option == NO_COVERAGE:
        return segment.retention.uncovered, segment.growth.uncovered
    if option == REMOTE:
        return segment.retention.remote_or_midpoint(), segment.growth.remote_or_midpoint()
    return segment.retention.covered, segment.growth.covered


def revenue_factor(segment: Segment, option: str) -> float:
    """Share of last year's revenue a client brings this year under an option: kept x grown."""
    retention, growth = option_rates(segment, option)
    return retention * (1.0 + growth)


def expected_revenue(revenue_last_year: float, segment: Segment, option: str) -> float:
    """Expected in-year revenue of clients under a coverage option."""
    return revenue_last_year * revenue_factor(segment, option)


def kept_share(
    config: ScenarioConfig, segment_key: str, status: str, chosen: dict[tuple[str, str], str]
) -> float:
    """`revenue_factor` of a segment x status under the chosen coverage; today's new clients are
    with their hunter (covered) for the rest of the hand-off period, then as active clients."""
    segment = config.segments[segment_key]
    if status != "new":
        return revenue_factor(segment, chosen.get((segment_key, status), NO_COVERAGE))
    with_hunter = handoff_share(config)
    after = chosen.get((segment_key, "active"), NO_COVERAGE)
    return with_hunter * revenue_factor(segment, "hunter") + (1 - with_hunter) * revenue_factor(
        segment, after
    )


def handoff_share(config: ScenarioConfig) -> float:
    """Average share of the year a client who is `new` today still spends with its hunter.

    Today's new clients were won evenly over the last `handoff_months`, so on average half the
    hand-off period is still ahead of them.
    """
    return min(1.0, config.coverage.handoff_months / 2.0 / config.months)


def options_for(config: ScenarioConfig, status: str) -> tuple[str, ...]:
    """Coverage options open to a status: allowed by the scenario and staffed by a known role."""
    allowed: tuple[str, ...] = config.coverage.allowed.get(status, (NO_COVERAGE,))  # type: ignore[call-overload]
    usable = []
    for option in allowed:
        if option == NO_COVERAGE:
            usable.append(option)
            continue
        role = config.roles.get(option)
        if role is not None and role.hours_per_month:
            usable.append(option)
    return tuple(usable) or (NO_COVERAGE,)


def _cells(config: ScenarioConfig, clients: pd.DataFrame) -> pd.DataFrame:
    """Existing clients by segment x status x direction with counts, revenue and service hours."""
    served = clients[clients["status"].isin(("new", *SERVED_STATUSES))]
    cells = (
        served.groupby(["segment", "status", "direction"], observed=True)
        .agg(clients=("client_id", "size"), revenue_last_year=("revenue_last_year", "sum"))
        .reset_index()
    )
    hours = cells["segment"].map({k: s.service_hours_per_year for k, s in config.segments.items()})
    cells["service_hours"] = hours.astype(float) * cells["clients"] * config.months / 12.0
    return cells


def solve_coverage(
    config: ScenarioConfig, clients: pd.DataFrame, *, options: SolveOptions
) -> ModelResult:
    """Choose the coverage of every segment x status and the prospects to pursue."""
    cells = _cells(config, clients)
    model = LinearModel("coverage", sense="max")
    model.group(ConstraintGroup("one_option", "{segment} {status} clients get exactly one option"))
    model.group(
        ConstraintGroup(
            "hours_per_person",
            "{role} people in {direction} must have the hours their clients need",
            marginal="one more {role} in {direction} would be worth {value} a year",
            unit="person",
            per_unit=lambda labels: labels["annual_hours"],
        )
    )
    model.group(
        ConstraintGroup(
            "clients_per_person",
            "{role} in {direction} carry at most coverage.max_clients clients each",
            marginal="one more client allowed per {role} in {direction} would be worth {value}",
            unit="client",
        )
    )

    statuses = [s for s in SERVED_STATUSES if s in set(cells["status"])]
    segments = sorted(set(cells["segment"]))
    choice: dict[tuple[str, str, str], pulp.LpVariable] = {}
    for segment in segments:
        for status in statuses:
            if cells[(cells["segment"] == segment) & (cells["status"] == status)].empty:
                continue
            opts = options_for(config, status)
            for option in opts:
                choice[segment, status, option] = model.var("cover", integer=True, ub=1)
            model.add(
                "one_option",
                {"segment": segment, "status": status},
                pulp.lpSum(choice[segment, status, o] for o in opts) == 1,
            )

    # Today's new clients follow their segment's active choice once handed off.
    follow = 1.0 - handoff_share(config)
    revenue_terms = []
    hours: dict[tuple[str, str], list] = {}
    counts: dict[tuple[str, str], list] = {}
    for row in cells.itertuples(index=False):
        status = row.status if row.status != "new" else "active"
        weight = 1.0 if row.status != "new" else follow
        segment = config.segments[row.segment]
        for option in options_for(config, status):
            var = choice.get((row.segment, status, option))
            if var is None:
                continue
            gain = expected_revenue(row.revenue_last_year, segment, option)
            revenue_terms.append(weight * gain * var)
            if option != NO_COVERAGE:
                key = (option, row.direction)
                hours.setdefault(key, []).append(weight * row.service_hours * var)
                counts.setdefault(key, []).append(weight * row.clients * var)

    cost_terms = []
    people: dict[tuple[str, str], pulp.LpVariable] = {}
    for (role_key, direction), hour_terms in sorted(hours.items()):
        role = config.roles[role_key]
        annual_hours = (role.hours_per_month or 0.0) * availability(role) * config.months
        if role_key in FARMER_ROLES:
            person = model.var("people", integer=True)
            people[role_key, direction] = person
            cost_terms.append(role.monthly_cost * config.months * person)
            labels = {"role": role_key, "direction": direction, "annual_hours": annual_hours}
            model.add("hours_per_person", labels, annual_hours * person >= pulp.lpSum(hour_terms))
            cap = config.coverage.max_clients.get(role_key)
            if cap:
                model.add(
                    "clients_per_person",
                    {"role": role_key, "direction": direction},
                    cap * person >= pulp.lpSum(counts[role_key, direction]),
                )
        else:  # remote coverage shares telesales with the funnel: priced by the hour
            cost_terms.append(hourly_cost(role) * pulp.lpSum(hour_terms))

    prospects = _prospect_economics(config, clients)
    value_of_prospects = float(prospects["pursued_value"].sum()) if len(prospects) else 0.0
    model.set_objective(pulp.lpSum(revenue_terms) - pulp.lpSum(cost_terms))

    solution = solve(model, options)
    if not solution.status.has_solution:
        return ModelResult(
            "coverage",
            solution.status,
            None,
            None,
            solution.seconds,
            solution.solver,
            {},
            Explanation(f"Coverage: {solution.status.value} ({solution.message})"),
            sense="max",
        )

    chosen = {
        (segment, status): option
        for (segment, status, option), var in choice.items()
        if solution.value(var) > 0.5
    }
    table = _coverage_table(config, cells, chosen, people, solution)
    marginals = marginal_values(model, solution, options, groups=["clients_per_person"])
    payroll = sum(solution.value(t) for t in cost_terms)
    breakdown = {
        "expected revenue of existing clients": sum(solution.value(t) for t in revenue_terms),
        "cost of the people who cover them": payroll,
        "first-year value of prospects worth pursuing": value_of_prospects,
    }
    headline = (
        f"Coverage: {solution.status.value}; existing clients bring "
        f"{breakdown['expected revenue of existing clients']:,.0f} {config.currency} for "
        f"{payroll:,.0f} of coverage cost"
    )
    notes = tuple(table["reason"]) + tuple(prospects["reason"].drop_duplicates())
    return ModelResult(
        model="coverage",
        status=solution.status,
        objective=solution.objective,
        bound=solution.bound,
        solve_seconds=solution.seconds,
        solver=solution.solver,
        frames={"coverage": table, "prospects": prospects},
        explanation=Explanation(headline, breakdown, marginals, notes=notes),
        sense="max",
        details={"size": model.size()},
    )


def _coverage_table(
    config: ScenarioConfig,
    cells: pd.DataFrame,
    chosen: dict[tuple[str, str], str],
    people: dict[tuple[str, str], pulp.LpVariable],
    solution: object,
) -> pd.DataFrame:
    rows = []
    by_cell = cells.groupby(["segment", "status"], observed=True)[
        ["clients", "revenue_last_year", "service_hours"]
    ].sum()
    for (segment_key, status), figures in by_cell.iterrows():
        hours = float(figures.service_hours)
        if status == "new":
            after = chosen.get((segment_key, "active"), NO_COVERAGE)
            covered_by = f"hunter, then {after}"
            with_hunter = handoff_share(config)
            hours *= with_hunter + (1 - with_hunter) * (after != NO_COVERAGE)
            reason = (
                f"{segment_key} new clients stay with their hunter for "
                f"{config.coverage.handoff_months} months after the win (hand-off rule), "
                f"then go to {after}"
            )
        else:
            covered_by = chosen[segment_key, status]
            reason = _reason(config, segment_key, status, covered_by, figures)
        expected = figures.revenue_last_year * kept_share(config, segment_key, status, chosen)
        rows.append(
            {
                "segment": segment_key,
                "status": status,
                "covered_by": covered_by,
                "clients": int(figures.clients),
                "revenue_last_year": float(figures.revenue_last_year),
                "expected_revenue": float(expected),
                "service_hours": hours if covered_by != NO_COVERAGE else 0.0,
                "reason": reason,
            }
        )
    columns = [
        "segment", "status", "covered_by", "clients", "revenue_last_year", "expected_revenue",
        "service_hours", "reason",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _reason(
    config: ScenarioConfig, segment_key: str, status: str, option: str, figures: pd.Series
) -> str:
    """Why this option: what it keeps against the alternatives, and what it costs per hour."""
    segment = config.segments[segment_key]
    revenue = float(figures.revenue_last_year)
    kept = expected_revenue(revenue, segment, option)
    others = [o for o in options_for(config, status) if o != option]
    parts = [
        f"{segment_key} {status} clients ({int(figures.clients)}, {revenue:,.0f} last year) "
        f"go to {option}: expected {kept:,.0f}"
    ]
    if option != NO_COVERAGE:
        role = config.roles[option]
        parts.append(f"for {figures.service_hours:,.0f} h at {hourly_cost(role):,.0f}/h")
    for other in others:
        other_kept = expected_revenue(revenue, segment, other)
        other_cost = (
            0.0
            if other == NO_COVERAGE
            else hourly_cost(config.roles[other]) * float(figures.service_hours)
        )
        parts.append(f"vs {other}: {other_kept:,.0f} for {other_cost:,.0f} of time")
    return "; ".join(parts)


def _prospect_economics(config: ScenarioConfig, clients: pd.DataFrame) -> pd.DataFrame:
    """Prospects per segment x direction, and whether hunting them pays.

    A pursued prospect becomes at most one opportunity; won with the segment's win rate it
    brings `avg_deal` a year. It is worth pursuing when that first-year value exceeds the
    hunter, telesales and research time one opportunity takes.
    """
    prospects = clients[clients["status"] == "prospect"]
    table = (
        prospects.groupby(["segment", "direction"], observed=True)
        .agg(available=("client_id", "size"), potential=("potential", "sum"))
        .reset_index()
    )
    if table.empty:
        return table.assign(
            pursued=0,
            value_per_prospect=0.0,
            cost_per_opportunity=0.0,
            pursued_value=0.0,
            reason="",
        )
    cost = _cost_per_opportunity(config)
    values = (
        table["segment"]
        .map({k: s.win_rate * s.avg_deal for k, s in config.segments.items()})
        .astype(float)
    )
    worth = values > cost
    share = config.coverage.max_pursued_share
    table["value_per_prospect"] = values
    table["cost_per_opportunity"] = cost
    table["pursued"] = np.where(worth, np.floor(table["available"] * share), 0).astype(int)
    table["pursued_value"] = table["pursued"] * (values - cost)
    table["reason"] = [
        (
            f"{seg} prospects: a pursued prospect is worth {v:,.0f} a year "
            f"(win rate x average deal) against {cost:,.0f} of funnel work per opportunity: "
            + ("pursue" if w else "not worth hunting")
        )
        for seg, v, w in zip(table["segment"], values, worth, strict=True)
    ]
    return table


def _cost_per_opportunity(config: ScenarioConfig) -> float:
    """Cost of the hunter, telesales and research hours behind one opportunity."""
    if config.funnel is None:
        return math.inf
    unit = per_meeting(config.funnel)
    rates = {key: hourly_cost(role) for key, role in config.roles.items()}
    per_meeting_cost = (
        rates.get("hunter", 0.0) * (unit.hunter_hours_meeting + unit.hunter_hours_opportunity)
        + rates.get("telesales", 0.0) * unit.telesales_hours
        + rates.get("assistant", 0.0) * unit.assistant_hours
    )
    return per_meeting_cost / unit.opportunities
