"""Running the models in order, each feeding the next: coverage, staffing, territory."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from models.coverage import solve_coverage
from models.staffing import solve_staffing
from models.territory import solve_territory
from optim.result import ModelResult
from optim.scenario import Scenario
from optim.solver import SolveOptions

MODELS = ("coverage", "staffing", "territory")

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
    return results
