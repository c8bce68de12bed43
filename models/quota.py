"""Quota: the plan's target cascaded to directions, to each person and to months, fair in stretch.

The company quota is the revenue target plus the hedge. Directions get their plan share (or
their pin); inside a direction every quota carrier gets a fair share of it from the potential
of their territory and their capacity, scaled by the part of the year they work at full pace
(new hires from their start month, through their role's ramp). Bounds against last year's
revenue of the territory (`quota.growth_floor`, `quota.growth_cap`) and analyst pins then move
quotas away from the fair share; a linear model keeps everyone's stretch (quota over fair
share) as even as the bounds allow. Everything is rounded to the cent so that every level adds
up exactly: the maths and the identities are in docs/models.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.quota_fairness import build_fairness, check_against_lp, fair_split
from models.quota_months import phase_months
from models.quota_pins import (
    Pins,
    direction_quotas,
    people_conflicts,
    resolve_pins,
    to_cents,
)
from models.quota_rounding import largest_remainder
from models.quota_tables import Split, infeasible_result, solved_result
from optim.result import ModelResult
from optim.roles import ramp_share
from optim.scenario_tables import DIRECTION_SEPARATOR
from optim.schema import MissingSectionError, ScenarioConfig
from optim.solver import (
    SolveOptions,
    marginal_values,
    solve,
)

PEOPLE_COLUMNS = (
    "rep_id", "name", "role", "direction", "fte", "start_month", "potential",
    "revenue_last_year", "capacity_hours",
)  # fmt: skip


@dataclass(frozen=True)
class QuotaInputs:
    """The people, the months and the pins, prepared once from the scenario."""

    config: ScenarioConfig
    people: pd.DataFrame  # one row per carrier, in direction then rep_id order
    seasonality: np.ndarray  # months
    phasing: np.ndarray  # people x months: seasonality x ramp productivity, 0 before start
    company_cents: int
    unhedged_cents: int
    pins: Pins


# ----- the people frame from today's owners ---------------------------------------------------
def people_from_owners(
    config: ScenarioConfig, clients: pd.DataFrame, team: pd.DataFrame
) -> pd.DataFrame:
    """The quota carriers of today's team with the territories they own in clients.csv.

    One row per person whose role carries quota: their direction (for someone listed with no
    direction or several, the direction where most of their clients' potential lies), the
    potential and last year's revenue of the clients they own, and their hours in a full year
    at their fte. Open positions (an empty name) start once their role's lead time has passed.
    """
    carriers = team[team["role"].isin(config.quota.carriers)].reset_index(drop=True)
    if "owner" in clients:
        owner = clients["owner"].fillna("").astype(str)
    else:  # the column is optional: nobody owns anything yet
        owner = pd.Series("", index=clients.index)
    owned = clients[owner != ""].assign(owner=owner[owner != ""])
    totals = owned.groupby("owner")[["potential", "revenue_last_year"]].sum()
    by_direction = owned.groupby(["owner", "direction"])["potential"].sum()
    rows = []
    for person in carriers.itertuples(index=False):
        role = config.require_role(str(person.role), why="its people carry quota")
        rep_id = str(person.rep_id)
        name = _text(getattr(person, "name", ""))
        fte = float(getattr(person, "fte", 1.0))
        fte = 1.0 if np.isnan(fte) else fte  # team.csv: fte defaults to 1
        opening = not name.strip()
        rows.append(
            {
                "rep_id": rep_id,
                "name": name,
                "role": str(person.role),
                "direction": _home_direction(config, _text(person.direction), rep_id, by_direction),
                "fte": fte,
                "start_month": 1 + role.hire_lead_months if opening else 1,
                "potential": float(totals["potential"].get(rep_id, 0.0)),
                "revenue_last_year": float(totals["revenue_last_year"].get(rep_id, 0.0)),
                "capacity_hours": (role.hours_per_month or 0.0) * config.months * fte,
            }
        )
    return pd.DataFrame(rows, columns=list(PEOPLE_COLUMNS))


def _text(value: object) -> str:
    """A cell as text, empty when missing (NaN or None)."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _home_direction(
    config: ScenarioConfig, listed: str, rep_id: str, by_direction: pd.Series
) -> str:
    named = [d for d in listed.split(DIRECTION_SEPARATOR) if d]
    if len(named) == 1:
        return named[0]
    candidates = named or list(config.directions)
    if rep_id in by_direction.index.get_level_values(0):
        potential = by_direction.loc[rep_id]
        best = max(candidates, key=lambda d: float(potential.get(d, 0.0)))  # first on ties
        return best
    return candidates[0]


