"""Running the models in order, each feeding the next: coverage, then staffing (later more)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from models.coverage import solve_coverage
from models.staffing import solve_staffing
from optim.result import ModelResult
from optim.scenario import Scenario
from optim.solver import SolveOptions

MODELS = ("coverage", "staffing")

ProgressFactory = Callable[[str], AbstractContextManager[None]]


def run_models(
    scenario: Scenario,
    *,
    upto: str,
    options: SolveOptions,
    progress: ProgressFactory | None = None,
) -> list[ModelResult]:
    """Solve every model up to and including `upto`; stop early if one has no solution."""
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
    return results
