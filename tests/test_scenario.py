"""Loading scenarios: typed tables, and every bad input located by file, row and column."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from textwrap import dedent
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml

from optim.scenario import (
    CLIENT_COLUMNS,
    MAX_PROBLEMS_PER_CHECK,
    PAIR_COLUMNS,
    TEAM_COLUMNS,
    Problem,
    Scenario,
    ScenarioError,
    describe,
    load_scenario,
)


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    return raised.value.problems


def only_problem(path: Path) -> Problem:
    problems = problems_of(path)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line containing `fragment`."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


# --- a valid scenario, typed -----------------------------------------------------------------


def test_clients_are_typed_in_contract_order(tiny_scenario: Scenario) -> None:
    clients = tiny_scenario.clients
    assert tuple(clients.columns) == CLIENT_COLUMNS
    assert list(clients["client_id"]) == ["C1", "C2", "C3", "C4"]
    assert list(clients["revenue_last_year"]) == [3_000_000.0, 500_000.0, 200_000.0, 0.0]
    assert clients["revenue_last_year"].dtype == "float64"
    assert list(clients["locked"]) == [True, False, False, False]
    assert clients["locked"].dtype == bool
    assert list(clients["owner"]) == ["R1", "R2", "", ""]
    assert list(clients["region"]) == ["North", "", "South", "North"]
    assert clients.loc[0, "lat"] == 55.75
    assert math.isnan(clients["lat"].iloc[1])
    assert list(clients.index) == [0, 1, 2, 3]


def test_team_defaults_and_several_directions(tiny_scenario: Scenario) -> None:
    team = tiny_scenario.team
    assert tuple(team.columns) == TEAM_COLUMNS
    assert list(team["fte"]) == [1.0, 0.5, 1.0]  # empty fte means a full-time position
    assert list(team["direction"]) == ["energy", "energy;retail", ""]
    assert list(team["name"]) == ["Anna", "Boris", ""]  # R3 is an open position


def test_pairs_are_typed(tiny_scenario: Scenario) -> None:
    pairs = tiny_scenario.pairs
    assert pairs is not None
    assert tuple(pairs.columns) == PAIR_COLUMNS
    assert list(pairs["hours"]) == [90.0, 25.0]
    assert list(pairs["cost"]) == [0.0, -1000.0]  # a negative cost is an affinity bonus


def test_pairs_are_optional(make_scenario: Any) -> None:
    assert load_scenario(make_scenario(pairs=None)).pairs is None


def test_config_is_validated(tiny_scenario: Scenario) -> None:
    config = tiny_scenario.config
    assert config.directions == ("energy", "retail")
    assert config.roles["hunter"].ramp == (0.3, 0.6)
    assert config.segments["A"].win_rate == 0.25
    assert config.plan is not None and config.plan.revenue_target == 10_000_000


def test_names_survive_unchanged(tiny_scenario: Scenario) -> None:
    names = list(tiny_scenario.clients["name"])
    assert names == ['Acme, "Best" Ltd', "=SUM(A1:A2)", "ООО «Ромашка»", "Prospect Co"]


def test_names_keep_their_spaces(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("Prospect Co", "  Prospect Co ")
    loaded = load_scenario(make_scenario(clients=clients))
    assert loaded.clients.loc[3, "name"] == "  Prospect Co "


def test_sections_a_command_does_not_use_are_optional(make_scenario: Any) -> None:
    scenario = dedent(
        """\
        directions: [energy, retail]
        roles:
          hunter: {monthly_cost: 1}
          account_manager: {monthly_cost: 1}
          key_account_manager: {monthly_cost: 1}
        segments:
          A: {avg_deal: 1, win_rate: 0.1, service_hours_per_year: 1}
          B: {avg_deal: 1, win_rate: 0.1, service_hours_per_year: 1}
        """
    )
    config = load_scenario(make_scenario(scenario=scenario)).config
    assert config.plan is None and config.funnel is None and config.motivation is None
    assert config.coverage.handoff_months == 6


def test_a_scenario_yaml_path_means_its_folder(make_scenario: Any) -> None:
    folder = make_scenario()
    assert load_scenario(folder / "scenario.yaml").source == folder.resolve()


def test_describe_counts(tiny_scenario: Scenario) -> None:
    facts = describe(tiny_scenario)
    assert facts["clients_by_status"] == {"prospect": 1, "new": 1, "active": 1, "key": 1}
    assert facts["clients_by_segment"] == {"A": 2, "B": 2}
    assert facts["clients_by_direction"] == {"energy": 2, "retail": 2}
    assert facts["revenue_last_year_by_status"] == {
        "prospect": 0.0,
        "new": 200_000.0,
        "active": 500_000.0,
        "key": 3_000_000.0,
    }
    assert facts["team_by_role"] == {
        "key_account_manager": 1,
        "hunter": 1,
        "account_manager": 1,
        "telesales": 0,
    }
    assert facts["fte_by_role"]["account_manager"] == 0.5
    totals = facts["totals"]
    assert (totals["clients"], totals["team"], totals["fte"]) == (4, 3, 2.5)
    assert (totals["revenue_last_year"], totals["potential"]) == (3_700_000.0, 7_400_000.0)
    assert (totals["open_positions"], totals["locked_clients"], totals["pairs"]) == (1, 1, 2)


# --- the digest ------------------------------------------------------------------------------


def test_digest_is_deterministic_and_follows_content(make_scenario: Any) -> None:
    first, again = load_scenario(make_scenario()), load_scenario(make_scenario())
    assert first.digest == again.digest
    assert len(first.digest) == 64 and int(first.digest, 16) >= 0
    changed = load_scenario(make_scenario(team=make_scenario.team.replace("Anna", "Anya")))
    assert changed.digest != first.digest
    assert load_scenario(make_scenario(pairs=None)).digest != first.digest


# --- missing files and folders ---------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    problem = only_problem(tmp_path / "nowhere")
    assert problem.file.endswith("nowhere")
    assert "no such folder" in problem.message


def test_missing_file_is_named(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(team=None))
    assert (problem.file, problem.row, problem.column) == ("team.csv", None, None)
    assert problem.message.startswith("missing")


def test_misnamed_file_is_pointed_at(make_scenario: Any) -> None:
    folder = make_scenario(pairs=None)
    (folder / "pair.csv").write_text(make_scenario.pairs, encoding="utf-8")
    problem = only_problem(folder)
    assert problem.file == "pair.csv"
    assert "did you mean pairs.csv" in problem.message


def test_not_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("client_id\n", encoding="utf-8")
    assert "not a scenario" in only_problem(path).message


# --- CSV structure ---------------------------------------------------------------------------


def test_missing_required_column(make_scenario: Any) -> None:
    team = "rep_id,name\nR1,Anna\nR2,Boris\nR3,\n"
    problem = only_problem(make_scenario(team=team))
    assert (problem.file, problem.row, problem.column) == ("team.csv", 1, "role")
    assert problem.message == "missing column 'role'"


def test_unknown_column_suggests_the_nearest(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace(",potential,", ",potentail,")
    problems = problems_of(make_scenario(clients=clients))
    unknown = next(p for p in problems if p.column == "potentail")
    assert (unknown.file, unknown.row) == ("clients.csv", 1)
    assert unknown.message == "unknown column 'potentail'; did you mean 'potential'?"
    assert any(p.column == "potential" and p.message.startswith("missing") for p in problems)


def test_duplicate_column(make_scenario: Any) -> None:
    team = "rep_id,name,role,role\nR1,Anna,hunter,hunter\nR2,Boris,hunter,\n"
    problem = only_problem(make_scenario(team=team))
    assert (problem.file, problem.row, problem.column) == ("team.csv", 1, "role")
    assert problem.message == "column 'role' appears twice"


def test_empty_table(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(pairs="client_id,rep_id,hours,cost\n"))
    assert (problem.file, problem.row) == ("pairs.csv", None)
    assert problem.message == "has no data rows, only the header"


def test_empty_file(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(pairs=""))
    assert problem.file == "pairs.csv"
    assert problem.message.startswith("is empty")


def test_row_with_too_many_values_is_located(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("Prospect Co", "Prospect, Co")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row) == ("clients.csv", 5)
    assert "13 values" in problem.message and "quote" in problem.message


def test_semicolon_separated_csv(make_scenario: Any) -> None:
    team = make_scenario.team.replace(",", ";")
    problem = only_problem(make_scenario(team=team, pairs=None))
    assert (problem.file, problem.row) == ("team.csv", 1)
    assert "separated by ';'" in problem.message


def test_non_utf8_csv(make_scenario: Any) -> None:
    clients = make_scenario.clients.encode("cp1251")  # Cyrillic name on line 4
    problem = only_problem(make_scenario(clients=clients, pairs=None))
    assert (problem.file, problem.row) == ("clients.csv", 4)
    assert "not UTF-8" in problem.message


def test_utf8_with_bom_is_read(make_scenario: Any) -> None:
    clients = b"\xef\xbb\xbf" + make_scenario.clients.encode()
    loaded = load_scenario(make_scenario(clients=clients))
    assert loaded.clients.columns[0] == "client_id"


def test_blank_lines_keep_row_numbers(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("\nC4,", "\n\nC4,").replace(",prospect,", ",lead,")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.row, problem.column) == (6, "status")


# --- CSV cells -------------------------------------------------------------------------------


def test_duplicate_client_id(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("\nC3,", "\nC1,")
    problem = only_problem(make_scenario(clients=clients, pairs=None))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 4, "client_id")
    assert problem.message == "client_id 'C1' appears again (first on row 2)"


def test_duplicate_rep_id(make_scenario: Any) -> None:
    team = make_scenario.team.replace("\nR3,", "\nR2,")
    problem = only_problem(make_scenario(team=team))
    assert (problem.file, problem.row, problem.column) == ("team.csv", 4, "rep_id")


def test_empty_required_value(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("C4,Prospect Co,B,", "C4,Prospect Co,,")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 5, "segment")
    assert problem.message == "empty: a value is required"


def test_negative_money(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("500000,800000", "-500000,800000")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 3, "revenue_last_year")
    assert problem.message == "must be 0 or more (got -500000)"


def test_negative_hours(make_scenario: Any) -> None:
    pairs = make_scenario.pairs.replace("C2,R2,25,", "C2,R2,-25,")
    problem = only_problem(make_scenario(pairs=pairs))
    assert (problem.file, problem.row, problem.column) == ("pairs.csv", 3, "hours")


def test_not_a_number_with_decimal_comma(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace(",600000,", ',"600000,5",')
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 5, "potential")
    assert "decimal separator" in problem.message


def test_unknown_status_suggests(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace(",active,", ",Active,")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 3, "status")
    assert problem.message == "unknown status 'Active'; did you mean 'active'?"


def test_unknown_segment(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("C4,Prospect Co,B,", "C4,Prospect Co,C,")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 5, "segment")
    assert problem.message == "unknown segment 'C'; expected one of A, B"


def test_segments_section_missing(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(set={"segments": make_scenario.REMOVE}))
    assert (problem.file, problem.column) == ("scenario.yaml", "segments")
    assert "clients.csv names segments (A, B)" in problem.message


def test_unknown_direction_in_clients(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("A,energy,South", "A,enrgy,South")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 4, "direction")
    assert problem.message == "unknown direction 'enrgy'; did you mean 'energy'?"


def test_unknown_direction_among_several_in_team(make_scenario: Any) -> None:
    team = make_scenario.team.replace("energy;retail", "energy; retial")
    problem = only_problem(make_scenario(team=team))
    assert (problem.file, problem.row, problem.column) == ("team.csv", 3, "direction")
    assert problem.message == "unknown direction 'retial'; did you mean 'retail'?"


def test_team_directions_are_normalised(make_scenario: Any) -> None:
    team = make_scenario.team.replace("energy;retail", " retail ; energy;retail;")
    loaded = load_scenario(make_scenario(team=team))
    assert loaded.team.loc[1, "direction"] == "retail;energy"


def test_owner_must_be_in_team(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace(",R2,", ",R22,")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 3, "owner")
    assert problem.message.startswith("'R22' is not in team.csv rep_id")


def test_locked_needs_an_owner(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace(",,no,", ",,yes,")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.file, problem.row, problem.column) == ("clients.csv", 4, "locked")
    assert problem.message == "locked, but there is no owner to stay with"


def test_locked_words(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace(",R2,,", ",R2,1,").replace(",true,", ",maybe,")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.row, problem.column) == (2, "locked")
    clients = make_scenario.clients.replace(",R2,,", ",R2,YES,")
    loaded = load_scenario(make_scenario(clients=clients))
    assert list(loaded.clients["locked"]) == [True, True, False, False]


def test_latitude_range(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace("59.93,30.33", "95.5,30.33")
    problem = only_problem(make_scenario(clients=clients))
    assert (problem.row, problem.column) == (4, "lat")
    assert problem.message == "must be between -90 and 90 (got 95.5)"


def test_fte_range(make_scenario: Any) -> None:
    team = make_scenario.team.replace(",0.5,", ",0,")
    problem = only_problem(make_scenario(team=team))
    assert (problem.file, problem.row, problem.column) == ("team.csv", 3, "fte")
    assert problem.message == "must be more than 0 and at most 1 (got 0)"


def test_unknown_role_in_team(make_scenario: Any) -> None:
    team = make_scenario.team.replace(",hunter,", ",huntr,")
    problem = only_problem(make_scenario(team=team))
    assert (problem.file, problem.row, problem.column) == ("team.csv", 4, "role")
    assert problem.message == "unknown role 'huntr'; did you mean 'hunter'?"


def test_team_role_must_be_described_in_roles(make_scenario: Any) -> None:
    team = make_scenario.team.replace(",hunter,", ",telesales,")
    loaded = load_scenario(make_scenario(team=team))
    assert list(loaded.team["role"])[-1] == "telesales"
    team = make_scenario.team.replace(",hunter,", ",assistant,")
    problem = only_problem(make_scenario(team=team))
    assert (problem.file, problem.row, problem.column) == ("team.csv", 4, "role")
    assert problem.message == (
        "role 'assistant' is not described under roles in scenario.yaml (add roles.assistant)"
    )


def test_roles_section_missing(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(set={"roles": make_scenario.REMOVE}))
    assert (problem.file, problem.row, problem.column) == ("scenario.yaml", None, "roles")
    assert problem.message == (
        "team.csv names roles (account_manager, hunter, key_account_manager) but roles lists none"
    )


def test_pairs_must_name_known_clients_and_reps(make_scenario: Any) -> None:
    pairs = make_scenario.pairs + "C9,R1,10,0\nC3,R7,10,0\n"
    problems = problems_of(make_scenario(pairs=pairs))
    located = [(p.file, p.row, p.column) for p in problems]
    assert located == [("pairs.csv", 4, "client_id"), ("pairs.csv", 5, "rep_id")]


def test_duplicate_pair(make_scenario: Any) -> None:
    pairs = make_scenario.pairs + "C1,R1,80,0\n"
    problem = only_problem(make_scenario(pairs=pairs))
    assert (problem.file, problem.row, problem.column) == ("pairs.csv", 4, "rep_id")
    assert problem.message == "the pair C1 / R1 appears again (first on row 2)"


def test_many_bad_rows_are_summarised(make_scenario: Any) -> None:
    rows = "".join(f"P{i},Co {i},B,retail,,lead,0,1,,,,\n" for i in range(30))
    problems = problems_of(make_scenario(clients=make_scenario.clients + rows, pairs=None))
    assert len(problems) == MAX_PROBLEMS_PER_CHECK + 1
    assert problems[0].row == 6
    assert problems[-1].row is None
    assert problems[-1].message.startswith(f"{30 - MAX_PROBLEMS_PER_CHECK} more rows like this")


def test_every_problem_is_collected(make_scenario: Any) -> None:
    clients = make_scenario.clients.replace(",600000,", ",lots,")
    team = make_scenario.team.replace(",0.5,", ",2,")
    problems = problems_of(make_scenario(clients=clients, team=team))
    located = [(p.file, p.row, p.column) for p in problems]
    assert located == [("clients.csv", 5, "potential"), ("team.csv", 3, "fte")]


# --- scenario.yaml ---------------------------------------------------------------------------


def test_unknown_key_suggests_the_nearest(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("revenue_target:", "revenue_targt:")
    problem = only_problem(make_scenario(scenario=text))  # no separate "missing" problem
    assert problem.message == "unknown key 'revenue_targt' in plan; did you mean 'revenue_target'?"
    assert (problem.file, problem.row, problem.column) == (
        "scenario.yaml",
        line_of(text, "revenue_targt"),
        "plan.revenue_targt",
    )


def test_unknown_key_in_a_free_form_section(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("win_rate: 0.3", "winrate: 0.3")
    text = text.replace("  telesales:", "  telesale:")
    problems = problems_of(make_scenario(scenario=text))
    by_column = {p.column: p for p in problems}
    assert by_column["segments.B.winrate"].message == (
        "unknown key 'winrate' in segments.B; did you mean 'win_rate'?"
    )
    assert by_column["segments.B.winrate"].row == line_of(text, "winrate")
    assert by_column["roles.telesale"].message == (
        "unknown key 'telesale' in roles; did you mean 'telesales'?"
    )
    assert by_column["roles.telesale"].row == line_of(text, "telesale:")


def test_unknown_top_level_key(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("currency:", "curency:")
    problem = only_problem(make_scenario(scenario=text))
    assert problem.message == "unknown key 'curency'; did you mean 'currency'?"
    assert (problem.row, problem.column) == (2, "curency")


def test_rate_outside_zero_one(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("win_rate: 0.25", "win_rate: 1.25")
    problem = only_problem(make_scenario(scenario=text))
    assert (problem.file, problem.row, problem.column) == (
        "scenario.yaml",
        line_of(text, "1.25"),
        "segments.A.win_rate",
    )
    assert problem.message == "must be less than or equal to 1 (got 1.25)"


def test_list_item_is_located(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("ramp: [0.3, 0.6]", "ramp: [0.3, x]")
    problem = only_problem(make_scenario(scenario=text))
    assert (problem.row, problem.column) == (line_of(text, "ramp"), "roles.hunter.ramp[1]")


def test_missing_required_key(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("directions: [energy, retail]\n", "")
    problems = problems_of(make_scenario(scenario=text))
    assert problems[0].file == "scenario.yaml"
    assert (problems[0].column, problems[0].message) == ("directions", "missing key 'directions'")


def test_whole_section_check_is_located(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace(
        "by_direction: {energy: 0.6, retail: 0.4}", "seasonality: [0.5, 0.5]"
    )
    problem = only_problem(make_scenario(scenario=text))
    assert (problem.row, problem.column) == (line_of(text, "seasonality"), "plan.seasonality")
    assert problem.message == "plan.seasonality has 2 values, months is 12"


def test_unknown_direction_in_plan(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("retail: 0.4}", "retial: 0.4}")
    problem = only_problem(make_scenario(scenario=text))
    assert (problem.row, problem.column) == (line_of(text, "retial"), "plan.by_direction.retial")
    assert problem.message == "unknown key 'retial' in plan.by_direction; did you mean 'retail'?"


def test_literal_value_suggests(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(set={"solver": {"name": "higs"}}))
    assert problem.column == "solver.name"
    assert problem.message.endswith("did you mean 'highs'?")


def test_invalid_yaml_syntax(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("months: 12", "months: [12")
    problem = only_problem(make_scenario(scenario=text))
    assert problem.file == "scenario.yaml"
    assert problem.message.startswith("invalid YAML")
    assert problem.row is not None and problem.row >= line_of(text, "months")


def test_duplicate_yaml_key(make_scenario: Any) -> None:
    text = make_scenario.scenario + "months: 6\n"
    problem = only_problem(make_scenario(scenario=text))
    assert (problem.row, problem.column) == (len(text.splitlines()), "months")
    assert problem.message == f"key 'months' appears twice (lines 4 and {problem.row})"


def test_yaml_that_is_not_a_mapping(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(scenario="- energy\n- retail\n"))
    assert problem.file == "scenario.yaml"
    assert problem.message.startswith("must be a mapping")


def test_yaml_and_csv_problems_together(make_scenario: Any) -> None:
    text = make_scenario.scenario.replace("handoff_months: 6", "handoff_months: -1")
    clients = make_scenario.clients.replace(",key,", ",vip,")
    problems = problems_of(make_scenario(scenario=text, clients=clients))
    located = [(p.file, p.row, p.column) for p in problems]
    assert located == [
        ("scenario.yaml", line_of(text, "handoff"), "coverage.handoff_months"),
        ("clients.csv", 2, "status"),
    ]


# --- workbooks -------------------------------------------------------------------------------


def _cell(text: str) -> Any:
    """A CSV cell as an analyst's workbook holds it: numbers as numbers."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        return [row for key, value in data.items() for row in _flatten(value, f"{prefix}{key}.")]
    if isinstance(data, list):
        return [(prefix[:-1], yaml.safe_dump(data, default_flow_style=True).strip())]
    return [(prefix[:-1], data)]


