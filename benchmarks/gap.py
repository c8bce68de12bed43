"""Generalized assignment quality: optim's territory model against plain CP-SAT and HiGHS models.

Each vendored GAP instance (benchmarks/gap_instances, see its README) is solved by
  optim   `optim assign SCENARIO --json` on the scenario benchmarks/gap_scenario.py writes
          (pairs.csv with every job x agent pair, balance and move caps off);
  cpsat   a plain CP-SAT model: boolean x[i,j], each job on one agent, capacity per agent,
          minimise cost; 2 workers, seed 0;
  highs   the same model as a plain HiGHS MIP built from arrays (highspy), seed 0, gap 0;
each with the same time limit, each in a fresh process so that its peak memory is its own.
Every assignment a runner returns is checked against the instance (each job once, capacities
kept) and its cost recomputed from the instance, so a runner cannot report a cost it did not
reach. Gaps are to the reference value in gap_instances/optima.csv (the optimum where it is
proven, the best known value otherwise; the table marks which).

    python benchmarks/gap.py                          # every instance, all runners, 60 s each
    python benchmarks/gap.py --instances c10400 d10400 --time-limit 10 --only cpsat highs

Results go to benchmarks/out/gap.csv as well as to the terminal.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
INSTANCES = HERE / "gap_instances"
OUT = HERE / "out"
RUNNERS = ("optim", "cpsat", "highs")

sys.path.insert(0, str(HERE))
from gap_scenario import GapInstance, read_gap, write_gap_scenario  # noqa: E402


# ----- references -----------------------------------------------------------------------------
def read_references(path: Path = INSTANCES / "optima.csv") -> dict[str, dict[str, Any]]:
    """optima.csv by instance name: reference value, lower bound, whether proven, source."""
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["instance"]: {
            "reference": int(row["optimum"]),
            "lower_bound": int(row["lower_bound"]) if row.get("lower_bound") else None,
            "proven": row.get("proven", "").strip().lower() in ("yes", "true", "1"),
            "source": row.get("source", ""),
        }
        for row in rows
    }


def instance_names() -> list[str]:
    """Vendored instances: files in gap_instances named like c10400 (no extension)."""
    return sorted(
        p.name
        for p in INSTANCES.iterdir()
        if p.is_file() and not p.suffix and p.name[:1] in "abcde" and p.name[1:].isdigit()
    )


# ----- checking an assignment -------------------------------------------------------------------
def check_assignment(instance: GapInstance, agent_of_job: list[int | None]) -> tuple[int, str]:
    """Recomputed cost and '' if the assignment is a feasible GAP solution, else the reason."""
    if len(agent_of_job) != instance.jobs or any(a is None for a in agent_of_job):
        missing = sum(a is None for a in agent_of_job) + instance.jobs - len(agent_of_job)
        return 0, f"{missing} jobs unassigned"
    agents = [int(a) for a in agent_of_job if a is not None]
    used = instance.loads(agents)
    over = [i for i in range(instance.agents) if used[i] > instance.capacity[i]]
    cost = instance.assignment_cost(agents)
    if over:
        i = over[0]
        return cost, f"agent {i} over capacity ({used[i]} > {instance.capacity[i]})"
    return cost, ""


# ----- runners (each runs inside a worker process) ----------------------------------------------
def run_cpsat(instance: GapInstance, time_limit: float) -> dict[str, Any]:
    from ortools.sat.python import cp_model

    m, n = instance.agents, instance.jobs
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{i}_{j}") for j in range(n)] for i in range(m)]
    for j in range(n):
        model.add_exactly_one(x[i][j] for i in range(m))
    for i in range(m):
        model.add(sum(instance.resource[i][j] * x[i][j] for j in range(n)) <= instance.capacity[i])
    model.minimize(sum(instance.cost[i][j] * x[i][j] for i in range(m) for j in range(n)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    started = time.perf_counter()
    status = solver.solve(model)
    seconds = time.perf_counter() - started
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    agent_of_job: list[int | None] = [None] * n
    if found:
        for j in range(n):
            agent_of_job[j] = next(i for i in range(m) if solver.boolean_value(x[i][j]))
    return {
        "status": solver.status_name(status).lower(),
        "objective": solver.objective_value if found else None,
        "bound": solver.best_objective_bound,
        "solve_seconds": seconds,
        "assignment": agent_of_job,
    }


def run_highs(instance: GapInstance, time_limit: float) -> dict[str, Any]:
    import highspy
    import numpy as np

    m, n = instance.agents, instance.jobs
    cost = np.asarray(instance.cost, dtype=float)  # m x n; column k = i * n + j
    resource_ = np.asarray(instance.resource, dtype=float)
    columns = m * n
    lp = highspy.HighsLp()
    lp.num_col_ = columns
    lp.num_row_ = n + m  # rows 0..n-1: each job once; rows n..n+m-1: capacities
    lp.col_cost_ = cost.ravel()
    lp.col_lower_ = np.zeros(columns)
    lp.col_upper_ = np.ones(columns)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), np.asarray(instance.capacity, dtype=float)])
    agent = np.repeat(np.arange(m), n)
    job = np.tile(np.arange(n), m)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * columns + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = np.column_stack([job, n + agent]).ravel().astype(np.int32)
    lp.a_matrix_.value_ = np.column_stack([np.ones(columns), resource_.ravel()]).ravel()
    lp.integrality_ = [highspy.HighsVarType.kInteger] * columns
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.passModel(lp)
    started = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - started
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    found = info.primal_solution_status == 2  # kSolutionStatusFeasible
    agent_of_job: list[int | None] = [None] * n
    if found:
        values = np.asarray(h.getSolution().col_value).reshape(m, n)
        chosen = values.argmax(axis=0)
        agent_of_job = [int(i) if values[i, j] > 0.5 else None for j, i in enumerate(chosen)]
    return {
        "status": status.lower(),
        "objective": info.objective_function_value if found else None,
        "bound": info.mip_dual_bound,
        "solve_seconds": seconds,
        "assignment": agent_of_job,
    }


def run_optim(instance: GapInstance, path: Path, time_limit: float, extra: list[str]) -> dict:
    """`optim assign ... --json` on the instance's scenario; 'not available' if it cannot run."""
    optim = shutil.which("optim")
    command = [optim] if optim else [sys.executable, "-m", "cli"]
    with tempfile.TemporaryDirectory(prefix="gap-") as tmp:
        scenario = write_gap_scenario(path, Path(tmp) / "scenario")
        run_dir = Path(tmp) / "run"
        command += [
            "assign",
            str(scenario),
            "--out",
            str(run_dir),
            "--time-limit",
            str(time_limit),
            "--json",
            *extra,
        ]
        started = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as error:
            return {"status": "not available", "note": str(error)}
        seconds = time.perf_counter() - started
        result = _territory_result(done.stdout)
        if done.returncode != 0 or result is None:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return {
                "status": "not available",
                "note": f"exit {done.returncode}: " + " | ".join(tail),
                "seconds": seconds,
            }
        return {
            "status": str(result.get("status", "")),
            "objective": result.get("objective"),
            "bound": result.get("bound"),
            "solve_seconds": result.get("solve_seconds"),
            "seconds": seconds,
            "assignment": _assignment_from_run(run_dir, instance),
        }


