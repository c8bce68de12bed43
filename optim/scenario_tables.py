"""The tables of a scenario (clients, team, pairs): header checks, then typed, checked columns.

Each table arrives as text (from a CSV file or a workbook sheet); each bad cell becomes a
problem with its row and column, and the result is a typed DataFrame.
"""

from __future__ import annotations

import io
import itertools
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optim.problems import Problems, suggest
from optim.scenario_layout import COLUMNS, FILES, REQUIRED_COLUMNS
from optim.scenario_yaml import Document
from optim.schema import ROLE_KEYS, STATUSES, ScenarioConfig

DIRECTION_SEPARATOR = ";"  # team.csv: a person working in several directions

MAX_IDS_TO_SUGGEST = 5000  # a nearest id is suggested only among this many

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no", "")


@dataclass
class Table:
    """A table as text: columns named by the header, index = the row a spreadsheet shows."""

    file: str
    header_row: int
    frame: pd.DataFrame
    complete: bool = True  # False when unreadable rows were left out


def csv_table(name: str, text: str, key: str, problems: Problems) -> Table | None:
    """A CSV file's text as a table; rows the parser had to skip are reported."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                header=None,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                on_bad_lines="warn",
            )
        except pd.errors.EmptyDataError:
            problems.add(name, "is empty: it needs a header row and at least one data row")
            return None
        except pd.errors.ParserError as error:
            problems.add(name, f"cannot be read as CSV: {error}")
            return None
    # A row with more fields than the header is skipped by the parser and reported here;
    # "line" in pandas' warning counts records, as a spreadsheet numbers its rows.
    skipped: set[int] = set()
    for warning in caught:
        for found in re.finditer(
            r"line (\d+): expected (\d+) fields, saw (\d+)", str(warning.message)
        ):
            line, wanted, seen = (int(n) for n in found.groups())
            skipped.add(line)
            problems.add(
                name,
                f"has {seen} values but the header has {wanted} columns "
                "(quote values that contain commas)",
                line,
            )
    numbers = (n for n in itertools.count(1) if n not in skipped)
    frame.index = pd.Index([next(numbers) for _ in range(len(frame))])
    table = table_from_frame(name, frame, key, problems)
    if table is not None and skipped:
        table.complete = False
    return table


def table_from_frame(file: str, frame: pd.DataFrame, key: str, problems: Problems) -> Table | None:
    """Name the columns from the header row and check them; keep the non-empty data rows."""
    filled = (frame != "").any(axis=1)
    if not filled.any():
        problems.add(file, "is empty: it needs a header row and at least one data row")
        return None
    header_row = int(filled.index[int(filled.to_numpy().argmax())])
    header = [str(cell).strip() for cell in frame.loc[header_row]]
    body = frame.loc[header_row + 1 :]
    body = body[(body != "").any(axis=1)]
    known = COLUMNS[key]
    if len([h for h in header if h]) == 1 and ";" in header[0]:
        problems.add(file, "columns are separated by ';': save it comma-separated", header_row)
        return None
    keep: dict[int, str] = {}
    for position, name in enumerate(header):
        if not name:
            if (body.iloc[:, position] != "").any():
                problems.add(file, f"column {position + 1} has values but no name", header_row)
        elif name in keep.values():
            problems.add(file, f"column {name!r} appears twice", header_row, name)
        elif name not in known:
            problems.add(file, f"unknown column {name!r}{suggest(name, known)}", header_row, name)
        else:
            keep[position] = name
    for name in REQUIRED_COLUMNS[key]:
        if name not in keep.values():
            problems.add(file, f"missing column {name!r}", header_row, name)
    if body.empty:
        problems.add(file, "has no data rows, only the header")
        return None
    body = body.iloc[:, list(keep)]
    body.columns = list(keep.values())
    return Table(file, header_row, body)


@dataclass(frozen=True)
class Names:
    """What the tables may name, from scenario.yaml; None where it could not be read."""

    file: str
    directions: tuple[str, ...] | None
    segments: tuple[str, ...] | None
    roles: tuple[str, ...] | None

    @classmethod
    def of(cls, config: ScenarioConfig | None, document: Document | None) -> Names:
        file = FILES["scenario"] if document is None else document.file
        if config is not None:
            return cls(file, config.directions, tuple(config.segments), tuple(config.roles))
        if document is None:  # unreadable: its own problems say why, the tables are not checked
            return cls(file, None, None, None)
        data = document.data

        def keys(key: str) -> tuple[str, ...] | None:
            value = data.get(key, {})
            return tuple(str(k) for k in value) if isinstance(value, dict) else None

        directions = data.get("directions")
        listed = tuple(str(d) for d in directions) if isinstance(directions, list) else None
        return cls(file, listed, keys("segments"), keys("roles"))


class _Cells:
    """Typed columns of one table; each bad cell becomes a problem with its row and column."""

    def __init__(self, table: Table, problems: Problems) -> None:
        self.table = table
        self.problems = problems

    def _report(self, column: str, bad: pd.Series, message: Callable[[str], str]) -> None:
        self.problems.cells(self.table.file, column, bad, message)

    def text(self, column: str, *, required: bool = False, strip: bool = True) -> pd.Series:
        frame = self.table.frame
        if column not in frame:
            return pd.Series("", index=frame.index, dtype="str")
        values = frame[column].str.strip() if strip else frame[column]
        if required:
            blank = values == "" if strip else values.str.strip() == ""
            self._report(column, values[blank], lambda _: "empty: a value is required")
        return values

    def number(
        self,
        column: str,
        *,
        required: bool = False,
        default: float = np.nan,
        low: float = -np.inf,
        high: float = np.inf,
        above_low: bool = False,
        meaning: str = "",
    ) -> pd.Series:
        text = self.text(column, required=required)
        numbers = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
        unreadable = (numbers.isna() & (text != "")) | np.isinf(numbers)
        self._report(column, text[unreadable], _not_a_number)
        too_low = numbers <= low if above_low else numbers < low
        self._report(column, text[too_low | (numbers > high)], lambda v: f"{meaning} (got {v})")
        return numbers.fillna(default)

    def flag(self, column: str) -> pd.Series:
        words = self.text(column).str.lower()
        unknown = words[~words.isin(TRUE_WORDS + FALSE_WORDS)]
        self._report(
            column, unknown, lambda v: f"not true/false: {v!r} (use true, false, yes, no, 1, 0)"
        )
        return words.isin(TRUE_WORDS)

    def choice(
        self,
        column: str,
        values: pd.Series,
        known: Sequence[str] | None,
        *,
        what: str,
        names: Names | None = None,
    ) -> None:
        """Each non-empty value must be one of `known` (None: not readable, skip the check).

        With `names`, `known` comes from scenario.yaml; when that lists none at all, one
        problem there says so instead of one per row.
        """
        if known is None:
            return
        used = values[(values != "") & ~values.isin(known)]
        if len(used) and not known and names is not None:
            key = what + "s"
            listing = ", ".join(sorted(set(used))[:10])
            message = f"{self.table.file} names {key} ({listing}) but {key} lists none"
            self.problems.add(names.file, message, None, key)
            return
        self._report(column, used, lambda v: f"unknown {what} {v!r}{suggest(v, known)}")

    def unique(self, column: str, values: pd.Series) -> None:
        _repeats(self, column, values, values != "", lambda v: f"{column} {v!r}")


def _repeats(
    cells: _Cells, column: str, values: pd.Series, counted: pd.Series, what: Callable[[str], str]
) -> None:
    """A value (among the `counted` rows) that appears again, with the row it first appeared."""
    first = ~values.duplicated()
    repeated = ~first & counted
    if not repeated.any():
        return
    first_row = dict(zip(values[first], values.index[first], strict=True))
    cells._report(
        column,
        values[repeated],
        lambda v: f"{what(v)} appears again (first on row {first_row[v]})",
    )


def _not_a_number(text: str) -> str:
    if re.fullmatch(r"-?\d+,\d+", text):
        return f"not a number: {text!r} (write the decimal separator as '.')"
    if text.startswith("="):
        return f"not a number: {text!r} (a formula with no saved result: save it in Excel)"
    return f"not a number: {text!r}"


def _references(
    cells: _Cells, column: str, values: pd.Series, ids: pd.Series | None, where: str
) -> None:
    """Each non-empty value must be an id of another table (skipped when that is unreadable)."""
    if ids is None:
        return
    missing = values[(values != "") & ~values.isin(ids)]
    known = list(dict.fromkeys(ids)) if len(missing) else []
    if len(known) > MAX_IDS_TO_SUGGEST:  # difflib over 100,000 ids would take a while
        known = []
    cells.problems.cells(
        cells.table.file, column, missing, lambda v: f"{v!r} is not in {where}{suggest(v, known)}"
    )


def typed_team(table: Table, names: Names, problems: Problems) -> pd.DataFrame:
    """team.csv (or the team sheet) as typed columns, each bad cell reported."""
    cells = _Cells(table, problems)
    rep_id = cells.text("rep_id", required=True)
    cells.unique("rep_id", rep_id)
    role = cells.text("role", required=True)
    cells.choice("role", role, ROLE_KEYS, what="role")
    if names.roles:  # with no roles at all, `choice` says so once
        undescribed = role[role.isin(ROLE_KEYS) & ~role.isin(names.roles)]
        problems.cells(
            table.file,
            "role",
            undescribed,
            lambda v: f"role {v!r} is not described under roles in scenario.yaml (add roles.{v})",
        )
    else:
        cells.choice("role", role[role.isin(ROLE_KEYS)], names.roles, what="role", names=names)
    direction = cells.text("direction")
    parts = direction.str.split(DIRECTION_SEPARATOR)
    direction = parts.map(
        lambda ps: DIRECTION_SEPARATOR.join(dict.fromkeys(p.strip() for p in ps if p.strip()))
    ).astype("str")
    each = direction.str.split(DIRECTION_SEPARATOR).explode()
    cells.choice("direction", each, names.directions, what="direction", names=names)
    return pd.DataFrame(
        {
            "rep_id": rep_id,
            "name": cells.text("name", strip=False),
            "role": role,
            "direction": direction,
            "region": cells.text("region"),
            "fte": cells.number(
                "fte",
                default=1.0,
                low=0,
                high=1,
                above_low=True,
                meaning="must be more than 0 and at most 1",
            ),
            "lat": cells.number("lat", low=-90, high=90, meaning="must be between -90 and 90"),
            "lon": cells.number("lon", low=-180, high=180, meaning="must be between -180 and 180"),
        }
    ).reset_index(drop=True)


def typed_clients(
    table: Table, names: Names, rep_ids: pd.Series | None, problems: Problems
) -> pd.DataFrame:
    """clients.csv (or the clients sheet) as typed columns; owners must be in `rep_ids`."""
    cells = _Cells(table, problems)
    client_id = cells.text("client_id", required=True)
    cells.unique("client_id", client_id)
    segment = cells.text("segment", required=True)
    cells.choice("segment", segment, names.segments, what="segment", names=names)
    direction = cells.text("direction", required=True)
    cells.choice("direction", direction, names.directions, what="direction", names=names)
    status = cells.text("status", required=True)
    cells.choice("status", status, STATUSES, what="status")
    owner = cells.text("owner")
    _references(cells, "owner", owner, rep_ids, "team.csv rep_id")
    locked = cells.flag("locked")
    problems.cells(
        table.file,
        "locked",
        owner[locked & (owner == "")],
        lambda _: "locked, but there is no owner to stay with",
    )
    return pd.DataFrame(
        {
            "client_id": client_id,
            "name": cells.text("name", strip=False),
            "segment": segment,
            "direction": direction,
            "region": cells.text("region"),
            "status": status,
            "revenue_last_year": cells.number(
                "revenue_last_year", required=True, low=0, meaning="must be 0 or more"
            ),
            "potential": cells.number(
                "potential", required=True, low=0, meaning="must be 0 or more"
            ),
            "owner": owner,
            "locked": locked,
            "lat": cells.number("lat", low=-90, high=90, meaning="must be between -90 and 90"),
            "lon": cells.number("lon", low=-180, high=180, meaning="must be between -180 and 180"),
        }
    ).reset_index(drop=True)


def typed_pairs(
    table: Table,
    client_ids: pd.Series | None,
    rep_ids: pd.Series | None,
    problems: Problems,
) -> pd.DataFrame:
    """pairs.csv (or the pairs sheet) as typed columns; both ids must exist, each pair once."""
    cells = _Cells(table, problems)
    client_id = cells.text("client_id", required=True)
    _references(cells, "client_id", client_id, client_ids, "clients.csv client_id")
    rep_id = cells.text("rep_id", required=True)
    _references(cells, "rep_id", rep_id, rep_ids, "team.csv rep_id")
    pair = client_id + " / " + rep_id
    counted = (client_id != "") & (rep_id != "")
    _repeats(cells, "rep_id", pair, counted, lambda v: f"the pair {v}")
    return pd.DataFrame(
        {
            "client_id": client_id,
            "rep_id": rep_id,
            "hours": cells.number("hours", required=True, low=0, meaning="must be 0 or more"),
            "cost": cells.number("cost", required=True),
        }
    ).reset_index(drop=True)
