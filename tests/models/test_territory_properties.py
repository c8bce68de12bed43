"""The territory model on random tiny instances, checked against every possible assignment.

Each drawn instance has 2-3 people and 2-7 clients, so all assignments (at most 3^7) can be
listed and checked by numpy: which keep the hard rules (capacity, max_clients, the moves cap),
which keep every rule (also the balance windows), and what the cheapest of those costs. The
solver's answer must then keep every rule, be the cheapest, have a bound no higher, widen a
balance window only when no whole-client assignment meets it, and say "no solution" only when
none keeps the hard rules. The Lagrangian bound must lie below every feasible assignment for
any multipliers, not only the solver's duals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from models.territory import territory_frames
from models.territory_data import TerritoryProblem, build_problem
from models.territory_solver import lagrangian, rows_of, solve_assignment, violations
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions

OPTIONS = SolveOptions(time_limit=4, gap=0)  # tiny: the repair takes its 2 s floor at most
HOURS = {"A": 30.0, "B": 10.0}  # service hours per year of a client of each segment
LOCKED = (False, False, False, True)  # a quarter of the owned clients are locked
BIGGEST = 40.0  # hours everyone has at least: any one client fits anyone
COVERAGE = pd.DataFrame(
    {"segment": list(HOURS), "status": "active", "covered_by": "account_manager"}
)
TOLERANCE = 1e-6
PROPERTIES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class Instance:
    """One drawn instance (a plain class: hypothesis prints a failing one with `__repr__`)."""

    def __init__(self, config: ScenarioConfig, clients: pd.DataFrame, team: pd.DataFrame):
        self.config = config
        self.clients = clients
        self.team = team

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example
        config = self.config
        return (
            f"Instance(territory={config.territory!r},\nmax_clients="
            f"{config.coverage.max_clients!r}, roles={config.roles!r},\n"
            f"clients=\n{self.clients.to_csv(index=False)}\nteam=\n{self.team.to_csv(index=False)})"
        )


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    """2-3 account managers and 2-7 active clients in one or two directions.

    People sit at whole degrees of a small map, part-time or not, tied to a direction or to
    none; clients are owned by someone on the team, by someone who left (R9) or nobody, and
    some are locked. Balance, the moves cap, direction match, the moves and travel weights and
    max_clients (twice the fair count or more; part-timers get half) are drawn; hours per
    month make the team (each direction's people, with direction match) 40-100% busy, and
    anyone able to take any one client.
    """
    n_people = draw(st.integers(2, 3))
    n_clients = draw(st.integers(2, 7))
    directions = draw(st.sampled_from([("X",), ("X", "Y")]))
    rep_ids = [f"R{k}" for k in range(1, n_people + 1)]
    coordinate = st.integers(0, 3).map(float)
    team = pd.DataFrame(
        {
            "rep_id": rep_ids,
            "name": [f"Person {r}" for r in rep_ids],
            "role": "account_manager",
            "direction": [draw(st.sampled_from([*directions, ""])) for _ in rep_ids],
            "region": "Map",
            "fte": [draw(st.sampled_from([0.5, 1.0])) for _ in rep_ids],
            "lat": [draw(coordinate) for _ in rep_ids],
            "lon": [draw(coordinate) for _ in rep_ids],
        }
    )
    for direction in directions:  # someone may take each direction's clients
        if not team["direction"].isin([direction, ""]).any():
            team.loc[0, "direction"] = ""
    client_ids = [f"C{k}" for k in range(1, n_clients + 1)]
    owners = [draw(st.sampled_from(["", "R9", *rep_ids])) for _ in client_ids]
    clients = pd.DataFrame(
        {
            "client_id": client_ids,
            "name": [f"Client {c}" for c in client_ids],
            "segment": [draw(st.sampled_from(list(HOURS))) for _ in client_ids],
            "direction": [draw(st.sampled_from(directions)) for _ in client_ids],
            "region": "Map",
            "status": "active",
            "revenue_last_year": [100.0 * draw(st.integers(1, 9)) for _ in client_ids],
            "potential": [100.0 * draw(st.integers(1, 9)) for _ in client_ids],
            "owner": owners,
            "locked": [bool(o) and draw(st.sampled_from(LOCKED)) for o in owners],
            "lat": [draw(coordinate) for _ in client_ids],
            "lon": [draw(coordinate) for _ in client_ids],
        }
    )
    busy = draw(st.sampled_from([0.4, 0.6, 0.8, 1.0]))
    fair = -(-n_clients // n_people)  # clients per person, rounded up
    max_clients = draw(st.sampled_from([None, 2 * fair, 2 * fair + 2]))
    territory: dict[str, Any] = {
        "balance": draw(st.sampled_from([None, None, 0.2, 0.6])),
        "max_moves": draw(st.sampled_from([None, 0.3, 0.6])),
        "direction_match": draw(st.booleans()),
        "weights": {"moves": draw(st.sampled_from([0.0, 0.05, 1.0]))},
        "travel": {"cost_per_km": draw(st.sampled_from([0.0, 1.0])), "visits_per_year": 2},
    }
    # Hours a full-timer has a month: the team (and, with direction match, each direction's
    # people) `busy`, and anyone able to take any one client.
    hours = clients["segment"].map(HOURS)
    needs = [float(hours.sum()) / float(team["fte"].sum())]
    if territory["direction_match"]:
        for direction in directions:
            fte = team.loc[team["direction"].isin([direction, ""]), "fte"].sum()
            needs.append(float(hours[clients["direction"] == direction].sum()) / float(fte))
    hours_per_month = max(max(needs) / (12 * busy), BIGGEST / (12 * float(team["fte"].min())))
    config = ScenarioConfig.model_validate(
        {
            "directions": list(directions),
            "roles": {
                "account_manager": {
                    "monthly_cost": 100000,
                    "hours_per_month": hours_per_month,
                }
            },
            "segments": {
                s: {"avg_deal": 1_000_000, "win_rate": 0.5, "service_hours_per_year": h}
                for s, h in HOURS.items()
            },
            "coverage": {
                "allowed": {"active": ["account_manager"], "key": ["none"]},
                "max_clients": {} if max_clients is None else {"account_manager": max_clients},
            },
            "territory": territory,
        }
    )
    return Instance(config, clients, team)


# ----- every assignment, by brute force -----------------------------------------------------


def _every_assignment(problem: TerritoryProblem) -> np.ndarray:
    """All assignments as rows of pair indices, one column per client."""
    starts = problem.client_starts()
    ranges = [np.arange(starts[i], starts[i + 1]) for i in range(problem.n_clients)]
    grids = np.meshgrid(*ranges, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def _keeps(problem: TerritoryProblem, every: np.ndarray, *, hard_only: bool) -> np.ndarray:
    """Which assignments keep the rules: the hard ones, or also the balance windows."""
    people = problem.people
    person = problem.pair_person[every][..., None] == np.arange(problem.n_people)
    hours = (problem.pair_hours[every][..., None] * person).sum(axis=1)
    count = person.sum(axis=1)
    high = people["capacity_hours" if hard_only else "workload_high"].to_numpy(dtype=float)
    ok = (hours <= high + TOLERANCE).all(axis=1)
    ok &= (count <= people["max_clients"].to_numpy(dtype=float)).all(axis=1)
    if problem.max_moved_revenue is not None:
        ok &= problem.moved_revenue[every].sum(axis=1) <= problem.max_moved_revenue + TOLERANCE
    if not hard_only:
        ok &= (hours >= people["workload_low"].to_numpy(dtype=float) - TOLERANCE).all(axis=1)
        potential = problem.clients["potential"].to_numpy(dtype=float)[problem.pair_client]
        held = (potential[every][..., None] * person).sum(axis=1)
        ok &= (held >= people["potential_low"].to_numpy(dtype=float) - TOLERANCE).all(axis=1)
        ok &= (held <= people["potential_high"].to_numpy(dtype=float) + TOLERANCE).all(axis=1)
    return np.asarray(ok)


def _close_enough(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-5 * max(1.0, abs(a), abs(b))


# ----- the properties ------------------------------------------------------------------------


@PROPERTIES
@given(instances())
def test_every_answer_keeps_the_rules_and_is_the_cheapest(instance: Instance) -> None:
    problem = build_problem(instance.config, instance.clients, instance.team, COVERAGE)
    solution = solve_assignment(problem, OPTIONS)
    every = _every_assignment(problem)
    hard = _keeps(problem, every, hard_only=True)
    if not hard.any():
        event("no assignment keeps capacity, max_clients and the moves cap")
        assert solution.pair is None, "an answer to an instance that has none"
        assert not solution.status.has_solution
        return
    assert solution.pair is not None, f"no answer though one exists: {solution.status}"
    assert solution.status.has_solution
    solved = solution.problem or problem
    pair = solution.pair

    # each client exactly once, every rule kept
    assert sorted(problem.pair_client[pair].tolist()) == list(range(problem.n_clients))
    assert violations(solved, pair) == []
    assert violations(problem, pair, hard_only=True) == []
    person = problem.pair_person[pair]
    rep = problem.people["rep_id"].to_numpy()[person]
    clients = problem.clients
    on_team = clients["owner"].isin(set(problem.people["rep_id"])).to_numpy()
    locked = clients["locked"].to_numpy(dtype=bool) & on_team
    assert (rep[locked] == clients["owner"].to_numpy()[locked]).all(), "a locked client moved"
    if problem.settings.direction_match:
        held = problem.people["direction"].to_numpy()[person]
        kept = (held == "") | (held == clients["direction"].to_numpy())
        assert (kept | locked).all(), "a client went to a person of another direction"

    # the objective is what the pairs cost, the bound is below it
    assert solution.objective is not None and solution.bound is not None
    assert _close_enough(solution.objective, float(problem.cost[pair].sum()))
    assert solution.bound <= solution.objective + TOLERANCE

    full = _keeps(problem, every, hard_only=False)
    if full.any():
        event("whole clients meet every window")
        best = float(problem.cost[every[full]].sum(axis=1).min())
        assert not solution.widened, f"windows widened needlessly: {solution.widened}"
        assert _close_enough(solution.objective, best), (solution.objective, best)
        assert solution.bound <= best + TOLERANCE
        assert solution.rows is not None and solution.duals is not None
        assert lagrangian(problem, solution.rows, solution.duals)[0] <= best + 1e-6 * abs(best)
    else:
        event("a balance window had to be widened")
        assert solution.widened, "the balance windows were broken without saying so"

    # the tables: every client once, every workload inside its window
    frames = territory_frames(solved, solution, instance.clients)
    territories = frames["territories"]
    assert sorted(territories["client_id"]) == sorted(instance.clients["client_id"])
    workload = frames["workload"]
    assert (workload["workload_hours"] <= workload["workload_high"] + TOLERANCE).all()
    assert (workload["workload_hours"] >= workload["workload_low"] - TOLERANCE).all()
    total = frames["moves"].set_index("role").loc["all"]
    if solved.settings.max_moves is not None:
        assert total["moved_share"] <= solved.settings.max_moves + TOLERANCE


@PROPERTIES
@given(instances(), st.integers(0, 2**32 - 1), st.sampled_from([0.01, 1.0, 100.0, 10_000.0]))
def test_lagrangian_bound_is_below_every_feasible_assignment(
    instance: Instance, seed: int, scale: float
) -> None:
    """For any multipliers: L(y) <= the cost of every assignment that keeps every rule."""
    problem = build_problem(instance.config, instance.clients, instance.team, COVERAGE)
    every = _every_assignment(problem)
    full = _keeps(problem, every, hard_only=False)
    assume(full.any())
    best = float(problem.cost[every[full]].sum(axis=1).min())
    rows = rows_of(problem)
    multipliers = np.random.default_rng(seed).normal(0.0, scale, len(rows.lower))
    bound, reduced, _ = lagrangian(problem, rows, multipliers)
    assert bound <= best + 1e-9 * max(1.0, abs(best)), (bound, best)
    # reduced costs: never negative, zero for each client's best pair
    assert (reduced >= -1e-9).all()
    starts = problem.client_starts()
    assert np.allclose(np.minimum.reduceat(reduced, starts[:-1]), 0.0)
    # no multipliers: the bound is each client's cheapest pair
    plain, _, _ = lagrangian(problem, rows, np.zeros(len(rows.lower)))
    assert plain == np.minimum.reduceat(problem.cost, starts[:-1]).sum()