def _territory_result(stdout: str) -> dict[str, Any] | None:
    try:
        printed = json.loads(stdout)
    except ValueError:
        return None
    results = printed.get("results", []) if isinstance(printed, dict) else []
    for result in results:
        if isinstance(result, dict) and result.get("model") == "territory":
            return result
    return None


def _assignment_from_run(run_dir: Path, instance: GapInstance) -> list[int | None] | None:
    """client_id -> rep_id from the run's territories.csv, as agent indices (None if absent)."""
    table = run_dir / "territories.csv"
    if not table.exists():
        return None
    with table.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "client_id" not in rows[0] or "rep_id" not in rows[0]:
        return None
    jobs = {f"J{j + 1:0{max(4, len(str(instance.jobs)))}d}": j for j in range(instance.jobs)}
    agents = {f"A{i + 1:0{max(2, len(str(instance.agents)))}d}": i for i in range(instance.agents)}
    agent_of_job: list[int | None] = [None] * instance.jobs
    for row in rows:
        j, i = jobs.get(row["client_id"]), agents.get(row["rep_id"])
        if j is not None and i is not None:
            agent_of_job[j] = i
    return agent_of_job


def worker(runner: str, name: str, time_limit: float, extra: list[str]) -> dict[str, Any]:
    """One case, in this (fresh) process: solve, check the assignment, measure peak memory."""
    path = INSTANCES / name
    started = time.perf_counter()
    instance = read_gap(path)
    if runner == "cpsat":
        outcome = run_cpsat(instance, time_limit)
    elif runner == "highs":
        outcome = run_highs(instance, time_limit)
    else:
        outcome = run_optim(instance, path, time_limit, extra)
    outcome.setdefault("seconds", time.perf_counter() - started)
    assignment = outcome.pop("assignment", None)
    if assignment is not None:
        checked, problem = check_assignment(instance, assignment)
        outcome["checked_cost"] = checked if not problem else None
        outcome["check"] = problem or "ok"
    else:
        outcome["check"] = "no assignment to check"
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    outcome["peak_mb"] = max(own, children) / 1024  # Linux reports KiB
    return outcome


