"""The optim command line: exit codes, outputs, errors, explanations (SPEC §5)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main

TINY = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "tiny"


def _copy_tiny(tmp_path: Path, **changes: Any) -> Path:
    """The hand-solved tiny fixture, with dotted YAML keys changed."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    path = folder / "scenario.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_prints_what_was_read() -> None:
    result = _run("validate", str(TINY))
    assert result.exit_code == 0
    assert "prospect 2" in result.output
    assert "key 1" in result.output
    assert "hunter 1" in result.output


def test_validate_lists_every_problem_with_file_row_and_column(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    clients = (folder / "clients.csv").read_text(encoding="utf-8")
    clients = clients.replace("A2,АО «Актив-2»,S,main", "A2,АО «Актив-2»,Z,main")
    clients = clients.replace(
        "N1,New Co,S,main,Moscow,new,3000000", "N1,New Co,S,main,Moscow,new,-5"
    )
    (folder / "clients.csv").write_text(clients, encoding="utf-8")
    result = _run("validate", str(folder))
    assert result.exit_code == 2
    assert "clients.csv, row 4, column segment" in result.output
    assert "clients.csv, row 5, column revenue_last_year" in result.output


def test_staff_writes_every_table_and_the_workbook(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _run("staff", str(TINY), "--out", str(out))
    assert result.exit_code == 0, result.output
    for name in ("headcount", "hiring", "budget", "funnel", "coverage"):
        assert (out / f"{name}.csv").exists()
    sheets = openpyxl.load_workbook(out / "plan.xlsx", read_only=True).sheetnames
    for sheet in ("Summary", "Headcount", "Hiring", "Budget", "Funnel", "Coverage", "Explanation"):
        assert sheet in sheets
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert {m["model"]: m["status"] for m in run["models"]}["staffing"] == "optimal"
    budget = pd.read_csv(out / "budget.csv", encoding="utf-8-sig")
    # The README of the fixture works this out by hand: the team today, nobody hired.
    assert budget["total_cost"].sum() == pytest.approx(11_280_000)


def test_budget_one_unit_short_is_infeasible_with_a_diagnosis(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path, **{"plan.budget": 11_279_999})
    out = tmp_path / "run"
    result = _run("staff", str(folder), "--out", str(out))
    assert result.exit_code == 3
    assert "11,280,000" in result.output  # the budget that would do
    explained = _run("explain", str(out))
    assert explained.exit_code == 0
    assert "infeasible" in explained.output
    assert "budget of 11,280,000" in explained.output


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    (folder / "team.csv").write_text("rep_id,name,role\nR1,Ann,wizard\n", encoding="utf-8")
    out = tmp_path / "run"
    result = _run("staff", str(folder), "--out", str(out))
    assert result.exit_code == 2
    assert "team.csv, row 2, column role" in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny"]


def test_missing_section_is_bad_input_for_the_command_that_needs_it(tmp_path: Path) -> None:
    folder = _copy_tiny(tmp_path)
    data = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    del data["plan"]
    (folder / "scenario.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert _run("coverage", str(folder), "--out", str(tmp_path / "c")).exit_code == 0
    result = _run("staff", str(folder), "--out", str(tmp_path / "s"))
    assert result.exit_code == 2
    assert "scenario.yaml needs plan" in result.output
    assert not (tmp_path / "s").exists()


def test_json_output_is_machine_readable(tmp_path: Path) -> None:
    result = _run("staff", str(TINY), "--out", str(tmp_path / "run"), "--json")
    payload = json.loads(result.output)
    assert payload["exit_code"] == 0
    assert [r["model"] for r in payload["results"]] == ["coverage", "staffing"]
    assert payload["results"][1]["gap"] == 0.0


def test_explain_a_client(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _run("staff", str(TINY), "--out", str(out))
    result = _run("explain", str(out), "--client", "A2")
    assert result.exit_code == 0
    assert "covered_by: account_manager" in result.output
    missing = _run("explain", str(out), "--client", "NOPE")
    assert missing.exit_code == 2


def test_same_seed_same_plan(tmp_path: Path) -> None:
    for name in ("a", "b"):
        _run("staff", str(TINY), "--out", str(tmp_path / name), "--seed", "3")
    for table in ("headcount", "hiring", "funnel", "budget"):
        first = (tmp_path / "a" / f"{table}.csv").read_bytes()
        assert first == (tmp_path / "b" / f"{table}.csv").read_bytes()


@pytest.mark.parametrize("solver", ["highs", "cbc", "ortools"])
def test_every_solver_gives_the_hand_computed_plan(tmp_path: Path, solver: str) -> None:
    out = tmp_path / solver
    result = _run("staff", str(TINY), "--out", str(out), "--solver", solver, "--quiet")
    assert result.exit_code == 0
    budget = pd.read_csv(out / "budget.csv", encoding="utf-8-sig")
    assert budget["total_cost"].sum() == pytest.approx(11_280_000)


def test_plan_without_argument_runs_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = _run("plan", "--out", str(out), "--quiet", "--time-limit", "20", "--gap", "0.01")
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["company"] == "Demo Industrial Supply"
    statuses = {m["model"]: m["status"] for m in run["models"]}
    assert statuses["coverage"] == statuses["staffing"] == "optimal"
    # Territories stop once within the 1% gap asked for: optimal or feasible, never worse.
    assert statuses["territory"] in ("optimal", "feasible")
    territories = pd.read_csv(out / "territories.csv", encoding="utf-8-sig")
    assert territories["client_id"].is_unique


def test_quota_pin_rebalances_the_rest_and_keeps_the_total(tmp_path: Path) -> None:
    free = tmp_path / "free"
    assert _run("quota", str(TINY), "--out", str(free), "--quiet").exit_code == 0
    pinned = tmp_path / "pinned"
    result = _run("quota", str(TINY), "--out", str(pinned), "--quiet", "--pin", "R4=16000000")
    assert result.exit_code == 0, result.output
    before = pd.read_csv(free / "quota_people.csv", encoding="utf-8-sig").set_index("rep_id")
    after = pd.read_csv(pinned / "quota_people.csv", encoding="utf-8-sig").set_index("rep_id")
    assert after.loc["R4", "quota"] == pytest.approx(16_000_000)
    assert after["quota"].sum() == pytest.approx(before["quota"].sum(), abs=0.01)
    others = after.index != "R4"
    moved = (after["quota"] - before["quota"])[others].sum()
    assert moved == pytest.approx(before.loc["R4", "quota"] - 16_000_000, abs=0.01)


def test_quota_pins_that_cannot_hold_exit_3_and_name_the_pins(tmp_path: Path) -> None:
    result = _run(
        "quota",
        str(TINY),
        "--out",
        str(tmp_path / "bad"),
        "--pin",
        "R4=30000000",
        "--pin",
        "R3=20000000",
    )
    assert result.exit_code == 3
    assert "R4" in result.output and "R3" in result.output


def test_a_pin_that_is_not_id_equals_amount_is_bad_input(tmp_path: Path) -> None:
    result = _run("quota", str(TINY), "--out", str(tmp_path / "x"), "--pin", "R4")
    assert result.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_motivate_writes_weights_that_sum_to_one_per_role(tmp_path: Path) -> None:
    out = tmp_path / "m"
    assert _run("motivate", str(TINY), "--out", str(out), "--quiet").exit_code == 0
    weights = pd.read_csv(out / "motivation.csv", encoding="utf-8-sig")
    paid = weights[weights["weight"] > 0].groupby("role")["weight"].sum()
    assert not paid.empty
    assert paid.to_numpy() == pytest.approx(1.0)


def test_assign_writes_territories_workload_and_moves(tmp_path: Path) -> None:
    """Two account managers 10 degrees apart on the equator, no plan (staffing is skipped).

    C2 sits by R2 and moves there (a third of the revenue, under the 50% cap); C3 sits by R1
    but is locked to its owner R2.
    """
    folder = tmp_path / "farmers"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(
        "company: Two Farmers\n"
        "directions: [main]\n"
        "roles:\n"
        "  account_manager: {monthly_cost: 100000, hours_per_month: 10}\n"
        "segments:\n"
        "  S: {avg_deal: 1000000, win_rate: 0.5, service_hours_per_year: 10}\n"
        "coverage:\n"
        "  allowed: {active: [account_manager], key: [none]}\n"
        "territory:\n"
        "  balance: null\n"
        "  max_moves: 0.5\n"
        "  travel: {cost_per_km: 15, visits_per_year: 4}\n",
        encoding="utf-8",
    )
    (folder / "clients.csv").write_text(
        "client_id,name,segment,direction,region,status,revenue_last_year,potential,owner,"
        "locked,lat,lon\n"
        "C1,One,S,main,East,active,100,100,R1,false,0,0\n"
        "C2,Two,S,main,East,active,100,100,R1,false,0,9.5\n"
        "C3,Three,S,main,West,active,100,100,R2,true,0,0.5\n",
        encoding="utf-8",
    )
    (folder / "team.csv").write_text(
        "rep_id,name,role,direction,region,fte,lat,lon\n"
        "R1,Anna,account_manager,main,East,1,0,0\n"
        "R2,Boris,account_manager,,West,1,0,10\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = _run("assign", str(folder), "--out", str(out), "--time-limit", "10", "--quiet")
    assert result.exit_code == 0, result.output
    territories = pd.read_csv(out / "territories.csv", encoding="utf-8-sig")
    assert territories["client_id"].tolist() == ["C1", "C2", "C3"]
    assert territories["rep_id"].tolist() == ["R1", "R2", "R2"]
    assert territories["moved"].tolist() == [False, True, False]
    assert territories["reason"].str.startswith("locked").tolist() == [False, False, True]
    workload = pd.read_csv(out / "workload.csv", encoding="utf-8-sig").set_index("rep_id")
    assert workload["clients"].to_dict() == {"R1": 1, "R2": 2}
    assert workload["workload_hours"].to_dict() == {"R1": 10, "R2": 20}
    moves = pd.read_csv(out / "moves.csv", encoding="utf-8-sig").set_index("role")
    assert moves.loc["all", "moved_share"] == pytest.approx(1 / 3)
    assert moves.loc["all", "moved_share"] <= moves.loc["all", "cap_share"] == 0.5
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    statuses = {m["model"]: m["status"] for m in run["models"]}
    assert statuses == {"coverage": "optimal", "territory": "optimal"}
