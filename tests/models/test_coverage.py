"""Coverage on tiny instances solved by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from models.coverage import solve_coverage
from optim.result import Status
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions


def _config(**overrides: object) -> ScenarioConfig:
    data: dict = {
        "directions": ["north"],
        "roles": {
            "account_manager": {"monthly_cost": 200_000, "hours_per_month": 100},
            "telesales": {"monthly_cost": 100_000, "hours_per_month": 100},
        },
        "segments": {
            "A": {
                "avg_deal": 1e6,
                "win_rate": 0.2,
                "service_hours_per_year": 70,
                "retention": {"covered": 1.0, "uncovered": 0.5},
            },
            "C": {
                "avg_deal": 1e5,
                "win_rate": 0.2,
                "service_hours_per_year": 4,
                "retention": {"covered": 1.0, "uncovered": 0.5},
            },
        },
    }
    data.update(overrides)
    return ScenarioConfig.model_validate(data)


def _clients(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """rows: (segment, status, how many, revenue each)."""
    records = []
    for segment, status, count, revenue in rows:
        for i in range(count):
            records.append(
                {
                    "client_id": f"{segment}{status}{i}",
                    "segment": segment,
                    "direction": "north",
                    "status": status,
                    "revenue_last_year": revenue,
                    "potential": revenue,
                }
            )
    return pd.DataFrame(records)


def _covered_by(result: object) -> dict[tuple[str, str], str]:
    table = result.frames["coverage"]  # type: ignore[attr-defined]
    return {(r.segment, r.status): r.covered_by for r in table.itertuples()}


@pytest.mark.parametrize("solver", ["highs", "cbc", "ortools"])
def test_small_segment_rides_on_spare_capacity(solver: str) -> None:
    # A: 10 clients x 70 h = 700 h/yr, worth 10M covered vs 5M uncovered: one AM (1,200 h/yr,
    # 2.4M) pays. C: 100 clients x 4 h = 400 h fits in that AM's spare 500 h, so covering C
    # (+0.25M) costs nothing extra: the optimum covers both, objective 10M + 0.5M - 2.4M.
    clients = _clients([("A", "active", 10, 1e6), ("C", "active", 100, 5_000)])
    result = solve_coverage(_config(), clients, options=SolveOptions(solver=solver))
    assert result.status is Status.OPTIMAL
    assert _covered_by(result) == {
        ("A", "active"): "account_manager",
        ("C", "active"): "account_manager",
    }
    assert result.objective == pytest.approx(10e6 + 0.5e6 - 2.4e6)


def test_small_segment_dropped_when_it_needs_another_person() -> None:
    # Now C needs 100 x 6 h = 600 h: A + C = 1,300 h > 1,200 h, so covering C needs a second
    # AM (2.4M) for a gain of 0.25M; by phone it costs 600 h x 1,000/h = 0.6M for 0.125M.
    # The optimum leaves C uncovered: objective 10M + 0.25M - 2.4M.
    config = _config()
    segments = dict(config.segments)
    segments["C"] = segments["C"].model_copy(update={"service_hours_per_year": 6})
    config = config.model_copy(update={"segments": segments})
    clients = _clients([("A", "active", 10, 1e6), ("C", "active", 100, 5_000)])
    result = solve_coverage(config, clients, options=SolveOptions())
    assert _covered_by(result) == {("A", "active"): "account_manager", ("C", "active"): "none"}
    assert result.objective == pytest.approx(10e6 + 0.25e6 - 2.4e6)


def test_max_clients_forces_a_second_person() -> None:
    # 10 A clients fit in hours, but with max_clients 5 they need two AMs (4.8M) for a gain of
    # 5M: still worth it; with max_clients 4 three AMs (7.2M) are not, so A goes uncovered.
    # (Remote coverage is switched off here: 0.7M of phone time for +2.5M would win.)
    clients = _clients([("A", "active", 10, 1e6)])
    allowed = {"active": ["account_manager", "none"]}
    five = _config(coverage={"max_clients": {"account_manager": 5}, "allowed": allowed})
    result = solve_coverage(five, clients, options=SolveOptions())
    assert _covered_by(result) == {("A", "active"): "account_manager"}
    assert result.objective == pytest.approx(10e6 - 4.8e6)
    four = _config(coverage={"max_clients": {"account_manager": 4}, "allowed": allowed})
    result = solve_coverage(four, clients, options=SolveOptions())
    assert _covered_by(result) == {("A", "active"): "none"}
    assert result.objective == pytest.approx(5e6)


def test_new_clients_stay_with_hunters_then_follow_active_choice() -> None:
    clients = _clients([("A", "active", 10, 1e6), ("A", "new", 2, 1e6)])
    result = solve_coverage(_config(), clients, options=SolveOptions())
    assert _covered_by(result)[("A", "new")] == "hunter, then account_manager"


def test_prospects_pursued_only_when_a_win_pays_for_the_funnel() -> None:
    funnel = {
        "meeting_to_opportunity": 0.5,
        "conversation_to_meeting": 0.25,
        "contacts_per_conversation": 4,
        "dials_per_contact": 3,
        "minutes_per_dial": 2,
        "minutes_per_conversation": 12,
        "research_hours_per_contact": 0.5,
        "hunter_hours_per_meeting": 3,
        "hunter_hours_per_opportunity": 16,
    }
    roles = {
        "hunter": {"monthly_cost": 200_000, "hours_per_month": 100},
        "telesales": {"monthly_cost": 100_000, "hours_per_month": 100},
        "assistant": {"monthly_cost": 50_000, "hours_per_month": 100},
        "account_manager": {"monthly_cost": 200_000, "hours_per_month": 100},
    }
    config = _config(funnel=funnel, roles=roles)
    # Per opportunity (= 2 meetings): hunter 2x3 + 16 = 22 h x 2,000 = 44,000; telesales
    # 2 x (48 dials x 2 min + 4 conv x 12 min) = 4.8 h x 1,000 = 4,800; research
    # 2 x 16 x 0.5 = 16 h x 500 = 8,000: 56,800. A: 0.2 x 1M = 200,000 > 56,800, pursue;
    # C: 0.2 x 100,000 = 20,000 < 56,800, not worth hunting.
    clients = _clients(
        [("A", "prospect", 7, 0.0), ("C", "prospect", 9, 0.0), ("A", "active", 1, 1e5)]
    )
    result = solve_coverage(config, clients, options=SolveOptions())
    prospects = result.frames["prospects"].set_index("segment")
    assert prospects.loc["A", "cost_per_opportunity"] == pytest.approx(56_800)
    assert prospects.loc["A", "pursued"] == 7
    assert prospects.loc["C", "pursued"] == 0