def write_workbook(folder: Path, path: Path, *, form: str) -> Path:
    """The folder's scenario as one workbook; the scenario sheet as key/value or YAML lines."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "scenario"
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    if form == "key_value":
        sheet.append(["key", "value"])
        for key, value in _flatten(yaml.safe_load(text)):
            sheet.append([key, value])
    else:
        for line in text.splitlines():
            sheet.append([line])
    for name in ("clients", "team", "pairs"):
        csv = folder / f"{name}.csv"
        if csv.exists():
            table = book.create_sheet(name)
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False, header=None)
            for row in frame.itertuples(index=False):
                table.append([_cell(v) if v != "" else None for v in row])
    book.save(path)
    return path


@pytest.mark.parametrize("form", ["key_value", "yaml_lines"])
def test_workbook_gives_the_same_scenario(make_scenario: Any, tmp_path: Path, form: str) -> None:
    folder = make_scenario()
    from_folder = load_scenario(folder)
    from_book = load_scenario(write_workbook(folder, tmp_path / "book.xlsx", form=form))
    assert from_book.config == from_folder.config
    pd.testing.assert_frame_equal(from_book.clients, from_folder.clients)
    pd.testing.assert_frame_equal(from_book.team, from_folder.team)
    assert from_book.pairs is not None and from_folder.pairs is not None
    pd.testing.assert_frame_equal(from_book.pairs, from_folder.pairs)
    assert from_book.source == (tmp_path / "book.xlsx").resolve()
    assert len(from_book.digest) == 64


def test_workbook_problems_name_the_sheet(make_scenario: Any, tmp_path: Path) -> None:
    folder = make_scenario(team=make_scenario.team.replace(",0.5,", ",1.5,"))
    problem = only_problem(write_workbook(folder, tmp_path / "book.xlsx", form="yaml_lines"))
    assert (problem.file, problem.row, problem.column) == ("book.xlsx:team", 3, "fte")


def test_workbook_yaml_lines_locate_keys_by_row(make_scenario: Any, tmp_path: Path) -> None:
    text = make_scenario.scenario.replace("revenue_target:", "revenue_targt:")
    folder = make_scenario(scenario=text)
    problem = only_problem(write_workbook(folder, tmp_path / "book.xlsx", form="yaml_lines"))
    assert (problem.file, problem.row) == ("book.xlsx:scenario", line_of(text, "revenue_targt"))
    assert problem.message.endswith("did you mean 'revenue_target'?")


def test_workbook_key_value_locates_keys_by_row(make_scenario: Any, tmp_path: Path) -> None:
    folder = make_scenario(set={"segments.A.win_rate": 2})
    path = write_workbook(folder, tmp_path / "book.xlsx", form="key_value")
    rows = [r[0].value for r in openpyxl.load_workbook(path)["scenario"].iter_rows()]
    problem = only_problem(path)
    assert problem.file == "book.xlsx:scenario"
    assert (problem.row, problem.column) == (
        rows.index("segments.A.win_rate") + 1,
        "segments.A.win_rate",
    )


def test_workbook_key_value_flow_values_and_duplicates(tmp_path: Path, make_scenario: Any) -> None:
    folder = make_scenario()
    path = write_workbook(folder, tmp_path / "book.xlsx", form="key_value")
    book = openpyxl.load_workbook(path)
    sheet = book["scenario"]
    sheet.append(["# a comment row is skipped", "anything"])
    sheet.append(["company", "Other"])  # set twice
    sheet.append(["segments.A.growth", "{covered: 0.1, uncovered: 0.0}"])
    book.save(path)
    problem = only_problem(path)
    assert (problem.row, problem.column) == (sheet.max_row - 1, "company")
    assert problem.message.startswith("set twice")
    sheet.delete_rows(sheet.max_row - 1)
    book.save(path)
    assert load_scenario(path).config.segments["A"].growth.covered == 0.1


def test_workbook_missing_sheet(make_scenario: Any, tmp_path: Path) -> None:
    path = write_workbook(make_scenario(), tmp_path / "book.xlsx", form="yaml_lines")
    book = openpyxl.load_workbook(path)
    book["team"].title = "Teams"
    book.save(path)
    problem = only_problem(path)
    assert problem.file == "book.xlsx"
    assert problem.message == "has no sheet 'team' (found sheet 'Teams': rename it)"


def test_workbook_that_is_not_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_text("client_id,name\n", encoding="utf-8")
    problem = only_problem(path)
    assert problem.file == "book.xlsx"
    assert problem.message.startswith("not a readable .xlsx workbook")


def test_controllability_is_a_share(make_scenario: Any) -> None:
    motivation = {
        "kpis": {"new_client_revenue": {"priority": 0.6}, "meetings_set": {"priority": 0.4}},
        "controllability": {"hunter": {"new_client_revenue": 1.5, "meetings_set": 0.3}},
    }
    problem = only_problem(make_scenario(set={"motivation": motivation}))
    assert problem.column == "motivation.controllability.hunter.new_client_revenue"
    assert problem.message == "must be between 0 and 1 (got 1.5)"


def test_controllability_names_known_roles_and_kpis(make_scenario: Any) -> None:
    motivation = {
        "kpis": {"new_client_revenue": {"priority": 1.0}},
        "controllability": {"hunters": {"new_client_revenu": 1.0}},
    }
    problems = problems_of(make_scenario(set={"motivation": motivation}))
    messages = {p.column: p.message for p in problems}
    assert messages == {
        "motivation.controllability.hunters": (
            "unknown key 'hunters' in motivation.controllability; did you mean 'hunter'?"
        ),
        "motivation.controllability.hunters.new_client_revenu": (
            "unknown key 'new_client_revenu' in motivation.controllability.hunters; "
            "did you mean 'new_client_revenue'?"
        ),
    }


def test_unknown_key_of_a_fixed_mapping(make_scenario: Any) -> None:
    allowed = {"activ": ["account_manager", "none"]}
    problem = only_problem(make_scenario(set={"coverage.allowed": allowed}))
    assert problem.column == "coverage.allowed.activ"
    assert problem.message == "unknown key 'activ' in coverage.allowed; did you mean 'active'?"


def test_empty_yaml(make_scenario: Any) -> None:
    problem = only_problem(make_scenario(scenario="# nothing yet\n"))
    assert (problem.file, problem.message) == (
        "scenario.yaml",
        "is empty: it needs at least `directions`",
    )


def _save_formula_result(path: Path, sheet_xml: str, formula: str, value: str) -> None:
    """Store the result of a formula the way Excel does when it saves (openpyxl never does)."""
    with zipfile.ZipFile(path) as book:
        entries = {name: book.read(name) for name in book.namelist()}
    xml = entries[sheet_xml].decode()
    entries[sheet_xml] = xml.replace(
        f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>"
    ).encode()
    with zipfile.ZipFile(path, "w") as book:
        for name, data in entries.items():
            book.writestr(name, data)


def test_workbook_formulas_give_their_saved_values(make_scenario: Any, tmp_path: Path) -> None:
    path = write_workbook(make_scenario(), tmp_path / "book.xlsx", form="key_value")
    book = openpyxl.load_workbook(path)
    book["clients"]["H5"] = "=6*100000"  # C4's potential, a formula
    book.save(path)
    titles = [sheet.title for sheet in book.worksheets]
    sheet_xml = f"xl/worksheets/sheet{titles.index('clients') + 1}.xml"
    _save_formula_result(path, sheet_xml, "6*100000", "600000")
    clients = load_scenario(path).clients
    assert clients.loc[3, "potential"] == 600_000.0  # the value Excel saved
    assert clients.loc[1, "name"] == "=SUM(A1:A2)"  # a formula never calculated: its text
