"""Running the models in order, each feeding the next: coverage, staffing, territory, quota,
motivation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext

import pandas as pd

from models.coverage import solve_coverage
from models.motivation import headcount_from_team, solve_motivation
from models.quota import solve_quota
from models.staffing import solve_staffing
from models.territory import solve_territory
from optim.result import ModelResult
from optim.scenario import Scenario
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions

MODELS = ("coverage", "staffing", "territory", "quota", "motivation")

ProgressFactory = Callable[[str], AbstractContextManager[None]]


def can_staff(scenario: Scenario) -> bool:
    """Staffing needs the plan and the funnel; without them the territory uses today's team."""
    return scenario.config.plan is not None and scenario.config.funnel is not None


def run_models(
    scenario: Scenario,
    *,
    upto: str,
    options: SolveOptions,
    progress: ProgressFactory | None = None,
    pins: Mapping[str, float] | None = None,
) -> list[ModelResult]:
    """Solve every model up to and including `upto`; stop early if one has no solution.

    `optim assign` on a scenario without a plan or funnel section skips staffing: the territory
    is then drawn for today's team, with no planned hires.
    """
    if upto not in MODELS:
        raise ValueError(f"unknown model {upto!r}; models are {', '.join(MODELS)}")
    show = progress or (lambda label: nullcontext())
    config = scenario.config
    results: list[ModelResult] = []

    with show(f"Solving coverage with {options.label}"):
        coverage = solve_coverage(config, scenario.clients, options=options)
    results.append(coverage)
    if upto == "coverage" or not coverage.status.has_solution:
        return results

    staffing: ModelResult | None = None
    if upto == "staffing" or can_staff(scenario):
        with show(f"Solving staffing with {options.label}"):
            staffing = solve_staffing(
                config,
                scenario.clients,
                scenario.team,
                coverage.frames["coverage"],
                coverage.frames["prospects"],
                options=options,
            )
        results.append(staffing)
        if upto == "staffing" or not staffing.status.has_solution:
            return results

    planned = staffing.frames if staffing is not None else {}
    with show("Drawing territories (HiGHS relaxation + CP-SAT)"):
        territory = solve_territory(
            config,
            scenario.clients,
            scenario.team,
            coverage.frames["coverage"],
            coverage.frames["prospects"],
            options=options,
            hiring=planned.get("hiring"),
            funnel=planned.get("funnel"),
            coverage_gaps=planned.get("coverage_gaps"),
            pairs=scenario.pairs,
        )
    results.append(territory)
    if upto == "territory" or not territory.status.has_solution:
        return results

    if config.plan is not None:
        with show(f"Cascading quotas with {options.label}"):
            people = quota_people(config, territory.frames)
            quota = solve_quota(config, people, options=options, pins=pins)
        results.append(quota)
        if upto == "quota" or not quota.status.has_solution:
            return results

    if config.motivation is not None:
        headcount = planned.get("headcount")
        if headcount is None:
            headcount = headcount_from_team(config, scenario.team)
        with show(f"Choosing KPI weights with {options.label}"):
            results.append(solve_motivation(config, headcount, options=options))
    return results


def quota_people(config: ScenarioConfig, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The territory's people as the quota model reads them: one direction each (where most of
    their territory's potential lies when they work in several), a full year's hours at their
    fte (the quota model applies start month and ramp itself)."""
    workload = frames["workload"]
    territories = frames["territories"]
    held = territories[territories["rep_id"].fillna("") != ""]
    by_direction = held.groupby(["rep_id", "direction"])["potential"].sum().reset_index()
    main = by_direction.sort_values(["rep_id", "potential"], ascending=[True, False])
    home = main.drop_duplicates("rep_id").set_index("rep_id")["direction"]
    own = workload["direction"].fillna("").astype(str)
    single = (own != "") & ~own.str.contains(";")
    first = own.str.split(";").str[0]
    direction = own.where(single, workload["rep_id"].map(home).fillna(first))
    direction = direction.where(direction != "", config.directions[0])
    hours = workload["role"].map(
        {k: (r.hours_per_month or 0.0) * config.months for k, r in config.roles.items()}
    )
    return pd.DataFrame(
        {
            "rep_id": workload["rep_id"],
            "name": workload["name"],
            "role": workload["role"],
            "direction": direction,
            "fte": workload["fte"],
            "start_month": workload["start_month"],
            "potential": workload["potential"],
            "revenue_last_year": workload["revenue_last_year"],
            "capacity_hours": hours * workload["fte"],
            "new_hire": workload["placeholder"] | (workload["start_month"] > 1),
        }
    )
