"""The one place that talks to solvers: options, model building with named groups, solving, duals.

Models build a `LinearModel` (a PuLP problem plus named constraint groups with plain-language
sentences), call `solve()` with `SolveOptions`, and read values from the returned `Solution`.
Three back ends are supported and chosen by measurement (benchmarks/): HiGHS and CBC through
PuLP, and OR-Tools (SCIP for MIPs, GLOP for LPs) through `pywraplp`.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pulp

from optim.result import Marginal, Status
from optim.schema import SolverName, SolverSettings

SOLVERS: tuple[SolverName, ...] = ("highs", "cbc", "ortools")
_SOLVER_LABEL = {"highs": "HiGHS (PuLP)", "cbc": "CBC (PuLP)", "ortools": "OR-Tools SCIP"}
# Below this, a slack or a dual counts as zero (solver tolerances are around 1e-7 to 1e-9).
_TOLERANCE = 1e-6


class SolverFailure(RuntimeError):
    """The solver could not be run or returned something unusable (exit code 4)."""


@dataclass(frozen=True)
class SolveOptions:
    """Solver knobs shared by every model (SPEC §5 common options)."""

    solver: SolverName = "ortools"
    time_limit: float = 60.0
    gap: float = 0.001
    threads: int = 0  # 0 = the solver's default
    seed: int = 0
    log: bool = False

    @classmethod
    def from_settings(cls, settings: SolverSettings, **overrides: Any) -> SolveOptions:
        """Options from scenario.yaml's `solver` section, with CLI overrides that are not None."""
        base = cls(
            solver=settings.name,
            time_limit=settings.time_limit,
            gap=settings.gap,
            threads=settings.threads,
            seed=settings.seed,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def label(self) -> str:
        return _SOLVER_LABEL[self.solver]


@dataclass(frozen=True)
class ConstraintGroup:
    """A family of constraints with one meaning, e.g. "telesales hours in a month".

    `describe` and `marginal` are str.format templates over the constraint's labels plus
    `{value}` (the marginal value in the user's unit, already formatted). `per_unit` turns the
    dual (objective change per unit of the constraint's right-hand side) into the user's unit,
    e.g. hours per person for a capacity constraint counted in hours.
    """

    name: str
    describe: str
    marginal: str | None = None
    unit: str = "unit"
    per_unit: Callable[[Mapping[str, Any]], float] | None = None


@dataclass
class _Row:
    group: str
    labels: dict[str, Any]
    constraint: pulp.LpConstraint


class LinearModel:
    """A MIP/LP under construction: variables, named constraint groups, objective."""

    def __init__(self, name: str, *, sense: str) -> None:
        if sense not in ("min", "max"):
            raise ValueError("sense is 'min' or 'max'")
        self.name = name
        self.sense = sense
        self.problem = pulp.LpProblem(name, pulp.LpMinimize if sense == "min" else pulp.LpMaximize)
        self.groups: dict[str, ConstraintGroup] = {}
        self.rows: dict[str, _Row] = {}
        self._count = 0

    # ----- building -------------------------------------------------------------------------
    def var(
        self,
        family: str,
        *,
        lb: float | None = 0.0,
        ub: float | None = None,
        integer: bool = False,
    ) -> pulp.LpVariable:
        # Names are short and unique; the key stays readable in the prefix for solver logs.
        self._count += 1
        name = f"{_clean(family)}_{self._count}"
        cat = pulp.LpInteger if integer else pulp.LpContinuous
        if hasattr(self.problem, "add_variable"):  # PuLP >= 3.3 attaches variables to a model
            return self.problem.add_variable(name, lowBound=lb, upBound=ub, cat=cat)
        return pulp.LpVariable(name, lowBound=lb, upBound=ub, cat=cat)

    def group(self, group: ConstraintGroup) -> None:
        self.groups[group.name] = group

    def add(self, group: str, labels: Mapping[str, Any], constraint: pulp.LpConstraint) -> None:
        """Add one constraint of a declared group; `labels` locate it (direction, month, ...)."""
        if group not in self.groups:
            raise KeyError(f"constraint group {group} not declared")
        if not isinstance(constraint, pulp.LpConstraint):
            # A comparison without variables collapsed to a bool: true adds nothing; false is
            # kept as "0 >= 1" so the solver reports the model infeasible, with this group.
            if constraint:
                return
            constraint = pulp.LpConstraint(pulp.LpAffineExpression(), pulp.LpConstraintGE, rhs=1)
        self._count += 1
        name = f"{_clean(group)}_{self._count}"
        self.problem.addConstraint(constraint, name=name)
        self.rows[name] = _Row(group, dict(labels), constraint)

    def set_objective(self, expression: pulp.LpAffineExpression) -> None:
        self.problem.setObjective(expression)

    @property
    def integer_variables(self) -> list[pulp.LpVariable]:
        return [v for v in self.problem.variables() if v.cat == pulp.LpInteger]

    def size(self) -> dict[str, int]:
        variables = self.problem.variables()
        return {
            "variables": len(variables),
            "integer_variables": sum(v.cat == pulp.LpInteger for v in variables),
            "constraints": len(self.rows),
        }


@dataclass(frozen=True)
class Solution:
    """What a solve returned: status, objective, bound and the values of the variables."""

    status: Status
    objective: float | None
    bound: float | None
    seconds: float
    solver: str
    message: str = ""
    values: dict[str, float] = field(default_factory=dict)

    def value(self, variable: pulp.LpVariable | pulp.LpAffineExpression | float) -> float:
        """Value of a variable or linear expression in this solution."""
        if isinstance(variable, int | float):
            return float(variable)
        if isinstance(variable, pulp.LpVariable):
            return self.values.get(variable.name, 0.0)
        total = float(variable.constant)
        for var, coefficient in variable.items():
            total += coefficient * self.values.get(var.name, 0.0)
        return total


# ----- solving ------------------------------------------------------------------------------
def solve(model: LinearModel, options: SolveOptions, *, relax: bool = False) -> Solution:
    """Solve the model with the chosen back end; `relax` solves the LP relaxation."""
    started = time.perf_counter()
    try:
        if options.solver == "ortools":
            solution = _solve_ortools(model, options, relax=relax)
        else:
            solution = _solve_pulp(model, options, relax=relax)
    except SolverFailure:
        raise
    except Exception as error:  # solver libraries raise many types; all mean the same to users
        raise SolverFailure(f"{options.label} failed on the {model.name} model: {error}") from error
    if solution.status is Status.ERROR and options.solver == "ortools":
        # SCIP gives up on some badly conditioned LPs ("numerical troubles"); HiGHS is asked
        # instead, and the result says which solver answered and why.
        retry = solve(model, replace(options, solver="highs"), relax=relax)
        note = f"OR-Tools SCIP failed ({solution.message}); answered by {retry.solver}"
        return replace(retry, message=note, seconds=time.perf_counter() - started)
    return replace(solution, seconds=time.perf_counter() - started)


class _HighsWithOffset(pulp.HiGHS):
    """PuLP's HiGHS interface, also handing HiGHS the objective's constant.

    Without it HiGHS measures its relative MIP gap against the objective less its constant
    (today's payroll, say), so it would stop later than asked, or never, on a plan whose cost
    is mostly fixed.
    """

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        super().buildSolverModel(lp)
        constant = float(lp.objective.constant) if lp.objective is not None else 0.0
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        lp.solverModel.changeObjectiveOffset(sign * constant)


def _pulp_solver(options: SolveOptions, *, mip: bool, log_path: str | None) -> Any:
    threads = options.threads or None
    if options.solver == "highs":
        # HiGHS sizes its thread pool once per process, at the first solve, and refuses a
        # different count later; so `threads` is left to HiGHS (documented in docs/solvers.md).
        return _HighsWithOffset(
            mip=mip,
            msg=options.log,
            timeLimit=options.time_limit,
            gapRel=options.gap,
            random_seed=options.seed,
        )
    if options.solver == "cbc":
        # PuLP 3 marks its bundled CBC as deprecated in favour of a separately installed one;
        # the bundled binary is what makes a plain `pip install` work, so it stays.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(
                mip=mip,
                msg=options.log,
                timeLimit=options.time_limit,
                gapRel=options.gap,
                threads=threads,
                options=[f"randomCbcSeed {options.seed + 1}", f"randomSeed {options.seed + 1}"],
                logPath=log_path,
            )
    raise SolverFailure(f"unknown solver {options.solver!r}; choose one of {', '.join(SOLVERS)}")


