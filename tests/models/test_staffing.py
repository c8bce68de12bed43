"""Staffing on tiny instances solved by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from models.coverage import solve_coverage
from models.staffing import solve_staffing
from optim.result import ModelResult, Status
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions

# Two months, one direction, one segment; deals close in the month of the meeting (cycle 0), so
# only month-1 meetings earn anything in-year: a client won in month 1 brings 1.2M / 12 = 100k.
# The 1M plan therefore needs 10 wins = 20 opportunities = 40 meetings (win 0.5, m2o 0.5);
# 160 conversations (c2m 0.25) = 160 researched contacts (1 per conversation) = 480 dials.
# Telesales: 480 x 2 min + 160 x 15 min = 3,360 min = 56 h -> ceil(56 / 20) = 3 telesales.
# Assistants: 160 x 0.5 h = 80 h -> ceil(80 / 30) = 3 (ratio floor 0.5 x 3 = 1.5 is looser).
# Hunters: 40 x 2 h + 20 x 5 h = 180 h -> ceil(180 / 100) = 2 in month 1 (1 would do in month 2,
# but nobody can be let go). Cost: 2 months x (3 x 100 + 3 x 50 + 2 x 200) = 1,700.
TINY = {
    "company": "Tiny",
    "months": 2,
    "directions": ["north"],
    "plan": {"revenue_target": 1_000_000},
    "roles": {
        "hunter": {"monthly_cost": 200, "hours_per_month": 100},
        "telesales": {"monthly_cost": 100, "hours_per_month": 20},
        "assistant": {"monthly_cost": 50, "hours_per_month": 30, "per_telesales": 0.5},
    },
    "segments": {"A": {"avg_deal": 1_200_000, "win_rate": 0.5, "service_hours_per_year": 12}},
    "funnel": {
        "meeting_to_opportunity": 0.5,
        "conversation_to_meeting": 0.25,
        "contacts_per_conversation": 1,
        "dials_per_contact": 3,
        "minutes_per_dial": 2,
        "minutes_per_conversation": 15,
        "research_hours_per_contact": 0.5,
        "hunter_hours_per_meeting": 2,
        "hunter_hours_per_opportunity": 5,
        "cycle_months": 0,
        "keep_pipeline": False,  # the hand count is of this year's deals only
    },
    "coverage": {"handoff_months": 6},
    "staffing": {"allow_reductions": False},
}
EMPTY_TEAM = pd.DataFrame(columns=["rep_id", "name", "role", "direction", "fte"])


def _prospects(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": [f"p{i}" for i in range(count)],
            "segment": "A",
            "direction": "north",
            "status": "prospect",
            "revenue_last_year": 0.0,
            "potential": 1e6,
        }
    )


def _solve(
    data: dict, *, team: pd.DataFrame = EMPTY_TEAM, prospects: int = 30, solver: str = "highs"
) -> ModelResult:
    config = ScenarioConfig.model_validate(data)
    clients = _prospects(prospects)
    options = SolveOptions(solver=solver)  # type: ignore[arg-type]
    coverage = solve_coverage(config, clients, options=options)
    return solve_staffing(
        config,
        clients,
        team,
        coverage.frames["coverage"],
        coverage.frames["prospects"],
        options=options,
    )


def _headcount(result: ModelResult, month: int) -> dict[str, int]:
    table = result.frames["headcount"]
    rows = table[table["month"] == month]
    return dict(zip(rows["role"], rows["headcount"], strict=True))


@pytest.mark.parametrize("solver", ["highs", "cbc", "ortools"])
def test_headcounts_are_the_hand_computed_ceilings(solver: str) -> None:
    result = _solve(TINY, solver=solver)
    assert result.status is Status.OPTIMAL
    assert _headcount(result, 1) == {"assistant": 3, "hunter": 2, "telesales": 3}
    assert _headcount(result, 2) == {"assistant": 3, "hunter": 2, "telesales": 3}
    assert result.frames["budget"]["total_cost"].sum() == pytest.approx(1_700)
    funnel = result.frames["funnel"].set_index("month")
    assert funnel.loc[1, "meetings"] == pytest.approx(40)
    assert funnel.loc[1, "dials"] == pytest.approx(480)
    assert funnel.loc[1, "researched_contacts"] == pytest.approx(160)
    assert funnel.loc[1, "wins"] == pytest.approx(10)
    assert funnel.loc[1, "telesales_hours"] == pytest.approx(56)
    revenue = result.frames["revenue"].iloc[0]
    assert revenue["new_business_revenue"] == pytest.approx(1_000_000)


def test_a_budget_one_unit_short_turns_the_plan_infeasible() -> None:
    exact = {**TINY, "plan": {"revenue_target": 1_000_000, "budget": 1_700}}
    assert _solve(exact).status is Status.OPTIMAL
    short = {**TINY, "plan": {"revenue_target": 1_000_000, "budget": 1_699}}
    result = _solve(short)
    assert result.status is Status.INFEASIBLE
    assert result.status.exit_code == 3
    relaxations = {r.what: r for r in result.explanation.relaxations}
    assert relaxations["plan.budget"].needed == pytest.approx(1_700)
    assert relaxations["plan.revenue_target"].needed < 1_000_000
    assert relaxations["segments.*.win_rate"].needed > 1.0


def test_hiring_lead_time_makes_month_one_meetings_impossible() -> None:
    # Telesales take a month to hire, so no dials in month 1 and no in-year revenue at all.
    data = {**TINY, "roles": {**TINY["roles"], "telesales": {
        "monthly_cost": 100, "hours_per_month": 20, "hire_lead_months": 1}}}  # fmt: skip
    result = _solve(data)
    assert result.status is Status.INFEASIBLE
    relaxations = {r.what: r for r in result.explanation.relaxations}
    assert relaxations["plan.revenue_target"].needed == pytest.approx(0, abs=1e-3)


def test_prospects_limit_new_business() -> None:
    # 20 opportunities are needed; with 19 prospects the plan cannot be met.
    assert _solve(TINY, prospects=20).status is Status.OPTIMAL
    result = _solve(TINY, prospects=19)
    assert result.status is Status.INFEASIBLE
    reachable = {r.what: r.needed for r in result.explanation.relaxations}
    assert reachable["plan.revenue_target"] == pytest.approx(950_000)


def test_existing_people_are_used_before_hiring() -> None:
    team = pd.DataFrame(
        {
            "rep_id": ["t1", "t2"],
            "name": ["Ann", "Bob"],
            "role": ["telesales", "telesales"],
            "direction": ["north", ""],
            "fte": [1.0, 1.0],
        }
    )
    result = _solve(TINY, team=team)
    hiring = result.frames["hiring"]
    telesales_hires = hiring[(hiring["role"] == "telesales") & (hiring["kind"] == "new seat")]
    assert telesales_hires["hires"].sum() == 1
    assert result.frames["budget"]["total_cost"].sum() == pytest.approx(1_700)


def test_max_margin_stops_where_a_meeting_no_longer_pays() -> None:
    # Without a plan to meet, the best margin hires only what earns more than it costs: every
    # telesales (100) serves meetings worth far more, so the answer uses all 30 prospects
    # (15 opportunities' worth: 30 / 0.5 = 60 meetings would need 30 prospects x 2).
    data = {**TINY, "staffing": {"objective": "max_margin", "allow_reductions": False}}
    result = _solve(data)
    assert result.status is Status.OPTIMAL
    funnel = result.frames["funnel"].set_index("month")
    assert funnel.loc[1, "opportunities"] == pytest.approx(30)
    assert result.objective == pytest.approx(
        result.frames["revenue"]["total_revenue"].sum()
        - result.frames["budget"]["total_cost"].sum()
        - result.frames["hiring"].query("kind == 'new seat'")["hires"].sum(),
        rel=1e-9,
    )