# ----- the benchmark -----------------------------------------------------------------------------
def run_case(runner: str, name: str, time_limit: float, extra: list[str]) -> dict[str, Any]:
    """Run one case in a fresh Python process and return its figures."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", runner, name]
    command += ["--time-limit", str(time_limit)]
    if extra:
        command += ["--optim-args", *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return {"status": "error", "note": f"exit {done.returncode}: {tail}"}
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def gap_pct(value: float | None, reference: int | None) -> float | None:
    if value is None or reference is None or reference == 0:
        return None
    return 100.0 * (value - reference) / reference


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--instances", nargs="+", help="instance names (default: all vendored)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--only", nargs="+", choices=RUNNERS, help="runners to run")
    parser.add_argument("--csv", type=Path, default=OUT / "gap.csv", help="where to write rows")
    parser.add_argument(
        "--optim-args", nargs=argparse.REMAINDER, default=[], help="extra `optim assign` args"
    )
    parser.add_argument("--worker", nargs=2, metavar=("RUNNER", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        runner, name = args.worker
        print(json.dumps(worker(runner, name, args.time_limit, args.optim_args), default=float))
        return

    names = args.instances or instance_names()
    runners = [r for r in RUNNERS if not args.only or r in args.only]
    references = read_references()
    rows: list[dict[str, Any]] = []
    for name in names:
        instance = read_gap(INSTANCES / name)
        ref = references.get(name, {})
        for runner in runners:
            print(f"{name} {runner} ...", file=sys.stderr, flush=True)
            figures = run_case(runner, name, args.time_limit, args.optim_args)
            objective = figures.get("objective")
            if figures.get("checked_cost") is not None:
                objective = figures["checked_cost"]  # the cost of what was returned, recomputed
            row = {
                "instance": name,
                "agents": instance.agents,
                "jobs": instance.jobs,
                "reference": ref.get("reference"),
                "proven": ref.get("proven"),
                "runner": runner,
                "status": figures.get("status"),
                "objective": objective,
                "reported_objective": figures.get("objective"),
                "bound": None if figures.get("bound") is None else float(figures["bound"]),
                "seconds": figures.get("seconds"),
                "peak_mb": figures.get("peak_mb"),
                "gap_pct": gap_pct(objective, ref.get("reference")),
                "check": figures.get("check", ""),
                "note": figures.get("note", ""),
            }
            rows.append(row)
            print(
                f"  {runner}: {row['status']} objective {_fmt(objective)} bound "
                f"{_fmt(row['bound'], 1)} in {_fmt(row['seconds'], 1)} s, "
                f"{_fmt(row['peak_mb'])} MB, gap {_fmt(row['gap_pct'], 3)}% [{row['check']}]"
                + (f" {row['note']}" if row["note"] else ""),
                file=sys.stderr,
                flush=True,
            )
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with args.csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["instance"])
        writer.writeheader()
        writer.writerows(rows)
    print_table(rows, names, runners, args.time_limit)
    print(f"\nrows written to {args.csv}")


def print_table(
    rows: list[dict[str, Any]], names: list[str], runners: list[str], time_limit: float
) -> None:
    by = {(r["instance"], r["runner"]): r for r in rows}
    head = f"{'instance':<9} {'size':>7} {'reference':>10}"
    for runner in runners:
        head += f" | {runner + ' obj':>10} {'bound':>9} {'s':>5} {'gap%':>7}"
    print(f"\nGAP benchmark, {time_limit:g} s per run (gap% = objective vs reference)")
    print(head)
    print("-" * len(head))
    for name in names:
        any_row = next((by[(name, r)] for r in runners if (name, r) in by), None)
        if any_row is None:
            continue
        mark = "" if any_row["proven"] else "*"
        line = (
            f"{name:<9} {any_row['agents']:>3}x{any_row['jobs']:<4}"
            f"{_fmt(any_row['reference']) + mark:>10}"
        )
        for runner in runners:
            row = by.get((name, runner), {})
            if row.get("status") in ("not available", "error"):
                line += f" | {'not available':>34}"
                continue
            line += (
                f" | {_fmt(row.get('objective')):>10} {_fmt(row.get('bound'), 1):>9}"
                f" {_fmt(row.get('seconds'), 0):>5} {_fmt(row.get('gap_pct'), 3):>7}"
            )
        print(line)
    print("(* reference is the best known value, not a proven optimum)")
    averages = []
    for runner in runners:
        gaps = [by[(n, runner)]["gap_pct"] for n in names if (n, runner) in by]
        known = [g for g in gaps if g is not None]
        if known and len(known) == len(gaps):
            averages.append(f"{runner} {sum(known) / len(known):.3f}%")
        else:
            averages.append(f"{runner} n/a ({len(gaps) - len(known)} runs without a solution)")
    print("average gap: " + ", ".join(averages))
    if "optim" in runners:
        for plain in (r for r in runners if r != "optim"):
            verdict = _at_least_as_good(by, names, "optim", plain)
            print(f"optim <= {plain} on every instance: {verdict}")


def _at_least_as_good(by: dict, names: list[str], ours: str, plain: str) -> str:
    worse = []
    for name in names:
        a, b = by.get((name, ours), {}), by.get((name, plain), {})
        if a.get("objective") is None:
            if b.get("objective") is not None:
                worse.append(name)
            continue
        if b.get("objective") is not None and a["objective"] > b["objective"]:
            worse.append(name)
    if all(by.get((n, ours), {}).get("status") in ("not available", "error") for n in names):
        return "not available"
    return "yes" if not worse else "no (" + ", ".join(worse) + ")"


if __name__ == "__main__":
    main()
