"""Large territories, pool by pool: independent groups of people, tied only by the moves cap.

People who can never take the same client (another direction, another role) form separate
pools (`territory_data._pools`). Only the moves cap (`territory.max_moves`) ties pools together,
so the cap is priced instead of imposed: with a price `lam` per rouble of moved revenue, each
pool's relaxation is solved on its own (two at a time, one per core), and

    L(lam) = sum over pools of (pool bound with costs c + lam * moved revenue) - lam * cap

is a lower bound on every territory within the cap, for any lam >= 0 (weak duality). The price
is searched (regula falsi on the moved revenue, which falls as the price rises) until the pools
together move just under the cap. Each pool then gets its share of the cap (what it moves at
that price, plus a share of what is left) and is solved whole by `solve_assignment`: rounding,
repair, local search. The reported bound is the best L(lam); the pools' own bounds are not
summed, since the split of the cap is a choice, not a proof.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from models.territory_data import TerritoryProblem
from models.territory_solver import (
    HEADROOMS,
    PRICING_ROUNDS,
    Rows,
    TerritorySolution,
    _entries,
    _first_candidates,
    _highs_for,
    _Relaxation,
    _x_with_headroom,
    lagrangian,
    objective_of,
    rows_of,
    solve_assignment,
)
from optim.result import Status
from optim.solver import SolveOptions

POOLS_ABOVE = 500_000  # pairs: below this the whole problem is solved at once
PRICE_SHARE = 0.35  # share of the time limit the price search may take
SEARCH_ROUNDS = 1  # pricing rounds per pool while the price is searched
RESERVE = 0.5  # share of the time after the search kept for rounding, should it run over
CAP_TARGET = (0.993, 0.998)  # the price search stops once the pools move this share of the cap:
# a little under it, so that every pool keeps some cap spare for rounding its split clients
POOL_HEADROOMS = (  # (share of each window, share of the cap) kept free in the roundings tried
    (0.02, 0.005),
    (0.05, 0.002),
    (0.05, 0.005),
    (0.1, 0.005),
    (0.1, 0.01),
    (0.2, 0.01),
)
RETRY_ROOM = (0.01, 0.03)  # a pool that cannot be rounded within its share retries from its
# relaxation with this share of its cap kept free
PRICED_PER_CLIENT = 3  # pairs added per client and pricing round
SLACK_WEIGHT = 10.0


@dataclass
class Pool:
    """Where one pool's clients, people and pairs sit in the whole problem."""

    index: int
    clients: np.ndarray
    people: np.ndarray
    pairs: np.ndarray  # sorted by client, as in the whole problem

    @property
    def n_pairs(self) -> int:
        return len(self.pairs)


def worth_splitting(problem: TerritoryProblem) -> bool:
    """Solve pool by pool: many pairs, more than one pool."""
    return problem.n_pairs > POOLS_ABOVE and problem.people["pool"].nunique() > 1


def split_pools(problem: TerritoryProblem) -> list[Pool]:
    """The pools that have pairs; clients keep their order, pairs stay sorted by client."""
    pool_of_person = problem.people["pool"].to_numpy()
    pool_of_pair = pool_of_person[problem.pair_person]
    order = np.argsort(pool_of_pair, kind="stable")
    bounds = np.searchsorted(pool_of_pair[order], np.arange(pool_of_person.max() + 2))
    pools = []
    for k in range(len(bounds) - 1):
        pairs = order[bounds[k] : bounds[k + 1]]
        if len(pairs):
            clients = np.unique(problem.pair_client[pairs])
            pools.append(Pool(k, clients, np.flatnonzero(pool_of_person == k), pairs))
    return pools


