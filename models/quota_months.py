"""Months of the quota cascade: the company, each direction and each person, to the cent.

The company's months follow the plan's seasonality; the directions x months table is fitted to
both the directions' annual quotas and the company's months. Inside a direction, each person's
months follow seasonality x their ramp productivity (nothing before their start month), fitted
so that the people of the direction add up to the direction's months as well. When the people
in post in some months cannot carry those months (a direction staffed only by people who start
later), people's own phasing wins: nobody carries quota before starting, and that direction's
months (and the company's) become the sum of its people's, away from seasonality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.quota_rounding import largest_remainder, phase


@dataclass(frozen=True)
class Months:
    """Quotas by month in cents."""

    company: np.ndarray  # months
    directions: np.ndarray  # directions (in scenario order) x months
    people: np.ndarray  # people x months
    seasonal: dict[str, bool]  # direction -> its months are annual x seasonality (to a cent)


def phase_months(
    seasonality: np.ndarray,
    phasing: np.ndarray,
    person_direction: Sequence[str],
    annual_cents: np.ndarray,
    directions: Mapping[str, int],
) -> Months:
    """Split annual quotas into months keeping every sum; see the module's docstring."""
    names = list(directions)
    direction_cents = np.array([directions[d] for d in names], dtype=np.int64)
    company_cents = int(direction_cents.sum())
    company = largest_remainder(company_cents * seasonality, company_cents)
    seed = direction_cents[:, None] * seasonality[None, :]
    table, _ = phase(seed, direction_cents, company)
    people = np.zeros(phasing.shape, dtype=np.int64)
    seasonal: dict[str, bool] = {}
    where = np.asarray(person_direction)
    for index, direction in enumerate(names):
        rows = np.flatnonzero(where == direction)
        if not annual_cents[rows].any():
            seasonal[direction] = not table[index].any()
            continue
        in_post = phasing[rows].sum(axis=1)
        shape = phasing[rows] / np.where(in_post > 0, in_post, 1.0)[:, None]
        part, both = phase(annual_cents[rows, None] * shape, annual_cents[rows], table[index])
        people[rows] = part
        if not both:
            table[index] = part.sum(axis=0)
        seasonal[direction] = both
    if not all(seasonal.values()):  # a direction's people set its months: the company follows
        company = table.sum(axis=0)
    return Months(company=company, directions=table, people=people, seasonal=seasonal)
