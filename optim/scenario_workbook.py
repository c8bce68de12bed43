"""Reading a scenario workbook (.xlsx): its sheets as rows of text, and the `scenario` sheet.

A workbook carries the same tables as a scenario folder, one sheet per file (`scenario`,
`clients`, `team`, optional `pairs`). This module only turns cells into text and rows into
YAML data; every check of the content lives in `optim.scenario` (and the `optim.scenario_yaml`
and `optim.scenario_tables` modules it uses), shared with folders.

The `scenario` sheet comes in two forms (docs/scenario.md):
- *key/value*: a header row `key`, `value`, then one dotted key path per row
  (`roles.hunter.monthly_cost` | `260000`), each value read as a YAML scalar or flow value;
- *YAML lines*: the text of scenario.yaml, one line per row in column A.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Row = tuple[int, list[str]]  # the sheet's row number and its cells as text
KeyPath = tuple[str, ...]


class WorkbookError(Exception):
    """The file cannot be read as an .xlsx workbook."""


def read_sheets(path: Path) -> dict[str, list[Row]]:
    """Every sheet of the workbook as numbered rows of text, keyed by the sheet's title.

    A formula cell gives the value Excel saved with it; a formula that was never calculated
    (a file written by a program) gives its text, so a name like `=Acme` survives.
    """
    import openpyxl  # imported here: only workbooks need it, and it is slow to import

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise WorkbookError(f"not a readable .xlsx workbook ({error})") from error
    try:
        sheets = {sheet.title: _rows(sheet) for sheet in book.worksheets}
    finally:
        book.close()
    with_formulas = [
        t for t, rows in sheets.items() if any(_formula(c) for _, r in rows for c in r)
    ]
    if with_formulas:  # a second pass, for the values Excel saved with the formulas
        saved = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            for title in with_formulas:
                sheets[title] = _saved_values(sheets[title], _rows(saved[title]))
        finally:
            saved.close()
    return {
        title: [(n, [cell_text(v) for v in row]) for n, row in rows]
        for title, rows in sheets.items()
    }


def _rows(sheet: Any) -> list[tuple[int, tuple[Any, ...]]]:
    # The dimensions a file records are not trusted: some writers get them wrong, and
    # read-only mode would then cut the sheet short.
    sheet.reset_dimensions()
    return list(enumerate(sheet.iter_rows(values_only=True), start=1))


def _formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _saved_values(
    formulas: list[tuple[int, tuple[Any, ...]]], saved: list[tuple[int, tuple[Any, ...]]]
) -> list[tuple[int, tuple[Any, ...]]]:
    """The rows with each formula replaced by the value Excel saved with it, if it saved one."""
    values = dict(saved)
    out = []
    for number, row in formulas:
        shown = values.get(number, ())
        merged = list(row)
        for i, cell in enumerate(row):
            if _formula(cell) and i < len(shown) and shown[i] is not None:
                merged[i] = shown[i]
        out.append((number, tuple(merged)))
    return out


def cell_text(value: Any) -> str:
    """A cell as the text a CSV would hold: whole numbers without `.0`, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def is_key_value_form(rows: list[Row]) -> bool:
    """True when the first non-empty row is the header `key`, `value`."""
    for _, cells in rows:
        texts = [c.strip().lower() for c in cells if c.strip()]
        if texts:
            return texts[:2] == ["key", "value"] and cells[0].strip().lower() == "key"
    return False


def yaml_lines(rows: list[Row]) -> tuple[str, list[tuple[int, str]]]:
    """The YAML text of a sheet written one line per row in column A.

    Line n of the text is row n of the sheet, so YAML errors point at the right row.
    Returns the text and (row, message) for cells outside column A, which are not read.
    """
    lines: list[str] = []
    stray: list[tuple[int, str]] = []
    for number, cells in rows:
        lines.extend([""] * (number - 1 - len(lines)))
        lines.append(cells[0] if cells else "")
        if any(c.strip() for c in cells[1:]):
            stray.append((number, "only column A is read when the sheet holds YAML lines"))
    return "\n".join(lines) + "\n", stray


@dataclass
class KeyValues:
    """The scenario sheet's key/value rows turned into the nested data of scenario.yaml."""

    data: dict[str, Any] = field(default_factory=dict)
    lines: dict[KeyPath, int] = field(default_factory=dict)  # key path -> sheet row
    issues: list[tuple[int, str, str]] = field(default_factory=list)  # row, column, message


def key_values(rows: list[Row]) -> KeyValues:
    """Read `key | value` rows; a key is a dotted path, a value a YAML scalar or flow value.

    Empty rows and rows whose key starts with `#` are skipped.
    """
    out = KeyValues()
    header_seen = False
    for number, cells in rows:
        key = cells[0].strip() if cells else ""
        text = cells[1] if len(cells) > 1 else ""
        if not header_seen:
            header_seen = key.lower() == "key"
            continue
        if not key:
            if text.strip() or any(c.strip() for c in cells[2:]):
                out.issues.append((number, "key", "a value without a key"))
            continue
        if key.startswith("#"):
            continue
        path = tuple(part.strip() for part in key.split("."))
        if not all(path):
            out.issues.append((number, key, f"{key!r} is not a dotted key path"))
            continue
        try:
            value = flow_value(text)
        except yaml.YAMLError as error:
            problem = getattr(error, "problem", None) or str(error)
            out.issues.append((number, key, f"cannot read the value {text!r}: {problem}"))
            continue
        _put(out, path, value, number)
    return out


def flow_value(text: str) -> Any:
    """A value cell as YAML (`12`, `0.3`, `[0.3, 0.6]`, `{covered: 0.9}`, `true`, text).

    Text that YAML would read as something else than what it shows (a `#` that starts a
    comment, a `:` that makes a mapping) is kept as the text.
    """
    stripped = text.strip()
    if not stripped:
        return None
    try:
        value = yaml.safe_load(stripped)
    except yaml.YAMLError:
        if stripped[0] in "[{":
            raise
        return stripped
    if isinstance(value, dict | list) and stripped[0] not in "[{":
        return stripped
    if value is None and stripped not in ("null", "Null", "NULL", "~"):
        return stripped
    return value


def _put(out: KeyValues, path: KeyPath, value: Any, number: int) -> None:
    node = out.data
    for depth, part in enumerate(path[:-1], start=1):
        prefix = path[:depth]
        out.lines.setdefault(prefix, number)
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            out.issues.append(
                (
                    number,
                    ".".join(path),
                    f"{'.'.join(prefix)} already has a value at row "
                    f"{out.lines[prefix]}; it cannot also have keys",
                )
            )
            return
        node = child
    if path[-1] in node:
        out.issues.append(
            (number, ".".join(path), f"set twice (rows {out.lines.get(path, '?')} and {number})")
        )
        return
    node[path[-1]] = value
    out.lines[path] = number