_highs_banner_shown = False


def _silence_highs_banner() -> None:
    """HiGHS prints a copyright banner on stdout when its first solver object is made; that
    would corrupt `--json` output, so the first one is made with stdout pointed elsewhere."""
    global _highs_banner_shown
    if _highs_banner_shown:
        return
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _highs_banner_shown = True


def new_highs(options: SolveOptions) -> Any:
    """A quiet `highspy.Highs` for models built directly with arrays (large LPs)."""
    import highspy

    if not options.log:
        _silence_highs_banner()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", bool(options.log))
    highs.setOptionValue("random_seed", options.seed)
    return highs


def _solve_pulp(model: LinearModel, options: SolveOptions, *, relax: bool) -> Solution:
    if options.solver == "highs" and not options.log:
        _silence_highs_banner()
    problem = model.problem
    has_integers = bool(model.integer_variables) and not relax
    with tempfile.TemporaryDirectory() as folder:
        log_path = str(Path(folder) / "cbc.log") if options.solver == "cbc" else None
        solver = _pulp_solver(options, mip=has_integers, log_path=log_path)
        problem.solve(solver)
        log = Path(log_path).read_text(errors="replace") if log_path else ""
    values = {v.name: float(v.varValue) for v in problem.variables() if v.varValue is not None}
    status, objective, bound, message = _read_pulp_status(model, options, log, has_integers)
    if not status.has_solution:
        values = {}
    return Solution(status, objective, bound, 0.0, options.label, message, values)


