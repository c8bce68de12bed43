"""Solving the territory problem at any size, with an honest bound.

A plain MIP over every client x person pair does not fit 100,000 clients x 1,000 people in two
minutes, so the solve uses the problem's structure (docs/models.md, "Territory", has the maths):

1. Linear relaxation over candidate pairs (each client's cheapest pairs and its owner), with
   HiGHS, and column generation: pairs whose reduced cost is negative are added until none is.
2. Lagrangian bound: from the relaxation's duals, a lower bound valid for the full problem
   (every eligible pair, integer assignment). This is the bound the result reports.
3. Rounding and repair: clients the relaxation assigns whole keep their person; the few split
   ones are placed by a CP-SAT model over what is left of everyone's window.
4. Large-neighbourhood search: a few people at a time give up all their clients, and CP-SAT
   reassigns them optimally among those people; better territories are kept.
5. Polish: when the pairs that could still improve the plan (reduced-cost fixing, exact) are few
   enough, CP-SAT solves that whole model from the best territory for the time left; its bound
   then tightens the reported one.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from models.territory_data import TerritoryProblem
from optim.result import Status
from optim.solver import SolveOptions, new_highs

CANDIDATES_PER_CLIENT = 8  # cheapest pairs per client in the first relaxation
NEIGHBOURS_PER_CLIENT = 6  # pairs per client the local search may use, by reduced cost
NEIGHBOURS_WHEN_SMALL = 20  # ...in problems small enough for a polish (see below)
POLISH_MAX_PAIRS = 400_000  # polish with a whole CP-SAT model only below this many pairs
POLISH_MAX_CLIENTS = 5_000  # ...and clients
PRICING_ROUNDS = 20
SUB_SECONDS = 0.5  # time for one neighbourhood of the local search
LNS_BEFORE_POLISH = 0.15  # share of the time left the local search takes before a polish
LNS_UNTIL_POLISH = 0.6  # ...and at most, while it keeps improving
LNS_PATIENCE = 15  # neighbourhoods in a row without a better territory that end it there
POLISH_BESIDE_ABOVE = 20.0  # seconds left above which the polish runs beside the search
HEADROOMS = (0.05, 0.1, 0.02, 0.2)  # shares of each window kept free when rounding
ALL_PAIRS_BELOW = 500_000  # the first relaxation takes every pair below this many
_EPS = 1e-7


@dataclass
class Rows:
    """Row layout of the relaxation: clients, then workload, potential, client-count, cap."""

    n_clients: int
    n_people: int
    has_potential: bool
    has_count: bool
    has_cap: bool
    lower: np.ndarray
    upper: np.ndarray

    @property
    def workload(self) -> int:
        return self.n_clients

    @property
    def potential(self) -> int:
        return self.n_clients + self.n_people

    @property
    def count(self) -> int:
        return self.n_clients + self.n_people * (1 + int(self.has_potential))

    @property
    def cap(self) -> int:
        return self.n_clients + self.n_people * (1 + int(self.has_potential) + int(self.has_count))


@dataclass
class TerritorySolution:
    """How the solve ended; `pair` is each client's chosen pair (index into the pairs)."""

    status: Status
    pair: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    duals: np.ndarray | None = None
    reduced: np.ndarray | None = None
    rows: Rows | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    infeasible: tuple[str, ...] = ()
    problem: TerritoryProblem | None = None  # the problem solved, with any widened windows
    widened: tuple[str, ...] = ()


def rows_of(problem: TerritoryProblem) -> Rows:
    people = problem.people
    n, m = problem.n_clients, problem.n_people
    has_potential = problem.settings.potential_balance is not None
    has_count = bool(np.isfinite(people["max_clients"].to_numpy(dtype=float)).any())
    has_cap = problem.max_moved_revenue is not None
    lower = [np.ones(n), people["workload_low"].to_numpy(dtype=float)]
    upper = [np.ones(n), people["workload_high"].to_numpy(dtype=float)]
    if has_potential:
        lower.append(people["potential_low"].to_numpy(dtype=float))
        upper.append(people["potential_high"].to_numpy(dtype=float))
    if has_count:
        lower.append(np.zeros(m))
        upper.append(people["max_clients"].to_numpy(dtype=float))
    if has_cap:
        lower.append(np.array([0.0]))
        upper.append(np.array([float(problem.max_moved_revenue or 0.0)]))
    return Rows(
        n, m, has_potential, has_count, has_cap, np.concatenate(lower), np.concatenate(upper)
    )


