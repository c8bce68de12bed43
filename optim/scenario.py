"""Reading a scenario (a folder or one .xlsx workbook) into typed, validated objects.

This is the one place that reads input files. Every problem found is collected with the file,
row and column it concerns, and reported together (SPEC §2, §5: exit code 2). The input
contract, for analysts, is docs/scenario.md.

The checks live beside it: scenario.yaml in `optim.scenario_yaml`, the tables in
`optim.scenario_tables`, the files and columns expected in `optim.scenario_layout`, and
the problem collector in `optim.problems`. Every name other code uses is importable from here.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from optim import scenario_workbook
from optim.problems import MAX_PROBLEMS_PER_CHECK, Problem, Problems
from optim.scenario_layout import (
    CLIENT_COLUMNS,
    COLUMNS,
    FILES,
    OPTIONAL_FILES,
    PAIR_COLUMNS,
    REQUIRED_COLUMNS,
    TEAM_COLUMNS,
    WORKBOOK_SUFFIXES,
)
from optim.scenario_tables import (
    DIRECTION_SEPARATOR,
    FALSE_WORDS,
    MAX_IDS_TO_SUGGEST,
    TRUE_WORDS,
    Names,
    Table,
    csv_table,
    table_from_frame,
    typed_clients,
    typed_pairs,
    typed_team,
)
from optim.scenario_yaml import Document, parse_yaml, validate_config
from optim.schema import ROLE_KEYS, STATUSES, ScenarioConfig

# The constants and Problem are re-exported: code and tests import them from optim.scenario.
__all__ = [
    "CLIENT_COLUMNS",
    "COLUMNS",
    "DIRECTION_SEPARATOR",
    "FALSE_WORDS",
    "FILES",
    "MAX_IDS_TO_SUGGEST",
    "MAX_PROBLEMS_PER_CHECK",
    "OPTIONAL_FILES",
    "PAIR_COLUMNS",
    "REQUIRED_COLUMNS",
    "TEAM_COLUMNS",
    "TRUE_WORDS",
    "WORKBOOK_SUFFIXES",
    "Problem",
    "Scenario",
    "ScenarioError",
    "describe",
    "load_scenario",
]


class ScenarioError(Exception):
    """The scenario cannot be used; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the YAML configuration and the typed tables."""

    config: ScenarioConfig
    clients: pd.DataFrame
    team: pd.DataFrame
    pairs: pd.DataFrame | None
    source: Path
    digest: str


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario folder or workbook; raise ScenarioError listing all problems.

    `path` is a folder holding scenario.yaml, clients.csv, team.csv and optionally pairs.csv,
    or one .xlsx workbook with the sheets scenario, clients, team and optionally pairs.
    """
    source = Path(path).expanduser().resolve()
    if source.is_file() and source.name == FILES["scenario"]:
        source = source.parent  # `optim validate demo/scenario.yaml` means the folder
    problems = Problems()
    inputs = _read_inputs(source, problems)
    config = validate_config(inputs.document, problems) if inputs.document else None
    names = Names.of(config, inputs.document)
    tables = inputs.tables
    team = typed_team(tables["team"], names, problems) if "team" in tables else None
    rep_ids = _ids(team, tables.get("team"), "rep_id")
    clients = (
        typed_clients(tables["clients"], names, rep_ids, problems) if "clients" in tables else None
    )
    pairs = None
    if "pairs" in tables:
        client_ids = _ids(clients, tables.get("clients"), "client_id")
        pairs = typed_pairs(tables["pairs"], client_ids, rep_ids, problems)
    if problems.items or config is None or clients is None or team is None:
        raise ScenarioError(problems.in_order() or [Problem(str(source), "cannot be read")])
    return Scenario(config, clients, team, pairs, source, inputs.digest)


def _ids(frame: pd.DataFrame | None, table: Table | None, column: str) -> pd.Series | None:
    """The ids other tables may name; None (no check) when some rows could not be read."""
    if frame is None or table is None or not table.complete:
        return None
    return frame[column]


def describe(scenario: Scenario) -> dict[str, Any]:
    """What was read, as counts and totals (`optim validate` prints it; JSON-ready).

    Each entry is a number, a string or one flat mapping of names to numbers.
    """
    clients, team, config = scenario.clients, scenario.team, scenario.config

    def per(column: str, order: Iterable[str]) -> dict[str, int]:
        found = clients[column].value_counts()
        return {str(key): int(found.get(key, 0)) for key in order}

    revenue = clients.groupby("status")["revenue_last_year"].sum()
    by_role = team.groupby("role")["fte"].agg(["count", "sum"])
    roles = [r for r in ROLE_KEYS if r in config.roles or r in by_role.index]
    return {
        "source": str(scenario.source),
        "digest": scenario.digest,
        "totals": {
            "clients": len(clients),
            "team": len(team),
            "fte": float(team["fte"].sum()),
            "open_positions": int((team["name"].str.strip() == "").sum()),
            "owned_clients": int((clients["owner"] != "").sum()),
            "locked_clients": int(clients["locked"].sum()),
            "revenue_last_year": float(clients["revenue_last_year"].sum()),
            "potential": float(clients["potential"].sum()),
            "pairs": 0 if scenario.pairs is None else len(scenario.pairs),
        },
        "clients_by_status": per("status", STATUSES),
        "clients_by_segment": per("segment", config.segments or sorted(set(clients["segment"]))),
        "clients_by_direction": per("direction", config.directions),
        "revenue_last_year_by_status": {s: float(revenue.get(s, 0.0)) for s in STATUSES},
        "team_by_role": {r: int(by_role["count"].get(r, 0)) for r in roles},
        "fte_by_role": {r: float(by_role["sum"].get(r, 0.0)) for r in roles},
    }