def pool_problem(problem: TerritoryProblem, pool: Pool) -> TerritoryProblem:
    """One pool as a problem of its own, without the moves cap."""
    person_at = np.full(problem.n_people, -1, dtype=np.int64)
    person_at[pool.people] = np.arange(len(pool.people))
    client_at = np.full(problem.n_clients, -1, dtype=np.int64)
    client_at[pool.clients] = np.arange(len(pool.clients))
    clients = problem.clients.iloc[pool.clients].reset_index(drop=True)
    owner = problem.clients["owner_index"].to_numpy()[pool.clients]
    clients["owner_index"] = np.where(owner >= 0, person_at[np.maximum(owner, 0)], -1)
    pairs = pool.pairs
    return replace(
        problem,
        clients=clients,
        people=problem.people.iloc[pool.people].reset_index(drop=True),
        unassigned=problem.unassigned.iloc[0:0],
        pair_client=client_at[problem.pair_client[pairs]],
        pair_person=person_at[problem.pair_person[pairs]],
        pair_hours=problem.pair_hours[pairs],
        pair_travel=problem.pair_travel[pairs],
        pair_extra=problem.pair_extra[pairs],
        pair_move_cost=problem.pair_move_cost[pairs],
        moved_revenue=problem.moved_revenue[pairs],
        cost=problem.cost[pairs],
        max_moved_revenue=None,
        notes=(),
    )


@dataclass
class Relaxed:
    """One solve of an `ElasticRelaxation`."""

    status: str  # "optimal", "infeasible" (slack left once nothing prices out) or HiGHS's
    value: float  # the relaxation's objective, slack penalty included
    bound: float  # Lagrangian bound over every pair of the problem at these costs
    x: np.ndarray  # value of each column in `cols`
    cols: np.ndarray  # pair index of each pair column
    duals: np.ndarray
    slack: float  # total slack used on windows, each in units of its width
    rounds: int
    cap_slack: float = 0.0  # moved revenue over the cap, in units of the cap


