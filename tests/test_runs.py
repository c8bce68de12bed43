"""The run folder: contents, atomic writing, the store, reading back, export, the report."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import optim.runs
from optim.export import export_run
from optim.report import write_report
from optim.result import Explanation, Marginal, ModelResult, Status
from optim.runs import (
    RunFolderError,
    RunNotFoundError,
    list_runs,
    load_run,
    write_run,
)
from optim.scenario import Scenario
from optim.schema import ScenarioConfig

EVIL = "<script>alert(1)</script>"


def _headcount() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "role": ["hunter", "hunter", EVIL, EVIL],
            "direction": ["energy"] * 4,
            "month": [1, 2, 1, 2],
            "headcount": [2, 3, 1, 1],
            "fte": [2.0, 3.0, 1.0, 0.5],
            "utilisation": [0.9, 0.8, 1.0, 0.7],
        }
    )


def _budget() -> pd.DataFrame:
    frame = _headcount()[["role", "direction", "month"]].copy()
    frame["payroll_cost"] = [520_000.0, 780_000.0, 110_000.0, 55_000.0]
    frame["hiring_cost"] = [0.0, 150_000.0, 0.0, 0.0]
    frame["total_cost"] = frame["payroll_cost"] + frame["hiring_cost"]
    return frame


def _funnel() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "direction": ["energy", "energy"],
            "segment": ["A", "A"],
            "month": [1, 2],
            "researched_contacts": [120.0, 120.0],
            "dials": [360.0, 360.0],
            "conversations": [30.0, 30.0],
            "meetings": [7.5, 7.5],
            "opportunities": [3.75, 3.75],
            "wins": [0.9, 0.9],
        }
    )


def _coverage() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": ["A", "B"],
            "status": ["active", "prospect"],
            "covered_by": ["account_manager", None],
            "clients": [12, 40],
            "revenue_last_year": [3.2e7, 0.0],
            "reason": ['=HYPERLINK("http://x","y")', 'Ромашка, "ООО"'],
        }
    )


def _revenue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "direction": ["energy"],
            "target": [5.0e7],
            "base_revenue": [3.0e7],
            "new_business_revenue": [1.5e7],
            "total_revenue": [4.5e7],
            "shortfall": [5.0e6],
        }
    )


def _results() -> list[ModelResult]:
    coverage = ModelResult(
        model="coverage",
        status=Status.OPTIMAL,
        objective=3.2e7,
        bound=3.2e7,
        solve_seconds=0.01,
        solver="highs",
        frames={"coverage": _coverage(), "revenue": _revenue()},
        explanation=Explanation(f"Segment B ({EVIL}) is not worth covering."),
        sense="max",
    )
    staffing = ModelResult(
        model="staffing",
        status=Status.FEASIBLE,
        objective=1.465e6,
        bound=1.4e6,
        solve_seconds=0.2,
        solver="highs",
        frames={
            "headcount": _headcount(),
            "budget": _budget(),
            "funnel": _funnel(),
            "revenue": _revenue().assign(total_revenue=4.6e7),  # the later result wins
        },
        explanation=Explanation(
            "Plan meets the target.",
            objective_breakdown={"payroll": 1.465e6},
            binding=(Marginal("budget", {}, "The budget is binding: +1M buys 2.1M.", 2.1, "RUB"),),
        ),
    )
    return [coverage, staffing]


def _scenario(tmp_path: Path) -> Scenario:
    config = ScenarioConfig.model_validate(
        {
            "company": "Demo Industrial Supply",
            "year": 2027,
            "directions": ["energy"],
            "plan": {"revenue_target": 5.0e7, "budget": 2.0e7},
        }
    )
    return Scenario(
        config=config,
        clients=pd.DataFrame(),
        team=pd.DataFrame(),
        pairs=None,
        source=tmp_path / "scenario",
        digest="sha256:abc123",
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full run, written once and inspected by several tests."""
    tmp_path = tmp_path_factory.mktemp("written")
    return write_run(
        tmp_path / "plan",
        command="plan",
        scenario=_scenario(tmp_path),
        results=_results(),
        options={"seed": 0, "out": tmp_path / "plan"},
    )


