"""Problems found in the input, each located by file, row and column, and reported together.

Shared by every check of a scenario (`optim.scenario`, `optim.scenario_yaml`,
`optim.scenario_tables`), so that all of them are listed at once (SPEC §2, §5: exit code 2).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from optim.scenario_layout import FILES

# A file with one mistake repeated on 100,000 rows is reported with this many rows per column
# and check, then one line counting the rest.
MAX_PROBLEMS_PER_CHECK = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    file: str
    message: str
    row: int | None = None  # 1-based line in a CSV (header is line 1) / row in a sheet / YAML line
    column: str | None = None  # CSV column, or the dotted YAML key path

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class Problems:
    """Every problem found so far; checks add to it and go on, so all are reported at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(
        self, file: str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.items.append(Problem(file, message, row, column))

    def in_order(self) -> list[Problem]:
        """By file (scenario first, then clients, team, pairs), then by row."""
        rank = {name: i for i, name in enumerate(FILES.values())} | {
            k: i for i, k in enumerate(FILES)
        }

        def position(problem: Problem) -> tuple[int, str, float]:
            file = problem.file.rsplit(":", 1)[-1]
            row = math.inf if problem.row is None else problem.row
            return rank.get(file, -1), problem.file, row

        return sorted(self.items, key=position)

    def cells(self, file: str, column: str, bad: pd.Series, message: Callable[[str], str]) -> None:
        """One problem per bad cell (`bad`: cell text indexed by row), the tail counted."""
        rows = bad.index[:MAX_PROBLEMS_PER_CHECK].tolist()
        for row, value in zip(rows, bad.iloc[:MAX_PROBLEMS_PER_CHECK], strict=True):
            self.add(file, message(str(value)), int(row), column)
        if len(bad) > MAX_PROBLEMS_PER_CHECK:
            rest = len(bad) - MAX_PROBLEMS_PER_CHECK
            first = message(str(bad.iloc[MAX_PROBLEMS_PER_CHECK]))
            self.add(file, f"{rest} more rows like this, the next being: {first}", None, column)


def nearest(value: str, options: Sequence[str]) -> str | None:
    """The option `value` was probably meant to be (same word in other case, or a near miss)."""
    lowered = {o.lower(): o for o in options}
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return lowered.get(value.lower()) or (close[0] if close else None)


def suggest(value: str, options: Sequence[str], *, listing: int = 12) -> str:
    """'; did you mean X?' for a near miss, else the options when there are few."""
    match = nearest(value, options)
    if match is not None:
        return f"; did you mean {match!r}?"
    if 0 < len(options) <= listing:
        return f"; expected one of {', '.join(options)}"
    return ""
