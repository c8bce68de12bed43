"""Benchmark coverage + staffing on the demo and on 10x and 100x generated companies.

For each scale and each solver (HiGHS and CBC through PuLP, OR-Tools SCIP) it prints solve
time, peak memory, status and gap, so the default solver is chosen by measurement. Each case
runs in its own process, so peak memory is that case's own (solver child processes included).

    python benchmarks/staffing.py                       # scales 1 10 100, all solvers
    python benchmarks/staffing.py --scales 1 --solvers highs
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def run_one(scenario: Path, solver: str, time_limit: float, *, no_budget: bool = False) -> dict:
    """Solve one case in this process and return its figures."""
    from models.coverage import solve_coverage
    from models.staffing import solve_staffing
    from optim.scenario import load_scenario
    from optim.solver import SolveOptions

    started = time.perf_counter()
    loaded = load_scenario(scenario)
    if no_budget and loaded.config.plan is not None:
        plan = loaded.config.plan.model_copy(update={"budget": None})
        loaded = dataclasses.replace(loaded, config=loaded.config.model_copy(update={"plan": plan}))
    load_seconds = time.perf_counter() - started
    options = SolveOptions.from_settings(loaded.config.solver, solver=solver, time_limit=time_limit)
    coverage = solve_coverage(loaded.config, loaded.clients, options=options)
    started = time.perf_counter()
    staffing = solve_staffing(
        loaded.config,
        loaded.clients,
        loaded.team,
        coverage.frames["coverage"],
        coverage.frames["prospects"],
        options=options,
        diagnose=False,
    )
    total = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "clients": len(loaded.clients),
        "people": len(loaded.team),
        "directions": len(loaded.config.directions),
        "load_s": load_seconds,
        "coverage_status": coverage.status.value,
        "coverage_s": coverage.solve_seconds,
        "status": staffing.status.value,
        "objective": staffing.objective,
        "bound": staffing.bound,
        "gap": staffing.gap,
        "solve_s": staffing.solve_seconds,
        "relaxations": [r.sentence for r in staffing.explanation.relaxations],
        "staffing_total_s": total,
        "size": staffing.details.get("size", {}),
        "peak_mb": max(own, children) / 1024,
    }


def scenario_for(scale: float) -> Path:
    """The generated company at this scale (cached under benchmarks/out)."""
    from optim.demo import generate_scenario

    if scale == 1:
        return HERE.parent / "data" / "demo"
    folder = OUT / f"scale-{scale:g}"
    if not (folder / "scenario.yaml").exists():
        generate_scenario(folder, scale=scale, seed=0)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 100])
    parser.add_argument("--solvers", nargs="+", default=["highs", "cbc", "ortools"])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument(
        "--no-budget", action="store_true", help="drop plan.budget (min cost, no cap)"
    )
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--solver", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        figures = run_one(args.one, args.solver, args.time_limit, no_budget=args.no_budget)
        print(json.dumps(figures))
        return

    header = (
        f"{'scale':>5} {'clients':>8} {'dirs':>5} {'solver':>8} {'status':>10} {'gap':>8} "
        f"{'solve s':>8} {'total s':>8} {'peak MB':>8} {'vars':>7} {'ints':>7} {'rows':>7}"
    )
    print(header)
    for scale in args.scales:
        scenario = scenario_for(scale)
        for solver in args.solvers:
            command = [
                sys.executable, __file__, "--one", str(scenario), "--solver", solver,
                "--time-limit", str(args.time_limit),
            ] + (["--no-budget"] if args.no_budget else [])  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{scale:>5g} {solver:>8} failed: {done.stderr.strip()[-300:]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            gap = "-" if r["gap"] is None else f"{r['gap']:.4%}"
            size = r["size"]
            print(
                f"{scale:>5g} {r['clients']:>8} {r['directions']:>5} {solver:>8} "
                f"{r['status']:>10} {gap:>8} {r['solve_s']:>8.2f} {r['staffing_total_s']:>8.2f} "
                f"{r['peak_mb']:>8.0f} {size.get('variables', 0):>7} "
                f"{size.get('integer_variables', 0):>7} {size.get('constraints', 0):>7}",
                flush=True,
            )


if __name__ == "__main__":
    main()
