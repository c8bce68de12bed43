"""Rounding quotas to the cent without breaking a single sum.

The quota cascade works in integer cents. A split of a parent among its children is rounded by
largest remainder (`largest_remainder`), which keeps the children's sum equal to the parent and
every child within its bounds. A table with two margins (people x months of a direction, or
directions x months of the company) is first fitted to both margins by iterative proportional
fitting (`fit_margins`, the matrix-balancing analysts know as IPF or RAS: every row and column
is scaled in turn, so the table keeps its shape and its zeros) and then rounded by a small
integer flow (`round_to_margins`) that lands both margins to the cent. `phase` chains the two
and says when the margins cannot both hold.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

# IPF stops when every margin is within this many cents, or after this many sweeps; the
# integer flow then lands the margins exactly, so these only decide how close the fit is.
FIT_TOLERANCE_CENTS = 1e-3
FIT_SWEEPS = 500
# Flow costs: rounding a cell up costs 1 to FRACTION_SCALE (less for a larger fraction);
# moving a cent beyond its cell's floor or ceiling costs OFF_GRID, so it is a last resort.
FRACTION_SCALE = 1000
OFF_GRID = 100 * FRACTION_SCALE


class RoundingError(ArithmeticError):
    """The values cannot be rounded to the requested total within their bounds (a bug)."""


def largest_remainder(
    values: np.ndarray,
    total: int,
    *,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """Whole cents summing exactly to `total`, each the floor or ceiling of its value.

    Values are first clipped to their bounds; the cents still missing (or over) go to the
    values with the largest (smallest) fractional parts, ties to the earlier value, so the
    result is deterministic. Bounds must be whole cents.
    """
    real = np.asarray(values, dtype=float)
    low = np.zeros_like(real) if lower is None else np.asarray(lower, dtype=float)
    high = np.full_like(real, np.inf) if upper is None else np.asarray(upper, dtype=float)
    real = np.clip(real, low, high)
    base = np.floor(real)
    fraction = real - base
    missing = int(total - base.sum())
    order = np.arange(len(real))
    if missing >= 0:
        open_ = np.flatnonzero(base < high)
        chosen = open_[np.lexsort((order[open_], -fraction[open_]))][:missing]
        step = 1.0
    else:
        open_ = np.flatnonzero(base > low)
        chosen = open_[np.lexsort((order[open_], fraction[open_]))][:-missing]
        step = -1.0
    if len(chosen) < abs(missing):
        raise RoundingError(f"cannot round {real.sum():,.2f} cents to {total:,} within bounds")
    base[chosen] += step
    return base.astype(np.int64)


def round_rows(matrix: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Each row rounded by largest remainder to its total; zero cells stay zero."""
    base = np.floor(matrix)
    fraction = np.where(matrix > 0, matrix - base, -1.0)  # -1: never rounded up
    missing = (np.asarray(totals) - base.sum(axis=1)).astype(np.int64)
    if (missing < 0).any():
        raise RoundingError("a row's cells add up to more than its total")
    rank = np.argsort(np.argsort(-fraction, axis=1, kind="stable"), axis=1, kind="stable")
    up = rank < missing[:, None]
    if (up & (matrix <= 0)).any():
        raise RoundingError("a row's total needs cents in months where it has no share")
    return (base + up).astype(np.int64)


def fit_margins(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The seed scaled row by row and column by column until both margins (nearly) hold.

    Cells that are zero in the seed stay zero. When no table with the seed's zeros has these
    margins, the sweeps stop at the limit and the result meets the rows only.
    """
    table = np.asarray(seed, dtype=float).copy()
    rows = np.asarray(rows, dtype=float)
    cols = np.asarray(cols, dtype=float)
    for _ in range(FIT_SWEEPS):
        table *= _factors(table.sum(axis=0), cols)[None, :]
        table *= _factors(table.sum(axis=1), rows)[:, None]
        column_error = np.abs(table.sum(axis=0) - cols).max(initial=0.0)
        if column_error < FIT_TOLERANCE_CENTS:
            break
    return table


def _factors(current: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    safe = np.where(current > 0, current, 1.0)
    return np.where(current > 0, wanted / safe, 1.0)


def round_to_margins(
    table: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, allowed: np.ndarray
) -> np.ndarray | None:
    """Whole cents with exactly these row and column sums, as close to `table` as possible.

    A min-cost flow from rows to columns: every cell starts at its floor; a cent more costs
    less the larger the cell's fraction; going beyond the floor or ceiling is allowed at a high
    price (needed only when `table` does not meet the margins). Cells outside `allowed` stay
    zero. None when no such table exists (the margins conflict with the zeros).
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if rows.sum() != cols.sum():
        return None
    n_rows, n_cols = table.shape
    if not rows.any() and not cols.any():
        return np.zeros((n_rows, n_cols), dtype=np.int64)
    clipped = np.where(allowed, np.maximum(table, 0.0), 0.0)
    base = np.floor(clipped).astype(np.int64)
    fraction = clipped - base
    cell_row, cell_col = np.nonzero(allowed)
    cell_cap = np.minimum(rows[cell_row], cols[cell_col])
    row_node = cell_row
    col_node = n_rows + cell_col
    up_cost = FRACTION_SCALE - np.round(fraction[cell_row, cell_col] * FRACTION_SCALE)
    flow = min_cost_flow.SimpleMinCostFlow()
    ups = flow.add_arcs_with_capacity_and_unit_cost(
        row_node, col_node, np.ones(len(cell_row), dtype=np.int64), up_cost.astype(np.int64)
    )
    extras = flow.add_arcs_with_capacity_and_unit_cost(
        row_node, col_node, cell_cap, np.full(len(cell_row), OFF_GRID, dtype=np.int64)
    )
    downs = flow.add_arcs_with_capacity_and_unit_cost(
        col_node, row_node, base[cell_row, cell_col], np.full(len(cell_row), OFF_GRID)
    )
    supplies = np.concatenate([rows - base.sum(axis=1), -(cols - base.sum(axis=0))])
    flow.set_nodes_supplies(np.arange(n_rows + n_cols), supplies)
    if flow.solve() != flow.OPTIMAL:
        return None
    change = flow.flows(ups) + flow.flows(extras) - flow.flows(downs)
    result = base.copy()
    np.add.at(result, (cell_row, cell_col), change)
    if not (np.array_equal(result.sum(axis=1), rows) and np.array_equal(result.sum(axis=0), cols)):
        raise RoundingError("the rounding flow missed a margin")
    return result


def phase(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, bool]:
    """A table in whole cents whose rows sum to `rows`, and whose columns sum to `cols` if any
    table with the seed's zeros can; the flag says whether the columns hold.

    The seed's rows must already add up to `rows` (its shape is what each row keeps when the
    columns cannot hold).
    """
    rows = np.asarray(rows, dtype=np.int64)
    allowed = seed > 0
    fitted = fit_margins(seed, rows, cols)
    table = round_to_margins(fitted, rows, cols, allowed=allowed)
    if table is not None:
        return table, True
    return round_rows(seed, rows), False