class ElasticRelaxation:
    """The relaxation over candidate pairs, kept feasible by penalised slack on every window.

    Candidate pairs alone often cannot meet every window (a new seat far from all its cheap
    clients); a plain relaxation over them is then infeasible and says nothing about which
    pairs are missing. With slack on each window, priced far above any pair, the relaxation is
    always solvable, its duals price the missing pairs, and column generation adds them until
    none prices out. Slack still used then means the windows cannot hold at all (the caller
    confirms with `phase_one`). The HiGHS model is kept, so new costs re-solve warm.
    """

    def __init__(
        self,
        problem: TerritoryProblem,
        rows: Rows,
        options: SolveOptions,
        deadline: float,
        cols: np.ndarray | None = None,
    ) -> None:
        import highspy

        self.problem = problem
        self.rows = rows
        self.options = options
        cols = _first_candidates(problem, options.seed) if cols is None else np.asarray(cols)
        self.highs = _highs_for(problem, rows, cols, problem.cost[cols], options, deadline)
        # Costs run to millions of roubles; let HiGHS scale them, or warm re-solves can stall
        # on tiny dual infeasibilities ("Unknown").
        self.highs.setOptionValue("user_objective_scale", -1)
        n = rows.n_clients
        side = np.arange(n, len(rows.lower))
        per_hour = float(np.max(np.abs(problem.cost) / np.maximum(problem.pair_hours, 1e-9)))
        unit = self._unit_penalty(SLACK_WEIGHT * max(per_hour, 1.0))
        slack_rows, slack_sign = [], []
        for direction, bounded in (
            (1.0, side[np.isfinite(rows.lower[side]) & (rows.lower[side] > 0)]),
            (-1.0, side[np.isfinite(rows.upper[side])]),
        ):
            slack_rows.append(bounded)
            slack_sign.append(np.full(len(bounded), direction))
        self.slack_rows = np.concatenate(slack_rows).astype(np.int32)
        sign = np.concatenate(slack_sign)
        self.slack_cost = unit[self.slack_rows - n]
        k = len(self.slack_rows)
        self.highs.addCols(
            k,
            self.slack_cost,
            np.zeros(k),
            np.full(k, highspy.kHighsInf),
            k,
            np.arange(k, dtype=np.int32),
            self.slack_rows,
            sign,
        )
        self.col_pair = np.concatenate([cols, np.full(k, -1)])
        self.in_model = np.zeros(problem.n_pairs, dtype=bool)
        self.in_model[cols] = True
        self.costs_now: np.ndarray | None = None
        width = np.where(
            np.isfinite(rows.upper) & np.isfinite(rows.lower), rows.upper - rows.lower, np.nan
        )
        scale = np.where(np.isfinite(width) & (width > 0), width, np.abs(rows.upper))
        self.slack_scale = np.maximum(
            np.where(np.isfinite(scale), scale, 1.0)[self.slack_rows], 1e-9
        )

    def _unit_penalty(self, per_hour: float) -> np.ndarray:
        """Penalty per unit of each side row's slack: hours, potential, clients, revenue."""
        problem, rows = self.problem, self.rows
        m = rows.n_people
        hours = float(problem.pair_hours.mean()) if problem.n_pairs else 1.0
        parts = [np.full(m, per_hour)]
        if rows.has_potential:
            potential = float(problem.clients["potential"].to_numpy(dtype=float).mean())
            parts.append(np.full(m, per_hour * hours / max(potential, 1e-9)))
        if rows.has_count:
            parts.append(np.full(m, per_hour * hours))
        if rows.has_cap:
            revenue = float(np.abs(problem.moved_revenue).max()) if problem.n_pairs else 1.0
            parts.append(np.array([per_hour * hours / max(revenue, 1e-9) * 10]))
        return np.concatenate(parts)

    @property
    def cols(self) -> np.ndarray:
        return self.col_pair[self.col_pair >= 0]

    def impose_cap(self, cap: float) -> None:
        """Make the moves cap a row of the relaxation (or move its limit), from now on."""
        import highspy

        if self.rows.has_cap:
            index = np.array([self.rows.cap], dtype=np.int32)
            upper = cap if math.isfinite(cap) else highspy.kHighsInf
            self.highs.changeRowsBounds(1, index, np.array([0.0]), np.array([upper]))
            self.rows.upper[self.rows.cap] = cap
            return
        self.problem = replace(self.problem, max_moved_revenue=cap)
        self.rows = rows_of(self.problem)
        columns = np.flatnonzero(self.col_pair >= 0)
        moved = self.problem.moved_revenue[self.col_pair[columns]]
        keep = moved != 0
        self.highs.addRow(
            0.0,
            cap,
            int(keep.sum()),
            columns[keep].astype(np.int32),
            moved[keep].astype(float),
        )

    def solve(self, cost: np.ndarray, deadline: float, max_rounds: int = PRICING_ROUNDS) -> Relaxed:
        """Solve at these pair costs (one per pair of the problem), pricing in missing pairs."""
        import highspy

        highs = self.highs
        is_pair = self.col_pair >= 0
        costs = np.where(is_pair, cost[np.maximum(self.col_pair, 0)], 0.0)
        costs[~is_pair] = self.slack_cost
        if self.costs_now is None or not np.array_equal(costs, self.costs_now):
            every = np.arange(len(costs), dtype=np.int32)
            highs.changeColsCost(len(costs), every, costs)
        self.costs_now = costs
        priced = replace(self.problem, cost=cost)
        rows = self.rows
        n = rows.n_clients
        rounds = 0
        while True:
            # HiGHS's time limit counts every run of this model so far.
            left = max(0.5, deadline - time.monotonic())
            highs.setOptionValue("time_limit", highs.getRunTime() + left)
            highs.run()
            status = highs.getModelStatus()
            if status == highspy.HighsModelStatus.kUnknown:  # numerical trouble: start afresh
                highs.clearSolver()
                highs.run()
                status = highs.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                text = highs.modelStatusToString(status)
                return Relaxed(text, math.nan, -math.inf, np.zeros(0), self.cols, np.zeros(0), 0, 0)
            solution = highs.getSolution()
            duals = np.asarray(solution.row_dual)
            bound, reduced, best = lagrangian(priced, rows, duals)
            lp_reduced = reduced + best[priced.pair_client] - duals[:n][priced.pair_client]
            pricing = np.flatnonzero((lp_reduced < -1e-6) & ~self.in_model)
            rounds += 1
            if len(pricing) == 0 or rounds > max_rounds or time.monotonic() > deadline:
                break
            order = pricing[np.lexsort((lp_reduced[pricing], priced.pair_client[pricing]))]
            clients = priced.pair_client[order]
            rank = np.arange(len(order)) - np.searchsorted(clients, clients)
            add = np.sort(order[rank < PRICED_PER_CLIENT])
            s, i, v = _entries(priced, rows, add)
            highs.addCols(
                len(add), cost[add], np.zeros(len(add)), np.ones(len(add)), len(i), s[:-1], i, v
            )
            self.col_pair = np.concatenate([self.col_pair, add])
            self.costs_now = np.concatenate([self.costs_now, cost[add]])
            self.in_model[add] = True
        x_all = np.asarray(solution.col_value)
        is_pair = self.col_pair >= 0
        used = x_all[~is_pair] / self.slack_scale
        on_cap = self.slack_rows == rows.cap if rows.has_cap else np.zeros(len(used), bool)
        slack = float(np.sum(used[~on_cap]))
        value = float(highs.getInfo().objective_function_value)
        ended = "infeasible" if slack > 1e-6 and len(pricing) == 0 else "optimal"
        return Relaxed(
            ended,
            value,
            bound,
            x_all[is_pair],
            self.cols,
            duals,
            slack,
            rounds,
            float(np.sum(used[on_cap])),
        )


