"""The territory model: every client to one person of its covering role (SPEC §3.3).

Given the clients, today's team, the coverage decision (which role covers which client) and the
planned hires (to-be-hired placeholders), each client goes to one person so that nobody works
beyond capacity, workloads stay within the balance window, few relationships move (and locked
ones never do), people keep to their directions, travel is short and client caps hold. The
solve itself (relaxation, bound, repair, local search) is in `models/territory_solver.py`; the
arrays it works on come from `models/territory_data.py`; this module turns the answer into the
analyst's tables and explanation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.territory_data import TerritoryInputError, TerritoryProblem, build_problem
from models.territory_solver import TerritorySolution, solve_assignment
from optim.result import Explanation, Marginal, ModelResult, Status
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions

SOLVER_LABEL = "HiGHS relaxation + CP-SAT search"


def solve_territory(
    config: ScenarioConfig,
    clients: pd.DataFrame,
    team: pd.DataFrame,
    coverage: pd.DataFrame,
    prospects: pd.DataFrame | None = None,
    *,
    options: SolveOptions,
    hiring: pd.DataFrame | None = None,
    funnel: pd.DataFrame | None = None,
    coverage_gaps: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
) -> ModelResult:
    """Assign every covered client and pursued prospect to one person."""
    try:
        problem = build_problem(
            config,
            clients,
            team,
            coverage,
            prospects,
            hiring=hiring,
            funnel=funnel,
            coverage_gaps=coverage_gaps,
            pairs=pairs,
        )
    except TerritoryInputError as error:
        return _no_territory(str(error))
    solution = solve_assignment(problem, options)
    solved = solution.problem or problem
    if solution.pair is None:
        return _failed(solved, solution)
    frames = territory_frames(solved, solution, clients)
    return ModelResult(
        model="territory",
        status=solution.status,
        objective=solution.objective,
        bound=solution.bound,
        solve_seconds=solution.seconds,
        solver=SOLVER_LABEL,
        frames=frames,
        explanation=_explanation(solved, solution, frames),
        details={k: _plain(v) for k, v in solution.stats.items()},
    )


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- tables --------------------------------------------------------------------------------


def territory_frames(
    problem: TerritoryProblem, solution: TerritorySolution, clients: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The assignment (clients table plus rep_id...), per-person workload and the moves."""
    assert solution.pair is not None
    pair = solution.pair
    people = problem.people
    chosen = problem.clients
    person = problem.pair_person[pair]
    rep_ids = people["rep_id"].to_numpy()
    owner = chosen["owner"].fillna("").astype(str).to_numpy()
    rep = rep_ids[person]
    counted = chosen["move_counted"].to_numpy()
    moved = owner != rep
    alt = _next_best(problem, solution)
    placed = pd.DataFrame(
        {
            "client_id": chosen["client_id"].to_numpy(),
            "rep_id": rep,
            "rep_name": people["name"].to_numpy()[person],
            "covering_role": chosen["role"].to_numpy(),
            "previous_owner": owner,
            "moved": moved & (owner != ""),
            "move_counts": moved & counted,
            "hours": problem.pair_hours[pair],
            "travel_cost": problem.pair_travel[pair],
            "pair_cost": problem.pair_extra[pair],
            "move_cost": problem.pair_move_cost[pair],
            "next_best_rep": alt["rep"],
            "move_to_next_best_cost": alt["delta"],
            "move_to_next_best_breaks": alt["breaks"],
        }
    )
    placed["reason"] = _reasons(problem, placed, alt)
    unplaced = problem.unassigned.rename(columns={"why_unassigned": "reason"}).assign(
        rep_id="", rep_name="", covering_role="", moved=False, move_counts=False
    )
    assignment = clients.merge(
        pd.concat([placed, unplaced], ignore_index=True), on="client_id", how="left"
    )
    assignment["previous_owner"] = assignment["owner"].fillna("")
    assignment["moved"] = assignment["moved"].astype(bool) & (
        assignment["previous_owner"] != assignment["rep_id"]
    )
    return {
        "territories": assignment,
        "workload": _workload(problem, placed),
        "moves": _moves(problem, placed),
    }


