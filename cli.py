"""The `optim` command line (SPEC §5). Reading, solving and writing live elsewhere; this file
turns arguments into calls and results into text, JSON and exit codes."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from optim import __version__
from optim.export import export_run
from optim.pipeline import MODELS, run_models
from optim.progress import progress
from optim.result import ModelResult, Status
from optim.runs import RunError, RunNotFoundError, list_runs, load_run, write_run
from optim.scenario import Scenario, ScenarioError, describe, load_scenario
from optim.schema import MissingSectionError
from optim.solver import SOLVERS, SolveOptions, SolverFailure

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 4
DEMO = Path(__file__).resolve().parent / "data" / "demo"

F = TypeVar("F", bound=Callable[..., Any])


def _console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _fail(message: str, code: int) -> NoReturn:
    _console(stderr=True).print(f"[bold red]error:[/] {message}", markup=True)
    sys.exit(code)


def _guarded(function: F) -> F:
    """Turn domain errors into clear messages and SPEC exit codes (2 input, 4 failure)."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ScenarioError as error:
            err = _console(stderr=True)
            count = len(error.problems)
            err.print(f"[bold red]error:[/] the scenario has {count} problem(s):")
            for problem in error.problems:
                err.print(f"  {problem}", markup=False)
            sys.exit(EXIT_BAD_INPUT)
        except MissingSectionError as error:
            _fail(str(error), EXIT_BAD_INPUT)
        except SolverFailure as error:
            _fail(str(error), EXIT_FAILURE)
        except RunError as error:  # e.g. --out names a folder that is not a run folder
            _fail(str(error), EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get("OPTIM_DEBUG"):
                traceback.print_exc()
            _fail(f"internal error: {type(error).__name__}: {error}", EXIT_FAILURE)

    return wrapper  # type: ignore[return-value]


def solve_options(function: F) -> F:
    """The options every solving command shares (SPEC §5)."""
    decorators = [
        click.option("--out", type=click.Path(path_type=Path), help="Run folder to write."),
        click.option("--solver", type=click.Choice(SOLVERS), help="Solver back end."),
        click.option("--time-limit", type=float, help="Seconds per solve."),
        click.option("--gap", type=float, help="Relative MIP gap to stop at."),
        click.option("--threads", type=int, help="Solver threads (0 = solver default)."),
        click.option("--seed", type=int, help="Random seed of the solver."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON for machines."),
        click.option("--quiet", is_flag=True, help="Print only errors and the run folder."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="optim")
def main() -> None:
    """optim designs a B2B sales organisation for the year ahead.

    Exit codes: 0 solved, 2 bad input, 3 infeasible (with the diagnosis), 4 solver failure.
    """


# ----- validate -----------------------------------------------------------------------------
@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@_guarded
def validate(scenario: Path, as_json: bool) -> None:
    """Check a scenario and say what was read, or list every problem found."""
    loaded = load_scenario(scenario)
    facts = describe(loaded)
    if as_json:
        click.echo(json.dumps({"valid": True, **facts}, indent=2, default=str))
        return
    console = _console()
    config = loaded.config
    console.print(f"[bold]{config.company}[/] ({config.currency}, {config.months} months): valid")
    for title, counts in facts.items():
        if isinstance(counts, dict):
            console.print(f"  {title}: " + ", ".join(f"{k} {_num(v)}" for k, v in counts.items()))
        else:
            console.print(f"  {title}: {_num(counts)}")


# ----- solving commands ---------------------------------------------------------------------
def _solve(
    command: str,
    scenario_path: Path,
    *,
    upto: str,
    objective: str | None,
    out: Path | None,
    as_json: bool,
    quiet: bool,
    overrides: dict[str, Any],
    pins: dict[str, float] | None = None,
) -> None:
    started = datetime.now(UTC)
    scenario = load_scenario(scenario_path)
    if objective is not None:
        staffing = scenario.config.staffing.model_copy(update={"objective": objective})
        config = scenario.config.model_copy(update={"staffing": staffing})
        scenario = dataclasses.replace(scenario, config=config)
    options = SolveOptions.from_settings(scenario.config.solver, **overrides)
    show = not (as_json or quiet)
    results = run_models(
        scenario,
        upto=upto,
        options=options,
        progress=lambda label: progress(label, enabled=show),
        pins=pins,
    )
    run_dir = write_run(
        out,
        command=command,
        scenario=scenario,
        results=results,
        options=dataclasses.asdict(options),
        started=started,
    )
    code = max(r.status.exit_code for r in results)
    if as_json:
        payload = {
            "run": str(run_dir),
            "exit_code": code,
            "results": [r.to_dict() for r in results],
        }
        click.echo(json.dumps(payload, indent=2, default=str))
    elif quiet:
        click.echo(str(run_dir))
    else:
        _print_results(scenario, results, run_dir)
    sys.exit(code)


def _parse_pins(values: tuple[str, ...]) -> dict[str, float]:
    """`--pin ID=AMOUNT` (a rep_id or a direction) into {ID: amount}."""
    pins: dict[str, float] = {}
    for value in values:
        key, sep, amount = value.partition("=")
        try:
            pins[key.strip()] = float(amount.replace(",", "").replace("_", ""))
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not ID=AMOUNT", param_hint="--pin")
    return pins


_PIN_OPTION = click.option(
    "--pin",
    "pins",
    multiple=True,
    metavar="ID=AMOUNT",
    help="Pin a person's (rep_id) or a direction's annual quota; repeatable.",
)


def _solve_command(
    name: str, upto: str, help_text: str, *, objective: bool, pins: bool = False
) -> None:
    @click.argument("scenario", type=click.Path(path_type=Path))
    @solve_options
    @_guarded
    def command(scenario: Path, objective: str | None = None, **kwargs: Any) -> None:
        out, as_json, quiet = kwargs.pop("out"), kwargs.pop("as_json"), kwargs.pop("quiet")
        pinned = _parse_pins(kwargs.pop("pins", ()))
        overrides = {"solver": kwargs.pop("solver"), **kwargs}
        _solve(
            name,
            scenario,
            upto=upto,
            objective=objective,
            out=out,
            as_json=as_json,
            quiet=quiet,
            overrides=overrides,
            pins=pinned,
        )

    command.__doc__ = help_text
    if pins:
        command = _PIN_OPTION(command)
    if objective:
        command = click.option(
            "--objective",
            type=click.Choice(["min_cost", "max_margin"]),
            help="Meet the plan at least cost, or the most margin within the budget.",
        )(command)
    main.command(name)(command)


_solve_command(
    "coverage",
    "coverage",
    "Decide which role covers each segment x status and which prospects to hunt.",
    objective=False,
)
_solve_command(
    "staff",
    "staffing",
    "Size the team month by month (coverage first) and write the staffing plan and budget.",
    objective=True,
)

_solve_command(
    "quota",
    "quota",
    "Cascade the target x (1 + hedge) to directions, people and months (coverage, staffing and "
    "territories first).",
    objective=False,
    pins=True,
)
_solve_command(
    "motivate",
    "motivation",
    "Choose each role's KPI weights and simulate their payout (all earlier models first).",
    objective=False,
    pins=True,
)
_solve_command(
    "assign",
    "territory",
    "Assign every client to one person (coverage and staffing first, planned hires as "
    "placeholders) and write territories, workload and moves.",
    objective=False,
)


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path), required=False)
@click.option(
    "--objective",
    type=click.Choice(["min_cost", "max_margin"]),
    help="Meet the plan at least cost, or the most margin within the budget.",
)
@_PIN_OPTION
@solve_options
@_guarded
def plan(scenario: Path | None, objective: str | None, **kwargs: Any) -> None:
    """Run every model in order into one run folder (the bundled demo when no SCENARIO)."""
    out, as_json, quiet = kwargs.pop("out"), kwargs.pop("as_json"), kwargs.pop("quiet")
    pinned = _parse_pins(kwargs.pop("pins", ()))
    path = scenario if scenario is not None else _demo_scenario()
    _solve(
        "plan",
        path,
        upto=MODELS[-1],
        objective=objective,
        out=out,
        as_json=as_json,
        quiet=quiet,
        overrides=kwargs,
        pins=pinned,
    )


def _demo_scenario() -> Path:
    """The bundled demo; regenerated from its seed when the package was installed without it."""
    if (DEMO / "scenario.yaml").exists():
        return DEMO
    from optim.demo import generate_scenario

    folder = Path(tempfile.gettempdir()) / f"optim-demo-{__version__}"
    if not (folder / "scenario.yaml").exists():
        generate_scenario(folder, scale=1.0, seed=0)
    return folder


# ----- explain / export / runs --------------------------------------------------------------
@main.command()
@click.argument("run")
@click.option("--client", "client_id", help="Explain where this client sits and why.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@_guarded
def explain(run: str, client_id: str | None, as_json: bool) -> None:
    """Explain a run: status and gap, objective breakdown, binding constraints, relaxations."""
    try:
        record = load_run(run)
    except RunNotFoundError as error:
        _fail(str(error), EXIT_BAD_INPUT)
    if client_id is not None:
        _explain_client(record, client_id, as_json=as_json)
        return
    if as_json:
        click.echo(json.dumps({"run": str(record.path), "results": record.results}, indent=2))
        return
    console = _console()
    for result in record.results:
        console.print(f"[bold]{result['model']}[/]: {_status_line(result)}")
        for line in result["explanation"]["lines"]:
            console.print(f"  {line}", markup=False)
        console.print()


def _explain_client(record: Any, client_id: str, *, as_json: bool) -> None:
    """Where one client sits: its coverage cell and the reason the model gave for it."""
    source = record.run.get("scenario", {}).get("source")
    if not source:
        _fail("this run does not record its scenario, so clients cannot be looked up", 2)
    scenario = load_scenario(source)
    clients = scenario.clients
    match = clients[clients["client_id"] == client_id]
    if match.empty:
        _fail(f"client {client_id!r} is not in {source} (clients.csv, column client_id)", 2)
    client = match.iloc[0]
    coverage = record.frames.get("coverage")
    found: dict[str, Any] = {
        "client_id": client_id,
        "name": client["name"],
        "segment": client["segment"],
        "status": client["status"],
        "direction": client["direction"],
    }
    if client["status"] == "prospect":
        prospects = record.frames.get("prospects")
        if prospects is not None:
            cell = prospects[
                (prospects["segment"] == client["segment"])
                & (prospects["direction"] == client["direction"])
            ]
            if not cell.empty:
                found["covered_by"] = "hunter" if int(cell.iloc[0]["pursued"]) > 0 else "none"
                found["reason"] = cell.iloc[0]["reason"]
    elif coverage is not None:
        cell = coverage[
            (coverage["segment"] == client["segment"]) & (coverage["status"] == client["status"])
        ]
        if not cell.empty:
            found["covered_by"] = cell.iloc[0]["covered_by"]
            found["reason"] = cell.iloc[0]["reason"]
    found.setdefault("covered_by", "not decided in this run")
    found.update(_territory_of(record, client_id))
    if as_json:
        click.echo(json.dumps(found, indent=2, default=str))
        return
    console = _console()
    for key, value in found.items():
        console.print(f"{key}: {value}", markup=False)


def _territory_of(record: Any, client_id: str) -> dict[str, Any]:
    """The client's person, why, the next-best person and what moving there costs or breaks."""
    territories = record.frames.get("territories")
    if territories is None:
        return {"person": "assigned by the territory model, which this run does not include"}
    row = territories[territories["client_id"].astype(str) == client_id]
    if row.empty:
        return {"person": "not in this run's territories"}
    client = row.iloc[0]
    rep = client.get("rep_id")
    if not isinstance(rep, str) or not rep:
        return {"person": "nobody", "why": client.get("reason", "")}
    found: dict[str, Any] = {
        "person": f"{rep} {client.get('rep_name', '')}".strip(),
        "previous_owner": client.get("previous_owner", ""),
        "moved": bool(client.get("moved", False)),
        "why": client.get("reason", ""),
    }
    alt = client.get("next_best_rep")
    if isinstance(alt, str) and alt:
        found["next_best_person"] = alt
        found["moving_there_costs_per_year"] = client.get("move_to_next_best_cost")
        found["moving_there_breaks"] = client.get("move_to_next_best_breaks")
    return found


@main.command()
@click.argument("run")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json", "html"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), help="File or folder to write.")
@_guarded
def export(run: str, fmt: str, out: Path | None) -> None:
    """Export a run's tables as Excel, CSV, JSON or an HTML report."""
    try:
        record = load_run(run)
    except RunNotFoundError as error:
        _fail(str(error), EXIT_BAD_INPUT)
    default = {"xlsx": "plan.xlsx", "csv": "csv", "json": "plan.json", "html": "report.html"}
    target = out or Path.cwd() / f"{record.path.name}-{default[fmt]}"
    written = export_run(record, fmt=fmt, out=target)  # type: ignore[arg-type]
    click.echo(str(written))


@main.group()
def runs() -> None:
    """The run store: runs written without --out."""


@runs.command("list")
@click.option("--json", "as_json", is_flag=True)
@_guarded
def runs_list(as_json: bool) -> None:
    """List stored runs, newest last."""
    table = list_runs()
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
        return
    click.echo(table.to_string(index=False) if len(table) else "no runs yet")


# ----- printing -----------------------------------------------------------------------------
def _num(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer() or abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.2f}"
    return str(value)


def _status_line(result: dict[str, Any]) -> str:
    parts = [result["status"]]
    if result.get("objective") is not None:
        parts.append(f"objective {result['objective']:,.0f}")
    if result.get("gap") is not None:
        parts.append(f"gap {result['gap']:.3%}")
    parts.append(f"{result['solve_seconds']:.2f}s, {result['solver']}")
    return ", ".join(parts)


def _print_results(scenario: Scenario, results: list[ModelResult], run_dir: Path) -> None:
    console = _console()
    config = scenario.config
    console.print(f"[bold]{config.company}[/] {config.year or ''}".rstrip())
    for result in results:
        colour = "green" if result.status.has_solution else "red"
        console.print(f"[{colour}]{result.summary()}[/]")
        if result.status is Status.FEASIBLE:
            console.print("  (stopped at the time limit: the plan is feasible, not proven best)")
        if not result.status.has_solution:
            for line in result.explanation.lines():
                console.print(f"  {line}", markup=False)
    by_model = {r.model: r for r in results}
    staffing = by_model.get("staffing")
    if staffing is not None and staffing.status.has_solution:
        _print_staffing(console, scenario, staffing)
    elif "coverage" in by_model and by_model["coverage"].status.has_solution:
        table = by_model["coverage"].frames["coverage"]
        console.print(table[["segment", "status", "covered_by", "clients"]].to_string(index=False))
    console.print(f"Run folder: {run_dir}")
    console.print(f"Explain it: optim explain {run_dir}")


def _print_funnel(console: Console, result: ModelResult) -> None:
    """The new-business chain month by month, and the telesales and assistants it needs."""
    funnel = result.frames.get("funnel")
    if funnel is None or funnel.empty:
        return
    stages = [
        ("researched_contacts", "contacts"),
        ("dials", "dials"),
        ("conversations", "convers."),
        ("meetings", "meetings"),
        ("opportunities", "opport."),
        ("wins", "wins"),
    ]
    monthly = funnel.groupby("month")[[s for s, _ in stages]].sum()
    headcount = result.frames["headcount"]
    people = headcount.pivot_table(index="month", columns="role", values="fte", aggfunc="sum")
    table = Table(title="New-business funnel by month (all directions) and who carries it")
    table.add_column("month", justify="right", no_wrap=True)
    for _, label in stages:
        table.add_column(label, justify="right", no_wrap=True)
    for role, label in (("telesales", "telesales"), ("assistant", "assistants")):
        if role in people:
            table.add_column(label, justify="right", no_wrap=True)
    for month, row in monthly.iterrows():
        cells = [str(month), *(f"{row[s]:,.0f}" for s, _ in stages)]
        cells += [
            f"{people.loc[month, role]:.1f}"
            for role in ("telesales", "assistant")
            if role in people
        ]
        table.add_row(*cells)
    console.print(table)


def _print_staffing(console: Console, scenario: Scenario, result: ModelResult) -> None:
    config = scenario.config
    headcount = result.frames["headcount"]
    pivot = headcount.pivot_table(
        index="role", columns="month", values="headcount", aggfunc="sum"
    ).fillna(0)
    today = scenario.team.groupby("role").size()
    table = Table(title="Headcount by month (all directions; today includes open positions)")
    table.add_column("role", no_wrap=True)
    table.add_column("today", justify="right", no_wrap=True)
    for month in pivot.columns:
        table.add_column(str(month), justify="right", no_wrap=True)
    for role, row in pivot.iterrows():
        table.add_row(str(role), str(int(today.get(role, 0))), *(f"{v:.0f}" for v in row))
    console.print(table)

    _print_funnel(console, result)
    revenue = result.frames["revenue"]
    rev = Table(title=f"In-year revenue vs plan ({config.currency})")
    for column in ("direction", "target", "today's clients", "new clients", "total", "short"):
        rev.add_column(column, justify="left" if column == "direction" else "right", no_wrap=True)
    for row in revenue.itertuples(index=False):
        rev.add_row(
            str(row.direction),
            f"{row.target:,.0f}",
            f"{row.base_revenue:,.0f}",
            f"{row.new_business_revenue:,.0f}",
            f"{row.total_revenue:,.0f}",
            f"{row.shortfall:,.0f}",
        )
    console.print(rev)
    budget = result.frames["budget"]
    cost = float(budget["total_cost"].sum())
    line = f"Personnel cost for the year: {cost:,.0f} {config.currency}"
    if config.plan is not None and config.plan.budget is not None:
        line += f" (budget {config.plan.budget:,.0f}, {cost / config.plan.budget:.1%} used)"
    console.print(line)
    hiring = result.frames["hiring"]
    new_seats = hiring[hiring["kind"] == "new seat"]
    if len(new_seats):
        summary = new_seats.groupby(["role", "open_by_month", "start_month"], as_index=False)[
            "hires"
        ].sum()
        console.print("Hires (open the requisition by month -> start month):")
        for row in summary.itertuples(index=False):
            console.print(
                f"  {row.role}: {row.hires:.0f} (open by {row.open_by_month} -> "
                f"start {row.start_month})"
            )
    for line in result.explanation.lines()[1:]:
        console.print(f"  {line}", markup=False)


if __name__ == "__main__":
    main()
