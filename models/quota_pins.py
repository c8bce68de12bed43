"""Analyst pins on quotas, the directions' share of the company quota, and what cannot fit.

A pin fixes one person's or one direction's annual quota. Pins come from scenario.yaml
(`quota.pins`) and from the caller (the CLI's `--pin ID=AMOUNT`, which wins for the same ID).
Before anything is optimised, every level is checked the way an analyst would on paper: pinned
directions against the company quota, and in each direction its pinned people plus the growth
floors (caps) of everyone else against the direction's quota. A set of pins that cannot hold is
reported as conflicts that name the pins and say by how much they miss, with the smallest
changes that would make them fit, instead of a bare "infeasible".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.quota_rounding import largest_remainder
from optim.problems import Problem
from optim.result import Relaxation
from optim.scenario import ScenarioError
from optim.schema import ScenarioConfig

SCENARIO_FILE = "scenario.yaml"
ARGUMENT = "--pin"  # where pins passed by the caller come from, in error messages


@dataclass(frozen=True)
class Pins:
    """Pinned annual quotas in cents, by person and by direction."""

    people: dict[str, int]
    directions: dict[str, int]


@dataclass(frozen=True)
class Conflict:
    """Something the pins (or the growth bounds) ask that cannot hold, and by how much."""

    level: str  # "company", "direction" or "person"
    node: str
    pins: tuple[str, ...]
    gap_cents: int  # how far apart the two sides are
    sentence: str
    relaxations: tuple[Relaxation, ...]


def money(cents: float) -> str:
    """An amount for a sentence: whole units when it is whole, else to the cent."""
    if float(cents).is_integer() and int(cents) % 100 == 0:
        return f"{cents / 100:,.0f}"
    return f"{cents / 100:,.2f}"


def growth_factor(rate: float | None) -> str:
    """`1 + 5%` or `1 - 10%`, for a sentence about a growth bound."""
    rate = rate or 0.0
    return f"1 + {rate:.0%}" if rate >= 0 else f"1 - {-rate:.0%}"


def headcount(count: int, *, other: bool = False) -> str:
    """`1 other person`, `3 people`."""
    word = "person" if count == 1 else "people"
    return f"{count} {'other ' if other else ''}{word}"


def to_cents(amount: float) -> int:
    return round(amount * 100)


def resolve_pins(
    config: ScenarioConfig,
    carriers: pd.Series,
    others: pd.Series,
    extra: Mapping[str, float] | None,
) -> Pins:
    """The scenario's pins with the caller's on top, each named as a direction or a carrier.

    `carriers` are the rep_ids that carry quota, `others` the people who do not (a pin on one
    of them is an input error that says so). Raises ScenarioError listing every bad pin.
    """
    merged: dict[str, tuple[float, str]] = {
        str(key): (amount, SCENARIO_FILE) for key, amount in config.quota.pins.items()
    }
    merged.update({str(key): (float(amount), ARGUMENT) for key, amount in (extra or {}).items()})
    carrier_ids = set(carriers.astype(str))
    other_ids = set(others.astype(str))
    problems = []
    people: dict[str, int] = {}
    directions: dict[str, int] = {}
    for key, (amount, source) in merged.items():
        column = f"quota.pins.{key}" if source == SCENARIO_FILE else key
        if not np.isfinite(amount) or amount < 0:
            problems.append(Problem(source, f"pin {key} must be an amount >= 0", column=column))
        elif key in config.directions and key in carrier_ids:
            problems.append(
                Problem(source, f"{key} is both a direction and a rep_id", column=column)
            )
        elif key in config.directions:
            directions[key] = to_cents(amount)
        elif key in carrier_ids:
            people[key] = to_cents(amount)
        elif key in other_ids:
            carried = ", ".join(config.quota.carriers)
            problems.append(
                Problem(
                    source,
                    f"{key} does not carry quota (quota.carriers: {carried})",
                    column=column,
                )
            )
        else:
            problems.append(
                Problem(source, f"{key} is neither a direction nor a rep_id", column=column)
            )
    if problems:
        raise ScenarioError(problems)
    return Pins(people, directions)


# ----- directions ---------------------------------------------------------------------------
def direction_quotas(
    config: ScenarioConfig, company_cents: int, pins: Pins
) -> tuple[dict[str, int], list[Conflict]]:
    """Each direction's annual quota in cents: its pin, or its plan share of what pins leave.

    Without pins the shares are the plan's (`plan.by_direction`, equal when absent); pinned
    directions keep their pin and the others share the rest in proportion to their plan shares.
    """
    pinned = {d: pins.directions[d] for d in config.directions if d in pins.directions}
    free = [d for d in config.directions if d not in pinned]
    left = company_cents - sum(pinned.values())
    shares = np.array([config.direction_share(d) for d in free], dtype=float)
    conflict = _company_conflict(config, company_cents, pinned, free, shares, left)
    if conflict is not None:
        return {}, [conflict]
    quotas = dict(pinned)
    if free:
        weights = shares / shares.sum() if shares.sum() > 0 else np.zeros(len(free))
        cents = largest_remainder(weights * left, left)
        quotas.update(zip(free, (int(c) for c in cents), strict=True))
    return {d: quotas[d] for d in config.directions}, []


def _company_conflict(
    config: ScenarioConfig,
    company_cents: int,
    pinned: dict[str, int],
    free: list[str],
    shares: np.ndarray,
    left: int,
) -> Conflict | None:
    if not pinned:
        return None
    names = _listing(pinned)
    hedge = config.plan.quota_hedge if config.plan is not None else 0.0
    if left < 0:
        over = -left
        relaxations = [
            Relaxation(
                f"quota.pins.{d}",
                cents / 100,
                max(0, cents - over) / 100,
                f"pin {d} at {money(max(0, cents - over))}"
                + ("" if cents >= over else f" (covers {money(cents)} of the {money(over)})"),
            )
            for d, cents in pinned.items()
        ]
        needed = sum(pinned.values()) / (1 + hedge) / 100
        relaxations.append(
            Relaxation(
                "plan.revenue_target",
                company_cents / (1 + hedge) / 100,
                needed,
                f"raise plan.revenue_target to {needed:,.0f} so that the pins fit",
            )
        )
        sentence = (
            f"direction pins {names} total {money(sum(pinned.values()))}, "
            f"{money(over)} above the company quota of {money(company_cents)}"
        )
        return Conflict("company", "company", tuple(pinned), over, sentence, tuple(relaxations))
    if left > 0 and (not free or shares.sum() == 0):
        why = (
            "every direction is pinned"
            if not free
            else f"the unpinned directions ({', '.join(free)}) have a plan share of 0"
        )
        short = [
            Relaxation(
                f"quota.pins.{d}",
                cents / 100,
                (cents + left) / 100,
                f"pin {d} at {money(cents + left)}",
            )
            for d, cents in pinned.items()
        ]
        sentence = (
            f"direction pins {names} total {money(sum(pinned.values()))}, {money(left)} short "
            f"of the company quota of {money(company_cents)}, and {why}"
        )
        return Conflict("company", "company", tuple(pinned), left, sentence, tuple(short))
    return None


def _listing(cents: Mapping[str, int]) -> str:
    return ", ".join(f"{key} = {money(value)}" for key, value in cents.items())


# ----- people -------------------------------------------------------------------------------
def people_conflicts(
    config: ScenarioConfig, people: pd.DataFrame, directions: Mapping[str, int], pins: Pins
) -> list[Conflict]:
    """Pins outside a person's own bounds, and directions whose pins and bounds cannot meet.

    `people` carries per person: rep_id, direction, floor_cents, cap_cents (inf when none),
    fixed (pinned, or no fair share at all) and value_cents (what a fixed person carries).
    """
    pinned = people[people["pinned"]]
    conflicts = [_person_conflict(config, row) for row in pinned.itertuples(index=False)]
    found = [c for c in conflicts if c is not None]
    fixed = people["fixed"]
    by_direction = people.groupby("direction", sort=False)
    fixed_total = people["value_cents"].where(fixed, 0.0).groupby(people["direction"]).sum()
    lowest = fixed_total + people["floor_cents"].where(~fixed, 0).groupby(people["direction"]).sum()
    highest = (
        fixed_total + people["cap_cents"].where(~fixed, 0.0).groupby(people["direction"]).sum()
    )
    for direction, quota in directions.items():
        if lowest.get(direction, 0.0) <= quota <= highest.get(direction, 0.0):
            continue  # the usual case, decided without building the direction's table
        crew = by_direction.get_group(direction) if direction in lowest else people.iloc[:0]
        conflict = _direction_conflict(config, direction, quota, crew, pins)
        if conflict is not None:
            found.append(conflict)
    return found


def _person_conflict(config: ScenarioConfig, row: Any) -> Conflict | None:
    pin = getattr(row, "pin_cents", np.nan)
    if np.isnan(pin):
        return None
    rep_id = str(row.rep_id)
    pin = int(pin)
    floor = int(row.floor_cents)
    cap = float(row.cap_cents)
    quota = config.quota
    if row.ramp_share == 0 and pin > 0:
        why = f"{rep_id} starts after month {config.months}, so carries no quota this plan"
        return _pin_conflict(rep_id, pin, 0, pin, why)
    if pin < floor:
        why = (
            f"{rep_id} is pinned at {money(pin)}, below the growth floor of {money(floor)} "
            f"(last year's {row.revenue_last_year:,.0f} x ({growth_factor(quota.growth_floor)})"
            f"{_ramped(row)})"
        )
        return _pin_conflict(rep_id, pin, floor, floor - pin, why)
    if pin > cap:
        why = (
            f"{rep_id} is pinned at {money(pin)}, above the growth cap of {money(cap)} "
            f"(last year's {row.revenue_last_year:,.0f} x ({growth_factor(quota.growth_cap)})"
            f"{_ramped(row)})"
        )
        return _pin_conflict(rep_id, pin, int(cap), pin - int(cap), why)
    return None


def _ramped(row: Any) -> str:
    share = float(row.ramp_share)
    return "" if share >= 1 else f" x {share:.0%} of the year at ramp-up"


def _pin_conflict(rep_id: str, pin: int, needed: int, gap: int, why: str) -> Conflict:
    relaxation = Relaxation(
        f"quota.pins.{rep_id}", pin / 100, needed / 100, f"pin {rep_id} at {money(needed)}"
    )
    return Conflict("person", rep_id, (rep_id,), gap, why, (relaxation,))


def _direction_conflict(
    config: ScenarioConfig,
    direction: str,
    quota: int,
    crew: pd.DataFrame,
    pins: Pins,
) -> Conflict | None:
    fixed = crew[crew["fixed"]]
    free = crew[~crew["fixed"]]
    fixed_total = int(fixed["value_cents"].sum())
    lowest = fixed_total + int(free["floor_cents"].sum())
    highest = fixed_total + float(free["cap_cents"].sum())
    pinned = {
        str(r): int(c) for r, c in zip(crew["rep_id"], crew["pin_cents"], strict=True) if c == c
    }
    if lowest <= quota <= highest:
        return None
    over = lowest > quota
    gap = lowest - quota if over else int(quota - highest)
    named = (direction,) * (direction in pins.directions) + tuple(pinned)
    relaxations = [_pin_relaxation(r, c, gap, over, crew) for r, c in pinned.items()]
    relaxations = [r for r in relaxations if r.needed != r.current]  # a pin at its bound
    target = quota + gap if over else quota - gap
    others = "taking the difference from" if over else "leaving the rest to"
    relaxations.append(
        Relaxation(
            f"quota.pins.{direction}",
            quota / 100,
            target / 100,
            f"pin {direction} at {money(target)}, {others} the other directions",
        )
    )
    bound = _bound_relaxation(config, free, quota - fixed_total, over)
    if bound is not None:
        relaxations.append(bound)
    others = crew[crew["pin_cents"].isna()]
    sentence = _direction_sentence(direction, quota, pinned, others, free, gap, over, pins)
    return Conflict("direction", direction, named, gap, sentence, tuple(relaxations))


def _pin_relaxation(rep_id: str, pin: int, gap: int, over: bool, crew: pd.DataFrame) -> Relaxation:
    row = crew[crew["rep_id"] == rep_id].iloc[0]
    limit = int(row["floor_cents"]) if over else float(row["cap_cents"])
    wanted = pin - gap if over else pin + gap
    needed = max(wanted, limit) if over else min(wanted, limit)
    enough = needed == wanted
    sentence = f"pin {rep_id} at {money(needed)}" + (
        "" if enough else f" (its growth {'floor' if over else 'cap'}; not enough alone)"
    )
    return Relaxation(f"quota.pins.{rep_id}", pin / 100, needed / 100, sentence)


def _bound_relaxation(
    config: ScenarioConfig, free: pd.DataFrame, left: int, over: bool
) -> Relaxation | None:
    """The growth floor (cap) at which the free people's bounds would meet what is left."""
    bounded = free[free["revenue_last_year"] > 0]
    if over:
        current = config.quota.growth_floor
        if current is None or left < 0 or (free["floor_cents"] > 0).sum() == 0:
            return None
    else:
        current = config.quota.growth_cap
        if current is None or len(bounded) < len(free) or bounded.empty:
            return None
    basis = float((bounded["revenue_last_year"] * bounded["ramp_share"]).sum()) * 100
    if basis <= 0:
        return None
    needed = left / basis - 1
    key = "growth_floor" if over else "growth_cap"
    return Relaxation(
        f"quota.{key}", current, needed, f"set quota.{key} to {needed:.1%} (now {current:.0%})"
    )


