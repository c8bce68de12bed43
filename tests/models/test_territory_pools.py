"""Pool-by-pool territories (models/territory_pools.py) against the whole problem solved at once.

The benchmarks' generator (benchmarks/territory_instances.py) gives small instances with three
directions, so three pools of people tied only by the moves cap. `POOLS_ABOVE` is lowered so
that these small problems take the pool-by-pool path; the whole problem, solved exactly, is the
yardstick: every bound either path proves lies below the other's territory, and the pools'
territory keeps every rule.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from models import territory_pools, territory_solver
from models.territory_data import TerritoryProblem, build_problem
from models.territory_solver import lagrangian, solve_assignment, violations
from optim.result import Status
from optim.solver import SolveOptions
from tests.models.bench_instances import make_instance


def _instance(n_clients: int, n_people: int, seed: int, **kwargs: Any) -> TerritoryProblem:
    made = make_instance(n_clients, n_people, seed=seed, **kwargs)
    return build_problem(made.config, made.clients, made.team, made.coverage)


@pytest.fixture
def split_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(territory_pools, "POOLS_ABOVE", 0)


def test_pools_partition_the_problem() -> None:
    problem = _instance(300, 9, seed=3, directions=3)
    pools = territory_pools.split_pools(problem)
    assert len(pools) == 3
    pairs = np.concatenate([p.pairs for p in pools])
    assert np.array_equal(np.sort(pairs), np.arange(problem.n_pairs))
    clients = np.concatenate([p.clients for p in pools])
    assert np.array_equal(np.sort(clients), np.arange(problem.n_clients))
    for pool in pools:
        sub = territory_pools.pool_problem(problem, pool)
        assert sub.max_moved_revenue is None
        # Pair k of the pool is pair pool.pairs[k] of the whole, client and person renumbered.
        assert np.array_equal(pool.clients[sub.pair_client], problem.pair_client[pool.pairs])
        assert np.array_equal(pool.people[sub.pair_person], problem.pair_person[pool.pairs])
        assert np.array_equal(sub.cost, problem.cost[pool.pairs])
        assert np.all(np.diff(sub.pair_client) >= 0)  # still sorted by client
        owner = sub.clients["owner_index"].to_numpy()
        whole_owner = problem.clients["owner_index"].to_numpy()[pool.clients]
        has = owner >= 0
        assert np.array_equal(pool.people[owner[has]], whole_owner[has])


SIZE = (600, 30)  # 200 clients and 10 people per direction
SEED = 4  # feasible, and solved exactly in a few seconds


@pytest.fixture(scope="module")
def instance() -> TerritoryProblem:
    return _instance(*SIZE, seed=SEED, directions=3)


@pytest.fixture(scope="module")
def exact(instance: TerritoryProblem) -> Any:
    """The whole problem solved to a proven optimum (rounding aside)."""
    with pytest.MonkeyPatch.context() as whole:
        whole.setattr(territory_pools, "POOLS_ABOVE", 10**12)
        solved = solve_assignment(instance, SolveOptions(time_limit=30, gap=0, seed=SEED))
    assert solved.objective is not None and solved.bound is not None
    assert solved.objective - solved.bound <= 1e-6 * solved.objective
    return solved


@pytest.mark.parametrize("threads", [1, 2])
def test_pools_match_the_whole_solve(
    split_everything: None, instance: TerritoryProblem, exact: Any, threads: int
) -> None:
    """Balance ±5% and a 15% moves cap that binds: the pools price it and share it out.

    threads=2 runs the pools in two worker processes, threads=1 in this one.
    """
    problem = instance
    pooled = solve_assignment(problem, SolveOptions(time_limit=15, gap=0.002, threads=threads))
    assert pooled.stats["pools"] == 3
    assert pooled.stats["workers"] == threads
    assert pooled.stats["price"] > 0  # the cap binds
    assert pooled.pair is not None and pooled.objective is not None and pooled.bound is not None
    assert pooled.widened == ()
    assert violations(problem, pooled.pair) == []
    assert np.array_equal(problem.pair_client[pooled.pair], np.arange(problem.n_clients))
    assert pooled.objective == pytest.approx(float(problem.cost[pooled.pair].sum()))
    # Both bounds are valid: neither may exceed the other's territory.
    assert pooled.bound <= exact.objective + 1e-6 * abs(exact.objective)
    assert exact.bound <= pooled.objective + 1e-6 * abs(exact.objective)
    assert pooled.objective <= exact.objective * 1.01
    # The whole-problem duals laid out from the pools give a valid bound too.
    assert pooled.duals is not None and pooled.rows is not None
    whole_bound, _, _ = lagrangian(problem, pooled.rows, pooled.duals)
    assert whole_bound <= exact.objective + 1e-6 * abs(exact.objective)


def test_the_price_search_fits_the_cap(
    split_everything: None, instance: TerritoryProblem, exact: Any
) -> None:
    """The chosen price moves no more than the cap; the bound holds at every price tried."""
    problem = instance
    assert problem.max_moved_revenue is not None
    options = SolveOptions(time_limit=15, gap=0, threads=1)
    workers, _, _, chosen, bound, stats = territory_pools.relax_pools(
        problem, options, deadline=1e18, until=1e18
    )
    workers.close()
    assert chosen is not None
    assert chosen.moved.sum() <= problem.max_moved_revenue * territory_pools.CAP_TARGET[1] + 1e-6
    assert chosen.moved.sum() >= problem.max_moved_revenue * territory_pools.CAP_TARGET[0] - 1e-6
    assert bound <= exact.objective + 1e-6 * abs(exact.objective)
    assert len(stats["prices_tried"]) == stats["price_rounds"]


def test_a_pool_that_cannot_meet_its_windows_is_reported(split_everything: None) -> None:
    """One direction's people cannot hold its clients: the answer names the broken limits."""
    problem = _instance(*SIZE, seed=SEED, directions=3)
    people = problem.people.copy()
    first = people["pool"] == people["pool"].iloc[0]
    people.loc[first, "capacity_hours"] = 1.0
    people.loc[first, "workload_high"] = 1.0
    people.loc[first, "workload_low"] = 0.0
    broken = replace(problem, people=people)
    result = solve_assignment(broken, SolveOptions(time_limit=10, gap=0.01, threads=1))
    assert result.status is Status.INFEASIBLE
    assert result.pair is None
    assert result.infeasible


