"""Fairness in stretch: the linear model and the split it stands for.

Inside each direction the quota model minimises the largest deviation of any free person's
stretch (quota / fair quota) from a common stretch, within the growth floors and caps, with the
free people adding up to what pinned and fixed people leave (`build_fairness`). Among the splits
that reach that optimum, `fair_split` returns the canonical one, in which everyone whom no bound
holds carries the same stretch (water-filling), checked against the LP's optimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from models.quota_rounding import largest_remainder
from optim.solver import ConstraintGroup, LinearModel, Solution

# The fair split is checked against the LP's optimum to this many stretch units (1e-6 of a
# fair share), far below a cent on any quota the model is meant for.
STRETCH_TOLERANCE = 1e-6


@dataclass
class FairnessModel:
    """The LP and the handles to read it: each direction's largest stretch deviation."""

    model: LinearModel
    deviation: dict[str, pulp.LpVariable]
    stretch: dict[str, pulp.LpVariable]


def build_fairness(frame: pd.DataFrame, directions: Mapping[str, int]) -> FairnessModel:
    """Minimise, in each direction, the largest deviation of a free person's stretch from a
    common stretch, with quotas adding up to what fixed people leave and within the bounds."""
    model = LinearModel("quota", sense="min")
    model.group(
        ConstraintGroup("direction_total", "the quotas of {direction}'s people add up to its quota")
    )
    model.group(
        ConstraintGroup(
            "growth_floor",
            "{rep_id}'s quota is at least last year's revenue x (1 + quota.growth_floor)",
            marginal="one point less growth floor for {rep_id} would narrow {direction}'s "
            "stretch deviation by {value}",
            unit="point of growth",
            per_unit=lambda labels: labels["per_point"],
        )
    )
    model.group(
        ConstraintGroup(
            "growth_cap",
            "{rep_id}'s quota is at most last year's revenue x (1 + quota.growth_cap)",
            marginal="one point more growth cap for {rep_id} would narrow {direction}'s "
            "stretch deviation by {value}",
            unit="point of growth",
            per_unit=lambda labels: labels["per_point"],
        )
    )
    model.group(
        ConstraintGroup(
            "stretch_band",
            "{rep_id}'s stretch is within {direction}'s largest deviation of its common stretch",
        )
    )
    deviation: dict[str, pulp.LpVariable] = {}
    stretch: dict[str, pulp.LpVariable] = {}
    free = frame[~frame["fixed"]]
    fixed = frame["value_cents"].where(frame["fixed"], 0.0).groupby(frame["direction"]).sum()
    for direction, crew in free.groupby("direction", sort=False):
        quota = float(directions[str(direction)])
        left = quota - float(fixed[direction])
        common = model.var("common_stretch", lb=None)
        deviation[str(direction)] = spread = model.var("deviation")
        terms = []
        for person in crew.itertuples(index=False):
            x = stretch[person.rep_id] = model.var("stretch")
            fair = float(person.fair_cents)
            terms.append(fair / quota * x)
            labels = {
                "rep_id": person.rep_id,
                "direction": direction,
                "per_point": person.revenue_last_year * person.ramp_share / fair,
            }
            if person.floor_cents > 0:
                model.add("growth_floor", labels, x >= person.floor_cents / fair)
            if np.isfinite(person.cap_cents):
                model.add("growth_cap", labels, x <= person.cap_cents / fair)
            model.add("stretch_band", labels, x - common <= spread)
            model.add("stretch_band", labels, common - x <= spread)
        model.add("direction_total", {"direction": direction}, pulp.lpSum(terms) == left / quota)
    model.set_objective(pulp.lpSum(deviation.values()))
    return FairnessModel(model, deviation, stretch)


def water_fill(
    fair: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float
) -> tuple[np.ndarray, float]:
    """clip(level x fair, lower, upper) at the level where the values add up to total.

    Everyone whom no bound holds carries the same stretch, `level`; among all the splits that
    reach the least largest deviation, this is the one in which the next largest deviations
    are as small as they can be in turn. Returns the values and the level.
    """

    def filled(level: float) -> float:
        return float(np.clip(level * fair, lower, upper).sum())

    capped = np.isfinite(upper)
    points = np.unique(np.concatenate([lower / fair, upper[capped] / fair[capped]]))
    if filled(points[0]) >= total:
        level = float(points[0])
    else:
        low, high = 0, len(points) - 1
        while low < high:  # the last breakpoint at which the values are at most the total
            middle = (low + high + 1) // 2
            if filled(points[middle]) <= total:
                low = middle
            else:
                high = middle - 1
        start = float(points[low])
        if filled(start) >= total:
            level = start
        elif low + 1 < len(points):  # between two breakpoints the sum is linear in the level
            end = float(points[low + 1])
            rise = filled(end) - filled(start)
            level = start + (total - filled(start)) * (end - start) / rise if rise > 0 else start
        else:  # past the last one only the uncapped people still move
            level = start + (total - filled(start)) / float(fair[~capped].sum())
    return np.clip(level * fair, lower, upper), level


def fair_split(
    frame: pd.DataFrame, directions: Mapping[str, int]
) -> tuple[np.ndarray, dict[str, float]]:
    """Annual quota in cents per person (fixed people their value, the rest water-filled) and
    the common stretch of each direction's free people."""
    cents = np.zeros(len(frame), dtype=np.int64)
    fixed = frame["fixed"].to_numpy()
    cents[fixed] = frame.loc[fixed, "value_cents"].to_numpy(dtype=np.int64)
    levels: dict[str, float] = {}
    for direction, rows in frame.groupby("direction", sort=False).indices.items():
        free = rows[~fixed[rows]]
        if not len(free):
            continue
        left = directions[str(direction)] - int(cents[rows[fixed[rows]]].sum())
        part = frame.iloc[free]
        lower = part["floor_cents"].to_numpy(dtype=float)
        upper = part["cap_cents"].to_numpy(dtype=float)
        fair = part["fair_cents"].to_numpy(dtype=float)
        real, levels[str(direction)] = water_fill(fair, lower, upper, float(left))
        cents[free] = largest_remainder(real, left, lower=lower, upper=upper)
    return cents, levels


def check_against_lp(
    frame: pd.DataFrame, cents: np.ndarray, fairness: FairnessModel, solution: Solution
) -> dict[str, float]:
    """The fair split's largest deviation per direction; raise if it is worse than the LP's."""
    found = {}
    free = ~frame["fixed"].to_numpy()
    fair = frame["fair_cents"].to_numpy()
    rows = frame.groupby("direction", sort=False).indices
    for direction, variable in fairness.deviation.items():
        mine = rows[direction][free[rows[direction]]]
        stretch = cents[mine] / fair[mine]
        half_spread = float((stretch.max() - stretch.min()) / 2)
        optimum = solution.value(variable)
        rounding = 1.0 / float(fair[mine].min())  # a cent of rounding, in stretch
        if half_spread > optimum + STRETCH_TOLERANCE + rounding:
            raise ArithmeticError(
                f"quota: the fair split of {direction} deviates by {half_spread:.6f}, more than "
                f"the linear model's optimum {optimum:.6f}"
            )
        found[direction] = optimum
    return found