def _workload(problem: TerritoryProblem, placed: pd.DataFrame) -> pd.DataFrame:
    people = problem.people
    chosen = problem.clients.assign(rep_id=placed["rep_id"].to_numpy(), hours=placed["hours"])
    chosen["moved_in"] = placed["moved"].to_numpy()
    per = chosen.groupby("rep_id").agg(
        clients=("client_id", "size"),
        workload_hours=("hours", "sum"),
        potential=("potential", "sum"),
        revenue_last_year=("revenue_last_year", "sum"),
        moved_in=("moved_in", "sum"),
    )
    travel = placed.groupby("rep_id")["travel_cost"].sum()
    out_moves = placed[placed["moved"]].groupby("previous_owner").size()
    frame = people[
        [
            "rep_id",
            "name",
            "role",
            "direction",
            "placeholder",
            "start_month",
            "fte",
            "capacity_hours",
            "workload_low",
            "workload_target",
            "workload_high",
        ]
    ].copy()
    frame = frame.merge(per, left_on="rep_id", right_index=True, how="left")
    frame["travel_cost"] = frame["rep_id"].map(travel)
    frame["moved_out"] = frame["rep_id"].map(out_moves)
    frame = frame.fillna(
        {
            "clients": 0,
            "workload_hours": 0.0,
            "potential": 0.0,
            "revenue_last_year": 0.0,
            "moved_in": 0,
            "moved_out": 0,
            "travel_cost": 0.0,
        }
    )
    target = frame["workload_target"].replace(0, np.nan)
    frame["balance"] = frame["workload_hours"] / target - 1
    frame["utilisation"] = frame["workload_hours"] / frame["capacity_hours"].replace(0, np.nan)
    return frame


def _moves(problem: TerritoryProblem, placed: pd.DataFrame) -> pd.DataFrame:
    chosen = problem.clients
    revenue = chosen["revenue_last_year"].to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            "role": chosen["role"].to_numpy(),
            "clients": 1,
            "revenue_last_year": revenue,
            "moved": placed["move_counts"].to_numpy(),
            "moved_revenue": np.where(placed["move_counts"], revenue, 0.0),
            "forced": placed["moved"].to_numpy() & ~placed["move_counts"].to_numpy(),
            "forced_revenue": np.where(placed["moved"] & ~placed["move_counts"], revenue, 0.0),
        }
    )
    table = frame.groupby("role").sum(numeric_only=True).reset_index()
    total = frame.drop(columns="role").sum(numeric_only=True).to_frame().T.assign(role="all")
    table = pd.concat([table, total[table.columns]], ignore_index=True)
    table["moved_share"] = table["moved_revenue"] / table["revenue_last_year"].replace(0, np.nan)
    table["cap_share"] = problem.settings.max_moves
    return table


