"""The territory model on tiny instances whose answer is worked out by hand (SPEC §3.3).

Every instance sits on the equator, where the haversine distance between two points is exactly
the Earth's radius times the longitude difference in radians: with `travel.cost_per_km: 15` and
4 visits a year, a client one degree from its person costs 2 x 4 x 15 x 111.19 km a year
(`_travel(1)`). A client needs 10 hours a year (segment S, 12 months), a large one 30 hours
(segment L); a person with `hours_per_month: 10` and fte 1 has 120 hours. Last year's revenue
is 100 unless stated.

Tests marked xfail(strict=True) with "KNOWN BUG" pin defects found while writing these: they
fail today and will report XPASS (and fail the run) once the model is fixed; then drop the mark.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from models.territory import solve_territory
from optim.result import ModelResult, Status
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions
from tests.models.bench_instances import make_instance

EXACT = SolveOptions(time_limit=10, gap=0)
KM_PER_DEGREE = 6371.0 * math.pi / 180  # along the equator, as the model's haversine gives it
TRAVEL = {"cost_per_km": 15, "visits_per_year": 4}
COVERAGE = pd.DataFrame(
    {"segment": ["S", "L"], "status": "active", "covered_by": "account_manager"}
)
CLIENT_COLUMNS = [
    "client_id", "name", "segment", "direction", "region", "status", "revenue_last_year",
    "potential", "owner", "locked", "lat", "lon",
]  # fmt: skip
TEAM_COLUMNS = ["rep_id", "name", "role", "direction", "region", "fte", "lat", "lon"]


def _travel(degrees: float) -> float:
    """Yearly travel cost of a client `degrees` of longitude from its person (TRAVEL)."""
    return 2 * TRAVEL["visits_per_year"] * TRAVEL["cost_per_km"] * KM_PER_DEGREE * degrees


def _config(
    territory: dict[str, Any],
    *,
    directions: tuple[str, ...] = ("main",),
    max_clients: dict[str, int] | None = None,
    hours_per_month: float = 10.0,
) -> ScenarioConfig:
    return ScenarioConfig.model_validate(
        {
            "directions": list(directions),
            "roles": {
                "account_manager": {"monthly_cost": 100000, "hours_per_month": hours_per_month}
            },
            "segments": {
                "S": {"avg_deal": 1_000_000, "win_rate": 0.5, "service_hours_per_year": 10},
                "L": {"avg_deal": 1_000_000, "win_rate": 0.5, "service_hours_per_year": 30},
            },
            "coverage": {
                "allowed": {"active": ["account_manager"], "key": ["none"]},
                "max_clients": max_clients or {},
            },
            "territory": territory,
        }
    )


def _clients(*rows: dict[str, Any]) -> pd.DataFrame:
    base = {
        "segment": "S",
        "direction": "main",
        "region": "Equator",
        "status": "active",
        "revenue_last_year": 100.0,
        "potential": 100.0,
        "owner": "",
        "locked": False,
        "lat": 0.0,
        "lon": 0.0,
    }
    frame = pd.DataFrame([{**base, "name": f"Client {r['client_id']}", **r} for r in rows])
    return frame[CLIENT_COLUMNS]


def _team(*rows: dict[str, Any]) -> pd.DataFrame:
    base = {
        "role": "account_manager",
        "direction": "main",
        "region": "Equator",
        "fte": 1.0,
        "lat": 0.0,
        "lon": 0.0,
    }
    frame = pd.DataFrame([{**base, "name": f"Person {r['rep_id']}", **r} for r in rows])
    return frame[TEAM_COLUMNS]


def _solve(
    config: ScenarioConfig,
    clients: pd.DataFrame,
    team: pd.DataFrame,
    *,
    options: SolveOptions = EXACT,
    pairs: pd.DataFrame | None = None,
) -> ModelResult:
    return solve_territory(config, clients, team, COVERAGE, options=options, pairs=pairs)


def _owners(result: ModelResult) -> dict[str, str]:
    territories = result.frames["territories"]
    return dict(zip(territories["client_id"], territories["rep_id"], strict=True))


def _explained(result: ModelResult) -> str:
    return "\n".join(result.explanation.lines())


def _proven(result: ModelResult) -> None:
    """Solved to optimality: the bound meets the objective. With money that is not whole
    (travel), CP-SAT works on rounded costs and the proven bound keeps a relative ~1e-6 below
    the optimum, so the status may be "feasible"; 1e-5 is ten times that."""
    assert result.status in (Status.OPTIMAL, Status.FEASIBLE), _explained(result)
    assert result.objective is not None and result.bound is not None
    assert result.bound <= result.objective + 1e-9
    assert result.objective - result.bound <= 1e-5 * result.objective


# ----- generalized assignment -------------------------------------------------------------


def test_tiny_gap_with_pairs_is_solved_to_its_known_optimum() -> None:
    """2 people of 120 hours, 4 clients; pairs.csv gives each pair its hours and cost.

    R1 needs 60 hours a client, so it takes exactly two; R2 needs 50, so it takes the other
    two. Everything with R2 costs 6+4+4+5 = 19; giving R1 a client saves 5, 2, 1, 1: R1 takes
    C1 and C2 and the optimum is 19 - 7 = 12 (next best 13). Cheapest-first would give R1 all
    four (240 h) and break its capacity.
    """
    config = _config({"balance": None, "max_moves": None})
    clients = _clients(*({"client_id": f"C{k}"} for k in range(1, 5)))
    team = _team({"rep_id": "R1"}, {"rep_id": "R2"})
    pairs = pd.DataFrame(
        [
            ("C1", "R1", 60, 1), ("C1", "R2", 50, 6),
            ("C2", "R1", 60, 2), ("C2", "R2", 50, 4),
            ("C3", "R1", 60, 3), ("C3", "R2", 50, 4),
            ("C4", "R1", 60, 4), ("C4", "R2", 50, 5),
        ],
        columns=["client_id", "rep_id", "hours", "cost"],
    )  # fmt: skip
    result = _solve(config, clients, team, pairs=pairs)
    assert result.status is Status.OPTIMAL
    assert result.objective == 12
    assert result.bound == result.objective
    assert _owners(result) == {"C1": "R1", "C2": "R1", "C3": "R2", "C4": "R2"}
    territories = result.frames["territories"].set_index("client_id")
    assert territories["hours"].to_dict() == {"C1": 60, "C2": 60, "C3": 50, "C4": 50}
    assert territories["pair_cost"].sum() == 12
    workload = result.frames["workload"].set_index("rep_id")
    assert workload["workload_hours"].to_dict() == {"R1": 120, "R2": 100}
    assert result.explanation.objective_breakdown["pair cost (pairs.csv)"] == 12


def test_pairs_csv_limits_who_may_take_a_client() -> None:
    """A client listed in pairs.csv goes only to the people listed with it, even when another
    is free and cheaper to reach; an unlisted client may go to anyone of its role."""
    config = _config({"balance": None, "travel": TRAVEL})
    clients = _clients({"client_id": "C1", "lon": 0}, {"client_id": "C2", "lon": 0})
    team = _team({"rep_id": "R1", "lon": 0}, {"rep_id": "R2", "lon": 10})
    pairs = pd.DataFrame({"client_id": ["C1"], "rep_id": ["R2"], "hours": [None], "cost": [7]})
    result = _solve(config, clients, team, pairs=pairs)
    assert _owners(result) == {"C1": "R2", "C2": "R1"}
    territories = result.frames["territories"].set_index("client_id")
    assert territories.loc["C1", "hours"] == 10  # no hours in pairs.csv: the client's own
    assert result.objective == pytest.approx(_travel(10) + 7, rel=1e-9)
    _proven(result)


# ----- continuity -------------------------------------------------------------------------


def _continuity_case(max_moves: float | None) -> ModelResult:
    """Everything is R1's today, but C3, C4 and C5 sit nearer R2 (at 10 degrees).

    Moving C3 saves 8 degrees of travel, C4 6 and C5 2; their revenue is 300, 100 and 20 of
    the 620 in all.
    """
    config = _config({"balance": None, "max_moves": max_moves, "travel": TRAVEL})
    clients = _clients(
        {"client_id": "C1", "lon": 0.0, "owner": "R1"},
        {"client_id": "C2", "lon": 1.0, "owner": "R1"},
        {"client_id": "C3", "lon": 9.0, "owner": "R1", "revenue_last_year": 300.0},
        {"client_id": "C4", "lon": 8.0, "owner": "R1"},
        {"client_id": "C5", "lon": 6.0, "owner": "R1", "revenue_last_year": 20.0},
    )
    team = _team({"rep_id": "R1", "lon": 0.0}, {"rep_id": "R2", "lon": 10.0})
    return _solve(config, clients, team)


def test_distance_optimal_territory_moves_what_is_nearer_someone_else() -> None:
    """Without a cap each client goes to the nearer person: C3, C4, C5 move (420 of 620)."""
    result = _continuity_case(max_moves=None)
    _proven(result)
    moved = result.frames["territories"].query("moved")["client_id"].tolist()
    assert moved == ["C3", "C4", "C5"]
    travel = _travel(0 + 1 + 1 + 2 + 4)
    assert result.objective == pytest.approx(travel + 0.05 * 420, rel=1e-9)
    total = result.frames["moves"].set_index("role").loc["all"]
    assert total["moved_share"] == pytest.approx(420 / 620)


def test_moves_cap_keeps_the_best_territory_within_the_cap() -> None:
    """At most 20% of 620 = 124 may move: C3 alone (300, the biggest saving) breaks the cap,
    so the best within it moves C4 and C5 (120), saving 6 + 2 degrees; C3 stays with R1."""
    result = _continuity_case(max_moves=0.2)
    _proven(result)
    territories = result.frames["territories"].set_index("client_id")
    assert territories["rep_id"].to_dict() == {
        "C1": "R1", "C2": "R1", "C3": "R1", "C4": "R2", "C5": "R2",
    }  # fmt: skip
    assert territories.index[territories["moved"]].tolist() == ["C4", "C5"]
    travel = _travel(0 + 1 + 9 + 2 + 4)
    assert result.objective == pytest.approx(travel + 0.05 * 120, rel=1e-9)
    total = result.frames["moves"].set_index("role").loc["all"]
    assert total["moved_revenue"] == 120
    assert total["moved_share"] == pytest.approx(120 / 620)
    assert total["moved_share"] <= 0.2
    assert "territory.max_moves" in territories.loc["C3", "reason"]


def test_locked_clients_stay_with_their_owner_even_when_another_is_closer() -> None:
    """C1 and C2 are R1's, 9 and 9.5 degrees from it and 1 and 0.5 from R2."""
    team = _team({"rep_id": "R1", "lon": 0.0}, {"rep_id": "R2", "lon": 10.0})
    config = _config({"balance": None, "travel": TRAVEL})

    def solve(locked: bool) -> ModelResult:
        clients = _clients(
            {"client_id": "C1", "lon": 9.0, "owner": "R1", "locked": locked},
            {"client_id": "C2", "lon": 9.5, "owner": "R1", "locked": locked},
        )
        return _solve(config, clients, team)

    free = solve(locked=False)
    assert _owners(free) == {"C1": "R2", "C2": "R2"}  # so locking is what keeps them
    held = solve(locked=True)
    _proven(held)
    assert _owners(held) == {"C1": "R1", "C2": "R1"}
    assert held.objective == pytest.approx(_travel(9 + 9.5), rel=1e-9)
    territories = held.frames["territories"]
    assert not territories["moved"].any()
    assert territories["reason"].str.startswith("locked").all()