def _direction_sentence(
    direction: str,
    quota: int,
    pinned: dict[str, int],
    others: pd.DataFrame,
    free: pd.DataFrame,
    gap: int,
    over: bool,
    pins: Pins,
) -> str:
    pinned_total = sum(pinned.values())
    if over:
        floors = quota + gap - pinned_total
        parts = [f"pins {_listing(pinned)}"] if pinned else []
        if floors:
            people = headcount(len(others), other=bool(pinned))
            parts.append(f"the growth floors of its {people} ({money(floors)})")
        sentence = (
            f"{direction}: {' plus '.join(parts)} come to {money(quota + gap)}, "
            f"{money(gap)} above its quota of {money(quota)}"
        )
    else:
        left = quota - pinned_total
        start = f"{direction}: its quota of {money(quota)}"
        if pinned:
            start += f" less the pins {_listing(pinned)} leaves {money(left)}"
        if free.empty and pinned:
            sentence = f"{start}, which nobody else in {direction} can carry"
        elif free.empty:
            sentence = f"{start} has nobody who can carry it"
        else:
            caps = money(float(free["cap_cents"].sum()))
            if pinned:
                rest = (
                    f" for its {headcount(len(free), other=True)}, whose growth caps allow {caps}"
                )
            else:
                rest = f" is more than the growth caps of its {headcount(len(free))} allow ({caps})"
            sentence = f"{start}{rest}: {money(gap)} short"
    if direction not in pins.directions and pins.directions:
        sentence += (
            f" (its quota is what the direction pins {_listing(pins.directions)} leave, "
            "shared by plan share)"
        )
    return sentence