def _read_pulp_status(
    model: LinearModel, options: SolveOptions, log: str, has_integers: bool
) -> tuple[Status, float | None, float | None, str]:
    problem = model.problem
    # An objective without terms (nothing to decide) is worth its constant; PuLP says None.
    objective = pulp.value(problem.objective) if problem.objective is not None else None
    if objective is None:
        objective = float(problem.objective.constant) if problem.objective is not None else 0.0
    if options.solver == "highs":
        import highspy

        highs = problem.solverModel
        code = highs.getModelStatus()
        ok = highspy.HighsModelStatus
        info = highs.getInfo()
        has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
        # PuLP hands HiGHS the objective negated when maximising (the offset is ours).
        sign = -1.0 if model.sense == "max" else 1.0
        raw_bound = info.mip_dual_bound if has_integers else None
        bound = None if raw_bound is None else sign * raw_bound
        if code == ok.kOptimal:
            return Status.OPTIMAL, objective, _finite(bound, objective), "optimal"
        if code in (ok.kInfeasible, ok.kUnboundedOrInfeasible):
            return Status.INFEASIBLE, None, None, highs.modelStatusToString(code)
        if code == ok.kUnbounded:
            return Status.UNBOUNDED, None, None, "unbounded"
        if has_point:
            return Status.FEASIBLE, objective, _finite(bound, None), highs.modelStatusToString(code)
        return Status.ERROR, None, None, highs.modelStatusToString(code)
    # CBC
    if problem.status == pulp.LpStatusInfeasible:
        return Status.INFEASIBLE, None, None, "infeasible"
    if problem.status == pulp.LpStatusUnbounded:
        return Status.UNBOUNDED, None, None, "unbounded"
    bound = _cbc_bound(log, objective)
    if problem.sol_status == pulp.LpSolutionOptimal and "Stopped on time" not in log:
        return Status.OPTIMAL, objective, bound if bound is not None else objective, "optimal"
    if problem.sol_status in (pulp.LpSolutionIntegerFeasible, pulp.LpSolutionOptimal):
        return Status.FEASIBLE, objective, bound, "stopped at the time limit"
    return Status.ERROR, None, None, pulp.LpStatus.get(problem.status, "unknown")