# ----- directions, capacity, balance, client caps -----------------------------------------


def _direction_case(direction_match: bool) -> ModelResult:
    """RX (X, at 0), RY (Y, at 10) and RB (no direction, at 5). X2 sits by RY, Y2 by RX."""
    config = _config(
        {"balance": None, "travel": TRAVEL, "direction_match": direction_match},
        directions=("X", "Y"),
    )
    clients = _clients(
        {"client_id": "X1", "direction": "X", "lon": 0.5},
        {"client_id": "Y1", "direction": "Y", "lon": 9.5},
        {"client_id": "X2", "direction": "X", "lon": 9.9},
        {"client_id": "Y2", "direction": "Y", "lon": 0.1},
    )
    team = _team(
        {"rep_id": "RX", "direction": "X", "lon": 0.0},
        {"rep_id": "RY", "direction": "Y", "lon": 10.0},
        {"rep_id": "RB", "direction": "", "lon": 5.0},
    )
    return _solve(config, clients, team)


def test_people_keep_to_their_direction_and_a_person_without_one_takes_both() -> None:
    result = _direction_case(direction_match=True)
    _proven(result)
    # X2 cannot go to RY next to it, nor Y2 to RX: both go to RB, 4.9 degrees away.
    assert _owners(result) == {"X1": "RX", "Y1": "RY", "X2": "RB", "Y2": "RB"}
    assert result.objective == pytest.approx(_travel(0.5 + 0.5 + 4.9 + 4.9), rel=1e-9)
    territories = result.frames["territories"]
    crossed = territories[territories["rep_id"].isin(["RX", "RY"])]
    assert (crossed["rep_id"].str[1] == crossed["direction"]).all()


