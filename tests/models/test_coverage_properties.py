"""Coverage on random small scenarios: invariants every answer keeps, solvers agree, same seed.

Each answer is checked against docs/models.md §1 from the output frames and the clients table:
one allowed option per segment x status, no hunter on serial clients, the expected revenue of
the chosen option, the objective recomputed from the choice (whole people per direction for
the dedicated roles, hours for remote coverage), never worse than covering nobody and as good
as the best of all policies by enumeration, and the closed-form prospect economics.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd
from hypothesis import HealthCheck, given, settings

from models.coverage import solve_coverage
from optim.result import ModelResult, Status
from optim.schema import ScenarioConfig, Segment
from optim.solver import SolveOptions
from tests.models.strategies import CLIENT_COLUMNS, Example, scenarios

PROPERTIES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
EXACT = SolveOptions(gap=1e-9)  # so that the optimum can be compared with enumeration
FARMERS = ("key_account_manager", "account_manager")
DEFAULT_ALLOWED = {
    "active": ("key_account_manager", "account_manager", "telesales", "none"),
    "key": ("key_account_manager", "none"),
}


def _solve(example: Example, options: SolveOptions = EXACT) -> ModelResult:
    return solve_coverage(example.config, example.clients, options=options)


def _rate(segment: Segment, option: str) -> float:
    """Kept x grown under an option (docs: remote defaults to halfway)."""
    if option == "none":
        return segment.retention.uncovered * (1 + segment.growth.uncovered)
    if option == "telesales":
        retention = segment.retention.remote
        growth = segment.growth.remote
        if retention is None:
            retention = (segment.retention.covered + segment.retention.uncovered) / 2
        if growth is None:
            growth = (segment.growth.covered + segment.growth.uncovered) / 2
        return retention * (1 + growth)
    return segment.retention.covered * (1 + segment.growth.covered)


def _productive_share(config: ScenarioConfig, role_key: str) -> float:
    """docs: phi = 1 - attrition x (lead + ramp shortfall)."""
    role = config.roles[role_key]
    lost = role.attrition_monthly * (role.hire_lead_months + sum(1 - r for r in role.ramp))
    return max(0.0, 1 - lost)


def _allowed(config: ScenarioConfig, status: str) -> set[str]:
    """coverage.allowed restricted to roles defined with hours (plus none)."""
    allowed = config.coverage.allowed.get(status, DEFAULT_ALLOWED[status])  # type: ignore[call-overload]
    usable = {
        o for o in allowed if o == "none" or (o in config.roles and config.roles[o].hours_per_month)
    }
    return usable or {"none"}


def _handoff_weight(config: ScenarioConfig) -> float:
    """Share of the year today's new clients spend after hand-off (docs: 1 - eta)."""
    return 1 - min(1.0, config.coverage.handoff_months / 2 / config.months)


def check_choice(config: ScenarioConfig, clients: pd.DataFrame, result: ModelResult) -> None:
    """One allowed option per segment x status, revenue and hours of the chosen option."""
    table = result.frames["coverage"]
    served = clients[clients["status"] != "prospect"]
    cells = served.groupby(["segment", "status"])["revenue_last_year"].agg(["size", "sum"])
    assert not table.duplicated(["segment", "status"]).any(), "a cell chose twice"
    assert set(zip(table["segment"], table["status"], strict=True)) == set(cells.index)
    chosen = {(r.segment, r.status): r.covered_by for r in table.itertuples() if r.status != "new"}
    for row in table.itertuples(index=False):
        segment = config.segments[row.segment]
        count, revenue = cells.loc[(row.segment, row.status)]
        assert row.clients == count and math.isclose(row.revenue_last_year, revenue)
        if row.status == "new":
            after = chosen.get((row.segment, "active"), "none")
            assert row.covered_by == f"hunter, then {after}", "hand-off rule"
            option = after
        else:
            option = row.covered_by
            assert option != "hunter", "a hunter farms serial clients"
            assert option in _allowed(config, row.status), f"{option} not allowed"
        expected = revenue * _rate(segment, option)
        hours = count * segment.service_hours_per_year * config.months / 12
        if row.status == "new":
            # With the hunter (covered) for eta of the year, then as the active choice.
            eta = min(1.0, config.coverage.handoff_months / 2 / config.months)
            expected = eta * revenue * _rate(segment, "hunter") + (1 - eta) * expected
            served = eta + (1 - eta) * (option != "none")
            assert math.isclose(row.service_hours, hours * served, abs_tol=1e-6)
        assert math.isclose(row.expected_revenue, expected, rel_tol=1e-9, abs_tol=1e-6)
        if row.status != "new":
            served_hours = hours if option != "none" else 0.0
            assert math.isclose(row.service_hours, served_hours, abs_tol=1e-6)