@dataclass
class PoolState:
    """One pool's relaxation, with the cap priced instead of imposed."""

    problem: TerritoryProblem  # the pool alone, no cap
    rows: Rows  # its rows: no cap row
    lp: ElasticRelaxation
    history: dict[float, Relaxed] = field(default_factory=dict)

    def solve(self, price: float, deadline: float, max_rounds: int = PRICING_ROUNDS) -> Relaxed:
        problem = self.problem
        cost = problem.cost + price * problem.moved_revenue
        self.history[price] = self.lp.solve(cost, deadline, max_rounds)
        return self.history[price]

    def moved(self, price: float) -> float:
        r = self.history[price]
        return float(np.dot(r.x, self.problem.moved_revenue[r.cols])) if len(r.x) else 0.0


class _Pools:
    """The relaxations of some pools, kept between calls: what one worker process holds."""

    def __init__(self, options: SolveOptions, deadline: float) -> None:
        self.options = replace(options, threads=1)
        self.deadline = deadline
        self.states: list[PoolState] = []

    def add(self, problem: TerritoryProblem) -> None:
        rows = rows_of(problem)
        lp = ElasticRelaxation(problem, rows, self.options, self.deadline)
        self.states.append(PoolState(problem, rows, lp))

    def price(self, price: float, deadline: float) -> list[tuple[str, float, float]]:
        """Each pool at this price of moves: (status, revenue moved, Lagrangian bound)."""
        out = []
        for state in self.states:
            relaxed = state.solve(price, deadline, SEARCH_ROUNDS)
            moved = state.moved(price) if relaxed.status == "optimal" else math.nan
            out.append((relaxed.status, moved, relaxed.bound))
        return out

    def finish(
        self, price: float, budgets: list[float | None], deadline: float
    ) -> list[dict[str, Any]]:
        """Each pool solved whole with its share of the cap, in the time left, by size."""
        sizes = np.array([s.problem.n_pairs for s in self.states], dtype=float)
        out = []
        for k, state in enumerate(self.states):
            sub = replace(state.problem, max_moved_revenue=budgets[k])
            for attempt, room in enumerate((0.0, *RETRY_ROOM)):
                relaxed = _as_relaxation(state, price, budgets[k], deadline, room)
                left = deadline - time.monotonic()
                mine = max(0.5, left * sizes[k] / sizes[k:].sum())
                # Half the gap: the split of the cap and the price search cost some of it.
                opts = replace(self.options, time_limit=mine, gap=self.options.gap / 2)
                sol = solve_assignment(sub, opts, relaxed=relaxed)
                sol.stats["rounding_attempts"] = attempt + 1
                if sol.pair is not None or budgets[k] is None or sol.status is Status.INFEASIBLE:
                    break
            out.append(
                {
                    "status": sol.status,
                    "pair": sol.pair,
                    "objective": sol.objective,
                    "bound": sol.bound,
                    "seconds": sol.seconds,
                    "stats": sol.stats,
                    "widened": sol.widened,
                    "infeasible": sol.infeasible,
                    "duals": relaxed.duals,
                    "windows": _windows(sol.problem) if sol.widened else None,
                }
            )
        return out


def _serve(conn: Any) -> None:
    """A worker process: holds its pools' relaxations, answers `add`, `price` and `finish`."""
    held: _Pools | None = None
    while True:
        command, args = conn.recv()
        try:
            if command == "start":
                held = _Pools(*args)
                conn.send(("ok", None))
            elif command in ("add", "price", "finish"):
                assert held is not None
                conn.send(("ok", getattr(held, command)(*args)))
            else:
                conn.send(("ok", None))
                return
        except Exception:  # handed to the parent, which raises it
            import traceback

            conn.send(("error", traceback.format_exc()))