def test_without_direction_match_clients_go_to_the_nearest_person() -> None:
    result = _direction_case(direction_match=False)
    _proven(result)
    assert _owners(result) == {"X1": "RX", "Y1": "RY", "X2": "RY", "Y2": "RX"}
    assert result.objective == pytest.approx(_travel(0.5 + 0.5 + 0.1 + 0.1), rel=1e-9)


def test_clients_nobody_may_take_are_infeasible_and_named() -> None:
    """Direction Y has nobody: the territory cannot be drawn and says whom it cannot place."""
    config = _config({"balance": None}, directions=("X", "Y"))
    clients = _clients({"client_id": "X1", "direction": "X"}, {"client_id": "Y1", "direction": "Y"})
    team = _team({"rep_id": "RX", "direction": "X"})
    result = _solve(config, clients, team)
    assert result.status is Status.INFEASIBLE
    assert result.objective is None
    assert "1 account_manager clients in Y" in result.explanation.headline


def test_more_work_than_capacity_is_infeasible_and_says_whose() -> None:
    """Three clients of 10 hours and one person of 24 hours (2 a month): 6 hours too many,
    also with a balance window (capacity is never widened)."""
    clients = _clients(*({"client_id": f"C{k}"} for k in range(3)))
    team = _team({"rep_id": "R1"})
    for balance in (None, 0.1):
        config = _config({"balance": balance}, hours_per_month=2)
        result = _solve(config, clients, team)
        assert result.status is Status.INFEASIBLE, balance
        assert result.objective is None
        assert result.frames == {}
        text = _explained(result)
        assert "infeasible" in text
        assert "capacity of R1 (account_manager, 24.0 h)" in text
        assert "need 6.0 h more than it has" in text


