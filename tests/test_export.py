"""CSV, xlsx and JSON writers: Excel-safe text, sheet order, number formats, round trips."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from optim.export import (
    csv_safe,
    csv_unescape,
    number_format,
    read_csv_frame,
    sheet_title,
    write_csvs,
    write_json,
    write_xlsx,
)
from optim.result import Explanation, ModelResult, Status

DANGEROUS = [
    '=HYPERLINK("http://x","y")',
    "+7 495 123-45-67",
    "-cmd",
    "@SUM(A1)",
    "\tTab Ltd",
    "\rCR Ltd",
    "'=already quoted",
]
SAFE = [
    'ООО "Ромашка", Москва',
    "Smith, Jones & Co",
    'He said "hi"',
    "'quoted but harmless",
    "NA",
    "plain",
]


def _clients() -> pd.DataFrame:
    names = DANGEROUS + SAFE
    return pd.DataFrame(
        {
            "client_id": [f"{i:03d}" for i in range(len(names))],
            "name": names,
            "revenue_last_year": [-5.0] + [1_000_000.5] * (len(names) - 1),
            "clients": list(range(len(names))),
        }
    )


def test_csv_quotes_formula_like_text_and_leaves_the_rest(tmp_path: Path) -> None:
    write_csvs(tmp_path, {"coverage": _clients()})

    back = pd.read_csv(tmp_path / "coverage.csv", keep_default_na=False)

    assert back["name"].tolist() == ["'" + n for n in DANGEROUS] + SAFE
    assert back["revenue_last_year"].iloc[0] == -5.0  # numbers are never quoted


def test_csv_reads_back_exactly(tmp_path: Path) -> None:
    frame = _clients()
    frame.loc[len(frame)] = ["999", None, math.nan, 99]
    write_csvs(tmp_path, {"coverage": frame})

    back = read_csv_frame(tmp_path / "coverage.csv", text_columns=["client_id", "name"])

    assert back["client_id"].tolist() == frame["client_id"].tolist()  # "000" stays text
    assert back["name"].iloc[:-1].tolist() == DANGEROUS + SAFE  # "NA" stays "NA"
    assert pd.isna(back["name"].iloc[-1])
    assert back["revenue_last_year"].iloc[0] == -5.0


def test_csv_escape_round_trips_any_text() -> None:
    for text in [*DANGEROUS, *SAFE, "''=x", "'", "", "=", "'-"]:
        assert csv_unescape(csv_safe(text)) == text
        escaped = csv_safe(text)
        assert not escaped or escaped[0] not in "=+-@\t\r"


def _read_xlsx(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


def test_xlsx_formula_like_text_is_a_string_with_quote_prefix(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    write_xlsx(
        path,
        summary=[("Company", "=1+1"), ("Revenue target", 1.2e9)],
        frames={"coverage": _clients()},
        explanation_lines=["-1 telesales in March", "Plain sentence."],
    )

    wb = _read_xlsx(path)
    ws = wb["Coverage"]
    names = [ws.cell(row=r, column=2) for r in range(2, 2 + len(DANGEROUS) + len(SAFE))]
    assert [c.value for c in names] == DANGEROUS + SAFE
    assert all(c.data_type == "s" for c in names)
    assert [c.quotePrefix for c in names] == [True] * len(DANGEROUS[:-1]) + [False] * (
        1 + len(SAFE)
    )
    assert ws.cell(row=2, column=1).value == "000"
    assert wb["Summary"]["B2"].data_type == "s" and wb["Summary"]["B2"].quotePrefix
    assert wb["Explanation"]["A2"].value == "-1 telesales in March"
    assert wb["Explanation"]["A2"].data_type == "s" and wb["Explanation"]["A2"].quotePrefix


def test_xlsx_sheets_follow_the_spec_order(tmp_path: Path) -> None:
    small = pd.DataFrame({"x": [1]})
    names = ["workload_balance", "funnel", "coverage", "budget", "hiring", "revenue", "headcount"]
    path = tmp_path / "plan.xlsx"
    write_xlsx(path, summary=[], frames=dict.fromkeys(names, small), explanation_lines=[])

    assert _read_xlsx(path).sheetnames == [
        "Summary",
        "Revenue",
        "Headcount",
        "Hiring",
        "Budget",
        "Funnel",
        "Coverage",
        "Workload Balance",
        "Explanation",
    ]


def test_xlsx_number_formats_header_filter_and_frozen_row(tmp_path: Path) -> None:
    headcount = pd.DataFrame(
        {
            "role": ["hunter", "telesales"],
            "month": [1, 2],
            "headcount": [3, 4],
            "fte": [2.75, 4.0],
            "utilisation": [0.83, 1.1],
            "payroll_cost": [780_000.0, 440_000.0],
            "dials": [1234.5, 10.25],
        }
    )
    path = tmp_path / "plan.xlsx"
    write_xlsx(path, summary=[], frames={"headcount": headcount}, explanation_lines=[])

    ws = _read_xlsx(path)["Headcount"]
    formats = {ws.cell(row=1, column=j).value: ws.cell(row=2, column=j).number_format
               for j in range(1, 8)}  # fmt: skip
    assert formats == {
        "role": "General",
        "month": "0",
        "headcount": "#,##0",
        "fte": "#,##0.00",
        "utilisation": "0.0%",
        "payroll_cost": "#,##0",
        "dials": "#,##0.0",
    }
    assert ws["F3"].value == 440_000.0 and ws["F3"].number_format == "#,##0"
    assert ws["A1"].font.bold
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G3"
    assert ws.column_dimensions["F"].width >= len("payroll_cost")


def test_xlsx_values_read_back_with_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "segment": ["A", None, "Ω"],
            "wins": [1.5, np.nan, 3.0],
            "clients": [1, 2, 3],
            "flag": [True, False, True],
        }
    )
    path = tmp_path / "plan.xlsx"
    write_xlsx(path, summary=[], frames={"coverage": frame}, explanation_lines=[])

    back = pd.read_excel(path, sheet_name="Coverage")

    assert back["segment"].iloc[[0, 2]].tolist() == ["A", "Ω"] and pd.isna(back["segment"][1])
    assert back["wins"].iloc[[0, 2]].tolist() == [1.5, 3.0] and pd.isna(back["wins"][1])
    assert back["clients"].tolist() == [1, 2, 3]
    assert back["flag"].tolist() == [True, False, True]


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("hiring_cost", [150_000.0], "#,##0"),
        ("new_revenue_in_year", [1.5], "#,##0"),
        ("revenue_last_year", [2.0], "#,##0"),
        ("win_rate", [0.25], "0.0%"),
        ("share", [35.0], "#,##0"),  # a share given in percent points is not a fraction
        ("hires", [2], "#,##0"),
        ("wins", [3.0, 4.0], "#,##0"),
        ("opportunities", [12.5], "#,##0.0"),
        ("effective_fte", [0.8], "#,##0.00"),
        ("start_month", [4], "0"),
        ("year", [2027], "0"),
        ("lat", [55.75], "0.0000"),
        ("name", ["x"], "General"),
    ],
)
def test_number_format_follows_the_column(name: str, values: list, expected: str) -> None:
    assert number_format(name, pd.Series(values)) == expected


def test_sheet_title_is_a_legal_sheet_name() -> None:
    assert sheet_title("workload_balance") == "Workload Balance"
    assert sheet_title("a/b:c" + "x" * 40) == ("A B C" + "x" * 40).title()[:31]


def test_json_has_results_and_frames_as_records(tmp_path: Path) -> None:
    result = ModelResult(
        model="staffing",
        status=Status.OPTIMAL,
        objective=1.0,
        bound=1.0,
        solve_seconds=0.5,
        solver="highs",
        frames={},
        explanation=Explanation("Done."),
        details={"count": np.int64(3), "big": float("inf")},
    )
    frame = pd.DataFrame({"role": ["hunter"], "fte": [np.nan], "hires": [np.int64(2)]})

    path = write_json(tmp_path / "plan.json", [result], {"hiring": frame})
    document = json.loads(path.read_text(encoding="utf-8"))

    assert document["results"][0]["status"] == "optimal"
    assert document["results"][0]["details"] == {"count": 3, "big": None}
    assert document["frames"]["hiring"] == [{"role": "hunter", "fte": None, "hires": 2}]


def test_frames_are_written_flat(tmp_path: Path) -> None:
    hires = pd.DataFrame({"role": ["hunter", "telesales", "assistant"], "hires": [0, 2, 1]})
    per_role = hires.groupby("role").sum()  # a named index is data
    write_csvs(tmp_path, {"hiring": hires[hires["hires"] > 0], "per_role": per_role})

    assert pd.read_csv(tmp_path / "hiring.csv").columns.tolist() == ["role", "hires"]
    assert pd.read_csv(tmp_path / "per_role.csv").columns.tolist() == ["role", "hires"]
