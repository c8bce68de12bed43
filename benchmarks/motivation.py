"""Benchmark the motivation model on the demo: time and status of every step.

Steps: load the demo; KPI weights for today's team (`headcount_from_team`), once per solver;
coverage and staffing, whose headcount the plan pays; KPI weights for that headcount with the
demo's `variable_budget` (the budget of today's team: expected to be too small, and the model
says what budget is needed); and again with that budget, to time the whole solved path on the
larger headcount. Each motivation step reports the solver's and the simulation's share.

    python benchmarks/motivation.py
    python benchmarks/motivation.py --solvers ortools --samples 100000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "data" / "demo"


def _line(step: str, seconds: float, status: str, detail: str = "") -> None:
    print(f"{step:<52} {seconds:8.3f} s  {status:<10} {detail}")


def _motivation_step(step: str, config: Any, headcount: Any, options: Any) -> Any:
    from models.motivation import solve_motivation

    started = time.perf_counter()
    result = solve_motivation(config, headcount, options=options)
    seconds = time.perf_counter() - started
    details = result.details
    if result.status.has_solution:
        expected = result.frames["payout"]["expected_cost"].sum()
        p90 = result.explanation.objective_breakdown["90th percentile of variable pay"]
        detail = (
            f"solver {details['solver_seconds']:.3f} s, simulation "
            f"{details['simulation_seconds']:.3f} s; expected {expected:,.0f}, 90th pct {p90:,.0f}"
        )
    else:
        detail = "; ".join(r.sentence for r in result.explanation.relaxations)
    _line(step, seconds, result.status.value, detail)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solvers", nargs="+", default=["ortools", "highs", "cbc"])
    parser.add_argument("--samples", type=int, default=None, help="attainment.samples")
    args = parser.parse_args()

    from models.coverage import solve_coverage
    from models.motivation import headcount_from_team
    from models.staffing import solve_staffing
    from optim.scenario import load_scenario
    from optim.solver import SolveOptions

    started = time.perf_counter()
    scenario = load_scenario(DEMO)
    config = scenario.config
    assert config.motivation is not None
    if args.samples:
        attainment = config.motivation.attainment.model_copy(update={"samples": args.samples})
        motivation = config.motivation.model_copy(update={"attainment": attainment})
        config = config.model_copy(update={"motivation": motivation})
    _line("load data/demo", time.perf_counter() - started, "ok", f"{len(scenario.team)} people")

    started = time.perf_counter()
    team = headcount_from_team(config, scenario.team)
    _line("headcount from team.csv", time.perf_counter() - started, "ok")
    for solver in args.solvers:
        options = SolveOptions.from_settings(config.solver, solver=solver)
        _motivation_step(f"motivation, today's team ({options.label})", config, team, options)

    options = SolveOptions.from_settings(config.solver)
    started = time.perf_counter()
    coverage = solve_coverage(config, scenario.clients, options=options)
    staffing = solve_staffing(
        config,
        scenario.clients,
        scenario.team,
        coverage.frames["coverage"],
        coverage.frames["prospects"],
        options=options,
    )
    headcount = staffing.frames["headcount"]
    _line("coverage + staffing (headcount)", time.perf_counter() - started, staffing.status.value)
    result = _motivation_step(
        "motivation, staffing headcount, demo budget", config, headcount, options
    )
    needed = [r.needed for r in result.explanation.relaxations]
    if needed and config.motivation is not None:
        motivation = config.motivation.model_copy(update={"variable_budget": min(needed)})
        enough = config.model_copy(update={"motivation": motivation})
        _motivation_step(
            f"motivation, staffing headcount, budget {min(needed):,.0f}", enough, headcount, options
        )


if __name__ == "__main__":
    main()