@pytest.mark.parametrize(
    ("clients", "people", "hours_per_month"),
    [
        (1, 2, 0.5),  # one client of 10 h, two people of 6 h
        (3, 2, 1.25),  # three clients of 10 h, two people of 15 h: 30 h fit only split
    ],
)
def test_whole_clients_that_fit_nobody_are_infeasible(
    clients: int, people: int, hours_per_month: float
) -> None:
    config = _config({"balance": None}, hours_per_month=hours_per_month)
    result = _solve(
        config,
        _clients(*({"client_id": f"C{k}"} for k in range(clients))),
        _team(*({"rep_id": f"R{k}"} for k in range(people))),
        options=SolveOptions(time_limit=3, gap=0),
    )
    assert result.status is Status.INFEASIBLE
    assert "capacity" in _explained(result)


def test_balance_gives_way_when_whole_clients_cannot_meet_it_within_max_clients() -> None:
    """Two half-timers (75 hours, at most 2 clients each) and clients of 30, 10, 10, 10 hours:
    ±20% of the 30-hour share is 6-36 hours, which only L + S + S | S (3 clients) meets.
    Within max_clients the only split is L + S (40 h) | S + S (20 h), so R1's window must
    widen to 40 hours, and the answer says so."""
    config = _config({"balance": 0.2}, max_clients={"account_manager": 4}, hours_per_month=12.5)
    clients = _clients(
        {"client_id": "L1", "segment": "L"}, *({"client_id": f"S{k}"} for k in range(1, 4))
    )
    team = _team({"rep_id": "R1", "fte": 0.5}, {"rep_id": "R2", "fte": 0.5})
    unbalanced = _solve(
        _config({"balance": None}, max_clients={"account_manager": 4}, hours_per_month=12.5),
        clients,
        team,
    )
    assert unbalanced.status is Status.OPTIMAL  # the hard rules alone can be met
    result = _solve(config, clients, team, options=SolveOptions(time_limit=5, gap=0))
    assert result.status is Status.OPTIMAL, _explained(result)
    workload = result.frames["workload"]
    assert sorted(workload["clients"]) == [2, 2]
    assert sorted(workload["workload_hours"]) == [20, 40]
    assert "balance window" in _explained(result)