def _cbc_bound(log: str, objective: float | None) -> float | None:
    """CBC's best bound from its log, in the same terms as PuLP's objective.

    CBC reports objective and bound without the objective's constant; the difference between
    PuLP's objective and CBC's "Objective value" restores it.
    """
    bound = re.search(r"Lower bound:\s*([-\d.eE+]+)", log)
    value = re.search(r"Objective value:\s*([-\d.eE+]+)", log)
    if bound is None:
        return None
    offset = objective - float(value.group(1)) if value and objective is not None else 0.0
    return float(bound.group(1)) + offset


def _finite(value: float | None, fallback: float | None) -> float | None:
    if value is None or not math.isfinite(value) or abs(value) >= 1e30:
        return fallback
    return value


def _solve_ortools(model: LinearModel, options: SolveOptions, *, relax: bool) -> Solution:
    from ortools.linear_solver import pywraplp

    has_integers = bool(model.integer_variables) and not relax
    solver = pywraplp.Solver.CreateSolver("SCIP" if has_integers else "GLOP")
    if solver is None:
        raise SolverFailure("OR-Tools was built without SCIP/GLOP")
    infinity = solver.infinity()
    columns = {}
    for v in model.problem.variables():
        lb = -infinity if v.lowBound is None else v.lowBound
        ub = infinity if v.upBound is None else v.upBound
        integer = has_integers and v.cat == pulp.LpInteger
        columns[v.name] = (solver.IntVar if integer else solver.NumVar)(lb, ub, v.name)
    rows = {}
    for name, entry in model.rows.items():
        constraint = entry.constraint
        lb = constraint.getLb()
        ub = constraint.getUb()
        row = solver.Constraint(
            -infinity if lb is None else lb, infinity if ub is None else ub, name
        )
        for var, coefficient in constraint.items():
            row.SetCoefficient(columns[var.name], coefficient)
        rows[name] = row
    objective = solver.Objective()
    for var, coefficient in model.problem.objective.items():
        objective.SetCoefficient(columns[var.name], coefficient)
    objective.SetOffset(float(model.problem.objective.constant))
    if model.sense == "max":
        objective.SetMaximization()
    else:
        objective.SetMinimization()
    solver.SetTimeLimit(int(options.time_limit * 1000))
    if options.threads:
        solver.SetNumThreads(options.threads)
    if has_integers:
        solver.SetSolverSpecificParametersAsString(
            f"randomization/randomseedshift = {options.seed}\n"
        )
    params = pywraplp.MPSolverParameters()
    if has_integers:
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, options.gap)
    code = solver.Solve(params)
    if code in (pywraplp.Solver.INFEASIBLE,):
        return Solution(Status.INFEASIBLE, None, None, 0.0, options.label, "infeasible")
    if code == pywraplp.Solver.UNBOUNDED:
        return Solution(Status.UNBOUNDED, None, None, 0.0, options.label, "unbounded")
    if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return Solution(Status.ERROR, None, None, 0.0, options.label, f"code {code}")
    values = {name: column.solution_value() for name, column in columns.items()}
    value = objective.Value()
    bound = objective.BestBound() if has_integers else value
    status = Status.OPTIMAL if code == pywraplp.Solver.OPTIMAL else Status.FEASIBLE
    solution = Solution(
        status, value, _finite(bound, value), 0.0, options.label, status.value, values
    )
    if not has_integers:
        for name, row in rows.items():
            model.rows[name].constraint.pi = row.dual_value()
    return solution