class _Workers:
    """Pools spread over worker processes; with one group, everything runs in this process.

    HiGHS keeps Python's interpreter lock while it solves, so threads would only take turns.
    Workers are spawned, not forked: a fork would copy the locks of HiGHS's own threads. Each
    pool's problem is cut out and sent on its own, so that neither side holds all of them.
    """

    def __init__(
        self,
        problem: TerritoryProblem,
        pools: list[Pool],
        groups: list[list[int]],
        options: SolveOptions,
        deadline: float,
    ) -> None:
        self.local: _Pools | None = None
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        if len(groups) == 1:
            self.local = _Pools(options, deadline)
            for k in groups[0]:
                self.local.add(pool_problem(problem, pools[k]))
            return
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        for _ in groups:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child,), daemon=True)
            proc.start()
            parent.send(("start", (options, deadline)))
            self.conns.append(parent)
            self.procs.append(proc)
        self._gather()
        for turn in range(max(len(g) for g in groups)):
            sent = []
            for conn, group in zip(self.conns, groups, strict=True):
                if turn < len(group):
                    conn.send(("add", (pool_problem(problem, pools[group[turn]]),)))
                    sent.append(conn)
            self._gather(sent)

    def _gather(self, conns: list[Any] | None = None) -> list[Any]:
        out = []
        for conn in self.conns if conns is None else conns:
            kind, value = conn.recv()
            if kind == "error":
                self.close()
                raise RuntimeError(f"territory pool worker failed:\n{value}")
            out.append(value)
        return out

    def call(self, command: str, per_worker: list[tuple[Any, ...]]) -> list[Any]:
        """Run the command on every worker (arguments per worker); answers in group order."""
        if self.local is not None:
            return list(getattr(self.local, command)(*per_worker[0]))
        for conn, args in zip(self.conns, per_worker, strict=True):
            conn.send((command, args))
        return [item for part in self._gather() for item in part]

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("stop", ()))
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        self.conns, self.procs = [], []


def _groups(pools: list[Pool], workers: int) -> list[list[int]]:
    """Pools dealt to workers, biggest first, each to the least loaded worker."""
    load = np.zeros(max(1, min(workers, len(pools))))
    groups: list[list[int]] = [[] for _ in range(len(load))]
    for k in sorted(range(len(pools)), key=lambda k: -pools[k].n_pairs):
        w = int(np.argmin(load))
        groups[w].append(k)
        load[w] += pools[k].n_pairs
    return groups


@dataclass
class _Priced:
    """The pools solved at one price of moved revenue."""

    price: float
    moved: np.ndarray  # revenue each pool moves
    bound: float  # L(price)
    statuses: list[str]


class _Voluntary:
    """Moves worth making at a price, before any relaxation is solved.

    Each client would save (cost with its owner - its cheapest cost) by leaving; per rouble of
    its revenue, that is the price of moves above which leaving stops paying. Balance forces
    other moves whatever the price; the price search adds those from what the pools report.
    """

    def __init__(self, problem: TerritoryProblem) -> None:
        owner = problem.clients["owner_index"].to_numpy()
        stays = owner[problem.pair_client] == problem.pair_person
        stay_cost = np.full(problem.n_clients, np.nan)
        stay_cost[problem.pair_client[stays]] = problem.cost[stays]
        starts = problem.client_starts()
        cheapest = (
            np.minimum.reduceat(problem.cost, starts[:-1]) if problem.n_pairs else np.zeros(0)
        )
        revenue = problem.clients["revenue_last_year"].to_numpy(dtype=float)
        per_rouble = (stay_cost - cheapest) / np.where(revenue > 0, revenue, np.nan)
        keep = np.isfinite(per_rouble) & (per_rouble > 0)
        order = np.argsort(-per_rouble[keep])
        self.prices = per_rouble[keep][order]  # falling
        self.moved = np.cumsum(revenue[keep][order])  # moved when the price is just below each

    def __call__(self, price: float) -> float:
        k = int(np.searchsorted(-self.prices, -price, side="left"))
        return float(self.moved[k - 1]) if k > 0 else 0.0

    def price_for(self, moved: float) -> float:
        """The lowest price at which no more than `moved` is worth moving."""
        if moved <= 0:
            return float(self.prices[0]) if len(self.prices) else 0.0
        k = int(np.searchsorted(self.moved, moved, side="right"))
        return float(self.prices[k]) if k < len(self.prices) else 0.0