def _next_best(problem: TerritoryProblem, solution: TerritorySolution) -> dict[str, np.ndarray]:
    """For each client: the cheapest other person, the cost of moving there, what it breaks."""
    assert solution.pair is not None
    pair = solution.pair
    n = problem.n_clients
    people = problem.people
    mine = np.zeros(problem.n_pairs, dtype=bool)
    mine[pair] = True
    cost = np.where(mine, np.inf, problem.cost)
    order = np.lexsort((cost, problem.pair_client))
    starts = problem.client_starts()
    first = order[np.minimum(starts[:-1], max(problem.n_pairs - 1, 0))]
    has_alt = (starts[1:] - starts[:-1] > 1) & np.isfinite(cost[first])
    alt_person = problem.pair_person[first]
    delta = np.where(has_alt, problem.cost[first] - problem.cost[pair], np.nan)
    m = problem.n_people
    person = problem.pair_person[pair]
    load = np.bincount(person, weights=problem.pair_hours[pair], minlength=m)
    count = np.bincount(person, minlength=m)
    high = people["workload_high"].to_numpy(dtype=float)
    low = people["workload_low"].to_numpy(dtype=float)
    capacity = people["capacity_hours"].to_numpy(dtype=float)
    max_clients = people["max_clients"].to_numpy(dtype=float)
    rep_ids = people["rep_id"].to_numpy()
    over = load[alt_person] + problem.pair_hours[first] > high[alt_person] + 1e-6
    over_capacity = load[alt_person] + problem.pair_hours[first] > capacity[alt_person] + 1e-6
    under = load[person] - problem.pair_hours[pair] < low[person] - 1e-6
    too_many = count[alt_person] + 1 > max_clients[alt_person]
    cap_hit = np.zeros(n, dtype=bool)
    if problem.max_moved_revenue is not None:
        moved_now = float(problem.moved_revenue[pair].sum())
        extra = problem.moved_revenue[first] - problem.moved_revenue[pair]
        cap_hit = moved_now + extra > problem.max_moved_revenue + 1e-6
    locked = problem.clients["locked"].fillna(False).to_numpy(dtype=bool)
    breaks = []
    for i in range(n):
        if not has_alt[i]:
            breaks.append("locked to its owner" if locked[i] else "no other eligible person")
            continue
        reasons = []
        q, p = alt_person[i], person[i]
        if over_capacity[i]:
            reasons.append(f"capacity of {rep_ids[q]}")
        elif over[i]:
            reasons.append(f"workload balance of {rep_ids[q]} (upper limit)")
        if under[i]:
            reasons.append(f"workload balance of {rep_ids[p]} (lower limit)")
        if too_many[i]:
            reasons.append(f"max_clients of {rep_ids[q]}")
        if cap_hit[i]:
            reasons.append("territory.max_moves")
        breaks.append("; ".join(reasons) if reasons else "nothing")
    return {
        "rep": np.where(has_alt, rep_ids[alt_person], ""),
        "delta": delta,
        "breaks": np.array(breaks, dtype=object),
        "travel_delta": np.where(
            has_alt, problem.pair_travel[first] - problem.pair_travel[pair], np.nan
        ),
    }


def _reasons(
    problem: TerritoryProblem, placed: pd.DataFrame, alt: dict[str, np.ndarray]
) -> list[str]:
    """Why each client sits with its person, in one sentence."""
    chosen = problem.clients
    forced = chosen["forced_move"].to_numpy()
    locked = chosen["locked"].fillna(False).to_numpy(dtype=bool)
    out = []
    for i, row in enumerate(placed.itertuples()):
        owner, rep = row.previous_owner, row.rep_id
        if locked[i] and owner == rep:
            out.append(f"locked: stays with its owner {rep}")
            continue
        if owner == rep:
            head = f"stays with its owner {rep} (continuity)"
        elif owner and forced[i]:
            head = f"goes to {rep} because {forced[i]} (was {owner})"
        elif owner:
            head = f"moves from {owner} to {rep}"
        else:
            head = f"unowned today; goes to {rep}"
        delta = alt["delta"][i]
        if isinstance(alt["rep"][i], str) and alt["rep"][i]:
            if np.isfinite(delta) and delta > 0.5:
                tail = f"the next best, {alt['rep'][i]}, would cost {delta:,.0f} more a year"
            elif np.isfinite(delta) and delta < -0.5:
                tail = f"moving it to {alt['rep'][i]} would save {-delta:,.0f} a year"
            else:
                tail = f"moving it to {alt['rep'][i]} would cost the same"
            breaks = alt["breaks"][i]
            if breaks != "nothing":
                tail += f" and would break {breaks}"
            out.append(f"{head}; {tail}")
        else:
            out.append(f"{head}; {alt['breaks'][i]}")
    return out


# --- explanation ---------------------------------------------------------------------------