# --- reading the files -----------------------------------------------------------------------


@dataclass
class _Inputs:
    document: Document | None
    tables: dict[str, Table]
    digest: str


def _read_inputs(source: Path, problems: Problems) -> _Inputs:
    if source.is_dir():
        return _read_folder(source, problems)
    if source.suffix.lower() in WORKBOOK_SUFFIXES and source.is_file():
        return _read_workbook(source, problems)
    if not source.exists():
        problems.add(str(source), "no such folder or workbook")
    elif source.suffix.lower() == ".xls":
        problems.add(source.name, "old .xls format: save the workbook as .xlsx")
    else:
        problems.add(source.name, "not a scenario: give a folder or an .xlsx workbook")
    return _Inputs(None, {}, "")


def _digest(blobs: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(blobs):
        digest.update(name.encode() + b"\0" + len(blobs[name]).to_bytes(8, "big"))
        digest.update(blobs[name])
    return digest.hexdigest()


def _read_folder(folder: Path, problems: Problems) -> _Inputs:
    present = sorted(p.name for p in folder.iterdir() if p.is_file())
    blobs: dict[str, bytes] = {}
    for key, name in FILES.items():
        if name in present:
            try:
                blobs[name] = (folder / name).read_bytes()
            except OSError as error:
                problems.add(name, f"cannot be read: {error.strerror}")
            continue
        near = difflib.get_close_matches(name, present, n=1, cutoff=0.75)
        if key not in OPTIONAL_FILES:
            hint = f" (found {near[0]}: rename it)" if near else ""
            problems.add(name, f"missing: {folder} has no {name}{hint}")
        elif near:
            problems.add(near[0], f"is not read; did you mean {name}?")
    document = None
    if FILES["scenario"] in blobs:
        text = _decode(FILES["scenario"], blobs[FILES["scenario"]], problems)
        document = None if text is None else parse_yaml(FILES["scenario"], text, problems)
    tables = {}
    for key in COLUMNS:
        name = FILES[key]
        text = _decode(name, blobs[name], problems) if name in blobs else None
        table = None if text is None else csv_table(name, text, key, problems)
        if table is not None:
            tables[key] = table
    return _Inputs(document, tables, _digest(blobs))


def _decode(name: str, data: bytes, problems: Problems) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.add(
            name,
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}): "
            "save it as UTF-8 (in Excel: 'CSV UTF-8')",
            line,
        )
        return None


def _read_workbook(path: Path, problems: Problems) -> _Inputs:
    digest = _digest({"workbook": path.read_bytes()})
    try:
        sheets = scenario_workbook.read_sheets(path)
    except scenario_workbook.WorkbookError as error:
        problems.add(path.name, str(error))
        return _Inputs(None, {}, digest)
    by_name = {title.strip().lower(): title for title in sheets}
    document, tables = None, {}
    for key in FILES:
        title = by_name.get(key)
        label = f"{path.name}:{key}"
        if title is None:
            near = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.75)
            if key not in OPTIONAL_FILES:
                hint = f" (found sheet {by_name[near[0]]!r}: rename it)" if near else ""
                problems.add(path.name, f"has no sheet {key!r}{hint}")
            elif near:
                stray = f"{path.name}:{by_name[near[0]]}"
                problems.add(stray, f"is not read; did you mean {key!r}?")
            continue
        rows = sheets[title]
        if key == "scenario":
            document = _scenario_sheet(label, rows, problems)
            continue
        width = max((len(cells) for _, cells in rows), default=0)
        frame = pd.DataFrame(
            [cells + [""] * (width - len(cells)) for _, cells in rows],
            index=[number for number, _ in rows],
            dtype=str,
        )
        table = table_from_frame(label, frame, key, problems)
        if table is not None:
            tables[key] = table
    return _Inputs(document, tables, digest)


def _scenario_sheet(
    label: str, rows: list[scenario_workbook.Row], problems: Problems
) -> Document | None:
    if scenario_workbook.is_key_value_form(rows):
        found = scenario_workbook.key_values(rows)
        for row, column, message in found.issues:
            problems.add(label, message, row, column)
        return Document(label, found.data, found.lines)
    text, stray = scenario_workbook.yaml_lines(rows)
    for row, message in stray:
        problems.add(label, message, row)
    return parse_yaml(label, text, problems)