Group = tuple[str, str, str, float, float, float]  # segment, cell, direction, w, n, revenue


def groups_of(config: ScenarioConfig, clients: pd.DataFrame) -> list[Group]:
    """Today's clients by segment, coverage cell and direction, with the cell weight.

    Today's new clients count in the active cell of their segment with the hand-off weight
    (docs: 1 - eta); a segment with new but no active clients has no cell for them.
    """
    follow = _handoff_weight(config)
    served = clients[clients["status"] != "prospect"]
    cells = set(zip(served["segment"], served["status"], strict=True))
    out = []
    keys = ["segment", "status", "direction"]
    for (segment, status, d), rows in served.groupby(keys)["revenue_last_year"]:
        cell = "active" if status == "new" else str(status)
        if (segment, cell) not in cells:
            continue
        weight = follow if status == "new" else 1.0
        out.append((str(segment), cell, str(d), weight, float(len(rows)), float(rows.sum())))
    return out


def objective_of(config: ScenarioConfig, groups: list[Group], chosen: dict) -> float:
    """The coverage objective of a choice, recomputed from docs/models.md §1.

    Revenue kept minus whole people per farmer role and direction (hours and client limits)
    minus telesales hours at their hourly cost.
    """
    revenue = 0.0
    hours: dict[tuple[str, str], float] = {}
    counts: dict[tuple[str, str], float] = {}
    for segment_key, cell, d, weight, n, revenue_last_year in groups:
        option = chosen[segment_key, cell]
        segment = config.segments[segment_key]
        revenue += weight * revenue_last_year * _rate(segment, option)
        if option != "none":
            work = n * segment.service_hours_per_year * config.months / 12
            hours[option, d] = hours.get((option, d), 0.0) + weight * work
            counts[option, d] = counts.get((option, d), 0.0) + weight * n
    cost = 0.0
    for (role_key, d), need in hours.items():
        role = config.roles[role_key]
        per_hour = role.hours_per_month or 0.0
        phi = _productive_share(config, role_key)
        if role_key in FARMERS:
            people = math.ceil(need / (per_hour * phi * config.months) - 1e-9)
            cap = config.coverage.max_clients.get(role_key)
            if cap:
                people = max(people, math.ceil(counts[role_key, d] / cap - 1e-9))
            cost += role.monthly_cost * config.months * people
        else:
            cost += role.monthly_cost / (per_hour * phi) * need
    return revenue - cost


def best_by_enumeration(config: ScenarioConfig, groups: list[Group]) -> float:
    """The best objective over every policy (at most 4^3 x 3^3 of them here)."""
    cells = sorted({(segment, cell) for segment, cell, *_ in groups})
    options = [sorted(_allowed(config, cell)) for _, cell in cells]
    return max(
        objective_of(config, groups, dict(zip(cells, policy, strict=True)))
        for policy in itertools.product(*options)
    )


def check_objective(config: ScenarioConfig, clients: pd.DataFrame, result: ModelResult) -> None:
    """Objective = its breakdown = the choice recomputed; no worse than nobody; the best."""
    table = result.frames["coverage"]
    chosen = {(r.segment, r.status): r.covered_by for r in table.itertuples() if r.status != "new"}
    groups = groups_of(config, clients)
    assert result.objective is not None
    tolerance = 1e-6 * max(1.0, abs(result.objective))
    assert abs(result.objective - objective_of(config, groups, chosen)) <= tolerance
    breakdown = result.explanation.objective_breakdown
    net = breakdown["expected revenue of existing clients"]
    net -= breakdown["cost of the people who cover them"]
    assert abs(result.objective - net) <= tolerance
    nobody = dict.fromkeys(chosen, "none")
    if all("none" in _allowed(config, status) for _, status in chosen):
        assert result.objective >= objective_of(config, groups, nobody) - tolerance
    assert result.objective >= best_by_enumeration(config, groups) - tolerance, "not the best"


