"""The run folder — everything one command wrote — and the run store that keeps them.

A run folder is written whole or not at all: it is built in a hidden temporary sibling and
renamed into place at the end, so a failure (or Ctrl-C) leaves no half-written folder behind
and an existing folder of the same name is replaced only by a complete one (SPEC §5).
Without `--out`, runs go to the store: `runs/<YYYYmmdd-HHMMSS>-<command>` under the current
directory, or under `$OPTIM_RUNS` when it is set.
"""

from __future__ import annotations

import errno
import importlib.metadata
import itertools
import json
import os
import platform
import re
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from optim import __version__
from optim.export import (
    check_frame_name,
    flat_frame,
    jsonable,
    read_csv_frame,
    write_csvs,
    write_json,
    write_xlsx,
)
from optim.report import MONTHS, PLAN_BUDGET, write_report
from optim.result import ModelResult, Status
from optim.scenario import Scenario

RUN_FORMAT = 1  # version of the run.json layout
STORE_ENV = "OPTIM_RUNS"
RUN_JSON = "run.json"
PLAN_JSON = "plan.json"
PLAN_XLSX = "plan.xlsx"
EXPLANATION_TXT = "explanation.txt"
REPORT_HTML = "report.html"
VERSIONED_PACKAGES = ("ortools", "pulp", "highspy", "pandas", "numpy")
# Worst first: the status of a run is the worst status of its models.
_SEVERITY = (Status.ERROR, Status.UNBOUNDED, Status.INFEASIBLE, Status.FEASIBLE, Status.OPTIMAL)


class RunError(Exception):
    """A run folder cannot be written or read."""


class RunNotFoundError(RunError, FileNotFoundError):
    """No run folder at that path or with that id, or the folder has no run.json."""


class RunFolderError(RunError):
    """The output folder exists and is not a run folder, so it is not replaced."""