# ----- preparing ------------------------------------------------------------------------------
def prepare(
    config: ScenarioConfig, people: pd.DataFrame, *, pins: Mapping[str, float] | None = None
) -> QuotaInputs:
    """Check and order the people, phase the year, resolve the pins."""
    if config.plan is None:
        raise MissingSectionError("plan", "the quota model cascades the plan's revenue target")
    missing = [c for c in PEOPLE_COLUMNS if c not in people.columns and c not in ("name", "fte")]
    if missing:
        raise ValueError(f"the people frame lacks column(s) {', '.join(missing)}")
    is_carrier = people["role"].isin(config.quota.carriers)
    frame = people[is_carrier].copy()
    frame["name"] = frame["name"].fillna("") if "name" in frame else ""
    frame["fte"] = frame["fte"].astype(float) if "fte" in frame else 1.0
    for column in ("rep_id", "name", "role", "direction"):
        frame[column] = frame[column].astype(str)
    for column in ("potential", "revenue_last_year", "capacity_hours", "start_month"):
        frame[column] = frame[column].astype(float)
    _check_people(config, frame)
    frame["start_month"] = frame["start_month"].astype(np.int64)
    if "new_hire" not in frame:
        frame["new_hire"] = frame["start_month"] > 1
    frame["new_hire"] = frame["new_hire"].astype(bool)
    order = {d: i for i, d in enumerate(config.directions)}
    frame = (
        frame.assign(_order=frame["direction"].map(order))
        .sort_values(["_order", "rep_id"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    plan = config.plan
    months = config.months
    # The schema lets seasonality add up to 1 within 1e-6; exact shares keep the cents exact.
    weights = np.asarray(plan.seasonality if plan.seasonality is not None else [1.0] * months)
    seasonality = weights / weights.sum()
    phasing = seasonality[None, :] * _productivity(config, frame)
    frame["ramp_share"] = phasing.sum(axis=1)
    target = plan.revenue_target
    return QuotaInputs(
        config=config,
        people=frame,
        seasonality=seasonality,
        phasing=phasing,
        company_cents=to_cents(target * (1 + plan.quota_hedge)),
        unhedged_cents=to_cents(target),
        pins=resolve_pins(config, frame["rep_id"], people.loc[~is_carrier, "rep_id"], pins),
    )


def _check_people(config: ScenarioConfig, frame: pd.DataFrame) -> None:
    """The frame is code's input (the territory model's or a notebook's): raise, don't guess."""
    duplicated = frame["rep_id"][frame["rep_id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"rep_id {duplicated.iloc[0]} appears twice in the people frame")
    unknown = set(frame["direction"]) - set(config.directions)
    if unknown:
        raise ValueError(f"people in unknown direction(s): {', '.join(map(str, sorted(unknown)))}")
    for column in ("potential", "revenue_last_year", "capacity_hours"):
        values = frame[column].astype(float)
        if not (np.isfinite(values) & (values >= 0)).all():
            raise ValueError(f"{column} must be a finite number >= 0 for every person")
    start = frame["start_month"]
    if not ((start % 1 == 0) & (start >= 1)).all():
        raise ValueError("start_month must be a whole month >= 1 for every person")


def _productivity(config: ScenarioConfig, frame: pd.DataFrame) -> np.ndarray:
    """People x months: the share of a full month's work, 0 before the start month.

    New hires (`new_hire`, by default everyone starting after month 1) ramp up by their role's
    `ramp` from their start month; people on the team today work at full pace.
    """
    months = config.months
    since = np.arange(1, months + 1)[None, :] - frame["start_month"].to_numpy(dtype=int)[:, None]
    productivity = np.where(since < 0, 0.0, 1.0)
    hires = frame["new_hire"].to_numpy(dtype=bool)
    for role_key, rows in frame[hires].groupby("role").indices.items():
        rows = np.flatnonzero(hires)[rows]
        role = config.require_role(str(role_key), why="its new hires carry quota and ramp up")
        by_month = np.array([ramp_share(role, k) for k in range(months)])
        steps = since[rows]
        productivity[rows] = np.where(steps < 0, 0.0, by_month[np.clip(steps, 0, months - 1)])
    return productivity


def fair_shares(inputs: QuotaInputs, directions: Mapping[str, int]) -> pd.DataFrame:
    """Each person's share of potential and capacity, fair share, fair quota and bounds.

    fair share = ramp share x (w x potential share + (1 - w) x capacity share), normalised over
    the direction (w = quota.potential_weight); a direction where that is zero for everyone
    shares by time in post alone.
    """
    settings = inputs.config.quota
    frame = inputs.people.copy()
    by_direction = frame.groupby("direction", sort=False)
    frame["potential_share"] = _share(frame["potential"], by_direction["potential"])
    frame["capacity_share"] = _share(frame["capacity_hours"], by_direction["capacity_hours"])
    blend = settings.potential_weight * frame["potential_share"]
    blend += (1 - settings.potential_weight) * frame["capacity_share"]
    weight = frame["ramp_share"] * blend
    total = weight.groupby(frame["direction"]).transform("sum")
    weight = weight.where(total > 0, frame["ramp_share"])
    frame["fair_share"] = _share(weight, weight.groupby(frame["direction"]))
    frame["fair_cents"] = frame["fair_share"] * frame["direction"].map(directions).astype(float)
    basis = frame["revenue_last_year"] * frame["ramp_share"] * 100
    has_basis = frame["revenue_last_year"] > 0
    floor, cap = settings.growth_floor, settings.growth_cap
    frame["floor_cents"] = (
        np.where(has_basis, np.round(basis * (1 + floor)), 0.0) if floor is not None else 0.0
    )
    frame["floor_cents"] = frame["floor_cents"].clip(lower=0).astype(np.int64)
    cap_cents = (
        np.where(has_basis, np.round(basis * (1 + cap)), np.inf) if cap is not None else np.inf
    )
    frame["cap_cents"] = np.where(frame["ramp_share"] > 0, cap_cents, 0.0)
    pins = inputs.pins.people
    frame["pin_cents"] = frame["rep_id"].map(pins).astype(float)
    frame["pinned"] = frame["pin_cents"].notna()
    # Fixed: pinned, or no fair share at all (their quota is their floor: nothing else asks more).
    frame["fixed"] = frame["pinned"] | (frame["fair_cents"] <= 0)
    frame["value_cents"] = np.where(frame["pinned"], frame["pin_cents"], frame["floor_cents"])
    frame.loc[~frame["fixed"], "value_cents"] = np.nan
    return frame


def _share(values: pd.Series, grouped: object) -> pd.Series:
    total = grouped.transform("sum")  # type: ignore[attr-defined]
    return (values / total.where(total > 0, 1.0)).where(total > 0, 0.0).astype(float)


def unhedged_layer(
    inputs: QuotaInputs,
    people: pd.DataFrame,
    annual_cents: np.ndarray,
    directions: Mapping[str, int],
) -> tuple[dict[str, int], np.ndarray]:
    """The same cascade without the hedge: the target split like the quotas, to the cent."""
    names = list(directions)
    hedged = np.array([directions[d] for d in names], dtype=float)
    company = inputs.company_cents
    ratio = inputs.unhedged_cents / company if company else 0.0
    cents = largest_remainder(hedged * ratio, inputs.unhedged_cents)
    by_direction = {d: int(c) for d, c in zip(names, cents, strict=True)}
    by_person = np.zeros(len(people), dtype=np.int64)
    for direction, rows in people.groupby("direction", sort=False).indices.items():
        quota = directions[str(direction)]
        share = annual_cents[rows] / quota if quota else np.zeros(len(rows))
        base = by_direction[str(direction)]
        by_person[rows] = largest_remainder(share * base, base)
    return by_direction, by_person


# ----- solving --------------------------------------------------------------------------------
def solve_quota(
    config: ScenarioConfig,
    people: pd.DataFrame,
    *,
    options: SolveOptions,
    pins: Mapping[str, float] | None = None,
) -> ModelResult:
    """Cascade the plan's revenue target x (1 + hedge) to directions, people and months.

    `people` has one row per person (see `people_from_owners`); rows whose role does not carry
    quota (`quota.carriers`) are left out. `pins` ({rep_id or direction: annual quota}) come on
    top of the scenario's `quota.pins`. Pins that cannot all hold give an infeasible result
    whose explanation names them and says by how much they miss.
    """
    started = time.perf_counter()
    inputs = prepare(config, people, pins=pins)
    directions, conflicts = direction_quotas(config, inputs.company_cents, inputs.pins)
    frame = fair_shares(inputs, directions) if not conflicts else inputs.people
    if not conflicts:
        conflicts = people_conflicts(config, frame, directions, inputs.pins)
    if conflicts:
        return infeasible_result(inputs, conflicts, options, time.perf_counter() - started)
    fairness = build_fairness(frame, directions)
    solution = solve(fairness.model, options)
    if not solution.status.has_solution:
        return infeasible_result(
            inputs, [], options, time.perf_counter() - started, solution=solution
        )
    cents, levels = fair_split(frame, directions)
    deviations = check_against_lp(frame, cents, fairness, solution)
    months = phase_months(
        inputs.seasonality, inputs.phasing, list(frame["direction"]), cents, directions
    )
    binding = marginal_values(
        fairness.model,
        solution,
        options,
        groups=["growth_floor", "growth_cap"],
        fmt=lambda v: f"{v * 100:.2f} points of stretch",
    )
    split = Split(
        frame,
        cents,
        directions,
        levels,
        deviations,
        months,
        *unhedged_layer(inputs, frame, cents, directions),
    )
    return solved_result(
        inputs, split, solution, binding, fairness.model.size(), time.perf_counter() - started
    )
