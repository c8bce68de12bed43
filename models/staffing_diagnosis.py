"""What would make an infeasible staffing plan work: the smallest changes, each found by a solve.

SPEC §4: instead of a bare "infeasible", the analyst gets the budget that would do, the largest
plan that can be delivered (within the budget and at any cost), the win rates that would do, or,
when none of those explains it, the constraints that cannot all hold.
"""

from __future__ import annotations

import time
from dataclasses import replace

from models.staffing import StaffingInputs, build
from optim.result import Relaxation, Status
from optim.solver import Solution, SolveOptions, conflicting_constraints, solve


class _Allowance:
    """The diagnosis as a whole gets the solver's time limit once more (at least a minute),
    shared by its solves, so that an infeasible plan never takes many times the limit."""

    def __init__(self, options: SolveOptions) -> None:
        self.deadline = time.monotonic() + max(options.time_limit, 60.0)
        self.options = options

    def left(self) -> bool:
        return time.monotonic() < self.deadline

    def solve_options(self) -> SolveOptions:
        remaining = max(1.0, self.deadline - time.monotonic())
        return replace(self.options, time_limit=min(self.options.time_limit, remaining))


def diagnose_infeasible(inputs: StaffingInputs, options: SolveOptions) -> tuple[Relaxation, ...]:
    """The smallest changes that make an infeasible plan work, each found by a solve."""
    allowance = _Allowance(options)
    config = inputs.config
    assert config.plan is not None
    budget = config.plan.budget
    target = config.plan.revenue_target
    found: list[Relaxation] = []
    reachable_at_any_cost = True
    if budget is not None:
        unbudgeted = build(inputs, objective="min_budget", budget=None)
        solution = solve(unbudgeted.model, allowance.solve_options())
        if solution.status.has_solution:
            needed = solution.value(unbudgeted.total_cost)
            found.append(
                Relaxation(
                    "plan.budget",
                    budget,
                    needed,
                    f"the plan is reachable with a budget of {needed:,.0f} "
                    f"(+{needed - budget:,.0f} {config.currency}){_caveat(solution)}",
                )
            )
        else:
            reachable_at_any_cost = False
    budgets = [budget] if reachable_at_any_cost or budget is None else [budget, None]
    for limit in budgets:
        largest = build(inputs, objective="max_plan", budget=limit)
        solution = solve(largest.model, allowance.solve_options())
        if not solution.status.has_solution:
            continue
        reachable = target * min(1.0, solution.value(largest.plan_share))
        where = "within the budget" if limit is not None else "this year at any cost"
        found.append(
            Relaxation(
                "plan.revenue_target" if limit is not None or budget is None else "plan (any cost)",
                target,
                reachable,
                f"{where}, the most the plan can be is {reachable:,.0f} "
                f"({target - reachable:,.0f} below the target of {target:,.0f}, split across "
                f"directions as the plan splits it){_caveat(solution)}",
            )
        )
    if not found:
        # Neither money nor plan explains it: name the constraints that cannot all hold.
        trial = build(inputs, objective="min_cost", budget=budget)
        groups = [g for g in trial.model.groups if g not in ("pool", "reductions")]
        conflicts = conflicting_constraints(trial.model, allowance.solve_options(), groups=groups)
        for violation in conflicts:
            found.append(
                Relaxation(
                    violation.group,
                    0.0,
                    violation.amount,
                    f"cannot hold: {violation.sentence} (short by {violation.amount:,.2f})",
                )
            )
        return tuple(found)
    factor = _win_rate_needed(inputs, allowance, budget)
    if factor is not None:
        rates = ", ".join(
            f"{k} {s.win_rate:.2f} -> {min(1.0, s.win_rate * factor):.2f}"
            for k, s in config.segments.items()
        )
        found.append(
            Relaxation(
                "segments.*.win_rate",
                1.0,
                factor,
                f"the target is reachable with win rates x{factor:.2f} ({rates})",
            )
        )
    return tuple(found)


def _caveat(solution: Solution) -> str:
    if solution.status is Status.OPTIMAL:
        return ""
    return " (best found within the time limit, not proven)"


def _win_rate_needed(
    inputs: StaffingInputs, allowance: _Allowance, budget: float | None, *, steps: int = 7
) -> float | None:
    """Smallest common multiplier of the win rates that makes the plan feasible.

    Bisection on the LP relaxation first gives the factor below which no plan exists even with
    people in fractions; bisection on the MIP between that factor and certain wins then finds
    the factor for a plan in whole people (to within 1/2**steps of the interval). When the
    diagnosis runs out of time the smallest factor proven to work so far is returned.
    """

    def feasible(factor: float, *, relax: bool) -> bool:
        trial = build(inputs, objective="min_cost", budget=budget, win_rate_factor=factor)
        options = allowance.solve_options()
        return solve(trial.model, options, relax=relax).status.has_solution

    ceiling = 1.0 / max(s.win_rate for s in inputs.config.segments.values() if s.win_rate > 0)
    if ceiling <= 1.0 or not feasible(ceiling, relax=False):
        return None  # even certain wins would not do: win rates are not the limit

    def bisect(low: float, high: float, *, relax: bool) -> tuple[float, float]:
        for _ in range(steps):
            if not allowance.left():
                break
            middle = (low + high) / 2
            if feasible(middle, relax=relax):
                high = middle
            else:
                low = middle
        return low, high

    # Below the LP's answer no whole-people plan exists either, so it bounds the MIP's.
    _, high = bisect(1.0, ceiling, relax=True)
    if high < ceiling and allowance.left() and feasible(high, relax=False):
        return high
    return bisect(high, ceiling, relax=False)[1]
