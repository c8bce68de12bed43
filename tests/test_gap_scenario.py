"""The GAP benchmark's converter (benchmarks/gap_scenario.py) and its vendored instances."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from optim.scenario import load_scenario

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
INSTANCES = BENCHMARKS / "gap_instances"


def _module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gap_scenario = _module("gap_scenario")

# 2 agents x 3 jobs: costs, then resources, then capacities (OR-Library order).
TINY = """2 3
 4 9 2
 6 3 8
 5 2 7
 3 6 1
 9 8
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_reads_the_or_library_layout(tmp_path: Path) -> None:
    path = tmp_path / "tiny"
    path.write_text(TINY)
    instance = gap_scenario.read_gap(path)
    assert (instance.agents, instance.jobs) == (2, 3)
    assert instance.cost == [[4, 9, 2], [6, 3, 8]]
    assert instance.resource == [[5, 2, 7], [3, 6, 1]]
    assert instance.capacity == [9, 8]
    # jobs 0 and 2 on agent 0 would need 12 > 9; the optimum puts job 1 and 2 apart
    assert instance.assignment_cost([0, 1, 1]) == 4 + 3 + 8
    assert instance.loads([0, 1, 1]) == [5, 7]


def test_refuses_a_wrong_number_count(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_text(TINY.rsplit("\n", 2)[0])  # capacities missing
    with pytest.raises(ValueError, match="2mn \\+ m"):
        gap_scenario.read_gap(path)


def test_scenario_is_a_pure_gap_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "tiny"
    path.write_text(TINY)
    out = gap_scenario.write_gap_scenario(path, tmp_path / "scenario")

    scenario = load_scenario(out)  # what `optim validate` runs
    config = scenario.config
    assert config.company == "GAP tiny"
    assert config.months == 1
    assert config.territory is not None
    assert config.territory.balance is None and config.territory.max_moves is None
    role = config.roles["account_manager"]
    assert role.monthly_cost == 0 and role.hours_per_month == 9

    clients = _rows(out / "clients.csv")
    assert [c["client_id"] for c in clients] == ["J0001", "J0002", "J0003"]
    assert {c["status"] for c in clients} == {"active"}
    assert {c["segment"] for c in clients} == {"G"}

    team = _rows(out / "team.csv")
    assert [t["rep_id"] for t in team] == ["A01", "A02"]
    hours = [role.hours_per_month * config.months * float(t["fte"]) for t in team]
    assert hours == [9, 8]  # each agent's capacity, exactly

    pairs = _rows(out / "pairs.csv")
    assert len(pairs) == 6
    by_pair = {(p["client_id"], p["rep_id"]): (float(p["hours"]), float(p["cost"])) for p in pairs}
    assert by_pair[("J0002", "A02")] == (6, 3)
    assert by_pair[("J0003", "A01")] == (7, 2)
    assert scenario.pairs is not None and len(scenario.pairs) == 6


def _vendored() -> list[str]:
    return sorted(
        p.name for p in INSTANCES.iterdir() if p.is_file() and not p.suffix and p.name[1:].isdigit()
    )


def test_vendored_instances_match_their_references() -> None:
    """Each instance has 2mn + m numbers and its solution file costs the reference or more."""
    with (INSTANCES / "optima.csv").open(newline="") as handle:
        optima = {row["instance"]: row for row in csv.DictReader(handle)}
    names = _vendored()
    assert names and set(names) == set(optima)
    for name in names:
        instance = gap_scenario.read_gap(INSTANCES / name)  # raises on a wrong count
        row = optima[name]
        assert (instance.agents, instance.jobs) == (int(row["agents"]), int(row["jobs"]))
        solution = gap_scenario.read_solution(INSTANCES / f"{name}.sol", instance)
        loads = instance.loads(solution)
        assert all(u <= c for u, c in zip(loads, instance.capacity, strict=True)), name
        cost = instance.assignment_cost(solution)
        assert cost >= int(row["optimum"]) >= int(row["lower_bound"]), name