def relax_pools(
    problem: TerritoryProblem, options: SolveOptions, deadline: float, until: float
) -> tuple[_Workers, list[Pool], list[list[int]], _Priced | None, float, dict[str, Any]]:
    """Every pool's relaxation at the price of moves at which all pools together fit the cap.

    Returns the workers holding the pools, the pools, which worker holds which, the chosen
    price (the pools at it move no more than the cap; None when none was found), the best
    bound L(price) over the prices tried (valid whatever the price) and statistics. `until`
    ends the price search.
    """
    pools = split_pools(problem)
    groups = _groups(pools, max(1, options.threads or 2))
    order = [k for group in groups for k in group]
    workers = _Workers(problem, pools, groups, options, deadline)
    cap = problem.max_moved_revenue
    stats: dict[str, Any] = {"pools": len(pools), "workers": len(groups), "price_rounds": 0}

    high: _Priced | None = None

    def at(price: float) -> _Priced:
        end = until if high is not None else deadline
        answers = workers.call("price", [(price, max(end, time.monotonic() + 1)) for _ in groups])
        statuses = sorted({a[0] for a in answers})
        if "infeasible" in statuses:
            stats["infeasible_pools"] = [
                k for k, a in zip(order, answers, strict=True) if a[0] == "infeasible"
            ]
        moved = np.zeros(len(pools))
        moved[order] = [a[1] for a in answers]
        bound = sum(a[2] for a in answers) - price * (cap or 0.0)
        stats["price_rounds"] += 1
        return _Priced(price, moved, bound if statuses == ["optimal"] else -math.inf, statuses)

    if cap is None:
        first = at(0.0)
        chosen = first if first.statuses == ["optimal"] else None
        return workers, pools, groups, chosen, first.bound, stats
    voluntary = _Voluntary(problem)
    target = cap * sum(CAP_TARGET) / 2
    price = 1.25 * voluntary.price_for(target)
    tried: list[_Priced] = []
    low: _Priced | None = None
    side = 0  # Illinois: halve the weight of a bracket end that stays put
    # Past `until`, the search goes on only until some price fits the cap (the pools need one).
    while time.monotonic() < (
        until if high is not None else deadline - RESERVE * (deadline - until)
    ):
        now = at(price)
        if now.statuses != ["optimal"]:
            break
        tried.append(now)
        if now.moved.sum() <= cap * CAP_TARGET[1]:
            high = now
            if now.moved.sum() >= cap * CAP_TARGET[0] or price == 0:
                break
            side = side - 1 if side <= 0 else -1
        else:
            low = now
            side = side + 1 if side >= 0 else 1
        # Moved revenue = forced moves (whatever the price) + moves worth making at the price
        # (`voluntary`); the forced part is read off this round, the next price solves for it.
        forced = now.moved.sum() - voluntary(now.price)
        guess = voluntary.price_for(target - forced)
        if high is None:
            price = max(guess, 2 * price, 1e-6) if guess <= price else guess
            continue
        if low is None:
            price = min(guess, price / 2) if guess >= price else guess
            continue
        if low.price < guess < high.price and side in (-1, 1):
            price = guess
            continue
        if high.price - low.price <= 1e-9 * max(high.price, 1e-12):
            break
        over, under = low.moved.sum() - target, target - high.moved.sum()
        if side >= 2:
            over /= 2 ** (side - 1)
        elif side <= -2:
            under /= 2 ** (-side - 1)
        price = low.price + (high.price - low.price) * over / max(over + under, 1e-300)
    bound = max((t.bound for t in tried), default=-math.inf)
    stats.update(
        price=None if high is None else high.price,
        moved_share_of_cap=None if high is None else float(high.moved.sum() / cap),
        prices_tried=[round(t.price, 6) for t in tried],
    )
    return workers, pools, groups, high, bound, stats