def _explanation(
    problem: TerritoryProblem, solution: TerritorySolution, frames: dict[str, pd.DataFrame]
) -> Explanation:
    workload = frames["workload"]
    moves = frames["moves"]
    assert solution.objective is not None
    gap = 0.0 if solution.bound is None else solution.objective - solution.bound
    rel = gap / max(abs(solution.objective), 1e-9)
    placed = len(problem.clients)
    status = solution.status.value
    # A widened window relaxes the problem: status and bound are then those of the widened one.
    widened = " with the balance windows widened as noted" if solution.widened else ""
    headline = (
        f"Territories {status}{widened}: {placed:,} clients to {problem.n_people:,} people "
        f"(incl. {int(workload['placeholder'].sum())} planned hires) at a yearly cost of "
        f"{solution.objective:,.0f} (travel, pair costs and moves), {rel:.3%} from the proven "
        f"bound {solution.bound:,.0f}{' of the widened windows' if widened else ''}; "
        f"{solution.seconds:.1f}s."
    )
    territories = frames["territories"]
    breakdown = {
        "travel cost": float(territories["travel_cost"].fillna(0).sum()),
        "pair cost (pairs.csv)": float(territories["pair_cost"].fillna(0).sum()),
        "move cost (relationships at risk)": float(territories["move_cost"].fillna(0).sum()),
    }
    notes = list(problem.notes) + list(solution.widened)
    total = moves[moves["role"] == "all"].iloc[0]
    share = total["moved_share"] if pd.notna(total["moved_share"]) else 0.0
    cap = problem.settings.max_moves
    notes.append(
        f"{int(total['moved'])} clients ({total['moved_revenue']:,.0f}, {share:.1%} of last "
        f"year's revenue) change owner"
        + (f" against a cap of {cap:.0%}" if cap is not None else "")
        + f"; {int(total['forced'])} more must move (owner left, hand-off or coverage change)."
    )
    spread = workload[workload["workload_target"] > 0]["balance"]
    if len(spread):
        balance = problem.settings.balance
        window = f"window ±{balance:.0%}" if balance is not None else "territory.balance is off"
        notes.append(
            f"Workload against each person's fair share: from {spread.min():+.1%} to "
            f"{spread.max():+.1%} ({window})."
        )
    unassigned = problem.unassigned
    if len(unassigned):
        notes.append(
            f"{len(unassigned):,} clients get nobody (uncovered, or prospects not pursued)."
        )
    return Explanation(
        headline=headline,
        objective_breakdown=breakdown,
        binding=tuple(_binding(problem, solution)),
        notes=tuple(notes),
    )


def _binding(problem: TerritoryProblem, solution: TerritorySolution) -> list[Marginal]:
    """Binding limits with their relaxation duals: what one more unit would save a year."""
    out: list[Marginal] = []
    rows = solution.rows
    duals = solution.duals
    if rows is None or duals is None or len(duals) == 0:
        return out
    people = problem.people
    workload = duals[rows.workload : rows.workload + rows.n_people]
    for k in np.argsort(-np.abs(workload))[:5]:
        value = float(workload[k])
        if abs(value) < 1e-6:
            break
        side = "upper" if value < 0 else "lower"
        out.append(
            Marginal(
                group="workload_window",
                labels={"rep_id": people["rep_id"][k], "side": side},
                sentence=(
                    f"the {side} workload limit of {people['rep_id'][k]} binds: one hour "
                    f"{'more' if side == 'upper' else 'less'} of room would save ~{abs(value):,.0f}"
                    " a year"
                ),
                value_per_unit=abs(value),
                unit="hour",
            )
        )
    if rows.has_cap and abs(duals[rows.cap]) > 1e-9:
        value = abs(float(duals[rows.cap])) * 1e6
        out.append(
            Marginal(
                group="max_moves",
                labels={},
                sentence=(
                    f"the moves cap binds: letting 1M more revenue change owner would save "
                    f"~{value:,.0f} a year"
                ),
                value_per_unit=value,
                unit="1M moved revenue",
            )
        )
    return out


def _failed(problem: TerritoryProblem, solution: TerritorySolution) -> ModelResult:
    if solution.status is Status.INFEASIBLE:
        headline = "Territories infeasible: no assignment meets the hard rules."
        notes = ("Rules that cannot all hold (least total violation):", *solution.infeasible)
    else:
        headline = "Territories: no assignment found within the time limit."
        notes = tuple(f"{k}: {v}" for k, v in solution.stats.items())
    return ModelResult(
        model="territory",
        status=solution.status,
        objective=None,
        bound=solution.bound,
        solve_seconds=solution.seconds,
        solver=SOLVER_LABEL,
        frames={},
        explanation=Explanation(headline=headline, notes=notes),
    )


def _no_territory(message: str) -> ModelResult:
    return ModelResult(
        model="territory",
        status=Status.INFEASIBLE,
        objective=None,
        bound=None,
        solve_seconds=0.0,
        solver=SOLVER_LABEL,
        frames={},
        explanation=Explanation(headline=f"Territories infeasible: {message}."),
    )
