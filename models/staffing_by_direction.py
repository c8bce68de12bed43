"""Solving the staffing model direction by direction when the directions do not interact.

In `min_cost` mode directions share nothing but the budget and the people who work for several
directions at once. Directions linked by such people form a group that is solved together; the
groups are independent MIPs, so solving them one by one gives the same optimum as the whole
model (each within the MIP gap, so the sum is within it too) in a fraction of the time. The
budget is checked on the sum: when the least-cost plans fit in it they are optimal for the whole
model too; when they do not, the whole model has to trade coverage gaps against cost across
directions, and this returns None so that the caller solves it whole.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from optim.solver import Solution, SolveOptions, solve

if TYPE_CHECKING:
    from models.staffing import StaffingInputs, _Build

COMPANY = "company"  # the pseudo-direction of the commercial director, above all directions

Part = tuple["StaffingInputs", "_Build", Solution]


def direction_groups(inputs: StaffingInputs) -> list[tuple[str, ...]]:
    """Directions linked by people who work for several of them, in the plan's order."""
    parent = {d: d for d in inputs.config.directions}

    def root(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    for _role, directions, _fte, _persons in inputs.pools:
        first = root(directions[0])
        for other in directions[1:]:
            parent[root(other)] = first
    groups: dict[str, list[str]] = {}
    for d in inputs.config.directions:
        groups.setdefault(root(d), []).append(d)
    return [tuple(g) for g in groups.values()]


def restrict(
    inputs: StaffingInputs, directions: tuple[str, ...], *, company: bool
) -> StaffingInputs:
    """The part of the staffing data that concerns these directions (and the company's own
    roles, the commercial director, when `company`)."""
    keep = set(directions) | ({COMPANY} if company else set())
    roles = dict(inputs.roles)
    if not company:
        roles.pop("commercial_director", None)
    config = inputs.config.model_copy(update={"directions": directions})
    existing = inputs.existing[inputs.existing["direction"].isin(directions)]
    return dataclasses.replace(
        inputs,
        config=config,
        roles=roles,
        fte_today={k: v for k, v in inputs.fte_today.items() if k[1] in keep},
        persons_today={k: v for k, v in inputs.persons_today.items() if k[1] in keep},
        openings={k: v for k, v in inputs.openings.items() if k[1] in keep},
        pools=[p for p in inputs.pools if set(p[1]) <= set(directions)],
        base_revenue={d: inputs.base_revenue[d] for d in directions},
        target={d: inputs.target[d] for d in directions},
        pursued={k: v for k, v in inputs.pursued.items() if k[1] in directions},
        existing=existing.reset_index(drop=True),
    )


def solve_by_direction(inputs: StaffingInputs, options: SolveOptions) -> list[Part] | None:
    """Least-cost plans group by group, or None when the whole model must be solved."""
    from models.staffing import build

    groups = direction_groups(inputs)
    if len(groups) < 2 or inputs.config.staffing.objective != "min_cost":
        return None
    parts: list[Part] = []
    for index, directions in enumerate(groups):
        part = restrict(inputs, directions, company=index == 0)
        built = build(part, objective="min_cost", budget=None)
        solution = solve(built.model, options)
        if not solution.status.has_solution:
            return None  # the whole model says why (and diagnoses it)
        parts.append((part, built, solution))
    plan = inputs.config.plan
    budget = plan.budget if plan is not None else None
    total_cost = sum(solution.value(built.total_cost) for _, built, solution in parts)
    if budget is not None and total_cost > budget:
        return None
    return parts
