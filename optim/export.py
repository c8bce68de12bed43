"""Writing a plan's tables as CSV, a formatted Excel workbook and JSON, safe to open in Excel.

Every text cell that Excel (or LibreOffice, Google Sheets) would evaluate as a formula — one
beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return — is written as plain text:
in the workbook as a string cell with Excel's quote prefix, in CSV behind a single quote ``'``
(SPEC §6, the OWASP "CSV injection" rule). Numbers are never touched.

The workbook is built with openpyxl (sheets, styles, frozen header, filter, widths); the data
rows of the frame sheets are streamed into it directly, because openpyxl's own cell-by-cell
writer takes over 20 seconds for 100,000 rows on a small machine.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.etree import ElementTree

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optim import __version__
from optim.result import ModelResult

if TYPE_CHECKING:
    from optim.runs import RunRecord

ExportFormat = Literal["xlsx", "csv", "json", "html"]

# Text that a spreadsheet would read as a formula (OWASP: =, +, -, @, tab, carriage return).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_DANGEROUS = re.compile(r"^[=+\-@\t\r]")
# A CSV cell carrying our quote prefix: one or more quotes, then a trigger. Escaping adds one
# quote to every text matching ^'*[trigger], so reading strips exactly one and round-trips.
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
_NEEDS_ESCAPE = re.compile(r"^'*[=+\-@\t\r]")

# Sheet order of SPEC §6; `revenue` (plan vs target) reads best right after the summary.
SHEET_ORDER = (
    "revenue",
    "headcount",
    "hiring",
    "budget",
    "funnel",
    "coverage",
    "territories",
    "quotas",
    "motivation",
)
SUMMARY_SHEET = "Summary"
EXPLANATION_SHEET = "Explanation"

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_TEXT = 32_767

MONEY_WORDS = (
    "cost",
    "revenue",
    "target",
    "budget",
    "potential",
    "margin",
    "shortfall",
    "quota",
    "payout",
    "salary",
)
SHARE_WORDS = (
    "share",
    "utilisation",
    "utilization",
    "rate",
    "weight",
    "pct",
    "percent",
    "gap",
    "attainment",
    "probability",
    "retention",
    "growth",
    "hedge",
    "stretch",
)
FMT_MONEY = "#,##0"
FMT_COUNT = "#,##0"
FMT_SHARE = "0.0%"
FMT_FTE = "#,##0.00"
FMT_VOLUME = "#,##0.0"
FMT_PLAIN_INT = "0"
FMT_COORD = "0.0000"
FMT_DATE = "yyyy-mm-dd"
FMT_DATETIME = "yyyy-mm-dd hh:mm"
FMT_GENERAL = "General"

_HEADER_FONT = Font(name="Calibri", size=11, bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="1F4E78", end_color="1F4E78")
_ROWS_PER_CHUNK = 5_000


# --------------------------------------------------------------------------- Excel-safe text


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would evaluate this text as a formula."""
    return bool(_DANGEROUS.match(text))


def csv_safe(value: Any) -> Any:
    """The value as it goes into a CSV cell: formula-like text behind a single quote."""
    if isinstance(value, str) and _NEEDS_ESCAPE.match(value):
        return "'" + value
    return value


def csv_unescape(value: Any) -> Any:
    """Undo `csv_safe` (used when a run is read back)."""
    if isinstance(value, str) and _ESCAPED.match(value):
        return value[1:]
    return value


def _is_text_column(column: pd.Series) -> bool:
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame with every formula-like text cell escaped for CSV."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not _is_text_column(column):
            continue
        if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
            mask = column.str.match(_NEEDS_ESCAPE.pattern).fillna(False).astype(bool)
            out[name] = column.where(~mask, "'" + column)
        else:
            out[name] = column.map(csv_safe)
    return out


def csv_unescape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo `csv_safe_frame` on the text columns of a frame read from CSV."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if _is_text_column(column):
            out[name] = column.map(csv_unescape)
    return out


# --------------------------------------------------------------------------- frames


def flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a flat table: a named index becomes columns, names become strings.

    An unnamed index (0..n-1, or what is left of it after filtering) is not data and is dropped.
    """
    out = frame
    if any(name is not None for name in out.index.names):
        out = out.reset_index()
    elif not isinstance(out.index, pd.RangeIndex) or out.index.start != 0 or out.index.step != 1:
        out = out.reset_index(drop=True)
    if isinstance(out.columns, pd.MultiIndex):
        out = out.copy()
        out.columns = [
            "_".join(str(part) for part in col if str(part) != "") for col in out.columns
        ]
    if any(not isinstance(c, str) for c in out.columns):
        out = out.rename(columns=str)
    categorical = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)]
    if categorical:
        out = out.astype({c: object for c in categorical})
    return out


_FRAME_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_frame_name(name: str) -> str:
    """Frame names become file names, so they must be plain words."""
    if not _FRAME_NAME.match(name) or name.endswith("."):
        raise ValueError(
            f"frame name {name!r} cannot be a file name; use letters, digits, '_', '-', '.'"
        )
    return name


def sheet_title(frame_name: str) -> str:
    """The sheet title for a frame: `workload_balance` -> 'Workload Balance'."""
    title = re.sub(r"[\[\]:*?/\\]", " ", frame_name.replace("_", " ")).strip().title()
    return title[:31] or "Sheet"


def ordered_frame_names(frames: Mapping[str, pd.DataFrame]) -> list[str]:
    """SPEC §6 order for the known frames, then the others in the order given."""
    known = [name for name in SHEET_ORDER if name in frames]
    return known + [name for name in frames if name not in SHEET_ORDER]


# --------------------------------------------------------------------------- atomic files


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary sibling to write to; it replaces `path` only when the block succeeds."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# --------------------------------------------------------------------------- CSV


def write_csvs(folder: Path, frames: Mapping[str, pd.DataFrame]) -> list[Path]:
    """One `<name>.csv` per frame (UTF-8 with BOM so Excel reads non-Latin text)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        path = folder / f"{check_frame_name(name)}.csv"
        with atomic_path(path) as tmp:
            # CRLF (RFC 4180) also makes the writer quote a lone "\r" inside a cell
            csv_safe_frame(flat_frame(frame)).to_csv(
                tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n"
            )
        written.append(path)
    return written


