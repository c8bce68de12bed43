"""The territory problem as arrays: who may take which client, at what hours and cost.

`build_problem` turns the scenario's frames and the coverage and staffing decisions into a
`TerritoryProblem`: the clients to assign (each with its covering role and hours), the people
who can take them (today's team plus the planned hires as to-be-hired placeholders) and every
eligible client x person pair with its hours, travel cost, pair cost and whether it moves the
client. The solver (`models/territory_solver.py`) works on these arrays only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.coverage import handoff_share
from optim.roles import ramp_share
from optim.schema import NO_COVERAGE, ScenarioConfig, Territory

EARTH_RADIUS_KM = 6371.0
REMOTE_ROLES = ("telesales",)  # roles that serve by phone and never travel
PLACEHOLDER_PREFIX = "NEW"


@dataclass(frozen=True)
class TerritoryProblem:
    """Clients, people and eligible pairs, indexed 0..n-1, 0..m-1 and 0..p-1.

    Pairs are sorted by client. `cost` is the pair's whole objective coefficient (weighted
    travel + weighted pair cost + weighted move cost); `moved_revenue` is the last-year revenue
    the pair moves, counted against `max_moved_revenue` (None: no cap).
    """

    clients: pd.DataFrame
    people: pd.DataFrame
    unassigned: pd.DataFrame
    pair_client: np.ndarray
    pair_person: np.ndarray
    pair_hours: np.ndarray
    pair_travel: np.ndarray
    pair_extra: np.ndarray
    pair_move_cost: np.ndarray
    moved_revenue: np.ndarray
    cost: np.ndarray
    max_moved_revenue: float | None
    settings: Territory
    notes: tuple[str, ...] = ()

    @property
    def n_clients(self) -> int:
        return len(self.clients)

    @property
    def n_people(self) -> int:
        return len(self.people)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_client)

    def client_starts(self) -> np.ndarray:
        """Index of each client's first pair (pairs are sorted by client), plus the end."""
        return np.searchsorted(self.pair_client, np.arange(self.n_clients + 1))


class TerritoryInputError(ValueError):
    """The territory cannot be set up from these inputs (no one can take some clients)."""


def covering_role(covered_by: str) -> str:
    """The role that holds the client for the year: after the hand-off when there is one."""
    if ", then " in covered_by:
        return covered_by.split(", then ")[-1].strip()
    return covered_by.strip()


def build_problem(
    config: ScenarioConfig,
    clients: pd.DataFrame,
    team: pd.DataFrame,
    coverage: pd.DataFrame,
    prospects: pd.DataFrame | None = None,
    *,
    hiring: pd.DataFrame | None = None,
    funnel: pd.DataFrame | None = None,
    coverage_gaps: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
) -> TerritoryProblem:
    """Set up the territory problem from the scenario and the earlier models' decisions."""
    settings = config.territory or Territory()
    notes: list[str] = []
    chosen, unassigned = _clients_to_assign(config, clients, coverage, prospects, funnel, notes)
    _discount_coverage_gaps(config, chosen, coverage_gaps, notes)
    people = _people(config, team, hiring, set(chosen["role"]))
    chosen = _with_owner(chosen, people)
    pc, pp, hours, extra = _eligible_pairs(config, chosen, people, pairs, notes)
    travel = _travel(settings, chosen, people, pc, pp, notes)

    owner = chosen["owner_index"].to_numpy()
    counted = chosen["move_counted"].to_numpy()
    moves = (owner[pc] >= 0) & (owner[pc] != pp) & counted[pc]
    revenue = chosen["revenue_last_year"].to_numpy(dtype=float)
    moved_revenue = np.where(moves, revenue[pc], 0.0)
    move_cost = settings.weights.moves * moved_revenue
    cost = settings.weights.travel * travel + settings.weights.pairs * extra + move_cost

    cap = None
    if settings.max_moves is not None:
        cap = settings.max_moves * float(revenue.sum())
    _check_everyone_can_be_placed(chosen, pc)
    people = _bounds(config, settings, chosen, people, pc, pp, hours)
    return TerritoryProblem(
        clients=chosen.reset_index(drop=True),
        people=people,
        unassigned=unassigned,
        pair_client=pc,
        pair_person=pp,
        pair_hours=hours,
        pair_travel=travel,
        pair_extra=extra,
        pair_move_cost=move_cost,
        moved_revenue=moved_revenue,
        cost=cost,
        max_moved_revenue=cap,
        settings=settings,
        notes=tuple(notes),
    )