# ----- marginal values ----------------------------------------------------------------------
def marginal_values(
    model: LinearModel,
    solution: Solution,
    options: SolveOptions,
    *,
    groups: Iterable[str] | None = None,
    fix_integers: bool = True,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    top: int = 12,
) -> tuple[Marginal, ...]:
    """Binding constraints with their marginal values, in the user's units.

    With `fix_integers` (the default) the integer decisions are fixed at the solution and the LP
    re-solved: its duals say what one more unit of each binding resource is worth with the
    chosen headcount. Without it the duals come from the continuous relaxation (people counted
    in fractions), which is what a cost-minimising plan's marginal costs are read from.
    """
    if not solution.status.has_solution:
        return ()
    wanted = set(groups) if groups is not None else set(model.groups)
    integers = model.integer_variables
    saved = [(v, v.lowBound, v.upBound) for v in integers]
    try:
        if fix_integers:
            for v in integers:
                fixed = round(solution.values.get(v.name, 0.0))
                v.lowBound = v.upBound = fixed
        lp = solve(model, replace(options, gap=0.0), relax=True)
        if not lp.status.has_solution:
            return ()
        found = []
        for row in model.rows.values():
            group = model.groups[row.group]
            if row.group not in wanted or group.marginal is None:
                continue
            dual = row.constraint.pi
            if dual is None or abs(dual) < _TOLERANCE:
                continue
            per_unit = group.per_unit(row.labels) if group.per_unit else 1.0
            worth = abs(dual) * per_unit
            sentence = group.marginal.format(**row.labels, value=fmt(worth))
            slack = abs(lp.value(row.constraint))
            found.append(Marginal(row.group, row.labels, sentence, worth, group.unit, slack))
        found.sort(key=lambda m: -m.value_per_unit)
        return tuple(found[:top])
    finally:
        for v, lb, ub in saved:
            v.lowBound, v.upBound = lb, ub


# ----- helpers ------------------------------------------------------------------------------
def _clean(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


# ----- infeasibility ------------------------------------------------------------------------
@dataclass(frozen=True)
class Violation:
    """A constraint that had to give way for the model to become feasible, and by how much."""

    group: str
    labels: dict[str, Any]
    sentence: str
    amount: float


def conflicting_constraints(
    model: LinearModel, options: SolveOptions, *, groups: Iterable[str], top: int = 8
) -> tuple[Violation, ...]:
    """The constraints of `groups` that must be relaxed, and by how much, for feasibility.

    Every constraint of the named groups gets a non-negative slack; the LP relaxation then
    minimises the total slack (each row scaled by its largest coefficient, so hours and money
    weigh alike). The rows left with slack are where the scenario asks for the impossible.
    The model is changed in place: build a fresh one for this.
    """
    wanted = set(groups)
    slacks: list[tuple[_Row, pulp.LpVariable, float]] = []
    for row in model.rows.values():
        if row.group not in wanted:
            continue
        scale = max((abs(c) for c in row.constraint.values()), default=1.0) or 1.0
        lower, upper = row.constraint.getLb(), row.constraint.getUb()
        if lower is not None and upper is not None:
            continue  # equalities define quantities; they are not what a scenario asks for
        slack = model.var("slack")
        row.constraint.addInPlace((scale if upper is None else -scale) * slack)
        slacks.append((row, slack, scale))
    model.problem.sense = pulp.LpMinimize
    model.sense = "min"
    model.set_objective(pulp.lpSum(s for _, s, _ in slacks))
    solution = solve(model, options, relax=True)
    if not solution.status.has_solution:
        return ()
    found = []
    for row, slack, scale in slacks:
        amount = solution.value(slack) * scale
        if amount > _TOLERANCE * max(1.0, scale):
            group = model.groups[row.group]
            sentence = group.describe.format(**row.labels)
            found.append(Violation(row.group, row.labels, sentence, amount))
    found.sort(key=lambda v: -v.amount)
    return tuple(found[:top])