def _entries(problem: TerritoryProblem, rows: Rows, cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """Column-wise matrix entries of the given pairs (CSC start, index, value)."""
    pc, pp = problem.pair_client[cols], problem.pair_person[cols]
    index = [pc, rows.workload + pp]
    value = [np.ones(len(cols)), problem.pair_hours[cols]]
    if rows.has_potential:
        index.append(rows.potential + pp)
        value.append(problem.clients["potential"].to_numpy(dtype=float)[pc])
    if rows.has_count:
        index.append(rows.count + pp)
        value.append(np.ones(len(cols)))
    if rows.has_cap:
        index.append(np.full(len(cols), rows.cap))
        value.append(problem.moved_revenue[cols])
    idx = np.stack(index, axis=1)
    val = np.stack(value, axis=1)
    keep = val != 0
    start = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
    return start, idx[keep].astype(np.int32), val[keep]


def _first_candidates(problem: TerritoryProblem, seed: int = 0) -> np.ndarray:
    """The pairs of the first relaxation: all of them when few, else the likely ones.

    Likely: each client's cheapest pairs, its owner's pair, and each person's cheapest clients,
    so that everyone can be given work. Column generation adds whatever else the relaxation
    wants. Pairs are ranked with one float key each (group index plus the cost scaled into
    [0, 1)) after a random shuffle, so equal costs are drawn at random: an order of magnitude
    faster than a three-key lexsort on a million pairs.
    """
    if problem.n_pairs <= ALL_PAIRS_BELOW:
        return np.arange(problem.n_pairs)
    n_pairs = problem.n_pairs
    rng = np.random.default_rng(seed)
    shuffle = rng.permutation(n_pairs)
    cost = problem.cost[shuffle]
    low, high = float(cost.min(initial=0.0)), float(cost.max(initial=0.0))
    scaled = (cost - low) / max(high - low, 1e-300) * 0.999
    chosen = np.zeros(n_pairs, dtype=bool)
    groups = (
        (problem.pair_client[shuffle], problem.n_clients, CANDIDATES_PER_CLIENT),
        (
            problem.pair_person[shuffle],
            problem.n_people,
            math.ceil(CANDIDATES_PER_CLIENT * problem.n_clients / max(1, problem.n_people)),
        ),
    )
    for group, size, keep in groups:
        order = np.argsort(group + scaled, kind="stable")
        first = np.searchsorted(group[order], np.arange(size))
        rank = np.arange(n_pairs) - first[group[order]]
        chosen[shuffle[order[rank < keep]]] = True
    owner = problem.clients["owner_index"].to_numpy()
    chosen |= owner[problem.pair_client] == problem.pair_person
    return np.flatnonzero(chosen)


def _side_duals(rows: Rows, duals: np.ndarray) -> np.ndarray:
    """Duals of the non-client rows, zeroed where the bound they price is infinite."""
    y = duals.copy()
    y[: rows.n_clients] = 0.0
    y[(y > 0) & ~np.isfinite(rows.lower)] = 0.0
    y[(y < 0) & ~np.isfinite(rows.upper)] = 0.0
    return y


def lagrangian(
    problem: TerritoryProblem, rows: Rows, duals: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Lower bound valid for the whole problem, each pair's reduced cost and each client's best.

    Dualising every row but "each client exactly once" with multipliers y gives
    L(y) = sum over clients of min over its pairs of (cost - y.a) + y.b, a lower bound on every
    integer (and fractional) assignment. `reduced` is cost - y.a minus the client's minimum: a
    pair whose reduced cost exceeds (incumbent - L) cannot be in any better assignment.
    """
    y = _side_duals(rows, duals)
    pc, pp = problem.pair_client, problem.pair_person
    rc = problem.cost - y[rows.workload + pp] * problem.pair_hours
    if rows.has_potential:
        rc -= y[rows.potential + pp] * problem.clients["potential"].to_numpy(dtype=float)[pc]
    if rows.has_count:
        rc -= y[rows.count + pp]
    if rows.has_cap:
        rc -= y[rows.cap] * problem.moved_revenue
    starts = problem.client_starts()
    best = np.minimum.reduceat(rc, starts[:-1]) if problem.n_pairs else np.zeros(0)
    side = np.where(y > 0, rows.lower, rows.upper)
    constant = float(np.sum(np.where(y != 0, y * np.where(np.isfinite(side), side, 0.0), 0.0)))
    return float(best.sum()) + constant, rc - best[pc], best


@dataclass
class _Relaxation:
    status: str
    value: float
    cols: np.ndarray
    x: np.ndarray
    duals: np.ndarray
    rounds: int
    x_headroom: tuple[np.ndarray, ...] = ()


def _highs_for(
    problem: TerritoryProblem,
    rows: Rows,
    cols: np.ndarray,
    cost: np.ndarray,
    options: SolveOptions,
    deadline: float,
) -> Any:
    import highspy

    highs = new_highs(options)
    highs.setOptionValue("time_limit", max(1.0, deadline - time.monotonic()))
    lp = highspy.HighsLp()
    lp.num_col_ = len(cols)
    lp.num_row_ = len(rows.lower)
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(len(cols))
    lp.col_upper_ = np.ones(len(cols))
    lp.row_lower_ = np.where(np.isfinite(rows.lower), rows.lower, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(rows.upper), rows.upper, highspy.kHighsInf)
    start, index, value = _entries(problem, rows, cols)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = len(cols)
    lp.a_matrix_.num_row_ = len(rows.lower)
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    highs.passModel(lp)
    return highs


def solve_relaxation(
    problem: TerritoryProblem,
    rows: Rows,
    options: SolveOptions,
    deadline: float,
    cols: np.ndarray | None = None,
) -> _Relaxation:
    """The linear relaxation over candidate pairs, growing them until no pair prices out.

    Above `ALL_PAIRS_BELOW` pairs the first relaxation carries penalised slack on its windows
    (`territory_pools.elastic_relaxation`), so that candidates alone never make it infeasible.
    """
    import highspy

    if cols is None and problem.n_pairs > ALL_PAIRS_BELOW:
        from models.territory_pools import elastic_relaxation

        return elastic_relaxation(problem, rows, options, deadline)
    cols = _first_candidates(problem, options.seed) if cols is None else cols
    highs = _highs_for(problem, rows, cols, problem.cost[cols], options, deadline)
    in_model = np.zeros(problem.n_pairs, dtype=bool)
    in_model[cols] = True
    rounds = 0
    while True:
        highs.run()
        status = highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            text = highs.modelStatusToString(status)
            return _Relaxation(text, math.nan, cols, np.zeros(0), np.zeros(0), rounds)
        solution = highs.getSolution()
        duals = np.asarray(solution.row_dual)
        _, reduced, best = lagrangian(problem, rows, duals)
        # The relaxation's own reduced cost: the Lagrangian one, plus the client's best,
        # minus the client row's dual.
        client_dual = duals[: rows.n_clients][problem.pair_client]
        lp_reduced = reduced + best[problem.pair_client] - client_dual
        pricing = np.flatnonzero((lp_reduced < -1e-6) & ~in_model)
        rounds += 1
        if len(pricing) == 0 or rounds > PRICING_ROUNDS or time.monotonic() > deadline:
            x = np.asarray(solution.col_value)
            value = float(highs.getInfo().objective_function_value)
            spare = tuple(_x_with_headroom(highs, rows, x, share) for share in HEADROOMS)
            return _Relaxation("optimal", value, cols, x, duals, rounds, spare)
        s, i, v = _entries(problem, rows, pricing)
        highs.addCols(
            len(pricing),
            problem.cost[pricing],
            np.zeros(len(pricing)),
            np.ones(len(pricing)),
            len(i),
            s[:-1],
            i,
            v,
        )
        cols = np.concatenate([cols, pricing])
        in_model[pricing] = True


def _x_with_headroom(
    highs: Any, rows: Rows, x: np.ndarray, share: float, cap_share: float | None = None
) -> np.ndarray:
    """The relaxation re-solved (warm) inside slightly narrower windows and cap.

    A relaxation fills people exactly to their limits and spends the moves cap to the last
    rouble, which leaves the rounding no room to place split clients. Rounding from a solution
    with a little headroom (a share of each window's width; the moves cap keeps a twentieth of
    that share) keeps mending moves possible. When narrowing both ends leaves no solution, only
    the upper ends, then only the lower ends are narrowed. The bound and duals stay those of the
    true windows. `cap_share` overrides the share of the cap kept free.
    """
    import highspy

    n, m = rows.n_clients, rows.n_people
    lo, hi = rows.lower[n : n + m], rows.upper[n : n + m]
    room = share * np.maximum(hi - lo, 0.0)
    for ends in (("lower", "upper"), ("upper",), ("lower",)):
        lower, upper = rows.lower.copy(), rows.upper.copy()
        if "lower" in ends:
            lower[n : n + m] = np.where(lo > 0, lo + room, lo)
        if "upper" in ends:
            upper[n : n + m] = hi - room
        if rows.has_cap:
            upper[rows.cap] *= 1 - (share / 20 if cap_share is None else cap_share)
        changed = np.flatnonzero((lower != rows.lower) | (upper != rows.upper)).astype(np.int32)
        if len(changed) == 0:
            return x
        highs.changeRowsBounds(len(changed), changed, lower[changed], upper[changed])
        highs.run()
        solved = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        narrowed = np.asarray(highs.getSolution().col_value) if solved else x
        highs.changeRowsBounds(len(changed), changed, rows.lower[changed], rows.upper[changed])
        if solved:
            return narrowed
    highs.run()  # back to the true optimum for whoever asks next
    return x


def phase_one(
    problem: TerritoryProblem,
    rows: Rows,
    options: SolveOptions,
    deadline: float,
    cols: np.ndarray | None = None,
) -> tuple[bool, np.ndarray, np.ndarray]:
    """Can the rules hold at all? Least violation over every pair, rows scaled to 1.

    Lexicographic: the hard rules (capacity, max_clients, the moves cap) are broken as little
    as possible first, and only then the balance windows (workload, potential). One sum of
    both would trade a little of a hard rule for a lot of a window, and call a problem
    infeasible that only needs a window widened. Returns (feasible, violation per row in the
    row's units, the pairs the answer uses).
    """
    import highspy

    cols = np.arange(problem.n_pairs) if cols is None else cols
    highs = _highs_for(problem, rows, cols, np.zeros(len(cols)), options, deadline)
    scale = np.maximum(1.0, np.abs(np.where(np.isfinite(rows.upper), rows.upper, 0.0)))
    n, m = rows.n_clients, rows.n_people
    side = np.arange(n, len(rows.lower))
    workload = side < n + m
    potential = rows.has_potential & (side >= rows.potential) & (side < rows.potential + m)
    soft = workload | potential
    room = np.full(len(side), np.inf)  # how far a window's upper end may give: to capacity
    capacity = problem.people["capacity_hours"].to_numpy(dtype=float)
    room[:m] = np.maximum(capacity - rows.upper[n : n + m], 0.0)
    below, above = np.isfinite(rows.lower[side]), np.isfinite(rows.upper[side])
    # Elastic columns, a group at a time: (rows, sign, most each may take, hard).
    groups = [
        (below, 1.0, np.full(len(side), np.inf), ~soft),  # under a lower end
        (above & soft, -1.0, room, np.zeros(len(side), dtype=bool)),  # over a window
        (above & ~potential, -1.0, np.full(len(side), np.inf), np.ones(len(side), dtype=bool)),
    ]  # the last: past capacity, max_clients or the moves cap
    row = np.concatenate([side[g] for g, *_ in groups])
    sign = np.concatenate([np.full(g.sum(), v) for g, v, *_ in groups])
    limit = np.concatenate([most[g] for g, _, most, _ in groups])
    hard = np.concatenate([h[g] for g, _, _, h in groups])
    k = len(row)
    slack = np.arange(len(cols), len(cols) + k, dtype=np.int32)
    highs.addCols(
        k,
        np.where(hard, 1.0 / scale[row], 0.0),
        np.zeros(k),
        np.where(np.isfinite(limit), limit, highspy.kHighsInf),
        k,
        np.arange(k, dtype=np.int32),
        row.astype(np.int32),
        sign,
    )
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False, np.zeros(len(rows.lower)), np.zeros(0, dtype=int)
    # Hold the hard rules' violation at its least, then bend the windows as little as possible.
    least = float(highs.getInfo().objective_function_value)
    tight = np.flatnonzero(hard)
    if least <= 1e-9:  # the hard rules hold: keep them exactly
        zero = np.zeros(len(tight))
        highs.changeColsBounds(len(tight), slack[tight], zero, zero)
    else:
        highs.addRow(
            -highspy.kHighsInf,
            least * (1 + 1e-9),
            len(tight),
            slack[tight],
            1.0 / scale[row[tight]],
        )
    highs.changeColsCost(k, slack, np.where(hard, 0.0, 1.0 / scale[row]))
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False, np.zeros(len(rows.lower)), np.zeros(0, dtype=int)
    x = np.asarray(highs.getSolution().col_value)
    violation = np.zeros(len(rows.lower))
    np.add.at(violation, row, sign * x[len(cols) :])
    used = cols[x[: len(cols)] > 1e-9]
    feasible = bool(np.all(np.abs(violation) <= 1e-6 * scale))
    return feasible, violation, used


# --- integer search ------------------------------------------------------------------------


@dataclass
class _Scaled:
    """Integer data for CP-SAT (it needs integer coefficients)."""

    hours: np.ndarray
    cost: np.ndarray
    potential: np.ndarray
    moved: np.ndarray
    low: np.ndarray
    high: np.ndarray
    pot_low: np.ndarray
    pot_high: np.ndarray
    max_clients: np.ndarray
    cap: int | None
    hour_scale: float
    cost_scale: float
    # How the repair weighs a broken window or cap, per kind ("hours", "potential", "count",
    # "moved", as in `_loads`) and row: a violation of v scaled units costs
    # weight * ceil(v / unit), about VIOLATION_PRICE * v / (the row's upper limit).
    unit: dict[str, np.ndarray] = field(default_factory=dict)
    weight: dict[str, np.ndarray] = field(default_factory=dict)


VIOLATION_PRICE = 10_000  # what the repair charges for breaking a limit by its own size
VIOLATION_STEPS = 1_000  # ...counted in steps of at most a thousandth of that size
HARD_PRICE = 1_000  # ...times this for max_clients and the moves cap, which never widen


def _penalty(limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit and weight that price a row's violation relative to its limit.

    Hours, potential, clients and moved revenue are not comparable as such; breaking a limit
    by a given share of itself is. The limit is the row's upper end (the same scaling as the
    phase-one model), or 1 where that is infinite or below 1. CP-SAT needs whole weights, so a
    violation is counted in units of at most a thousandth of the limit (at least 1 scaled unit),
    each weighing VIOLATION_PRICE per limit; the price of a unit is rounded, never below 1.
    """
    limit = np.where(np.isfinite(limit), np.abs(limit), 1.0)
    limit = np.maximum(limit, 1.0)
    unit = np.maximum(1.0, np.floor(limit / VIOLATION_STEPS))
    weight = np.maximum(1.0, np.round(VIOLATION_PRICE * unit / limit))
    return unit.astype(np.int64), weight.astype(np.int64)


def _scale_for(values: np.ndarray, target: float) -> float:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or np.allclose(finite, np.round(finite)):
        return 1.0
    largest = float(np.abs(finite).max()) or 1.0
    return float(10 ** max(0, min(6, math.floor(math.log10(target / largest)))))


def _scaled(problem: TerritoryProblem) -> _Scaled:
    people = problem.people
    hs = _scale_for(np.concatenate([problem.pair_hours, people["workload_high"].to_numpy()]), 1e6)
    cs = _scale_for(problem.cost, 1e7)
    big = np.iinfo(np.int64).max // 4

    def up(a: np.ndarray, s: float) -> np.ndarray:
        return np.where(np.isfinite(a), np.ceil(a * s - 1e-6), -big).astype(np.int64)

    def down(a: np.ndarray, s: float) -> np.ndarray:
        return np.where(np.isfinite(a), np.floor(a * s + 1e-6), big).astype(np.int64)

    potential = problem.clients["potential"].to_numpy(dtype=float)
    cap = None if problem.max_moved_revenue is None else math.floor(problem.max_moved_revenue)
    limits = {
        "hours": people["workload_high"].to_numpy(dtype=float) * hs,
        "potential": people["potential_high"].to_numpy(dtype=float),
        "count": people["max_clients"].to_numpy(dtype=float),
        "moved": np.array([math.inf if cap is None else float(cap)]),
    }
    penalties = {kind: _penalty(limit) for kind, limit in limits.items()}
    for kind in ("count", "moved"):  # the repair mends a window rather than break these
        penalties[kind] = (penalties[kind][0], penalties[kind][1] * HARD_PRICE)
    return _Scaled(
        hours=np.round(problem.pair_hours * hs).astype(np.int64),
        cost=np.round(problem.cost * cs).astype(np.int64),
        potential=np.round(potential).astype(np.int64),
        moved=np.round(problem.moved_revenue).astype(np.int64),
        low=up(people["workload_low"].to_numpy(dtype=float), hs),
        high=down(people["workload_high"].to_numpy(dtype=float), hs),
        pot_low=up(people["potential_low"].to_numpy(dtype=float), 1.0),
        pot_high=down(people["potential_high"].to_numpy(dtype=float), 1.0),
        max_clients=down(people["max_clients"].to_numpy(dtype=float), 1.0),
        cap=cap,
        hour_scale=hs,
        cost_scale=cs,
        unit={kind: unit for kind, (unit, _) in penalties.items()},
        weight={kind: weight for kind, (_, weight) in penalties.items()},
    )


def _loads(problem: TerritoryProblem, sc: _Scaled, pairs: np.ndarray) -> dict[str, np.ndarray]:
    m = problem.n_people
    pp = problem.pair_person[pairs]
    pot = sc.potential[problem.pair_client[pairs]]
    return {
        "hours": np.bincount(pp, weights=sc.hours[pairs], minlength=m).astype(np.int64),
        "potential": np.bincount(pp, weights=pot, minlength=m).astype(np.int64),
        "count": np.bincount(pp, minlength=m).astype(np.int64),
        "moved": np.array([int(sc.moved[pairs].sum())]),
    }


def _subsolve(
    problem: TerritoryProblem,
    sc: _Scaled,
    current: np.ndarray,
    free: np.ndarray,
    allowed: np.ndarray,
    *,
    seconds: float,
    seed: int,
    workers: int = 1,
    elastic: bool = False,
    gap: float = 0.0,
) -> tuple[str, np.ndarray | None, float | None]:
    """Reassign the `free` clients over the `allowed` pairs, everyone else staying put.

    Returns CP-SAT's status name, the new pair of every client (or None) and the bound of the
    sub-model in the problem's cost units (a valid global bound only when nothing was fixed).
    `elastic` turns the windows, client caps and moves cap into goals: used to reach a first
    feasible territory from a rounded one that breaks some of them. CP-SAT then first finds the
    least total violation, each broken row counted relative to its limit (`_penalty`: hours,
    potential, clients and moved revenue weigh alike), and then the cheapest territory with
    no more violation than that.
    """
    fixed = current[~free]
    fixed = fixed[fixed >= 0]
    base = _loads(problem, sc, fixed)
    model = cp_model.CpModel()
    pc, pp = problem.pair_client[allowed], problem.pair_person[allowed]
    x = [model.new_bool_var("") for _ in range(len(allowed))]
    free_ids = np.flatnonzero(free)
    order = np.argsort(pc, kind="stable")
    bounds = np.searchsorted(pc[order], np.concatenate([free_ids, [free_ids[-1] + 1]]))
    for k in range(len(free_ids)):
        members = order[bounds[k] : bounds[k + 1]]
        if len(members) == 0:
            return "INFEASIBLE", None, None
        model.add_exactly_one([x[j] for j in members])
    people = np.unique(pp)
    by_person = np.argsort(pp, kind="stable")
    edges = np.searchsorted(pp[by_person], np.concatenate([people, [people[-1] + 1]]))
    settings = problem.settings
    hours = sc.hours[allowed]
    potential = sc.potential[pc]
    violation: list[Any] = []  # elastic: what each broken row costs (`_penalty`)

    def window(
        members: np.ndarray, coefs: np.ndarray, low: int, high: int, kind: str, row: int
    ) -> None:
        values = [int(c) for c in coefs]
        expr = cp_model.LinearExpr.weighted_sum([x[j] for j in members], values)
        if not elastic:
            model.add_linear_constraint(expr, low, high)
            return
        least = sum(v for v in values if v < 0)
        most = sum(v for v in values if v > 0)
        unit, weight = int(sc.unit[kind][row]), int(sc.weight[kind][row])
        slack: list[Any] = []
        for reach, sign in ((low - least, 1), (most - high, -1)):
            if reach <= 0:  # this end holds whatever the free clients do
                continue
            amount = model.new_int_var(0, reach, "")
            slack.append(sign * amount)
            steps = amount
            if unit > 1:  # whole units of the row's violation, rounded up
                steps = model.new_int_var(0, -(-reach // unit), "")
                model.add(unit * steps >= amount)
            violation.append(weight * steps)
        model.add_linear_constraint(expr + sum(slack), low, high)

    no_cap = np.iinfo(np.int64).max // 8
    for k, person in enumerate(people):
        members = by_person[edges[k] : edges[k + 1]]
        window(
            members,
            hours[members],
            int(sc.low[person] - base["hours"][person]),
            int(sc.high[person] - base["hours"][person]),
            "hours",
            person,
        )
        if settings.potential_balance is not None:
            window(
                members,
                potential[members],
                int(sc.pot_low[person] - base["potential"][person]),
                int(sc.pot_high[person] - base["potential"][person]),
                "potential",
                person,
            )
        if sc.max_clients[person] < no_cap:
            limit = int(sc.max_clients[person] - base["count"][person])
            window(members, np.ones(len(members)), -(1 << 60), limit, "count", person)
    if sc.cap is not None:
        moving = np.flatnonzero(sc.moved[allowed] > 0)
        if len(moving):
            limit = sc.cap - int(base["moved"][0])
            window(moving, sc.moved[allowed[moving]], -(1 << 60), limit, "moved", 0)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.relative_gap_limit = gap
    until = time.monotonic() + max(0.05, seconds)
    hint = np.isin(allowed, current[free])
    first = ""
    if violation:
        # Lexicographic: the least total violation first, then the cheapest territory that
        # breaks no more. (One objective would need a price per unit of violation above any
        # change of cost, which overflows CP-SAT's integers on real money.)
        total = sum(violation)
        model.minimize(total)
        for j in range(len(allowed)):
            model.add_hint(x[j], bool(hint[j]))
        solver.parameters.max_time_in_seconds = max(0.05, seconds / 2)
        began = time.monotonic()
        code = solver.solve(model)
        first = solver.status_name(code)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return first, None, None
        hint = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        model.add(total <= round(solver.objective_value))
        model.clear_hints()
        # Mending comes first: the cost gets about as long as the violation took (the local
        # search prices the territory properly once it meets every window).
        until = min(until, time.monotonic() + max(0.1 * seconds, time.monotonic() - began))
    model.minimize(cp_model.LinearExpr.weighted_sum(x, [int(c) for c in sc.cost[allowed]]))
    for j in range(len(allowed)):
        model.add_hint(x[j], bool(hint[j]))
    solver.parameters.max_time_in_seconds = max(0.05, until - time.monotonic())
    code = solver.solve(model)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        name = first or solver.status_name(code)  # elastic: how the violation was settled
        bound: float | None = solver.best_objective_bound / sc.cost_scale
    elif first:  # the least violation found stands, without a cost bound
        values, name, bound = hint, first, None
    else:
        return solver.status_name(code), None, None
    chosen = allowed[values]
    out = current.copy()
    out[problem.pair_client[chosen]] = chosen
    return name, out, bound


def _excess(
    problem: TerritoryProblem, sc: _Scaled, loads: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each row's violation in scaled units, by kind (as `_loads`): 0 where it holds."""
    hours, potential = loads["hours"], loads["potential"]
    out = {
        "hours": np.maximum(sc.low - hours, 0) + np.maximum(hours - sc.high, 0),
        "potential": np.zeros_like(potential),
        "count": np.maximum(loads["count"] - sc.max_clients, 0),
        "moved": np.zeros(1, dtype=np.int64),
    }
    if problem.settings.potential_balance is not None:
        out["potential"] = np.maximum(sc.pot_low - potential, 0)
        out["potential"] += np.maximum(potential - sc.pot_high, 0)
    if sc.cap is not None:
        out["moved"] = np.maximum(loads["moved"] - sc.cap, 0)
    return out


def infeasibility(problem: TerritoryProblem, sc: _Scaled, pairs: np.ndarray) -> int:
    """How far an assignment is from meeting the windows and caps: 0 when it meets them all.

    Each broken row counts relative to its limit (`_penalty`), so a potential window missed by
    half its size weighs as much as a workload window missed by half its size, whatever the
    units; this is the measure the repair's CP-SAT models minimise first.
    """
    excess = _excess(problem, sc, _loads(problem, sc, pairs[pairs >= 0]))
    return sum(int((sc.weight[kind] * -(-excess[kind] // sc.unit[kind])).sum()) for kind in excess)


def objective_of(problem: TerritoryProblem, pairs: np.ndarray) -> float:
    return float(problem.cost[pairs].sum())


def violations(
    problem: TerritoryProblem,
    pairs: np.ndarray,
    *,
    tolerance: float = 1e-6,
    hard_only: bool = False,
) -> list[str]:
    """Every rule the assignment breaks (empty when it is feasible), in words.

    `hard_only` checks only what is never widened: capacity, max_clients and the moves cap;
    otherwise the workload and potential windows too.
    """
    out: list[str] = []
    people = problem.people
    m = problem.n_people
    if np.any(pairs < 0) or len(np.unique(problem.pair_client[pairs])) != problem.n_clients:
        out.append("not every client is assigned exactly once")
        return out
    pp = problem.pair_person[pairs]
    hours = np.bincount(pp, weights=problem.pair_hours[pairs], minlength=m)
    slack = tolerance * np.maximum(1.0, people["workload_high"].abs().to_numpy())
    high = people["capacity_hours" if hard_only else "workload_high"].to_numpy(dtype=float)
    low = np.zeros(m) if hard_only else people["workload_low"].to_numpy(dtype=float)
    for k in np.flatnonzero(hours > high + slack):
        out.append(f"{people['rep_id'][k]} has {hours[k]:,.1f} h, above its limit {high[k]:,.1f}")
    for k in np.flatnonzero(hours < low - slack):
        out.append(f"{people['rep_id'][k]} has {hours[k]:,.1f} h, below its limit {low[k]:,.1f}")
    if not hard_only and problem.settings.potential_balance is not None:
        potential = problem.clients["potential"].to_numpy(dtype=float)[problem.pair_client]
        held = np.bincount(pp, weights=potential[pairs], minlength=m)
        low = people["potential_low"].to_numpy(dtype=float)
        high = people["potential_high"].to_numpy(dtype=float)
        room = tolerance * np.maximum(1.0, np.abs(np.where(np.isfinite(high), high, 0.0)))
        for k in np.flatnonzero((held < low - room) | (held > high + room)):
            out.append(
                f"{people['rep_id'][k]} has {held[k]:,.0f} of potential, outside its window "
                f"{low[k]:,.0f}-{high[k]:,.0f}"
            )
    count = np.bincount(pp, minlength=m)
    for k in np.flatnonzero(count > people["max_clients"].to_numpy(dtype=float)):
        out.append(f"{people['rep_id'][k]} has {count[k]} clients, above max_clients")
    if problem.max_moved_revenue is not None:
        moved = float(problem.moved_revenue[pairs].sum())
        if moved > problem.max_moved_revenue * (1 + tolerance) + 1:
            out.append(
                f"moved revenue {moved:,.0f} is above the cap {problem.max_moved_revenue:,.0f}"
            )
    return out


# --- the whole solve -----------------------------------------------------------------------


def _near_pairs(
    problem: TerritoryProblem, reduced: np.ndarray, keep: np.ndarray, seed: int
) -> np.ndarray:
    """Each client's pairs with the smallest reduced cost (ties at random), plus `keep`.

    Small problems (few enough pairs and clients for a polish) keep NEIGHBOURS_WHEN_SMALL per
    client, so a neighbourhood of a few people still offers each freed client a real choice
    among them; large ones keep NEIGHBOURS_PER_CLIENT, so each stays solvable in its time.
    """
    small = problem.n_pairs <= POLISH_MAX_PAIRS and problem.n_clients <= POLISH_MAX_CLIENTS
    per_client = NEIGHBOURS_WHEN_SMALL if small else NEIGHBOURS_PER_CLIENT
    jitter = np.random.default_rng(seed).random(problem.n_pairs)
    order = np.lexsort((jitter, reduced, problem.pair_client))
    starts = problem.client_starts()
    rank = np.arange(problem.n_pairs) - starts[problem.pair_client[order]]
    chosen = np.zeros(problem.n_pairs, dtype=bool)
    chosen[order[rank < per_client]] = True
    chosen[keep[keep >= 0]] = True
    return np.flatnonzero(chosen)


def _rounded(problem: TerritoryProblem, relax: _Relaxation) -> np.ndarray:
    """Pairs the relaxation takes whole; -1 for clients it splits."""
    current = np.full(problem.n_clients, -1, dtype=np.int64)
    whole = relax.x >= 1 - 1e-6
    current[problem.pair_client[relax.cols[whole]]] = relax.cols[whole]
    return current


def _neighbourhood(
    problem: TerritoryProblem,
    current: np.ndarray,
    near: np.ndarray,
    seed_person: int,
    size: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """A person and the people their clients could best go to: (free clients, allowed pairs)."""
    m = problem.n_people
    near_client = problem.pair_client[near]
    near_person = problem.pair_person[near]
    holder = problem.pair_person[current]
    mine = holder == seed_person
    others = near_person[mine[near_client]]
    counts = np.bincount(others, minlength=m).astype(float)
    counts += rng.random(m) * 0.5  # random tie-break
    counts[seed_person] = 0
    ranked = np.argsort(-counts)[: max(1, size - 1)]
    ranked = ranked[counts[ranked] >= 1]
    people = np.concatenate([[seed_person], ranked])
    in_group = np.zeros(m, dtype=bool)
    in_group[people] = True
    free = in_group[holder]
    allowed = near[free[near_client] & in_group[near_person]]
    return free, np.union1d(allowed, current[free])


def _mend(
    problem: TerritoryProblem, sc: _Scaled, full: np.ndarray, near: np.ndarray, deadline: float
) -> np.ndarray:
    """Greedy mending of broken windows: move one client at a time, cheapest that helps.

    Rounding a relaxation breaks each person's windows (workload, and potential when it is
    balanced) by at most about one client, so single moves to or from a neighbour with room
    usually mend them; whatever is left goes to CP-SAT. The window broken worst relative to its
    limit (`_penalty`) goes first; a move never breaks another window or cap, nor breaks one
    further, so the total violation only falls. A window no single move helps is left for
    CP-SAT and the next one tried.
    """
    full = full.copy()
    m = problem.n_people
    near_client = problem.pair_client[near]
    client_starts = np.searchsorted(near_client, np.arange(problem.n_clients + 1))
    by_person = near[np.argsort(problem.pair_person[near], kind="stable")]
    person_starts = np.searchsorted(problem.pair_person[by_person], np.arange(m + 1))
    loads = _loads(problem, sc, full)
    hours, count = loads["hours"].copy(), loads["count"].copy()
    pot = loads["potential"].copy()
    moved = int(loads["moved"][0])
    cap = sc.cap if sc.cap is not None else np.iinfo(np.int64).max
    locked = problem.clients["locked"].fillna(False).to_numpy(dtype=bool)
    pair_pot = sc.potential[problem.pair_client]
    balanced = problem.settings.potential_balance is not None
    # (load, low, high, what a pair adds, penalty unit and weight) of each kind of window
    kinds = [(hours, sc.low, sc.high, sc.hours, sc.unit["hours"], sc.weight["hours"])]
    if balanced:
        kinds.append(
            (pot, sc.pot_low, sc.pot_high, pair_pot, sc.unit["potential"], sc.weight["potential"])
        )
    stuck = np.zeros((len(kinds), m), dtype=bool)
    price = max(float(np.abs(sc.cost).max(initial=0)), 0.0) + 1.0
    for _ in range(20 * m + 100):
        if time.monotonic() > deadline:
            break
        score = np.zeros((len(kinds), m))
        for k, (load, low, high, _, unit, weight) in enumerate(kinds):
            broken = np.maximum(low - load, 0) + np.maximum(load - high, 0)
            score[k] = np.where(stuck[k], 0.0, broken * weight / unit)
        kind, worst = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[kind, worst] <= 0:
            break
        load, low, high, adds = kinds[kind][:4]
        over, under = load[worst] - high[worst], low[worst] - load[worst]
        holder = problem.pair_person[full]
        if over > 0:
            mine = np.flatnonzero((holder == worst) & ~locked)
            spans = [np.arange(client_starts[i], client_starts[i + 1]) for i in mine]
            options = near[np.concatenate(spans)] if spans else np.zeros(0, dtype=np.int64)
            src = full[problem.pair_client[options]]
            gain = adds[src]
        else:
            options = by_person[person_starts[worst] : person_starts[worst + 1]]
            src = full[problem.pair_client[options]]
            options = options[
                (problem.pair_person[src] != worst) & ~locked[problem.pair_client[options]]
            ]
            src = full[problem.pair_client[options]]
            gain = adds[options]
        dest = problem.pair_person[options]
        giver = problem.pair_person[src]
        ok = dest != giver
        ok &= hours[dest] + sc.hours[options] <= sc.high[dest]
        ok &= hours[giver] - sc.hours[src] >= np.minimum(sc.low[giver], hours[giver])
        if balanced:
            ok &= pot[dest] + pair_pot[options] <= np.maximum(sc.pot_high[dest], pot[dest])
            ok &= pot[dest] + pair_pot[options] >= np.minimum(sc.pot_low[dest], pot[dest])
            ok &= pot[giver] - pair_pot[src] >= np.minimum(sc.pot_low[giver], pot[giver])
            ok &= pot[giver] - pair_pot[src] <= np.maximum(sc.pot_high[giver], pot[giver])
        ok &= count[dest] + 1 <= sc.max_clients[dest]
        ok &= moved + sc.moved[options] - sc.moved[src] <= cap
        ok &= gain > 0
        if not ok.any():
            stuck[kind, worst] = True
            continue
        need = over if over > 0 else under
        fixes = ok & (gain >= need)
        pool = np.flatnonzero(fixes) if fixes.any() else np.flatnonzero(ok)
        delta = (sc.cost[options[pool]] - sc.cost[src[pool]]).astype(float)
        if not fixes.any():  # the biggest help first, the cheapest among equals
            delta = delta - gain[pool].astype(float) * price
        pick = pool[int(np.argmin(delta))]
        pair, old = options[pick], src[pick]
        hours[problem.pair_person[old]] -= sc.hours[old]
        pot[problem.pair_person[old]] -= pair_pot[old]
        count[problem.pair_person[old]] -= 1
        hours[problem.pair_person[pair]] += sc.hours[pair]
        pot[problem.pair_person[pair]] += pair_pot[pair]
        count[problem.pair_person[pair]] += 1
        moved += int(sc.moved[pair] - sc.moved[old])
        full[problem.pair_client[pair]] = pair
        stuck[:] = False
    return full


def _largest_share(problem: TerritoryProblem, cols: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each client's pair with the largest share in a relaxed solution."""
    order = np.lexsort((-x, problem.pair_client[cols]))
    first = np.unique(problem.pair_client[cols[order]], return_index=True)[1]
    return cols[order[first]].astype(np.int64)


def _repair(
    problem: TerritoryProblem,
    sc: _Scaled,
    current: np.ndarray,
    near: np.ndarray,
    relax: _Relaxation,
    *,
    deadline: float,
    seed: int,
) -> np.ndarray:
    """Turn the rounded relaxation into a territory that meets every window and cap.

    Split clients first go to the person holding their largest share; the windows this
    breaks are then mended a few people at a time by CP-SAT with the windows as goals (least
    violation first, each kind relative to its limit, then cost), until nothing is broken (or
    time is up: the least broken territory is returned).
    """
    # Every rounding is mended greedily (narrower windows mend more easily, wider ones cost
    # less); the cheapest that mends wins, else CP-SAT starts from the least broken (the
    # cheapest among equals).
    full, broken = current, -1
    for x in (*relax.x_headroom, relax.x):
        budget = max(2.0, 0.1 * (deadline - time.monotonic()))
        rounded = _largest_share(problem, relax.cols, x)
        mended = _mend(problem, sc, rounded, near, min(deadline, time.monotonic() + budget))
        after = infeasibility(problem, sc, mended)
        if broken < 0 or (after, objective_of(problem, mended)) < (
            broken,
            objective_of(problem, full),
        ):
            full, broken = mended, after
    if broken == 0:
        return full
    rng = np.random.default_rng(seed)
    size, rounds = 4, 0
    while broken > 0 and time.monotonic() < deadline:
        excess = _excess(problem, sc, _loads(problem, sc, full))
        bad = (excess["hours"] > 0) | (excess["potential"] > 0) | (excess["count"] > 0)
        candidates = np.flatnonzero(bad)
        if len(candidates) == 0:  # only the moves cap: anyone who took a move
            candidates = np.unique(problem.pair_person[full[problem.moved_revenue[full] > 0]])
        if len(candidates) == 0:
            candidates = np.arange(problem.n_people)
        seed_person = int(rng.choice(candidates))
        free, allowed = _neighbourhood(problem, full, near, seed_person, size, rng)
        if not free.any():  # the person holds no client: nothing to reassign around them
            continue
        status, out, _ = _subsolve(
            problem,
            sc,
            full,
            free,
            allowed,
            seconds=min(2.0, max(0.05, deadline - time.monotonic())),
            seed=int(rng.integers(1 << 30)),
            elastic=True,
        )
        rounds += 1
        if out is not None:
            after = infeasibility(problem, sc, out)
            if after < broken or (
                after == broken and objective_of(problem, out) < objective_of(problem, full)
            ):
                full, broken = out, after
        if status != "OPTIMAL":
            size = max(2, size - 1)
        elif rounds % 5 == 0:
            size = min(size + 2, 30)
    return full


def _search(
    problem: TerritoryProblem,
    sc: _Scaled,
    current: np.ndarray,
    near: np.ndarray,
    bound: float,
    *,
    until: float,
    gap: float,
    seed: int,
    patience: float | None = None,
    beside: _PolishBeside | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Large-neighbourhood search: free a few people's clients, reassign them with CP-SAT.

    It stops at `until`, at the gap, or after `patience` neighbourhoods in a row that found
    nothing better (default 60 + 4 per person). With a polish `beside`, the two trade
    territories: each better one found here goes to HiGHS, and HiGHS's better ones are taken
    up here, so each side goes on from the best territory either has found; the search then
    runs until `until` or until HiGHS ends, whatever its patience.
    """
    rng = np.random.default_rng(seed)
    best = objective_of(problem, current)
    size, rounds, improved, stale, taken = 2, 0, 0, 0, 0
    m = problem.n_people
    if patience is None:
        patience = 60 + 4 * m if beside is None else math.inf
    while time.monotonic() < until and stale < patience:
        if beside is not None:
            found = beside.incoming()
            if (
                found is not None
                and objective_of(problem, found) < best - 1e-9
                and not violations(problem, found)  # as for the polish's final territory
            ):
                current, best = found, objective_of(problem, found)
                taken += 1
            if beside.answer is not None:  # HiGHS has ended: proven within the gap
                break
        if best - bound <= gap * max(abs(best), 1e-9):
            break
        free, allowed = _neighbourhood(problem, current, near, int(rng.integers(m)), size, rng)
        if free.sum() == 0:
            stale += 1
            continue
        started = time.monotonic()
        status, out, _ = _subsolve(
            problem,
            sc,
            current,
            free,
            allowed,
            seconds=min(SUB_SECONDS, until - started),
            seed=int(rng.integers(1 << 30)),
        )
        rounds += 1
        took = time.monotonic() - started
        if status == "OPTIMAL" and took < SUB_SECONDS / 10:
            size = min(size + 1, 40)
        elif status != "OPTIMAL":
            size = max(2, size - 1)
        if out is not None and objective_of(problem, out) < best - 1e-9:
            current, best = out, objective_of(problem, out)
            improved += 1
            stale = 0
            if beside is not None:
                beside.offer(current)
        else:
            stale += 1
    figures = {"lns_rounds": rounds, "lns_improvements": improved, "lns_size": size}
    return current, figures | ({"taken_from_polish": taken} if beside is not None else {})


def solve_assignment(
    problem: TerritoryProblem, options: SolveOptions, relaxed: _Relaxation | None = None
) -> TerritorySolution:
    """Assign every client, best first; report the bound the relaxation proves.

    `relaxed`: the relaxation already solved (by the pool-by-pool solve), used as is. Large
    problems whose people fall into several pools go to `territory_pools.solve_by_pools`.
    """
    from models import territory_pools

    if relaxed is None and territory_pools.worth_splitting(problem):
        return territory_pools.solve_by_pools(problem, options)
    started = time.monotonic()
    deadline = started + options.time_limit
    rows = rows_of(problem)
    if problem.n_clients == 0:
        return TerritorySolution(
            Status.OPTIMAL, np.zeros(0, dtype=np.int64), 0.0, 0.0, 0.0, rows=rows
        )
    stats: dict[str, Any] = {"pairs": problem.n_pairs}
    widened: list[str] = []
    relax = relaxed or solve_relaxation(problem, rows, options, deadline)
    for _ in range(3):
        if relax.status == "optimal":
            break
        feasible, violation, used = phase_one(problem, rows, options, deadline)
        if not feasible:
            soft = _widen(problem, rows, violation)
            if soft is None:
                return TerritorySolution(
                    Status.INFEASIBLE,
                    None,
                    None,
                    None,
                    time.monotonic() - started,
                    rows=rows,
                    problem=problem,
                    infeasible=tuple(_violated_rows(problem, rows, violation)),
                )
            problem, notes = soft
            widened += notes
            rows = rows_of(problem)
        cols = np.union1d(_first_candidates(problem, options.seed), used)
        relax = solve_relaxation(problem, rows, options, deadline, cols=cols)
    if relax.status != "optimal":
        return TerritorySolution(
            Status.ERROR,
            None,
            None,
            None,
            time.monotonic() - started,
            rows=rows,
            stats={"lp": relax.status},
            problem=problem,
        )
    stats.update(
        lp_seconds=round(time.monotonic() - started, 3),
        lp_value=relax.value,
        pricing_rounds=relax.rounds,
        lp_columns=len(relax.cols),
    )
    bound, reduced, _ = lagrangian(problem, rows, relax.duals)
    integral_costs = bool(np.allclose(problem.cost, np.round(problem.cost)))
    if integral_costs:
        bound = math.ceil(bound - 1e-6)
    sc = _scaled(problem)
    current = _rounded(problem, relax)
    stats["split_clients"] = int((current < 0).sum())
    near = _near_pairs(problem, reduced, current, options.seed)
    repair_until = min(deadline, time.monotonic() + max(2.0, 0.3 * options.time_limit))
    current = _repair(problem, sc, current, near, relax, deadline=repair_until, seed=options.seed)
    if infeasibility(problem, sc, current) > 0:
        soft = _accept_balance(problem, current)
        if soft is None and problem.n_pairs <= POLISH_MAX_PAIRS:
            # Whole clients may not meet the hard rules at all although split ones do: ask
            # CP-SAT for any territory within capacity, max_clients and the moves cap.
            found, proof = _hard_rules_only(problem, current, deadline, options.seed)
            if proof == "INFEASIBLE":
                return TerritorySolution(
                    Status.INFEASIBLE,
                    None,
                    None,
                    None,
                    time.monotonic() - started,
                    rows=rows,
                    problem=problem,
                    infeasible=(
                        "whole clients cannot fit capacity, max_clients and the moves cap "
                        "together (split clients could: the relaxation is feasible)",
                        *_hard_breaks(problem, current),
                    ),
                )
            if found is not None:
                current = found
                soft = _accept_balance(problem, current)
        if soft is None:
            return TerritorySolution(
                Status.ERROR,
                None,
                None,
                bound,
                time.monotonic() - started,
                relax.duals,
                reduced,
                rows,
                stats=stats | {"failure": "no territory found in time"},
                problem=problem,
                widened=tuple(widened),
            )
        problem, notes = soft
        widened += notes
        sc = _scaled(problem)
        rows, bound, reduced = _rebound(problem, relax.duals, integral_costs)
    stats["first_objective"] = objective_of(problem, current)
    best = objective_of(problem, current)
    polish = np.flatnonzero(reduced <= best - bound + 1e-6)
    can_polish = len(polish) <= POLISH_MAX_PAIRS and problem.n_clients <= POLISH_MAX_CLIENTS
    beside = None
    if (
        can_polish
        and options.threads != 1
        and deadline - time.monotonic() > POLISH_BESIDE_ABOVE
        and best - bound > options.gap * abs(bound)
    ):
        # Two cores: HiGHS polishes in a second process from the first territory on, while the
        # local search goes on here; the two trade better territories as they find them.
        beside = _PolishBeside(problem, rows, current, polish, options, deadline)
        current, lns = _search(
            problem,
            sc,
            current,
            near,
            bound,
            until=deadline,
            gap=options.gap,
            seed=options.seed,
            beside=beside,
        )
    else:
        # One core: the local search runs while it keeps finding better territories (at least
        # LNS_BEFORE_POLISH of the time left, at most LNS_UNTIL_POLISH), then HiGHS takes over.
        remaining = deadline - time.monotonic()
        least = time.monotonic() + LNS_BEFORE_POLISH * remaining
        until = time.monotonic() + (LNS_UNTIL_POLISH * remaining if can_polish else remaining)
        current, lns = _search(
            problem, sc, current, near, bound, until=least, gap=options.gap, seed=options.seed
        )
        if can_polish and time.monotonic() < until and lns["lns_improvements"] > 0:
            current, more = _search(
                problem,
                sc,
                current,
                near,
                bound,
                until=until,
                gap=options.gap,
                seed=options.seed + 1,
                patience=LNS_PATIENCE,
            )
            lns = {k: lns[k] + more[k] if k != "lns_size" else more[k] for k in lns}
    stats.update(lns)
    best = objective_of(problem, current)
    if beside is not None:
        out, sub_bound, status = beside.result()
        stats["polish"] = f"{status} (beside the search)"
        current, best, bound = _with_polish(problem, current, bound, out, sub_bound, integral_costs)
    elif can_polish and best - bound > options.gap * max(abs(best), 1e-9):
        # Exact reduced-cost fixing: only pairs that could be in a better territory stay.
        polish = np.flatnonzero(reduced <= best - bound + 1e-6)
        remaining = deadline - time.monotonic()
        if remaining > 0.2:
            out, sub_bound, status = _polish(problem, rows, current, polish, options, deadline)
            stats["polish"] = status
            current, best, bound = _with_polish(
                problem, current, bound, out, sub_bound, integral_costs
            )
    bound = min(bound, best)
    ended = Status.OPTIMAL if best - bound <= 1e-9 * max(1.0, abs(best)) else Status.FEASIBLE
    seconds = time.monotonic() - started
    return TerritorySolution(
        ended,
        current,
        best,
        bound,
        seconds,
        relax.duals,
        reduced,
        rows,
        stats=stats,
        problem=problem,
        widened=tuple(widened),
    )


def _with_polish(
    problem: TerritoryProblem,
    current: np.ndarray,
    bound: float,
    out: np.ndarray | None,
    sub_bound: float | None,
    integral_costs: bool,
) -> tuple[np.ndarray, float, float]:
    """The better territory and the better bound after a polish: (territory, objective, bound).

    The polish's bound is valid for the whole problem (reduced-cost fixing is exact); it is
    rounded up when every cost is whole.
    """
    best = objective_of(problem, current)
    if out is not None and objective_of(problem, out) < best - 1e-9:
        current, best = out, objective_of(problem, out)
    if sub_bound is not None:
        if integral_costs:
            bound = max(bound, math.ceil(sub_bound - 1e-6))
        else:
            bound = max(bound, sub_bound - 1e-9 * abs(sub_bound))
    return current, best, bound


class _PolishBeside:
    """`_polish` in a spawned process, while this one goes on with the local search.

    The two trade territories over a pipe: `offer` sends the search's better ones to HiGHS,
    which takes them up before its next dive; `incoming` returns the best HiGHS has found
    since the last call. At most one offer is in the pipe at a time (HiGHS says when it has
    read it; a newer one waits here meanwhile), so this side never blocks on a full pipe
    while HiGHS is busy at a node.
    """

    def __init__(
        self,
        problem: TerritoryProblem,
        rows: Rows,
        current: np.ndarray,
        pairs: np.ndarray,
        options: SolveOptions,
        deadline: float,
    ) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # a fork would copy HiGHS's threads' locks
        self.deadline = deadline
        self.conn, child = ctx.Pipe()
        self.answer: tuple[str, Any] | None = None
        self.waiting: np.ndarray | None = None  # the newest offer not yet sent
        self.in_pipe = False  # an offer HiGHS has not read yet
        args = (child, problem, rows, current, pairs, options, deadline)
        self.process = ctx.Process(target=_polish_worker, args=args, daemon=True)
        self.process.start()

    def offer(self, current: np.ndarray) -> None:
        """Send a better territory to HiGHS (as a new incumbent), or keep it until HiGHS has
        read the one before."""
        self.waiting = current.astype(np.int64)
        if not self.in_pipe and self.answer is None:
            with contextlib.suppress(OSError, ValueError):  # the polish has ended
                self.conn.send(("better", self.waiting))
                self.waiting, self.in_pipe = None, True

    def incoming(self) -> np.ndarray | None:
        """The last territory HiGHS found since the previous call, or None."""
        latest = None
        try:
            while self.answer is None and self.conn.poll():
                kind, value = self.conn.recv()
                if kind == "found":
                    latest = value
                elif kind == "read":
                    self.in_pipe = False
                else:
                    self.answer = (kind, value)
        except (EOFError, OSError):
            pass
        if self.waiting is not None and not self.in_pipe:
            self.offer(self.waiting)
        return latest

    def result(self) -> tuple[np.ndarray | None, float | None, str]:
        try:
            stop = self.deadline + 10.0
            while self.answer is None and self.conn.poll(max(0.0, stop - time.monotonic())):
                kind, value = self.conn.recv()
                if kind not in ("found", "read"):
                    self.answer = (kind, value)
            if self.answer is None:
                return None, None, "no answer in time"
            kind, value = self.answer
            if kind == "ok":
                return value
            return None, None, f"failed: {str(value).splitlines()[-1]}"
        except (EOFError, OSError) as error:
            return None, None, f"failed: {error}"
        finally:
            self.process.join(timeout=2)
            if self.process.is_alive():
                self.process.kill()


def _polish_worker(conn: Any, *args: Any) -> None:
    try:
        conn.send(("ok", _polish(*args, exchange=conn)))
    except Exception:  # handed to the parent, which reports it
        import traceback

        conn.send(("error", traceback.format_exc()))


def _polish(
    problem: TerritoryProblem,
    rows: Rows,
    current: np.ndarray,
    pairs: np.ndarray,
    options: SolveOptions,
    deadline: float,
    *,
    exchange: Any = None,
) -> tuple[np.ndarray | None, float | None, str]:
    """HiGHS branch-and-bound over the surviving pairs, from the best territory so far.

    Its dual bound is valid for the whole problem: every pair left out has a reduced cost that
    rules it out of any better territory. Returns (territory or None, bound, status).
    `exchange`: the pipe to a local search running beside; HiGHS's better territories go
    out on it and the search's come in, taken up before HiGHS's next dive.
    """
    import highspy

    cols = np.union1d(pairs, current)
    highs = _highs_for(problem, rows, cols, problem.cost[cols], options, deadline)
    highs.setOptionValue("mip_rel_gap", options.gap)
    highs.setOptionValue("random_seed", options.seed)
    highs.changeColsIntegrality(
        len(cols),
        np.arange(len(cols), dtype=np.int32),
        np.full(len(cols), highspy.HighsVarType.kInteger),
    )
    start = highspy.HighsSolution()
    start.col_value = np.isin(cols, current).astype(float).tolist()
    start.value_valid = True
    highs.setSolution(start)
    if exchange is not None:
        _trade_with(highs, exchange, problem, cols)
    highs.run()
    info = highs.getInfo()
    status = highs.modelStatusToString(highs.getModelStatus())
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status != 2:
        return None, bound, status
    x = np.asarray(highs.getSolution().col_value) > 0.5
    out = current.copy()
    out[problem.pair_client[cols[x]]] = cols[x]
    if violations(problem, out):  # never trust a territory that breaks a rule
        return None, bound, status
    return out, bound, status


def _trade_with(highs: Any, conn: Any, problem: TerritoryProblem, cols: np.ndarray) -> None:
    """HiGHS callbacks that send its improving territories and take up the search's."""
    import highspy

    kinds = highspy.cb.HighsCallbackType
    territory = np.zeros(problem.n_clients, dtype=np.int64)

    def callback(kind: Any, _message: str, out: Any, into: Any, _data: Any) -> None:
        if kind == kinds.kCallbackMipImprovingSolution:
            x = np.asarray(out.mip_solution) > 0.5
            if x.sum() == problem.n_clients:
                territory[problem.pair_client[cols[x]]] = cols[x]
                conn.send(("found", territory.copy()))
        elif kind == kinds.kCallbackMipUserSolution and conn.poll():
            _, latest = conn.recv()  # one at a time: the search sends the next once told
            conn.send(("read", None))
            if np.isin(latest, cols).all():
                into.setSolution(np.isin(cols, latest).astype(float))

    highs.setCallback(callback, None)
    highs.startCallback(kinds.kCallbackMipImprovingSolution)
    highs.startCallback(kinds.kCallbackMipUserSolution)


def _violated_rows(problem: TerritoryProblem, rows: Rows, violation: np.ndarray) -> list[str]:
    """The rules the phase-one model had to bend, in the analyst's words."""
    out: list[str] = []
    people = problem.people
    for k in np.flatnonzero(np.abs(violation) > 1e-6):
        amount = violation[k]
        if rows.workload <= k < rows.workload + rows.n_people:
            p = k - rows.workload
            side = "more" if amount > 0 else "fewer"
            capacity = float(people["capacity_hours"][p])
            if amount < 0 and people["workload_high"][p] >= capacity - 1e-6:
                out.append(
                    f"capacity of {people['rep_id'][p]} ({people['role'][p]}, "
                    f"{capacity:,.1f} h): its clients need {abs(amount):,.1f} h more than it has"
                )
                continue
            out.append(
                f"workload of {people['rep_id'][p]} ({people['role'][p]}): needs "
                f"{abs(amount):,.1f} {side} hours than any assignment can give (window "
                f"{people['workload_low'][p]:,.1f}-{people['workload_high'][p]:,.1f} h)"
            )
        elif rows.has_potential and rows.potential <= k < rows.potential + rows.n_people:
            p = k - rows.potential
            out.append(f"potential balance of {people['rep_id'][p]}: off by {abs(amount):,.0f}")
        elif rows.has_count and rows.count <= k < rows.count + rows.n_people:
            p = k - rows.count
            out.append(f"max_clients of {people['rep_id'][p]}: {abs(amount):,.1f} clients too many")
        elif rows.has_cap and k == rows.cap:
            out.append(
                f"territory.max_moves: at least {abs(amount):,.0f} more revenue must move than "
                f"the cap allows ({problem.max_moved_revenue:,.0f})"
            )
    return out


def _widen(
    problem: TerritoryProblem, rows: Rows, violation: np.ndarray
) -> tuple[TerritoryProblem, list[str]] | None:
    """Widen balance windows the clients cannot fill; None when a hard rule is what breaks.

    Balance is a goal within what the data allow: a person whose eligible clients cannot reach
    the window (another direction has all the work) gets the window widened by what is missing,
    and the result says so. Capacity, max_clients and the moves cap are never widened.
    """
    people = problem.people.copy()
    capacity = people["capacity_hours"].to_numpy(dtype=float)
    # Widen by one client more than the relaxation needs, so whole clients fit the new window.
    step = np.zeros(problem.n_people)
    np.maximum.at(step, problem.pair_person, problem.pair_hours)
    notes: list[str] = []
    for k in np.flatnonzero(np.abs(violation) > 1e-6):
        amount = float(violation[k])
        if rows.workload <= k < rows.workload + rows.n_people:
            p = k - rows.workload
            rep = people.at[p, "rep_id"]
            if amount > 0:
                low = max(0.0, float(people.at[p, "workload_low"]) - amount - step[p])
                people.at[p, "workload_low"] = low
                notes.append(
                    f"{rep}'s eligible clients cannot fill its balance window: "
                    f"its lower limit drops to {low:,.1f} h"
                )
            else:
                high = float(people.at[p, "workload_high"]) - amount
                if high > capacity[p] + 1e-6:
                    return None
                high = min(capacity[p], high + step[p])
                people.at[p, "workload_high"] = high
                notes.append(
                    f"{rep} must carry more than its balance window: its upper limit rises "
                    f"to {high:,.1f} h (capacity {capacity[p]:,.1f} h)"
                )
        elif rows.has_potential and rows.potential <= k < rows.potential + rows.n_people:
            p = k - rows.potential
            column = "potential_low" if amount > 0 else "potential_high"
            people.at[p, column] = float(people.at[p, column]) - amount
            notes.append(
                f"{people.at[p, 'rep_id']}'s potential window widened by {abs(amount):,.0f}"
            )
        else:
            return None
    return replace(problem, people=people), notes


def _hard_rules_only(
    problem: TerritoryProblem, current: np.ndarray, deadline: float, seed: int
) -> tuple[np.ndarray | None, str]:
    """Any territory within capacity, max_clients and the moves cap (windows opened to 0..capacity),
    cheapest first; CP-SAT's status says whether none exists."""
    people = problem.people.copy()
    people["workload_low"] = 0.0
    people["workload_high"] = people["capacity_hours"]
    people["potential_low"] = -np.inf
    people["potential_high"] = np.inf
    open_problem = replace(problem, people=people)
    everyone = np.ones(problem.n_clients, dtype=bool)
    status, out, _ = _subsolve(
        open_problem,
        _scaled(open_problem),
        current,
        everyone,
        np.arange(problem.n_pairs),
        seconds=max(0.5, deadline - time.monotonic()),
        seed=seed,
        workers=2,
    )
    return out, status


def _hard_breaks(problem: TerritoryProblem, pairs: np.ndarray) -> list[str]:
    """What the closest whole-client territory breaks among the hard rules, in words."""
    return violations(problem, pairs, hard_only=True)


def _accept_balance(
    problem: TerritoryProblem, pairs: np.ndarray
) -> tuple[TerritoryProblem, list[str]] | None:
    """Widen the balance windows a whole-client territory misses; None if hard rules break.

    Some windows can be met only with clients split between people (the relaxation does it,
    whole clients cannot), or the repair found no whole-client territory meeting them in its
    time. The closest whole-client territory found is then kept, each workload and potential
    window it misses is widened to it and the result says so; capacity, max_clients and the
    moves cap are never widened. The problem returned is the widened one: any bound reported
    after this must be one for it (`_rebound`).
    """
    if violations(problem, pairs, hard_only=True):
        return None
    people = problem.people.copy()
    person = problem.pair_person[pairs]
    load = np.bincount(person, weights=problem.pair_hours[pairs], minlength=problem.n_people)
    notes = []
    for k in np.flatnonzero(load < people["workload_low"].to_numpy() - 1e-6):
        notes.append(
            f"{people.at[k, 'rep_id']}: no whole-client territory found fills its balance "
            f"window; its lower limit drops from {people.at[k, 'workload_low']:,.1f} to "
            f"{load[k]:,.1f} h"
        )
        people.at[k, "workload_low"] = load[k]
    for k in np.flatnonzero(load > people["workload_high"].to_numpy() + 1e-6):
        notes.append(
            f"{people.at[k, 'rep_id']}: no whole-client territory found keeps it inside its "
            f"balance window; its upper limit rises from {people.at[k, 'workload_high']:,.1f} "
            f"to {load[k]:,.1f} h"
        )
        people.at[k, "workload_high"] = load[k]
    if problem.settings.potential_balance is not None:
        potential = problem.clients["potential"].to_numpy(dtype=float)[problem.pair_client]
        held = np.bincount(person, weights=potential[pairs], minlength=problem.n_people)
        low = people["potential_low"].to_numpy(dtype=float)
        high = people["potential_high"].to_numpy(dtype=float)
        slack = 1e-6 * np.maximum(1.0, np.abs(high))
        for k in np.flatnonzero((held < low - slack) | (held > high + slack)):
            column = "potential_low" if held[k] < low[k] else "potential_high"
            notes.append(
                f"{people.at[k, 'rep_id']}: no whole-client territory found keeps its potential "
                f"inside its window ({low[k]:,.0f}-{high[k]:,.0f}); the window widens to "
                f"{min(low[k], held[k]):,.0f}-{max(high[k], held[k]):,.0f}"
            )
            people.at[k, column] = held[k]
    return replace(problem, people=people), notes


def _rebound(
    problem: TerritoryProblem, duals: np.ndarray, integral_costs: bool
) -> tuple[Rows, float, np.ndarray]:
    """Rows, Lagrangian bound and reduced costs of a problem whose windows were widened.

    The relaxation's duals still give a valid bound (any multipliers do), but the constant
    y.b must use the widened limits: the bound of the original windows does not hold for a
    territory that needed them widened, and clipping it to that territory's cost would call
    it optimal without proof.
    """
    rows = rows_of(problem)
    bound, reduced, _ = lagrangian(problem, rows, duals)
    if integral_costs:
        bound = math.ceil(bound - 1e-6)
    return rows, bound, reduced