# --- clients -------------------------------------------------------------------------------


def _clients_to_assign(
    config: ScenarioConfig,
    clients: pd.DataFrame,
    coverage: pd.DataFrame,
    prospects: pd.DataFrame | None,
    funnel: pd.DataFrame | None,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = clients.copy()
    frame["role"] = ""
    frame["why_unassigned"] = ""
    by_cell = {
        (row.segment, row.status): covering_role(str(row.covered_by))
        for row in coverage.itertuples()
    }
    served = frame["status"] != "prospect"
    roles = [
        by_cell.get(key, NO_COVERAGE)
        for key in zip(frame["segment"], frame["status"], strict=False)
    ]
    frame["role"] = np.where(served, roles, "")
    frame.loc[served & (frame["role"] == NO_COVERAGE), "why_unassigned"] = (
        "the coverage model leaves this segment and status uncovered"
    )
    frame.loc[served & (frame["role"] == NO_COVERAGE), "role"] = ""
    frame["hours"] = 0.0
    service = {k: s.service_hours_per_year * config.months / 12 for k, s in config.segments.items()}
    frame.loc[served, "hours"] = frame.loc[served, "segment"].map(service).fillna(0.0)
    # Today's new clients stay with their hunter for the rest of the hand-off period; their
    # year's owner (after the hand-off) serves them for the remainder of the year.
    is_new = frame["status"] == "new"
    frame.loc[is_new, "hours"] *= 1 - handoff_share(config)
    _pick_prospects(config, frame, prospects, funnel, notes)

    assign = frame["role"] != ""
    chosen = frame[assign].copy()
    unassigned = frame.loc[~assign, ["client_id", "why_unassigned"]].copy()
    return chosen.reset_index(drop=True), unassigned.reset_index(drop=True)


def _discount_coverage_gaps(
    config: ScenarioConfig,
    chosen: pd.DataFrame,
    gaps: pd.DataFrame | None,
    notes: list[str],
) -> None:
    """Clients the staffing plan leaves uncovered for some months need no hours then.

    The staffing model may accept that some clients wait for hires (its coverage gaps); their
    service hours in those months are not work anyone does, so each client of the cell carries
    its hours times the share of client-months the plan covers.
    """
    if gaps is None or gaps.empty:
        return
    keys = ["role", "direction", "segment", "status"]
    missing = gaps.groupby(keys)["uncovered_clients"].sum()
    served = chosen["status"] != "prospect"
    cells = chosen[served].groupby(keys)["client_id"].size()
    share = (1 - missing.reindex(cells.index).fillna(0.0) / (cells * config.months)).clip(0, 1)
    index = pd.MultiIndex.from_frame(chosen.loc[served, keys])
    chosen.loc[served, "hours"] *= share.reindex(index).fillna(1.0).to_numpy()
    lost = float(missing.sum())
    if lost > 0:
        notes.append(
            f"The staffing plan leaves {lost:,.0f} client-months uncovered while hires arrive; "
            "those clients' hours are counted for the months they are served."
        )


def _pick_prospects(
    config: ScenarioConfig,
    frame: pd.DataFrame,
    prospects: pd.DataFrame | None,
    funnel: pd.DataFrame | None,
    notes: list[str],
) -> None:
    """Hunters get the pursued prospects: the highest potential first, owned ones before."""
    is_prospect = frame["status"] == "prospect"
    if not is_prospect.any():
        return
    if prospects is None or prospects.empty:
        frame.loc[is_prospect, "why_unassigned"] = "no prospects are pursued in this run"
        return
    pursued = {(r.segment, r.direction): int(r.pursued) for r in prospects.itertuples()}
    candidates = frame[is_prospect].assign(_owned=frame["owner"].fillna("") != "")
    candidates = candidates.sort_values(
        ["segment", "direction", "_owned", "potential", "client_id"],
        ascending=[True, True, False, False, True],
    )
    rank = candidates.groupby(["segment", "direction"]).cumcount()
    quota = [
        pursued.get(k, 0) for k in zip(candidates["segment"], candidates["direction"], strict=False)
    ]
    take = rank.to_numpy() < np.asarray(quota, dtype=int)
    frame.loc[candidates.index[take], "role"] = "hunter"
    frame.loc[candidates.index[~take], "why_unassigned"] = (
        "not among the prospects the coverage model pursues in its segment and direction"
    )
    frame.loc[candidates.index[take], "hours"] = _prospect_hours(
        config, frame.loc[candidates.index[take]], funnel, notes
    )


def _prospect_hours(
    config: ScenarioConfig, chosen: pd.DataFrame, funnel: pd.DataFrame | None, notes: list[str]
) -> np.ndarray:
    """Hunter hours per pursued prospect: the funnel's planned hunter hours, spread evenly."""
    count = chosen.groupby(["direction", "segment"])["client_id"].transform("size")
    if funnel is not None and not funnel.empty and "hunter_hours" in funnel.columns:
        planned = funnel.groupby(["direction", "segment"])["hunter_hours"].sum()
        keys = list(zip(chosen["direction"], chosen["segment"], strict=False))
        total = np.array([planned.get(k, 0.0) for k in keys], dtype=float)
        return total / count.to_numpy(dtype=float)
    if config.funnel is None:
        notes.append("No funnel section: prospects count as 0 hunter hours each.")
        return np.zeros(len(chosen))
    f = config.funnel
    per = f.hunter_hours_per_meeting / f.meeting_to_opportunity + f.hunter_hours_per_opportunity
    notes.append(
        f"No staffing funnel in this run: each pursued prospect counts as one opportunity's "
        f"hunter work ({per:,.1f} h)."
    )
    return np.full(len(chosen), per)


# --- people --------------------------------------------------------------------------------


def _people(
    config: ScenarioConfig,
    team: pd.DataFrame,
    hiring: pd.DataFrame | None,
    roles: set[str],
) -> pd.DataFrame:
    """Today's people of the covering roles plus the planned new seats as placeholders."""
    rows = []
    for person in team[team["role"].isin(roles)].itertuples():
        role = config.require_role(str(person.role), why="its people take clients")
        is_open = str(person.name).strip() == ""
        start = min(1 + role.hire_lead_months, config.months) if is_open else 1
        rows.append(_person_row(config, person._asdict(), start, placeholder=False))
    if hiring is not None and not hiring.empty:
        seats = hiring[(hiring["kind"] == "new seat") & hiring["role"].isin(roles)]
        for seat in seats.itertuples():
            count = round(float(seat.hires))
            for k in range(1, count + 1):
                rep_id = (
                    f"{PLACEHOLDER_PREFIX}-{seat.role}-{seat.direction}-{seat.start_month:02d}-{k}"
                )
                base = {
                    "rep_id": rep_id,
                    "name": f"to be hired ({seat.role}, {seat.direction}, "
                    f"month {seat.start_month})",
                    "role": seat.role,
                    "direction": seat.direction,
                    "region": "",
                    "fte": 1.0,
                    "lat": math.nan,
                    "lon": math.nan,
                }
                rows.append(_person_row(config, base, int(seat.start_month), placeholder=True))
    people = _home_bases(pd.DataFrame(rows))
    if people.empty:
        people = pd.DataFrame(
            columns=["rep_id", "name", "role", "direction", "fte", "start_month", "capacity_hours"]
        )
    return people.reset_index(drop=True)


def _home_bases(people: pd.DataFrame) -> pd.DataFrame:
    """A planned hire has no home yet: it is placed where its role's team in its direction sits
    (their mean position), or its direction's team, so its travel is counted like theirs."""
    if people.empty or "placeholder" not in people:
        return people
    people = people.copy()
    for keys in (["role", "direction"], ["direction"]):
        known = people[~people["placeholder"] & people["lat"].notna() & people["lon"].notna()]
        centre = known.groupby(keys)[["lat", "lon"]].mean()
        todo = people["placeholder"] & people["lat"].isna()
        if not todo.any() or centre.empty:
            break
        index = (
            pd.MultiIndex.from_frame(people.loc[todo, keys])
            if len(keys) > 1
            else people.loc[todo, keys[0]]
        )
        found = centre.reindex(index)
        people.loc[todo, "lat"] = found["lat"].to_numpy()
        people.loc[todo, "lon"] = found["lon"].to_numpy()
    return people


def _person_row(
    config: ScenarioConfig, person: dict[str, object], start: int, *, placeholder: bool
) -> dict[str, object]:
    role = config.require_role(str(person["role"]), why="its people take clients")
    if role.hours_per_month is None:
        from optim.schema import MissingSectionError

        raise MissingSectionError(
            f"roles.{person['role']}.hours_per_month", "its people take clients"
        )
    months_worked = sum(ramp_share(role, m - start) for m in range(start, config.months + 1))
    fte = float(person.get("fte", 1.0) or 1.0)  # type: ignore[arg-type]
    direction = str(person.get("direction", "") or "")
    return {
        "rep_id": str(person["rep_id"]),
        "name": str(person.get("name", "") or ""),
        "role": str(person["role"]),
        "direction": direction,
        "region": str(person.get("region", "") or ""),
        "fte": fte,
        "lat": float(person.get("lat", math.nan)),  # type: ignore[arg-type]
        "lon": float(person.get("lon", math.nan)),  # type: ignore[arg-type]
        "start_month": start,
        "placeholder": placeholder,
        "capacity_hours": role.hours_per_month * months_worked * fte,
    }


def _with_owner(chosen: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """Each client's owner as a person index, and whether moving it counts as a move.

    A move counts (costs `weights.moves` and uses the `max_moves` cap) when the owner is still
    on the team in the client's covering role. A client whose owner left, or whose owner's role no
    longer covers it (the hand-off rule, a coverage change), must move: that move is forced.
    """
    index = pd.Series(np.arange(len(people)), index=people["rep_id"].to_numpy())
    owner = chosen["owner"].fillna("").astype(str)
    owner_index = owner.map(index).fillna(-1).astype(int).to_numpy()
    role_of = people["role"].to_numpy()
    same_role = np.zeros(len(chosen), dtype=bool)
    has = owner_index >= 0
    same_role[has] = role_of[owner_index[has]] == chosen["role"].to_numpy()[has]
    out = chosen.copy()
    out["owner_index"] = np.where(same_role, owner_index, -1)
    out["move_counted"] = same_role
    out["forced_move"] = np.where(
        owner == "",
        "",
        np.where(
            ~has,
            "its owner is no longer on the team",
            np.where(same_role, "", "its owner's role no longer covers it (hand-off or coverage)"),
        ),
    )
    return out


# --- pairs ---------------------------------------------------------------------------------


def _directions(people: pd.DataFrame) -> list[set[str]]:
    return [{d for d in str(v).split(";") if d} for v in people["direction"]]


def _eligible_pairs(
    config: ScenarioConfig,
    chosen: pd.DataFrame,
    people: pd.DataFrame,
    pairs: pd.DataFrame | None,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    settings = config.territory or Territory()
    dirs = _directions(people)
    roles = people["role"].to_numpy()
    blocks_c: list[np.ndarray] = []
    blocks_p: list[np.ndarray] = []
    locked = chosen["locked"].fillna(False).to_numpy(dtype=bool) if "locked" in chosen else None
    owner = chosen["owner_index"].to_numpy()
    raw_owner = chosen["owner"].fillna("").astype(str).to_numpy()
    rep_index = pd.Series(np.arange(len(people)), index=people["rep_id"].to_numpy())
    keep_locked = np.zeros(len(chosen), dtype=bool)
    if locked is not None:
        owner_any = pd.Series(raw_owner).map(rep_index).fillna(-1).to_numpy(dtype=int)
        keep_locked = locked & (owner_any >= 0)
        if (locked & (owner_any < 0)).any():
            notes.append(
                f"{int((locked & (owner_any < 0)).sum())} locked clients have no owner on the "
                "team and are assigned like the others."
            )
    named = set(pairs["client_id"]) if pairs is not None and not pairs.empty else set()
    free = ~keep_locked & ~chosen["client_id"].isin(named).to_numpy()
    groups = chosen[free].groupby(["role", "direction"]).indices
    free_index = np.flatnonzero(free)
    for (role, direction), local in groups.items():
        members = np.flatnonzero(
            (roles == role)
            & np.array([not d or direction in d or not settings.direction_match for d in dirs])
        )
        if len(members) == 0:
            continue
        client_ids = free_index[local]
        blocks_c.append(np.repeat(client_ids, len(members)))
        blocks_p.append(np.tile(members, len(client_ids)))
    if keep_locked.any():
        idx = np.flatnonzero(keep_locked)
        owners = np.array([rep_index[o] for o in raw_owner[idx]], dtype=int)
        blocks_c.append(idx)
        blocks_p.append(owners)
    hours_of = chosen["hours"].to_numpy(dtype=float)
    pc = np.concatenate(blocks_c) if blocks_c else np.zeros(0, dtype=int)
    pp = np.concatenate(blocks_p) if blocks_p else np.zeros(0, dtype=int)
    hours = hours_of[pc]
    extra = np.zeros(len(pc))
    if named:
        assert pairs is not None
        listed = pairs[pairs["client_id"].isin(set(chosen["client_id"][~keep_locked]))]
        client_index = pd.Series(np.arange(len(chosen)), index=chosen["client_id"].to_numpy())
        lc = listed["client_id"].map(client_index).to_numpy(dtype=int)
        lp = listed["rep_id"].map(rep_index)
        unknown = lp.isna()
        if unknown.any():
            notes.append(
                f"{int(unknown.sum())} pairs in pairs.csv name people who take no clients here "
                "(another role, or not on the team) and are ignored."
            )
        lc, lp_arr = lc[~unknown.to_numpy()], lp[~unknown].to_numpy(dtype=int)
        lh = listed["hours"].to_numpy(dtype=float)[~unknown.to_numpy()]
        lh = np.where(np.isnan(lh), hours_of[lc], lh)
        lx = listed["cost"].fillna(0.0).to_numpy(dtype=float)[~unknown.to_numpy()]
        pc = np.concatenate([pc, lc])
        pp = np.concatenate([pp, lp_arr])
        hours = np.concatenate([hours, lh])
        extra = np.concatenate([extra, lx])
        _ = owner
    order = np.lexsort((pp, pc))
    return pc[order], pp[order], hours[order], extra[order]


def _haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(a) for a in (lat1, lon1, lat2, lon2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _travel(
    settings: Territory,
    chosen: pd.DataFrame,
    people: pd.DataFrame,
    pc: np.ndarray,
    pp: np.ndarray,
    notes: list[str],
) -> np.ndarray:
    """Yearly travel cost of each pair: visits x round trip x cost per km (0 where unknown)."""
    travel = settings.travel
    if travel.cost_per_km == 0 or travel.visits_per_year == 0 or "lat" not in chosen:
        return np.zeros(len(pc))
    clat = chosen["lat"].to_numpy(dtype=float)[pc]
    clon = chosen["lon"].to_numpy(dtype=float)[pc]
    plat = people["lat"].to_numpy(dtype=float)[pp]
    plon = people["lon"].to_numpy(dtype=float)[pp]
    km = _haversine_km(clat, clon, plat, plon)
    remote = np.isin(people["role"].to_numpy()[pp], REMOTE_ROLES)
    unknown = np.isnan(km) & ~remote
    if unknown.any():
        notes.append(
            f"{int(unknown.sum()):,} client x person pairs lack coordinates and count no travel."
        )
    km = np.where(np.isnan(km) | remote, 0.0, km)
    return km * 2 * travel.visits_per_year * travel.cost_per_km


# --- balance bounds ------------------------------------------------------------------------


def _pools(
    chosen: pd.DataFrame, people: pd.DataFrame, pc: np.ndarray, pp: np.ndarray
) -> np.ndarray:
    """People linked through clients they could both take form a pool (union-find)."""
    parent = list(range(len(people)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # The first person of each client's pairs is unioned with the others of that client; only
    # distinct (first, other) links are visited, so this stays small even with many clients.
    starts = np.searchsorted(pc, np.arange(len(chosen)))
    has = starts < len(pc)
    first = np.full(len(pc), -1)
    first_of_client = np.where(has, pp[np.minimum(starts, max(len(pc) - 1, 0))], -1)
    if len(pc):
        first = first_of_client[pc]
        m = max(len(people), 1)
        codes = np.unique(first.astype(np.int64) * m + pp)
        for a, b in zip((codes // m).tolist(), (codes % m).tolist(), strict=True):
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                parent[rb] = ra
    roots = np.array([find(i) for i in range(len(people))], dtype=int)
    _, pool = np.unique(roots, return_inverse=True)
    return pool


def _bounds(
    config: ScenarioConfig,
    settings: Territory,
    chosen: pd.DataFrame,
    people: pd.DataFrame,
    pc: np.ndarray,
    pp: np.ndarray,
    hours: np.ndarray,
) -> pd.DataFrame:
    """Each person's workload and potential window, and client cap."""
    out = people.copy()
    pool = _pools(chosen, people, pc, pp) if len(people) else np.zeros(0, dtype=int)
    out["pool"] = pool
    # A client's workload for the balance mean: its hours, or its least hours over its pairs.
    least = pd.Series(hours).groupby(pc).min() if len(pc) else pd.Series(dtype=float)
    first_person = pd.Series(pp).groupby(pc).first() if len(pc) else pd.Series(dtype=int)
    client_pool = pool[first_person.to_numpy()] if len(first_person) else np.zeros(0, dtype=int)
    capacity = out["capacity_hours"].to_numpy(dtype=float)
    pool_capacity = np.bincount(
        pool, weights=capacity, minlength=pool.max() + 1 if len(pool) else 0
    )
    pool_hours = np.bincount(client_pool, weights=least.to_numpy(), minlength=len(pool_capacity))
    share = np.divide(
        capacity, pool_capacity[pool], out=np.zeros_like(capacity), where=pool_capacity[pool] > 0
    )
    target = share * pool_hours[pool] if len(pool) else np.zeros(0)
    out["workload_target"] = target
    out["workload_low"] = 0.0
    out["workload_high"] = capacity
    if settings.balance is not None:
        high = np.minimum(capacity, (1 + settings.balance) * target)
        # A window narrower than the pool's biggest client may hold no whole set of clients;
        # it is widened downwards to one client's hours (docs/models.md).
        biggest = pd.Series(least.to_numpy()).groupby(client_pool).max()
        step = biggest.reindex(range(len(pool_capacity))).fillna(0.0).to_numpy()[pool]
        low = np.minimum((1 - settings.balance) * target, high - step)
        out["workload_low"] = np.maximum(0.0, low)
        out["workload_high"] = high
    potential = chosen["potential"].to_numpy(dtype=float)
    pool_potential = np.bincount(
        client_pool,
        weights=potential[first_person.index.to_numpy()] if len(first_person) else None,
        minlength=len(pool_capacity),
    )
    out["potential_target"] = share * pool_potential[pool] if len(pool) else np.zeros(0)
    out["potential_low"] = -np.inf
    out["potential_high"] = np.inf
    if settings.potential_balance is not None:
        out["potential_low"] = (1 - settings.potential_balance) * out["potential_target"]
        out["potential_high"] = (1 + settings.potential_balance) * out["potential_target"]
    caps = config.coverage.max_clients
    out["max_clients"] = [
        math.floor(caps[r] * f + 1e-9) if r in caps else np.inf
        for r, f in zip(out["role"], out["fte"], strict=False)
    ]
    return out


def _check_everyone_can_be_placed(chosen: pd.DataFrame, pc: np.ndarray) -> None:
    placed = np.zeros(len(chosen), dtype=bool)
    placed[pc] = True
    if placed.all():
        return
    stuck = chosen[~placed]
    cells = stuck.groupby(["role", "direction"]).size()
    described = "; ".join(f"{n} {role} clients in {d}" for (role, d), n in cells.items())
    raise TerritoryInputError(f"no one on the team or in the hiring plan can take: {described}")