def test_one_large_pool_relaxes_over_candidates_with_slack(
    monkeypatch: pytest.MonkeyPatch, instance: TerritoryProblem, exact: Any
) -> None:
    """Solved at once over candidate pairs (as above 500,000 pairs): the same optimum."""
    monkeypatch.setattr(territory_solver, "ALL_PAIRS_BELOW", 0)
    monkeypatch.setattr(territory_pools, "POOLS_ABOVE", 10**12)
    monkeypatch.setattr(territory_solver, "CANDIDATES_PER_CLIENT", 1)  # too few: needs pricing
    solved = solve_assignment(instance, SolveOptions(time_limit=20, gap=0, seed=SEED))
    assert solved.pair is not None and solved.objective is not None and solved.bound is not None
    assert solved.stats["pricing_rounds"] > 1
    assert solved.stats["lp_value"] == pytest.approx(exact.stats["lp_value"], rel=1e-7)
    assert violations(instance, solved.pair) == []
    assert solved.bound <= exact.objective + 1e-6 * abs(exact.objective)
    assert solved.objective <= exact.objective * 1.001


def test_the_polish_beside_the_search_gives_a_valid_territory_and_bound(
    monkeypatch: pytest.MonkeyPatch, instance: TerritoryProblem, exact: Any
) -> None:
    """With two cores, HiGHS polishes in a second process while the local search goes on."""
    monkeypatch.setattr(territory_solver, "POLISH_BESIDE_ABOVE", 0.0)
    monkeypatch.setattr(territory_pools, "POOLS_ABOVE", 10**12)
    solved = solve_assignment(instance, SolveOptions(time_limit=8, gap=0, seed=SEED))
    assert "beside the search" in solved.stats["polish"]
    assert solved.pair is not None and solved.objective is not None and solved.bound is not None
    assert violations(instance, solved.pair) == []
    assert solved.bound <= exact.objective + 1e-6 * abs(exact.objective)
    assert exact.bound <= solved.objective + 1e-6 * abs(exact.objective)
    assert "taken_from_polish" in solved.stats  # the search listened to the polish


class _Pipe:
    """One end of a pipe, as the polish's callbacks see it: what is sent, what waits."""

    def __init__(self, waiting: list[Any]) -> None:
        self.sent: list[Any] = []
        self.waiting = waiting

    def send(self, message: Any) -> None:
        self.sent.append(message)

    def poll(self) -> bool:
        return bool(self.waiting)

    def recv(self) -> Any:
        return self.waiting.pop(0)


class _Highs:
    def setCallback(self, callback: Any, data: Any) -> None:
        self.callback = callback

    def startCallback(self, kind: Any) -> None:
        pass


class _Into:
    def setSolution(self, values: np.ndarray) -> None:
        self.values = np.asarray(values)


def test_the_polish_and_the_search_trade_territories(
    instance: TerritoryProblem, exact: Any
) -> None:
    """HiGHS's improving territories go out whole; the search's come in one at a time."""
    import highspy

    kinds = highspy.cb.HighsCallbackType
    best = exact.pair
    other = territory_solver._largest_share(  # another whole territory, over other pairs
        instance, np.arange(instance.n_pairs), np.random.default_rng(0).random(instance.n_pairs)
    )
    cols = np.union1d(best, other)
    pipe, highs, into = _Pipe([("better", best), ("better", other)]), _Highs(), _Into()
    territory_solver._trade_with(highs, pipe, instance, cols)

    found = type("Out", (), {"mip_solution": np.isin(cols, best).astype(float)})()
    highs.callback(kinds.kCallbackMipImprovingSolution, "", found, None, None)
    assert [kind for kind, _ in pipe.sent] == ["found"]
    np.testing.assert_array_equal(pipe.sent[0][1], best)

    highs.callback(kinds.kCallbackMipUserSolution, "", None, into, None)
    assert len(pipe.waiting) == 1  # one read, and HiGHS says so
    assert [kind for kind, _ in pipe.sent] == ["found", "read"]
    np.testing.assert_array_equal(into.values, np.isin(cols, best).astype(float))


def test_the_search_keeps_its_newest_offer_until_highs_has_read_the_last() -> None:
    """The search never has two offers in the pipe, so it never blocks on a full one."""
    beside = territory_solver._PolishBeside.__new__(territory_solver._PolishBeside)
    pipe = _Pipe([])
    beside.conn, beside.answer, beside.waiting, beside.in_pipe = pipe, None, None, False  # type: ignore[assignment]
    first, second, third = np.array([0, 1]), np.array([2, 3]), np.array([4, 5])
    beside.offer(first)
    beside.offer(second)
    beside.offer(third)
    assert [value.tolist() for _, value in pipe.sent] == [[0, 1]]

    pipe.waiting += [("read", None), ("found", np.array([7, 8]))]
    assert beside.incoming().tolist() == [7, 8]  # type: ignore[union-attr]
    assert [value.tolist() for _, value in pipe.sent] == [[0, 1], [4, 5]]  # the newest
    assert beside.incoming() is None
    assert len(pipe.sent) == 2