def runs_store() -> Path:
    """Where runs go without `--out`: `$OPTIM_RUNS`, or `runs/` in the current directory."""
    configured = os.environ.get(STORE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.cwd() / "runs"


# --------------------------------------------------------------------------- what a run says


def worst_status(statuses: Sequence[str]) -> str | None:
    """The status of a run: the worst of its models' statuses (None for no models)."""
    for status in _SEVERITY:
        if status.value in statuses:
            return status.value
    return statuses[0] if statuses else None


def model_line(result: Mapping[str, Any]) -> str:
    """One line per model, as `ModelResult.summary()` writes it, from the stored dict."""
    parts = [f"{result.get('model')}: {result.get('status')}"]
    objective = result.get("objective")
    if isinstance(objective, int | float):
        parts.append(f"objective {objective:,.0f}")
    if isinstance(result.get("gap"), int | float):
        parts.append(f"gap {result['gap']:.3%}")
    parts.append(f"{float(result.get('solve_seconds') or 0):.2f}s with {result.get('solver')}")
    return ", ".join(parts)


def explanation_lines(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every model's status line and explanation, a blank line between models."""
    lines: list[str] = []
    for result in results:
        if lines:
            lines.append("")
        lines.append(model_line(result))
        lines += list((result.get("explanation") or {}).get("lines", []))
    return lines


def summary_rows(run: Mapping[str, Any]) -> list[tuple[str, object]]:
    """The Summary sheet and the report's summary table, from run.json."""
    scenario = run.get("scenario") or {}
    plan = run.get("plan") or {}
    rows: list[tuple[str, object]] = [
        ("Company", run.get("company")),
        ("Year", run.get("year")),
        ("Currency", run.get("currency")),
        (MONTHS, run.get("months")),
        ("Command", run.get("command")),
        ("Scenario", scenario.get("source")),
        ("Scenario digest", scenario.get("digest")),
        ("Revenue target", plan.get("revenue_target")),
        (PLAN_BUDGET, plan.get("budget")),
        ("Status", run.get("status")),
    ]
    for model in run.get("models", []):
        name = model.get("model")
        rows += [
            (f"{name} status", model.get("status")),
            (f"{name} objective", model.get("objective")),
            (f"{name} bound", model.get("bound")),
            (f"{name} gap", model.get("gap")),
            (f"{name} solver", model.get("solver")),
            (f"{name} solve seconds", model.get("solve_seconds")),
        ]
    rows += [
        ("Started", run.get("started")),
        ("Finished", run.get("finished")),
        ("Total seconds", run.get("total_seconds")),
        ("optim version", (run.get("versions") or {}).get("optim")),
    ]
    return [(label, value) for label, value in rows if value is not None]


def run_title(run: Mapping[str, Any]) -> str:
    """'Demo Industrial Supply 2027 — optim plan'."""
    who = " ".join(str(x) for x in (run.get("company"), run.get("year")) if x is not None)
    return f"{who or 'Plan'} — optim {run.get('command', '')}".strip()


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {
        "optim": __version__,
        "python": platform.python_version(),
    }
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _exit_code(status: str | None) -> int:
    """SPEC §5 exit code of a run with this status (0 for a run without models)."""
    try:
        return Status(status).exit_code
    except ValueError:
        return 0


def _column_kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column.dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(column.dtype):
        return "int"
    if pd.api.types.is_float_dtype(column.dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return "datetime"
    return "str" if pd.api.types.is_string_dtype(column.dtype) else "object"


def _run_info(
    *,
    command: str,
    scenario: Scenario | None,
    results: Sequence[ModelResult],
    frames: Mapping[str, pd.DataFrame],
    options: Mapping[str, Any],
    started: datetime,
) -> dict[str, Any]:
    config = scenario.config if scenario is not None else None
    statuses = [r.status.value for r in results]
    status = worst_status(statuses)
    return {
        "format": RUN_FORMAT,
        "command": command,
        "options": jsonable(dict(options)),
        "company": config.company if config else None,
        "year": config.year if config else None,
        "currency": config.currency if config else None,
        "months": config.months if config else None,
        "scenario": (
            {"source": str(scenario.source), "digest": scenario.digest} if scenario else None
        ),
        "plan": (
            {"revenue_target": config.plan.revenue_target, "budget": config.plan.budget}
            if config is not None and config.plan is not None
            else None
        ),
        "status": status,
        "exit_code": _exit_code(status),
        "models": [
            {
                "model": r.model,
                "status": r.status.value,
                "objective": r.objective,
                "bound": r.bound,
                "gap": r.gap,
                "sense": r.sense,
                "solver": r.solver,
                "solve_seconds": round(r.solve_seconds, 4),
                "frames": list(r.frames),
            }
            for r in results
        ],
        "frames": {
            name: {
                "file": f"{name}.csv",
                "rows": len(frame),
                "columns": {str(c): _column_kind(frame[c]) for c in frame.columns},
            }
            for name, frame in frames.items()
        },
        "versions": _versions(),
        "started": started.isoformat(timespec="seconds"),
    }


# --------------------------------------------------------------------------- writing


def merged_frames(results: Sequence[ModelResult]) -> dict[str, pd.DataFrame]:
    """All results' frames by name; when two results carry the same name, the later wins."""
    frames: dict[str, pd.DataFrame] = {}
    for result in results:
        for name, frame in result.frames.items():
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(f"frame {name!r} of {result.model} is not a DataFrame")
            frames[check_frame_name(name)] = flat_frame(frame)
    return frames


def _write_contents(
    folder: Path,
    *,
    run: dict[str, Any],
    results: Sequence[ModelResult],
    frames: Mapping[str, pd.DataFrame],
    started: datetime,
) -> None:
    """Everything of a run folder; run.json last, when the rest is written."""
    result_dicts = [r.to_dict() for r in results]
    lines = explanation_lines(result_dicts)
    summary = summary_rows(run)
    write_csvs(folder, frames)
    write_xlsx(folder / PLAN_XLSX, summary=summary, frames=frames, explanation_lines=lines)
    write_json(folder / PLAN_JSON, result_dicts, frames)
    (folder / EXPLANATION_TXT).write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_report(
        folder / REPORT_HTML,
        title=run_title(run),
        summary=summary,
        frames=frames,
        explanation_lines=lines,
    )
    finished = datetime.now().astimezone()
    run["finished"] = finished.isoformat(timespec="seconds")
    run["total_seconds"] = round((finished - started).total_seconds(), 3)
    run["files"] = [*sorted(p.name for p in folder.iterdir()), RUN_JSON]
    (folder / RUN_JSON).write_text(
        json.dumps(jsonable(run), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )


def _check_replaceable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder} is a file; give --out a folder name")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / RUN_JSON).is_file():
        raise RunFolderError(
            f"{folder} exists and is not a run folder (no {RUN_JSON}); "
            "not replacing it — choose another --out"
        )


def _missing_parents(folder: Path) -> list[Path]:
    missing = []
    for parent in folder.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_folder(new: Path, target: Path) -> None:
    """Move `new` to `target`; an existing `target` goes only once `new` is in place."""
    if not target.exists():
        os.rename(new, target)
        return
    _check_replaceable(target)
    aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _move_into_store(new: Path, store: Path, name: str) -> Path:
    """Move `new` to `store/name`, or name-2, name-3, ... if taken (even by a parallel run)."""
    for k in itertools.count(1):
        candidate = store / (name if k == 1 else f"{name}-{k}")
        if candidate.exists():
            continue
        try:
            os.rename(new, candidate)
        except OSError as error:
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY) or candidate.exists():
                continue
            raise
        return candidate
    raise AssertionError("unreachable")


def _slug(command: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", command).strip("-") or "run"


def write_run(
    out_dir: Path | None,
    *,
    command: str,
    scenario: Scenario | None,
    results: Sequence[ModelResult],
    options: Mapping[str, Any],
    started: datetime | None = None,
) -> Path:
    """Write one run folder and return where it is.

    `out_dir=None` puts it in the run store under a new id. An existing `out_dir` is replaced
    only if it is a run folder (or empty) and only once the new folder is complete.
    `started` is when the command began (default: now); run.json records it with the
    finishing time.
    """
    started = (started or datetime.now()).astimezone()
    results = list(results)
    frames = merged_frames(results)
    run = _run_info(
        command=command,
        scenario=scenario,
        results=results,
        frames=frames,
        options=options,
        started=started,
    )
    target = None if out_dir is None else Path(out_dir).expanduser().absolute()
    if target is None:
        parent = runs_store().absolute()
        name = f"{started:%Y%m%d-%H%M%S}-{_slug(command)}"
    else:
        _check_replaceable(target)
        parent, name = target.parent, target.name
    created = _missing_parents(parent / name)
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.tmp-"))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; a run is not
        _write_contents(staging, run=run, results=results, frames=frames, started=started)
        if target is None:
            return _move_into_store(staging, parent, name)
        _replace_folder(staging, target)
        return target
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:
            try:
                folder.rmdir()
            except OSError:
                break
        raise


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RunRecord:
    """A run folder read back: run.json, the results of plan.json, the frames from CSV."""

    path: Path
    run: dict[str, Any]
    results: list[dict[str, Any]]
    frames: dict[str, pd.DataFrame]

    @property
    def id(self) -> str:
        return self.path.name

    def summary(self) -> list[tuple[str, object]]:
        return summary_rows(self.run)

    def explanation_lines(self) -> list[str]:
        return explanation_lines(self.results)

    def title(self) -> str:
        return run_title(self.run)


def _resolve(ref: str | Path, store: Path | None) -> Path:
    path = Path(ref).expanduser()
    if path.is_dir():
        return path
    if path.name == RUN_JSON and path.is_file():
        return path.parent
    store = store if store is not None else runs_store()
    candidate = store / str(ref)
    if candidate.is_dir():
        return candidate
    if str(ref) == "latest":
        runs = list_runs(store)
        if not runs.empty:
            return Path(runs["path"].iloc[-1])
    raise RunNotFoundError(f"no run {str(ref)!r}: neither {path} nor {candidate} is a run folder")


def _read_frame(folder: Path, name: str, meta: Mapping[str, Any]) -> pd.DataFrame:
    path = folder / str(meta.get("file", f"{name}.csv"))
    if not path.is_file():
        raise RunError(f"{folder} is incomplete: {path.name} is missing")
    columns: Mapping[str, str] = meta.get("columns", {})
    frame = read_csv_frame(path, [c for c, kind in columns.items() if kind in ("str", "object")])
    for column, kind in columns.items():
        if kind == "datetime" and column in frame.columns:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def load_run(ref: str | Path, *, store: Path | None = None) -> RunRecord:
    """Read a run folder by path, or by its id in the store ('latest' for the newest)."""
    folder = _resolve(ref, store)
    run_file = folder / RUN_JSON
    if not run_file.is_file():
        raise RunNotFoundError(f"{folder} is not a run folder: {RUN_JSON} is missing")
    try:
        run = json.loads(run_file.read_text(encoding="utf-8"))
        plan_file = folder / PLAN_JSON
        plan = json.loads(plan_file.read_text(encoding="utf-8")) if plan_file.is_file() else {}
    except (OSError, ValueError) as error:
        raise RunError(f"{folder}: cannot read the run ({error})") from error
    frame_meta: dict[str, Any] = run.get("frames") or {
        path.stem: {"file": path.name} for path in sorted(folder.glob("*.csv"))
    }
    frames = {name: _read_frame(folder, name, meta) for name, meta in frame_meta.items()}
    return RunRecord(
        path=folder,
        run=run,
        results=list(plan.get("results", [])),
        frames=frames,
    )


def list_runs(store: Path | None = None) -> pd.DataFrame:
    """The runs in the store, oldest first: id, command, company, finished, status, models."""
    store = store if store is not None else runs_store()
    columns = ["id", "command", "company", "year", "started", "finished", "status", "models"]
    rows = []
    folders = sorted(store.iterdir()) if store.is_dir() else []
    for folder in folders:
        if folder.name.startswith(".") or not (folder / RUN_JSON).is_file():
            continue
        try:
            run = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run = {"status": f"unreadable {RUN_JSON}"}
        models = ", ".join(f"{m.get('model')} {m.get('status')}" for m in run.get("models", []))
        rows.append(
            {
                "id": folder.name,
                "command": run.get("command"),
                "company": run.get("company"),
                "year": run.get("year"),
                "started": run.get("started"),
                "finished": run.get("finished"),
                "status": run.get("status"),
                "models": models,
                "path": str(folder),
            }
        )
    table = pd.DataFrame(rows, columns=[*columns, "path"])
    return table.sort_values(["started", "id"], na_position="first", kind="stable").reset_index(
        drop=True
    )