def _balance_case(balance: float | None) -> ModelResult:
    """Six clients of 10 hours at 0-0.5 degrees, all near R1 (fte 1, at 0); R2 (fte 0.5, at 10).

    The fair shares of the 60 hours follow capacity (120 and 60 hours): 40 and 20.
    """
    config = _config({"balance": balance, "travel": TRAVEL})
    lons = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    clients = _clients(*({"client_id": f"C{k}", "lon": lon} for k, lon in enumerate(lons)))
    team = _team({"rep_id": "R1", "lon": 0.0}, {"rep_id": "R2", "lon": 10.0, "fte": 0.5})
    return _solve(config, clients, team)


def test_without_balance_the_nearest_person_takes_everything() -> None:
    result = _balance_case(balance=None)
    assert set(_owners(result).values()) == {"R1"}
    workload = result.frames["workload"].set_index("rep_id")
    assert workload["workload_low"].to_dict() == {"R1": 0, "R2": 0}
    assert workload["workload_high"].to_dict() == {"R1": 120, "R2": 60}  # capacity
    spread = [n for n in result.explanation.notes if n.startswith("Workload against")]
    assert spread == [
        "Workload against each person's fair share: from -100.0% to +50.0% "
        "(territory.balance is off)."
    ]


def test_balance_window_is_the_fair_share_plus_minus_balance() -> None:
    """±25%: R1 30-50 hours, R2 15-25 hours, so R2 takes two clients: the two nearest it."""
    result = _balance_case(balance=0.25)
    assert "(window ±25%)." in " ".join(result.explanation.notes)
    _proven(result)
    workload = result.frames["workload"].set_index("rep_id")
    assert workload["workload_target"].to_dict() == pytest.approx({"R1": 40, "R2": 20})
    assert workload["workload_low"].to_dict() == pytest.approx({"R1": 30, "R2": 15})
    assert workload["workload_high"].to_dict() == pytest.approx({"R1": 50, "R2": 25})
    assert workload["workload_hours"].to_dict() == {"R1": 40, "R2": 20}
    hours = workload["workload_hours"]
    assert ((workload["workload_low"] <= hours) & (hours <= workload["workload_high"])).all()
    owners = _owners(result)
    assert [c for c, r in owners.items() if r == "R2"] == ["C4", "C5"]
    assert result.objective == pytest.approx(_travel(0.1 + 0.2 + 0.3 + 9.6 + 9.5), rel=1e-9)


def test_balance_window_narrower_than_a_client_is_widened_downwards_by_one_client() -> None:
    """±10% would be 36-44 and 18-22 hours, narrower than a 10-hour client: the lower ends
    drop to the upper end minus one client (docs/models.md), 34 and 12 hours."""
    result = _balance_case(balance=0.1)
    _proven(result)
    workload = result.frames["workload"].set_index("rep_id")
    assert workload["workload_low"].to_dict() == pytest.approx({"R1": 34, "R2": 12})
    assert workload["workload_high"].to_dict() == pytest.approx({"R1": 44, "R2": 22})
    assert workload["workload_hours"].to_dict() == {"R1": 40, "R2": 20}


def test_potential_balance_gives_the_second_person_enough_potential() -> None:
    """R1 owns all 700 of potential; ±50% of a 350 share allows 175-525 each. Only moves cost
    money (5 per 100 of revenue): moving BIG (potential 400) costs 5, two small ones 10."""
    config = _config({"balance": None, "potential_balance": 0.5})
    clients = _clients(
        {"client_id": "BIG", "owner": "R1", "potential": 400.0},
        *({"client_id": f"S{k}", "owner": "R1"} for k in range(1, 4)),
    )
    result = _solve(config, clients, _team({"rep_id": "R1"}, {"rep_id": "R2"}))
    assert result.status is Status.OPTIMAL
    assert result.objective == 5
    assert _owners(result) == {"BIG": "R2", "S1": "R1", "S2": "R1", "S3": "R1"}
    workload = result.frames["workload"].set_index("rep_id")
    assert workload["potential"].to_dict() == {"R1": 300, "R2": 400}