def read_csv_frame(path: Path, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """A frame written by `write_csvs`, with the CSV quote prefix removed again.

    Only an empty cell is missing: a segment called "NA" stays "NA". Columns named in
    `text_columns` stay text even when they look like numbers ("007").
    """
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    except pd.errors.EmptyDataError:  # a frame without columns
        return pd.DataFrame()
    frame = pd.read_csv(
        path,
        encoding="utf-8-sig",
        keep_default_na=False,
        na_values={name: [""] for name in header},
        dtype={name: str for name in text_columns if name in header},
    )
    return csv_unescape_frame(frame)


# --------------------------------------------------------------------------- JSON


def jsonable(value: Any) -> Any:
    """Plain JSON data: NaN and infinities become null, numpy and pandas scalars plain."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts of plain values; missing and infinite numbers are None."""
    flat = flat_frame(frame)
    missing = flat.isna().to_numpy(dtype=bool)
    for j, name in enumerate(flat.columns):
        if pd.api.types.is_float_dtype(flat[name].dtype):
            missing[:, j] |= np.isinf(flat[name].to_numpy(dtype=float, na_value=np.nan))
    plain = flat.astype(object).where(~missing, None)
    names = [str(c) for c in plain.columns]
    columns = [plain[c].tolist() for c in plain.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _json_default(value: Any) -> Any:
    """For json.dumps: what the standard encoder does not know (numpy, timestamps, paths)."""
    return jsonable(value)


def write_json(
    path: Path,
    results: Sequence[ModelResult | Mapping[str, Any]],
    frames: Mapping[str, pd.DataFrame],
) -> Path:
    """plan.json: every result's `to_dict()` and every frame as a list of records."""
    document = {
        "optim_version": __version__,
        "results": jsonable(
            [r.to_dict() if isinstance(r, ModelResult) else dict(r) for r in results]
        ),
        "frames": {name: frame_records(frame) for name, frame in frames.items()},
    }
    # Indented for people when small; compact (and C-fast) when the frames are big.
    cells = sum(frame.size for frame in frames.values())
    text = json.dumps(
        document,
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
        indent=1 if cells <= 20_000 else None,
    )
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# --------------------------------------------------------------------------- number formats


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def number_format(name: str, column: pd.Series) -> str:
    """The Excel number format for a column, from its name and its values."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) or _is_text_column(column):
        return FMT_GENERAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        times = column.dropna()
        has_time = bool((times != times.dt.normalize()).any())
        return FMT_DATETIME if has_time else FMT_DATE
    if not pd.api.types.is_numeric_dtype(dtype):
        return FMT_GENERAL
    words = _words(name)
    if words and words[0] in ("lat", "lon", "latitude", "longitude"):
        return FMT_COORD
    if any(w in name.lower() for w in MONEY_WORDS):
        return FMT_MONEY
    if words and words[-1] in ("month", "year", "id"):
        return FMT_PLAIN_INT
    values = column.to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    if (
        pd.api.types.is_float_dtype(dtype)
        and any(w in words for w in SHARE_WORDS)
        and (finite.size == 0 or float(np.abs(finite).max()) <= 10)
    ):
        return FMT_SHARE
    if "fte" in words:
        return FMT_FTE
    integral = bool(np.all(finite == np.round(finite)))
    if pd.api.types.is_integer_dtype(dtype) or integral or "hours" in words:
        return FMT_COUNT
    return FMT_VOLUME


def _column_width(name: str, column: pd.Series, fmt: str) -> float:
    """A width that shows the header (with its filter button) and typical values."""
    header = len(name) + 3
    if _is_text_column(column):
        lengths = column.dropna().astype(str).str.len()
        body = int(lengths.quantile(0.98)) if len(lengths) else 0
    elif fmt in (FMT_DATE, FMT_DATETIME):
        body = len(fmt)
    elif pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
        column.dtype
    ):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        biggest = float(np.abs(finite).max()) if finite.size else 0.0
        digits = len(f"{biggest:,.0f}") + 1
        body = {FMT_SHARE: 7, FMT_VOLUME: digits + 2, FMT_FTE: digits + 3}.get(fmt, digits)
        if fmt == FMT_COORD:
            body = digits + 5
    else:
        body = 6
    return float(min(max(header, body + 2, 8), 60))


# --------------------------------------------------------------------------- xlsx


def _clean_text(text: str) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:EXCEL_MAX_TEXT]


def _xml_text(text: str) -> str:
    return (
        _clean_text(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def _set_cell(ws: Worksheet, row: int, column: int, value: Any, number_format: str = "") -> None:
    """A cell of the small sheets (Summary, Explanation); text is never a formula."""
    value = jsonable(value) if not isinstance(value, str | int | float) else value
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        value = _clean_text(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    elif number_format and isinstance(value, int | float) and not isinstance(value, bool):
        cell.number_format = number_format


def _style_header(ws: Worksheet, columns: Sequence[str]) -> None:
    for j, name in enumerate(columns, 1):
        _set_cell(ws, 1, j, name)
        cell = ws.cell(row=1, column=j)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"


def _summary_format(label: str, value: Any) -> str:
    words = _words(label)
    if "gap" in words or "share" in words:
        return "0.00%"
    if "seconds" in words:
        return "0.00"
    if "year" in words or "months" in words or "digest" in words:
        return FMT_PLAIN_INT
    if isinstance(value, float) and abs(value) < 100 and value != round(value):
        return "#,##0.00"
    return "#,##0"


def _write_summary(ws: Worksheet, summary: Sequence[tuple[str, object]]) -> None:
    _style_header(ws, ["Item", "Value"])
    for i, (label, value) in enumerate(summary, 2):
        _set_cell(ws, i, 1, label)
        _set_cell(ws, i, 2, value, _summary_format(label, value))
    ws.column_dimensions["A"].width = min(max([len(str(k)) for k, _ in summary] + [8]) + 2, 60)
    ws.column_dimensions["B"].width = 40


def _write_explanation(ws: Worksheet, lines: Sequence[str]) -> None:
    _style_header(ws, ["Explanation"])
    for i, line in enumerate(lines, 2):
        _set_cell(ws, i, 1, line)
    ws.column_dimensions["A"].width = 120


class _FrameSheet:
    """The rows of one frame as SpreadsheetML, built column by column (vectorised).

    `styles` maps (number format, quote prefix) to the workbook's cell style index.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.formats = [number_format(str(c), frame[c]) for c in frame.columns]

    def widths(self) -> list[float]:
        return [
            _column_width(str(c), self.frame[c], f)
            for c, f in zip(self.frame.columns, self.formats, strict=True)
        ]

    def rows(self, limit: int, styles: Mapping[tuple[str, bool], int]) -> Iterator[str]:
        """The XML of the data rows (row 2 on), in chunks."""
        n = min(len(self.frame), limit)
        quoted = styles[(FMT_GENERAL, True)]
        for start in range(0, n, _ROWS_PER_CHUNK):
            stop = min(start + _ROWS_PER_CHUNK, n)
            columns = [
                self._cells(j, styles[(fmt, False)], quoted, start, stop)
                for j, fmt in enumerate(self.formats)
            ]
            yield "".join(
                f'<row r="{r}">{"".join(cells)}</row>'
                for r, cells in zip(
                    range(start + 2, stop + 2), zip(*columns, strict=True), strict=True
                )
            )

    def _cells(self, j: int, style: int, quoted: int, start: int, stop: int) -> list[str]:
        """The XML of rows start..stop-1 of column j (an empty string for a missing value)."""
        column = self.frame.iloc[start:stop, j]
        letter = get_column_letter(j + 1)
        rows = range(start + 2, stop + 2)
        s = f' s="{style}"' if style else ""
        dtype = column.dtype
        if _is_text_column(column):
            return [
                _any_cell(f"{letter}{r}", v, quoted)
                for r, v in zip(rows, column.tolist(), strict=True)
            ]
        if pd.api.types.is_bool_dtype(dtype):
            return [
                "" if v is None else f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>'
                for r, v in zip(
                    rows, column.astype(object).where(column.notna(), None), strict=True
                )
            ]
        if pd.api.types.is_datetime64_any_dtype(dtype):
            if getattr(dtype, "tz", None) is not None:
                column = column.dt.tz_localize(None)
            column = (column - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
            dtype = column.dtype
        if not pd.api.types.is_numeric_dtype(dtype):
            return [
                _any_cell(f"{letter}{r}", v, quoted)
                for r, v in zip(rows, column.tolist(), strict=True)
            ]
        values = column.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(values).tolist()
        items = column.tolist() if pd.api.types.is_integer_dtype(dtype) else values.tolist()
        return [
            f'<c r="{letter}{r}"{s}><v>{v!r}</v></c>' if ok else ""
            for r, v, ok in zip(rows, items, finite, strict=True)
        ]


def _any_cell(ref: str, value: Any, quoted: int) -> str:
    """One cell of a text or mixed column; formula-like text gets the quote-prefix style."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        if value == "":
            return ""
        style = f' s="{quoted}"' if is_formula_like(value) else ""
        return (
            f'<c r="{ref}"{style} t="inlineStr">'
            f'<is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'
        )
    if isinstance(value, bool | np.bool_):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | np.integer):
        return f'<c r="{ref}"><v>{int(value)!r}</v></c>'
    if isinstance(value, float | np.floating):
        number = float(value)
        return f'<c r="{ref}"><v>{number!r}</v></c>' if math.isfinite(number) else ""
    return _any_cell(ref, str(jsonable(value)), quoted)


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> part name inside the xlsx package."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.findall("p:Relationship", ns)}
    parts = {}
    for sheet in workbook.findall("m:sheets/m:sheet", ns):
        target = targets[sheet.get(f"{{{ns['r']}}}id")]
        parts[sheet.get("name", "")] = (
            target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        )
    return parts


def _stream_rows(
    skeleton: bytes,
    path: Path,
    sheets: Mapping[str, _FrameSheet],
    *,
    limit: int,
    styles: Mapping[tuple[str, bool], int],
) -> None:
    """Copy the openpyxl package to `path`, streaming each frame sheet's rows into it."""
    with (
        zipfile.ZipFile(io.BytesIO(skeleton)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as target,
    ):
        parts = {
            part: sheets[title] for title, part in _sheet_parts(source).items() if title in sheets
        }
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename not in parts:
                target.writestr(info, data)
                continue
            sheet = parts[info.filename]
            xml = re.sub(r"<sheetData\s*/>", "<sheetData></sheetData>", data.decode("utf-8"))
            n_rows = min(len(sheet.frame), limit) + 1
            n_cols = max(len(sheet.frame.columns), 1)
            xml = re.sub(
                r'<dimension ref="[^"]*"\s*/>',
                f'<dimension ref="A1:{get_column_letter(n_cols)}{n_rows}"/>',
                xml,
                count=1,
            )
            head, _, tail = xml.rpartition("</sheetData>")
            # ZIP64 headers make some Excel versions "repair" the file: only when needed.
            huge = n_rows * n_cols * 120 > 2**31
            with target.open(info.filename, "w", force_zip64=huge) as out:
                out.write(head.encode("utf-8"))
                for chunk in sheet.rows(limit, styles):
                    out.write(chunk.encode("utf-8", errors="replace"))
                out.write(b"</sheetData>")
                out.write(tail.encode("utf-8"))


def write_xlsx(
    path: Path,
    *,
    summary: Sequence[tuple[str, object]],
    frames: Mapping[str, pd.DataFrame],
    explanation_lines: Sequence[str],
) -> Path:
    """plan.xlsx: Summary, one formatted sheet per frame in SPEC §6 order, Explanation.

    Each frame sheet has a bold filled header, a frozen header row, a filter, column widths
    and number formats chosen from the column (money `#,##0`, shares `0.0%`, counts `#,##0`,
    fractional volumes `#,##0.0`). A frame longer than Excel's sheet is cut at the sheet's
    last row and the summary says so; the CSV holds all of it.
    """
    wb = Workbook()
    summary_ws = wb.active
    assert summary_ws is not None
    summary_ws.title = SUMMARY_SHEET
    scratch = wb.create_sheet("_styles")
    style_ids: dict[tuple[str, bool], int] = {}

    def style(fmt: str, quote_prefix: bool) -> int:
        key = (fmt, quote_prefix)
        if key not in style_ids:
            cell = scratch.cell(row=1, column=len(style_ids) + 1)
            cell.number_format = fmt
            cell.quotePrefix = quote_prefix
            style_ids[key] = cell.style_id
        return style_ids[key]

    style(FMT_GENERAL, True)  # every style the rows use is registered before saving
    titles = {SUMMARY_SHEET.lower(), EXPLANATION_SHEET.lower(), "history"}
    streamed: dict[str, _FrameSheet] = {}
    notes: list[tuple[str, object]] = []
    limit = EXCEL_MAX_ROWS - 1
    for name in ordered_frame_names(frames):
        title = sheet_title(name)
        k = 2
        while title.lower() in titles:
            title = f"{sheet_title(name)[:26]} ({k})"
            k += 1
        titles.add(title.lower())
        frame = flat_frame(frames[name])
        sheet = _FrameSheet(frame)
        for fmt in sheet.formats:
            style(fmt, False)
        ws = wb.create_sheet(title)
        _style_header(ws, list(frame.columns))
        n_rows = min(len(frame), limit)
        if len(frame.columns):
            last = get_column_letter(len(frame.columns))
            ws.auto_filter.ref = f"A1:{last}{n_rows + 1}"
        for j, width in enumerate(sheet.widths(), 1):
            ws.column_dimensions[get_column_letter(j)].width = width
        if len(frame) > limit:
            notes.append(
                (f"{title} sheet", f"first {limit:,} of {len(frame):,} rows; all in {name}.csv")
            )
        streamed[title] = sheet
    wb.remove(scratch)
    _write_summary(summary_ws, [*summary, *notes])
    _write_explanation(wb.create_sheet(EXPLANATION_SHEET), explanation_lines)

    skeleton = io.BytesIO()
    wb.save(skeleton)
    with atomic_path(Path(path)) as tmp:
        _stream_rows(skeleton.getvalue(), tmp, streamed, limit=limit, styles=style_ids)
    return Path(path)


# --------------------------------------------------------------------------- export of a run


def export_run(run: RunRecord, *, fmt: ExportFormat, out: Path) -> Path:
    """Write a stored run again in one format (`optim export RUN --format`).

    `out` is a file for xlsx, json and html (a folder gets plan.xlsx, plan.json, report.html
    inside) and a folder for csv. Returns what was written.
    """
    from optim.report import write_report

    out = Path(out)
    default_names = {"xlsx": "plan.xlsx", "json": "plan.json", "html": "report.html"}
    if fmt == "csv":
        write_csvs(out, run.frames)
        return out
    if fmt not in default_names:
        raise ValueError(f"unknown export format {fmt!r}; use xlsx, csv, json or html")
    if out.is_dir():
        out = out / default_names[fmt]
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        return write_xlsx(
            out,
            summary=run.summary(),
            frames=run.frames,
            explanation_lines=run.explanation_lines(),
        )
    if fmt == "json":
        return write_json(out, run.results, run.frames)
    return write_report(
        out,
        title=run.title(),
        summary=run.summary(),
        frames=run.frames,
        explanation_lines=run.explanation_lines(),
    )