def _only(model: str, **frames: pd.DataFrame) -> list[ModelResult]:
    return [
        ModelResult(
            model=model,
            status=Status.OPTIMAL,
            objective=1.0,
            bound=1.0,
            solve_seconds=0.0,
            solver="highs",
            frames=dict(frames),
            explanation=Explanation("Done."),
        )
    ]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "store"
    monkeypatch.setenv("OPTIM_RUNS", str(folder))
    return folder


def test_run_folder_holds_every_output(written: Path) -> None:
    out = written

    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "budget.csv",
            "coverage.csv",
            "funnel.csv",
            "headcount.csv",
            "revenue.csv",
            "plan.xlsx",
            "plan.json",
            "run.json",
            "explanation.txt",
            "report.html",
        ]
    )
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["command"] == "plan"
    assert run["options"] == {"seed": 0, "out": str(out)}
    assert run["scenario"] == {
        "source": str(out.parent / "scenario"),
        "digest": "sha256:abc123",
    }
    assert (run["company"], run["year"]) == ("Demo Industrial Supply", 2027)
    assert set(run["versions"]) == {
        "optim",
        "python",
        "ortools",
        "pulp",
        "highspy",
        "pandas",
        "numpy",
    }
    assert [(m["model"], m["status"]) for m in run["models"]] == [
        ("coverage", "optimal"),
        ("staffing", "feasible"),
    ]
    assert set(run["models"][1]) >= {"objective", "bound", "gap", "solver", "solve_seconds"}
    assert run["status"] == "feasible" and run["exit_code"] == 0
    assert datetime.fromisoformat(run["finished"]) >= datetime.fromisoformat(run["started"])
    assert run["total_seconds"] >= 0
    assert pd.read_csv(out / "revenue.csv")["total_revenue"].tolist() == [4.6e7]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # not private like a temp folder
    explanation = (out / "explanation.txt").read_text(encoding="utf-8")
    assert "The budget is binding: +1M buys 2.1M." in explanation
    summary = dict(
        (row[0].value, row[1].value)
        for row in openpyxl.load_workbook(out / "plan.xlsx")["Summary"].iter_rows(min_row=2)
    )
    assert summary["Plan budget"] == 2.0e7 and summary["staffing status"] == "feasible"


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(optim.runs, "write_xlsx", broken)
    parent = tmp_path / "new" / "deeper"

    with pytest.raises(RuntimeError, match="disk full"):
        write_run(parent / "plan", command="plan", scenario=None, results=_results(), options={})

    assert list(tmp_path.iterdir()) == []  # no run folder, no temp folder, no created parents


