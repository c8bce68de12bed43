"""Solving groups of directions one by one gives the whole model's optimum."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.coverage import solve_coverage
from models.staffing import prepare, solve_staffing
from models.staffing_by_direction import direction_groups
from optim.demo import generate_scenario
from optim.result import Status
from optim.scenario import load_scenario
from optim.solver import SolveOptions


def test_groups_follow_the_people_shared_between_directions(tmp_path: Path) -> None:
    scenario = load_scenario(generate_scenario(tmp_path / "s", scale=2, seed=1))
    options = SolveOptions(gap=1e-6)
    coverage = solve_coverage(scenario.config, scenario.clients, options=options)
    inputs = prepare(
        scenario.config,
        scenario.clients,
        scenario.team,
        coverage.frames["coverage"],
        coverage.frames["prospects"],
    )
    groups = direction_groups(inputs)
    assert [len(g) for g in groups] == [4, 4]
    assert sorted(d for g in groups for d in g) == sorted(scenario.config.directions)

    def staffing(by_direction: bool) -> object:
        return solve_staffing(
            scenario.config,
            scenario.clients,
            scenario.team,
            coverage.frames["coverage"],
            coverage.frames["prospects"],
            options=options,
            diagnose=False,
            by_direction=by_direction,
        )

    split, whole = staffing(True), staffing(False)
    # Same optimum; the plans themselves may differ where several plans cost the same.
    assert split.status is Status.OPTIMAL and whole.status is Status.OPTIMAL  # type: ignore[attr-defined]
    assert split.details["groups"] == 2  # type: ignore[attr-defined]
    assert split.objective == pytest.approx(whole.objective, rel=1e-5)  # type: ignore[attr-defined]
    for name in ("headcount", "budget", "funnel", "revenue"):
        assert len(split.frames[name]) == len(whole.frames[name])  # type: ignore[attr-defined]
    cost = split.frames["budget"]["total_cost"].sum()  # type: ignore[attr-defined]
    assert cost == pytest.approx(whole.frames["budget"]["total_cost"].sum(), rel=1e-4)  # type: ignore[attr-defined]