def solve_by_pools(problem: TerritoryProblem, options: SolveOptions) -> TerritorySolution:
    """Price the moves cap over the pools, then solve each pool with its share of the cap."""
    started = time.monotonic()
    # Kept back for closing the workers and laying the pools' answers out on the whole.
    deadline = started + options.time_limit - min(2.0, 0.02 * options.time_limit)
    until = started + PRICE_SHARE * options.time_limit
    workers, pools, groups, chosen, bound, stats = relax_pools(problem, options, deadline, until)
    try:
        if chosen is None:
            return _no_price(problem, pools, stats, options, started, deadline)
        cap = problem.max_moved_revenue
        moved = chosen.moved
        if cap is not None:
            spare = max(cap - float(moved.sum()), 0.0)
            weight = moved if moved.sum() > 0 else np.ones(len(moved))
            budgets: list[float | None] = list(moved + spare * weight / weight.sum())
        else:
            budgets = [None] * len(pools)
        stats["lp_seconds"] = round(time.monotonic() - started, 3)
        answers = workers.call(
            "finish", [(chosen.price, [budgets[k] for k in g], deadline) for g in groups]
        )
    finally:
        workers.close()
    by_pool = dict(zip([k for g in groups for k in g], answers, strict=True))
    pair = np.full(problem.n_clients, -1, dtype=np.int64)
    for k, pool in enumerate(pools):
        answer = by_pool[k]
        if answer["pair"] is None:
            return TerritorySolution(
                answer["status"],
                None,
                None,
                None,
                time.monotonic() - started,
                stats=stats | answer["stats"],
                infeasible=answer["infeasible"],
                problem=problem,
            )
        pair[pool.clients] = pool.pairs[answer["pair"]]
    best = objective_of(problem, pair)
    bound = min(bound, best)
    rows = rows_of(problem)
    solved = problem
    if any(by_pool[k]["windows"] is not None for k in range(len(pools))):
        people = problem.people.copy()
        for k, pool in enumerate(pools):
            if by_pool[k]["windows"] is not None:
                for column, values in by_pool[k]["windows"].items():
                    people.loc[pool.people, column] = values
        solved = replace(problem, people=people)
    answers = [by_pool[k] for k in range(len(pools))]
    stats.update(
        pool_objectives=[a["objective"] for a in answers],
        pool_bounds=[a["bound"] for a in answers],
        pool_seconds=[round(a["seconds"], 2) for a in answers],
        pool_widened=[len(a["widened"]) for a in answers],
        pool_rounding_attempts=[a["stats"].get("rounding_attempts") for a in answers],
    )
    ended = Status.OPTIMAL if best - bound <= 1e-9 * max(1.0, abs(best)) else Status.FEASIBLE
    return TerritorySolution(
        ended,
        pair,
        best,
        bound,
        time.monotonic() - started,
        duals=_whole_duals(problem, rows, pools, [a["duals"] for a in answers]),
        rows=rows,
        stats=stats,
        problem=solved,
        widened=tuple(w for a in answers for w in a["widened"]),
    )


def _no_price(
    problem: TerritoryProblem,
    pools: list[Pool],
    stats: dict[str, Any],
    options: SolveOptions,
    started: float,
    deadline: float,
) -> TerritorySolution:
    """No price of moves was found: a pool cannot meet its windows, or time ran out.

    A pool whose relaxation keeps slack on a window is solved alone, without the cap, so that
    its own solve proves what cannot hold (or finds that widening its windows would do, which
    the pool-by-pool solve does not do: the answer then says so).
    """
    failure = "no price of moves that fits the cap was found in time"
    for k in stats.get("infeasible_pools", [])[:1]:
        left = replace(options, time_limit=max(1.0, deadline - time.monotonic()))
        alone = solve_assignment(pool_problem(problem, pools[k]), left)
        if alone.status is Status.INFEASIBLE:
            return replace(alone, seconds=time.monotonic() - started, problem=problem)
        failure = "a pool's windows hold only once widened; widen territory.balance"
    return TerritorySolution(
        Status.ERROR,
        None,
        None,
        None,
        time.monotonic() - started,
        stats=stats | {"failure": failure},
        problem=problem,
    )


WINDOWS = ("workload_low", "workload_high", "potential_low", "potential_high")


def _windows(problem: TerritoryProblem | None) -> dict[str, np.ndarray] | None:
    """A pool's balance windows, as its solve left them (widened where it had to)."""
    if problem is None:
        return None
    people = problem.people
    return {c: people[c].to_numpy(dtype=float) for c in WINDOWS if c in people}