def test_potential_balance_moves_the_big_potential_client() -> None:
    """R1 holds all 700 of potential; ±50% of a 350 share allows 175-525 each. Giving R2 the
    400 client (10 degrees) beats giving it two of the 100 ones (9.8 + 9.7 degrees)."""
    config = _config({"balance": None, "potential_balance": 0.5, "travel": TRAVEL})
    clients = _clients(
        {"client_id": "BIG", "lon": 0.0, "potential": 400.0},
        {"client_id": "S1", "lon": 0.1},
        {"client_id": "S2", "lon": 0.2},
        {"client_id": "S3", "lon": 0.3},
    )
    team = _team({"rep_id": "R1", "lon": 0.0}, {"rep_id": "R2", "lon": 10.0})
    result = _solve(config, clients, team, options=SolveOptions(time_limit=5, gap=0))
    _proven(result)
    assert _owners(result) == {"BIG": "R2", "S1": "R1", "S2": "R1", "S3": "R1"}
    assert result.objective == pytest.approx(_travel(10 + 0.1 + 0.2 + 0.3), rel=1e-9)
    potential = result.frames["workload"].set_index("rep_id")["potential"]
    assert potential.to_dict() == {"R1": 300, "R2": 400}
    assert "widen" not in _explained(result)


@pytest.mark.parametrize(
    ("balance", "potential_balance", "r2", "degrees"),
    [
        (0.5, None, ["S4", "S5"], 9.6 + 9.5 + 0.1 + 0.2 + 0.3),
        (None, 0.5, ["BIG"], 10 + 0.1 + 0.2 + 0.3 + 0.4 + 0.5),
        (0.5, 0.5, ["BIG", "S5"], 10 + 9.5 + 0.1 + 0.2 + 0.3 + 0.4),
    ],
)
def test_workload_and_potential_balance_bind_together(
    balance: float | None, potential_balance: float | None, r2: list[str], degrees: float
) -> None:
    """Six 10-hour clients near R1 (at 0): BIG (potential 600) at 0, S1-S5 (100 each) at
    0.1-0.5 degrees; R2 sits at 10. Shares are 30 hours and 550 of potential each.

    ±50% of workload is 15-45 hours: R2 needs two clients, the cheapest being S5 and S4 (only
    200 of potential). ±50% of potential is 275-825: R2 needs BIG (10 degrees) or three small
    ones (28.8 degrees, less their 1.2 to R1), and BIG alone is 10 hours. Both windows together:
    BIG + S5 (20 h, 700 of potential; R1 keeps 40 h and 400) beats BIG + S4 by 0.2 degrees and
    S3 + S4 + S5 by far."""
    config = _config({"balance": balance, "potential_balance": potential_balance, "travel": TRAVEL})
    clients = _clients(
        {"client_id": "BIG", "lon": 0.0, "potential": 600.0},
        *({"client_id": f"S{k}", "lon": k / 10} for k in range(1, 6)),
    )
    team = _team({"rep_id": "R1", "lon": 0.0}, {"rep_id": "R2", "lon": 10.0})
    result = _solve(config, clients, team, options=SolveOptions(time_limit=5, gap=0))
    _proven(result)
    assert sorted(c for c, r in _owners(result).items() if r == "R2") == r2
    assert result.objective == pytest.approx(_travel(degrees), rel=1e-9)
    assert "widen" not in _explained(result)
    if balance is not None and potential_balance is not None:
        workload = result.frames["workload"].set_index("rep_id")
        assert workload["workload_hours"].to_dict() == {"R1": 40, "R2": 20}
        assert workload["potential"].to_dict() == {"R1": 400, "R2": 700}


def test_max_clients_caps_each_person_scaled_by_fte() -> None:
    """max_clients 4 for account managers: R1 (fte 0.5, at 0) may hold 2, R2 (at 10) 4.
    All five clients are nearer R1; it keeps the two nearest, C0 and C1."""
    config = _config({"balance": None, "travel": TRAVEL}, max_clients={"account_manager": 4})
    lons = [0.0, 0.1, 0.2, 0.3, 0.4]
    clients = _clients(*({"client_id": f"C{k}", "lon": lon} for k, lon in enumerate(lons)))
    team = _team({"rep_id": "R1", "lon": 0.0, "fte": 0.5}, {"rep_id": "R2", "lon": 10.0})
    result = _solve(config, clients, team)
    _proven(result)
    assert _owners(result) == {"C0": "R1", "C1": "R1", "C2": "R2", "C3": "R2", "C4": "R2"}
    assert result.objective == pytest.approx(_travel(0 + 0.1 + 9.8 + 9.7 + 9.6), rel=1e-9)
    workload = result.frames["workload"].set_index("rep_id")
    assert workload["clients"].to_dict() == {"R1": 2, "R2": 3}
    assert (
        "max_clients of R1"
        in result.frames["territories"].set_index("client_id").at["C2", "reason"]
    )
    unlimited = _solve(_config({"balance": None, "travel": TRAVEL}), clients, team)
    assert set(_owners(unlimited).values()) == {"R1"}  # so the cap is what moves C2-C4


