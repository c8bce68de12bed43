"""The identities of the quota cascade, each checked in whole cents (`quota_checks`).

One row per identity and node: the company and its directions, each direction and its people,
each person and their months, each direction's months and its people, the company's months and
the directions, nothing before a start month, the unhedged layer, pins and growth bounds. The
list and its meaning are in docs/models.md (Quota, Identities).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from models.quota import QuotaInputs
    from models.quota_tables import Split


def check_table(inputs: QuotaInputs, split: Split) -> pd.DataFrame:
    """Every identity of the cascade, computed in whole cents: expected, actual, difference."""
    frame = split.frame
    months = split.months
    names = list(split.directions)
    direction_cents = np.array([split.directions[d] for d in names], dtype=np.int64)
    index = {d: i for i, d in enumerate(names)}
    position = frame["direction"].map(index).to_numpy(dtype=int)
    checks: list[tuple[str, str, Any, np.ndarray, np.ndarray]] = []
    month_numbers = np.arange(1, inputs.config.months + 1)

    def add(check: str, nodes: Any, month: Any, expected: Any, actual: Any) -> None:
        checks.append((check, nodes, month, np.atleast_1d(expected), np.atleast_1d(actual)))

    add("company = sum of directions", "company", None, inputs.company_cents, direction_cents.sum())
    sums = np.bincount(position, weights=split.annual_cents, minlength=len(names)).astype(np.int64)
    add("direction = sum of its people", names, None, direction_cents, sums)
    ids = frame["rep_id"].to_numpy()
    add("person = sum of their months", ids, None, split.annual_cents, months.people.sum(axis=1))
    by_month = np.zeros((len(names), len(month_numbers)), dtype=np.int64)
    np.add.at(by_month, position, months.people)
    repeat = np.repeat(names, len(month_numbers))
    tiled = np.tile(month_numbers, len(names))
    add(
        "direction month = sum of its people",
        repeat,
        tiled,
        months.directions.ravel(),
        by_month.ravel(),
    )
    add(
        "company month = sum of directions",
        "company",
        month_numbers,
        months.company,
        months.directions.sum(axis=0),
    )
    add(
        "direction = sum of its months", names, None, direction_cents, months.directions.sum(axis=1)
    )
    add("company = sum of its months", "company", None, inputs.company_cents, months.company.sum())
    before = (
        np.arange(1, inputs.config.months + 1)[None, :] < frame["start_month"].to_numpy()[:, None]
    )
    add(
        "nothing before the start month",
        ids,
        None,
        np.zeros(len(ids)),
        (months.people * before).sum(axis=1),
    )
    add(
        "no negative month", ids, None, np.zeros(len(ids)), np.minimum(months.people, 0).sum(axis=1)
    )
    unhedged = np.array([split.unhedged_directions[d] for d in names], dtype=np.int64)
    add(
        "unhedged company = sum of directions",
        "company",
        None,
        inputs.unhedged_cents,
        unhedged.sum(),
    )
    unhedged_sums = np.bincount(
        position, weights=split.unhedged_people, minlength=len(names)
    ).astype(np.int64)
    add("unhedged direction = sum of its people", names, None, unhedged, unhedged_sums)
    pinned = frame["pinned"].to_numpy()
    add(
        "pinned person holds the pin",
        ids[pinned],
        None,
        frame.loc[pinned, "pin_cents"].to_numpy(),
        split.annual_cents[pinned],
    )
    pinned_directions = [d for d in names if d in inputs.pins.directions]
    add(
        "pinned direction holds the pin",
        pinned_directions,
        None,
        np.array([inputs.pins.directions[d] for d in pinned_directions]),
        np.array([split.directions[d] for d in pinned_directions]),
    )
    bounded = np.clip(
        split.annual_cents, frame["floor_cents"].to_numpy(), frame["cap_cents"].to_numpy()
    )
    add("within growth floor and cap", ids, None, bounded, split.annual_cents)
    return _check_frame(checks)


def _check_frame(checks: list[tuple[str, Any, Any, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    parts = []
    for check, nodes, month, expected, actual in checks:
        count = max(len(expected), len(actual))
        if count == 0 or (len(expected) == 0 and len(actual) == 0):
            continue
        part = pd.DataFrame(
            {
                "check": check,
                "node": np.broadcast_to(np.asarray(nodes, dtype=object), count),
                "month": pd.array(
                    np.broadcast_to(month, count) if month is not None else [None] * count,
                    dtype="Int64",
                ),
                "expected": expected.astype(float) / 100,
                "actual": actual.astype(float) / 100,
            }
        )
        part["difference"] = (actual.astype(np.int64) - np.round(expected).astype(np.int64)) / 100
        part["ok"] = part["difference"] == 0
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