def _whole_duals(
    problem: TerritoryProblem, rows: Rows, pools: list[Pool], duals: list[np.ndarray]
) -> np.ndarray:
    """The pools' relaxation duals laid out on the whole problem's rows.

    A pool's rows: its clients, its people's workload, then potential and client-count rows
    for its people where the whole problem has them (count rows only when one of its people
    has a finite max_clients), then the cap row when there is a cap.
    """
    out = np.zeros(len(rows.lower))
    max_clients = problem.people["max_clients"].to_numpy(dtype=float)
    for pool, y in zip(pools, duals, strict=True):
        n, m = len(pool.clients), len(pool.people)
        out[pool.clients] = y[:n]
        at = n
        for kind, present in (
            ("workload", True),
            ("potential", rows.has_potential),
            ("count", bool(np.isfinite(max_clients[pool.people]).any())),
        ):
            if present:
                if kind == "workload" or getattr(rows, f"has_{kind}"):
                    out[getattr(rows, kind) + pool.people] = y[at : at + m]
                at += m
        if rows.has_cap and len(y) > at:
            out[rows.cap] = y[at]
    return out


def _as_relaxation(
    state: PoolState, price: float, capped: float | None, deadline: float, room: float = 0.0
) -> _Relaxation:
    """The pool's relaxation as `solve_assignment` takes it, within its share of the cap.

    Without a cap, the relaxation at `price`. With one, the share becomes a row of the pool's
    relaxation (less `room`, a share of it kept free) and the relaxation is re-solved warm from
    its answer at the price, which nearly meets the share already; the rounding then starts
    from a relaxation that keeps the share, with the usual headroom solutions.
    """
    relaxed = None
    if capped is not None:
        state.lp.impose_cap(capped * (1 - room))
        relaxed = state.lp.solve(state.problem.cost, deadline)
    if relaxed is None or relaxed.status != "optimal":
        # No cap, or the share cannot hold even split: the relaxation at the price, its cap
        # row (if any) lifted and priced instead.
        if state.lp.rows.has_cap:
            state.lp.impose_cap(math.inf)
        relaxed = state.solve(price, deadline)
        if relaxed.status != "optimal":
            return _Relaxation(relaxed.status, math.nan, relaxed.cols, np.zeros(0), np.zeros(0), 0)
        if state.lp.rows.has_cap:
            relaxed.duals[state.lp.rows.cap] = -price
            state.lp.impose_cap(math.inf if capped is None else capped)
    rows = state.lp.rows
    is_pair = state.lp.col_pair >= 0
    spare = tuple(
        _x_with_headroom(state.lp.highs, rows, relaxed.x, share, cap_share)
        for share, cap_share in POOL_HEADROOMS
    )
    spare = tuple(x[is_pair] if len(x) == len(is_pair) else x for x in spare)
    value = float(np.dot(relaxed.x, state.problem.cost[relaxed.cols]))
    return _Relaxation(
        "optimal", value, relaxed.cols, relaxed.x, relaxed.duals, relaxed.rounds, spare
    )


def elastic_relaxation(
    problem: TerritoryProblem, rows: Rows, options: SolveOptions, deadline: float
) -> _Relaxation:
    """The whole problem's relaxation over candidate pairs, kept feasible by penalised slack.

    For large problems solved at once (one pool): a relaxation over candidates alone is often
    infeasible, and a phase one over every pair takes minutes at this size. Slack left once
    nothing prices out is reported as "Infeasible", for the caller's phase one to diagnose.
    """
    lp = ElasticRelaxation(problem, rows, options, deadline)
    relaxed = lp.solve(problem.cost, deadline)
    if relaxed.status == "optimal" and relaxed.cap_slack > 1e-6:
        relaxed = replace(relaxed, status="infeasible")  # the moves cap cannot hold either
    if relaxed.status != "optimal":
        status = "Infeasible" if relaxed.status == "infeasible" else relaxed.status
        return _Relaxation(status, math.nan, relaxed.cols, np.zeros(0), np.zeros(0), 0)
    is_pair = lp.col_pair >= 0
    spare = tuple(_x_with_headroom(lp.highs, rows, relaxed.x, share) for share in HEADROOMS)
    spare = tuple(x[is_pair] if len(x) == len(is_pair) else x for x in spare)
    value = float(np.dot(relaxed.x, problem.cost[relaxed.cols]))
    return _Relaxation(
        "optimal", value, relaxed.cols, relaxed.x, relaxed.duals, relaxed.rounds, spare
    )