# ----- the output tables ------------------------------------------------------------------


def test_frames_hold_every_client_once_workload_per_person_and_the_moves() -> None:
    """C1 stays with R1; C2 (nearer R2) moves, a counted move of 100 of the 300 covered;
    C3's owner R9 has left, so its move is forced and not counted; K1 is a key client,
    which the coverage leaves to nobody."""
    config = _config({"balance": None, "max_moves": 0.5, "travel": TRAVEL})
    clients = _clients(
        {"client_id": "C1", "lon": 0.0, "owner": "R1"},
        {"client_id": "C2", "lon": 9.5, "owner": "R1"},
        {"client_id": "C3", "lon": 10.0, "owner": "R9"},
        {"client_id": "K1", "status": "key", "owner": "R1", "revenue_last_year": 5000.0},
    )
    team = _team({"rep_id": "R1", "lon": 0.0}, {"rep_id": "R2", "lon": 10.0})
    result = _solve(config, clients, team)
    _proven(result)

    territories = result.frames["territories"]
    assert sorted(territories["client_id"]) == ["C1", "C2", "C3", "K1"]
    assert territories["client_id"].is_unique
    for column in (*CLIENT_COLUMNS, "rep_id", "previous_owner", "moved", "reason"):
        assert column in territories.columns, column
    rows = territories.set_index("client_id")
    assert rows["rep_id"].to_dict() == {"C1": "R1", "C2": "R2", "C3": "R2", "K1": ""}
    assert rows["previous_owner"].to_dict() == {"C1": "R1", "C2": "R1", "C3": "R9", "K1": "R1"}
    assert rows["moved"].to_dict() == {"C1": False, "C2": True, "C3": True, "K1": False}
    assert "uncovered" in rows.at["K1", "reason"]
    assert "no longer on the team" in rows.at["C3", "reason"]
    assert rows["reason"].str.len().gt(0).all()

    workload = result.frames["workload"].set_index("rep_id")
    assert list(workload.index) == ["R1", "R2"]
    assert workload["clients"].to_dict() == {"R1": 1, "R2": 2}
    assert workload["workload_hours"].to_dict() == {"R1": 10, "R2": 20}
    assert workload["moved_in"].to_dict() == {"R1": 0, "R2": 2}
    assert workload["travel_cost"].to_dict() == pytest.approx({"R1": 0, "R2": _travel(0.5)})

    moves = result.frames["moves"].set_index("role")
    total = moves.loc["all"]
    assert total["clients"] == 3  # the covered ones
    assert total["moved"] == 1
    assert total["moved_revenue"] == 100
    assert total["forced"] == 1
    assert total["forced_revenue"] == 100
    assert total["moved_share"] == pytest.approx(100 / 300)
    assert total["moved_share"] <= total["cap_share"] == 0.5
    assert result.objective == pytest.approx(_travel(0.5) + 0.05 * 100, rel=1e-9)


def test_same_seed_same_territory() -> None:
    """A tie-rich instance (no travel cost: only moves cost money) solved twice to optimality
    with the same seed gives the same assignment, client for client."""
    instance = _benchmark_instance(60, 4)
    territory = instance.config.territory
    assert territory is not None
    weights = territory.weights.model_copy(update={"travel": 0.0})
    config = instance.config.model_copy(
        update={"territory": territory.model_copy(update={"weights": weights})}
    )
    answers = []
    for _ in range(2):
        result = solve_territory(
            config,
            instance.clients,
            instance.team,
            instance.coverage,
            options=SolveOptions(time_limit=10, gap=0, seed=5),
        )
        assert result.status is Status.OPTIMAL
        answers.append(result.frames["territories"][["client_id", "rep_id"]])
    pd.testing.assert_frame_equal(answers[0], answers[1])


def _benchmark_instance(n_clients: int, n_people: int) -> Any:
    """The benchmarks' seeded generator (benchmarks/territory_instances.py)."""
    return make_instance(n_clients, n_people, directions=1, seed=1)