def test_a_failed_write_keeps_the_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_run(
        tmp_path / "plan",
        command="plan",
        scenario=None,
        results=_only("coverage", coverage=_coverage()),
        options={},
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    monkeypatch.setattr(optim.runs, "write_report", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_run(out, command="plan", scenario=None, results=_results(), options={})

    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_an_existing_run_folder_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    write_run(
        out, command="staff", scenario=None, results=_only("staff", hiring=_coverage()), options={}
    )
    write_run(
        out, command="coverage", scenario=None, results=_only("coverage", x=_revenue()), options={}
    )

    assert not (out / "hiring.csv").exists()
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["command"] == "coverage"
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_a_folder_that_is_not_a_run_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "budget 2027.xlsx").write_text("mine")

    with pytest.raises(RunFolderError, match="not a run folder"):
        write_run(tmp_path / "documents", command="plan", scenario=None, results=[], options={})

    assert (tmp_path / "documents" / "budget 2027.xlsx").read_text() == "mine"


def test_the_store_gives_every_run_its_own_id(store: Path) -> None:
    started = datetime(2027, 1, 15, 9, 30, 0)
    results = _only("coverage", coverage=_coverage())
    first = write_run(
        None, command="coverage", scenario=None, results=results, options={}, started=started
    )
    second = write_run(
        None, command="coverage", scenario=None, results=results, options={}, started=started
    )

    assert first == store.absolute() / "20270115-093000-coverage"
    assert second == store.absolute() / "20270115-093000-coverage-2"
    runs = list_runs()
    assert runs["id"].tolist() == [first.name, second.name]
    assert runs[["command", "status"]].values.tolist() == [["coverage", "optimal"]] * 2
    assert load_run(second.name).path == second
    assert load_run("latest").path == second


def test_load_run_reads_back_what_was_written(written: Path) -> None:
    out = written
    run = load_run(out)

    assert run.id == "plan"
    assert list(run.frames) == ["coverage", "revenue", "headcount", "budget", "funnel"]
    pd.testing.assert_frame_equal(run.frames["coverage"], _coverage(), check_dtype=False)
    pd.testing.assert_frame_equal(run.frames["headcount"], _headcount())
    assert [r["model"] for r in run.results] == ["coverage", "staffing"]
    assert run.results[1]["explanation"]["headline"] == "Plan meets the target."
    assert (
        run.explanation_lines()
        == (out / "explanation.txt").read_text(encoding="utf-8").splitlines()
    )


def test_load_run_says_clearly_when_there_is_no_run(tmp_path: Path, store: Path) -> None:
    with pytest.raises(RunNotFoundError, match="no run 'nope'"):
        load_run("nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunNotFoundError, match=r"run\.json is missing"):
        load_run(tmp_path / "empty")


def test_export_run_writes_each_format(written: Path, tmp_path: Path) -> None:
    run = load_run(written)
    out = tmp_path / "export"
    out.mkdir()

    assert export_run(run, fmt="xlsx", out=out).name == "plan.xlsx"
    assert export_run(run, fmt="json", out=out / "p.json").name == "p.json"
    one_chart = dataclasses.replace(run, frames={"revenue": run.frames["revenue"]})
    assert export_run(one_chart, fmt="html", out=out).name == "report.html"
    assert (out / "report.html").read_text(encoding="utf-8").count("<svg") == 1
    assert export_run(run, fmt="csv", out=out / "csv") == out / "csv"

    # the quote prefix is not added twice when a run is exported again
    csv_back = pd.read_csv(out / "csv" / "coverage.csv")
    assert csv_back["reason"][0] == '\'=HYPERLINK("http://x","y")'
    assert openpyxl.load_workbook(out / "plan.xlsx")["Coverage"]["F2"].value == (
        '=HYPERLINK("http://x","y")'
    )
    assert json.loads((out / "p.json").read_text(encoding="utf-8"))["frames"]["revenue"]


def test_report_draws_one_chart_per_table_and_escapes_text(written: Path) -> None:
    page = (written / "report.html").read_text(encoding="utf-8")

    assert page.count("<svg") == 4  # headcount, funnel, budget, revenue
    assert "<script" not in page
    assert f"Segment B ({EVIL.replace('<', '&lt;').replace('>', '&gt;')})" in page
    assert "plan budget, monthly average" in page  # the budget line from the scenario
    assert "src=" not in page and 'href="http' not in page


def test_report_skips_charts_whose_table_is_absent(tmp_path: Path) -> None:
    path = write_report(
        tmp_path / "report.html",
        title="Coverage only",
        summary=[],
        frames={"coverage": _coverage(), "revenue": _revenue()},
        explanation_lines=[],
    )

    assert path.read_text(encoding="utf-8").count("<svg") == 1


def test_report_draws_workload_balance_when_territories_exist(tmp_path: Path) -> None:
    territories = pd.DataFrame(
        {"client_id": ["c1", "c2", "c3"], "rep_id": ["r1", "r2", "r2"], "hours": [10.0, 4, 5]}
    )
    path = write_report(
        tmp_path / "report.html",
        title="Territories",
        summary=[],
        frames={"territories": territories},
        explanation_lines=[],
    )

    page = path.read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "Workload balance" in page