def check_prospects(config: ScenarioConfig, clients: pd.DataFrame, result: ModelResult) -> None:
    """Pursued = floor(share x available) when a win pays for one opportunity's work, else 0."""
    funnel = config.funnel
    assert funnel is not None
    table = result.frames["prospects"]
    prospects = clients[clients["status"] == "prospect"]
    available = prospects.groupby(["segment", "direction"]).size()
    assert len(table) == len(available)

    def hourly(role_key: str) -> float:
        role = config.roles[role_key]
        return role.monthly_cost / (
            (role.hours_per_month or 0.0) * _productive_share(config, role_key)
        )

    conversations = 1 / funnel.conversation_to_meeting
    contacts = conversations * funnel.contacts_per_conversation
    dials = contacts * funnel.dials_per_contact
    per_meeting = (
        hourly("hunter") * (funnel.hunter_hours_per_meeting
                            + funnel.meeting_to_opportunity * funnel.hunter_hours_per_opportunity)
        + hourly("telesales") * (dials * funnel.minutes_per_dial
                                 + conversations * funnel.minutes_per_conversation) / 60
        + hourly("assistant") * contacts * funnel.research_hours_per_contact
    )  # fmt: skip
    cost = per_meeting / funnel.meeting_to_opportunity
    for row in table.itertuples(index=False):
        segment = config.segments[row.segment]
        assert row.available == available[row.segment, row.direction]
        assert math.isclose(row.cost_per_opportunity, cost, rel_tol=1e-9)
        worth = segment.win_rate * segment.avg_deal > cost
        share = config.coverage.max_pursued_share
        assert row.pursued == (math.floor(share * row.available) if worth else 0)
        assert 0 <= row.pursued <= row.available


@PROPERTIES
@given(scenarios())
def test_every_coverage_answer_keeps_the_invariants(example: Example) -> None:
    config = example.config
    result = _solve(example)
    assert result.status is Status.OPTIMAL
    check_choice(config, example.clients, result)
    check_objective(config, example.clients, result)
    check_prospects(config, example.clients, result)


@settings(PROPERTIES, max_examples=8)
@given(scenarios())
def test_highs_cbc_and_ortools_agree_on_the_coverage_optimum(example: Example) -> None:
    objectives = []
    for solver in ("highs", "cbc", "ortools"):
        result = _solve(example, SolveOptions(solver=solver, gap=1e-6))
        assert result.status is Status.OPTIMAL, solver
        assert result.objective is not None
        objectives.append(result.objective)
    scale = max(1.0, *(abs(v) for v in objectives))
    assert max(objectives) - min(objectives) <= 2e-6 * scale, objectives


@settings(PROPERTIES, max_examples=10)
@given(scenarios())
def test_the_same_seed_gives_the_same_coverage(example: Example) -> None:
    first = _solve(example, SolveOptions(seed=0))
    second = _solve(example, SolveOptions(seed=0))
    assert first.objective == second.objective
    for name, frame in first.frames.items():
        pd.testing.assert_frame_equal(frame, second.frames[name], obj=name)


def test_cbc_reports_the_objective_of_an_empty_model() -> None:
    # No active or key client: the objective has no terms. CBC used to report it as None.
    config = ScenarioConfig.model_validate(
        {
            "directions": ["north"],
            "segments": {"A": {"avg_deal": 1, "win_rate": 0.1, "service_hours_per_year": 1}},
        }
    )
    row = ("c1", "New Co", "A", "north", "new", 0.0, 0.0)
    clients = pd.DataFrame([row], columns=CLIENT_COLUMNS)
    result = solve_coverage(config, clients, options=SolveOptions(solver="cbc"))
    assert result.status is Status.OPTIMAL
    assert result.objective == 0.0
