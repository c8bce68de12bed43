"""Staffing: how many people of each role each direction needs, month by month, and when to hire.

The model decides whole hires (and reductions) per role x direction x month and the
new-business funnel that delivers the plan: meetings per segment, direction and month, and with
them the researched contacts, dials, conversations, opportunities and won clients they take
and yield. Hunters carry meetings, opportunities and new clients until hand-off; telesales carry
dials, conversations and remote coverage; assistants research the contacts; account and
key-account managers serve the clients the coverage model gave them. New hires start after the
role's lead time and ramp up; attrition costs every seat a share of its hours and a stream of
backfill hires. Heads of direction keep within their span; assistants keep their ratio.

It either meets every direction's plan at the least personnel cost (within the budget if one is
set), or, with `staffing.objective: max_margin`, earns the most in-year margin within the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pulp

from models.coverage import kept_share, revenue_factor
from models.staffing_by_direction import COMPANY, Part, solve_by_direction
from optim.funnel import PerMeeting, in_year_revenue_share, per_meeting
from optim.result import Explanation, Marginal, ModelResult, Status
from optim.roles import availability, ramp_share
from optim.schema import (
    NO_COVERAGE,
    SELLER_ROLES,
    MissingSectionError,
    Role,
    ScenarioConfig,
)
from optim.solver import (
    ConstraintGroup,
    LinearModel,
    Solution,
    SolveOptions,
    marginal_values,
    solve,
)

CAPACITY_ROLES = ("key_account_manager", "account_manager", "hunter", "telesales", "assistant")
MILLION = 1e6


@dataclass(frozen=True)
class StaffingInputs:
    """Everything the staffing model needs, prepared once from the scenario and coverage."""

    config: ScenarioConfig
    roles: dict[str, Role]
    fte_today: dict[tuple[str, str], float]  # (role, direction) -> fte of people tied to it
    persons_today: dict[tuple[str, str], int]
    openings: dict[tuple[str, str], int]  # open positions: hires already under way
    pools: list[tuple[str, tuple[str, ...], float, int]]  # role, directions, fte, persons
    base_revenue: dict[str, float]
    target: dict[str, float]
    pursued: dict[tuple[str, str], float]  # (segment, direction) -> prospects hunters may work
    after_handoff: dict[str, str]  # segment -> who serves its clients after hand-off
    existing: pd.DataFrame  # today's clients per role x direction x month (see _existing_service)
    unit: PerMeeting | None

    @property
    def months(self) -> range:
        return range(1, self.config.months + 1)


@dataclass
class _Build:
    """The model and the handles needed to read a solution back."""

    model: LinearModel
    hires: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)
    cuts: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)
    meetings: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)
    alloc: dict[tuple[int, str, int], pulp.LpVariable] = field(default_factory=dict)
    plan_share: Any = 1.0  # a variable only when diagnosing: the share of the plan reached
    uncovered: dict[tuple[str, str, int, str, str], pulp.LpVariable] = field(default_factory=dict)
    coverage_loss: dict[str, Any] = field(default_factory=dict)
    pay_fte: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    effective_fte: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    persons: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    hours_needed: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    payroll: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    hiring_cost: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    new_revenue: dict[str, Any] = field(default_factory=dict)
    total_cost: Any = 0.0


# ----- preparing the data -------------------------------------------------------------------
def prepare(
    config: ScenarioConfig,
    clients: pd.DataFrame,
    team: pd.DataFrame,
    coverage: pd.DataFrame,
    prospects: pd.DataFrame,
) -> StaffingInputs:
    """Turn the scenario and the coverage decision into the staffing model's data."""
    if config.plan is None:
        raise MissingSectionError("plan", "the staffing model sizes the team to deliver the plan")
    roles = dict(config.roles)
    if config.funnel is not None:
        for key in ("hunter", "telesales", "assistant"):
            config.require_role(key, why="the new-business funnel needs it")
    for key in CAPACITY_ROLES:
        if key in roles and not roles[key].hours_per_month:
            raise MissingSectionError(
                f"roles.{key}.hours_per_month", "the staffing model counts this role's hours"
            )

    fte_today: dict[tuple[str, str], float] = {}
    persons_today: dict[tuple[str, str], int] = {}
    pool_totals: dict[tuple[str, tuple[str, ...]], list[float]] = {}
    openings: dict[tuple[str, str], int] = {}
    for person in team.itertuples(index=False):
        role = str(person.role)
        if role == "commercial_director":
            directions: tuple[str, ...] = (COMPANY,)
        else:
            raw = str(person.direction or "")
            named = tuple(d for d in raw.split(";") if d)
            directions = named or tuple(config.directions)
        fte = float(person.fte)
        if not str(getattr(person, "name", "x") or "").strip():
            # An open position: a hire already approved, in post once its lead time has passed.
            # With several or no directions it is planned in the first direction it names.
            slot = (role, directions[0])
            openings[slot] = openings.get(slot, 0) + 1
            continue
        if len(directions) == 1:
            slot = (role, directions[0])
            fte_today[slot] = fte_today.get(slot, 0.0) + fte
            persons_today[slot] = persons_today.get(slot, 0) + 1
        else:
            totals = pool_totals.setdefault((role, tuple(sorted(directions))), [0.0, 0])
            totals[0] += fte
            totals[1] += 1
    pools = [(r, ds, t[0], int(t[1])) for (r, ds), t in sorted(pool_totals.items())]

    covered_by = {
        (row.segment, row.status): row.covered_by for row in coverage.itertuples(index=False)
    }
    after_handoff = {
        segment: covered_by.get((segment, "active"), NO_COVERAGE) for segment in config.segments
    }
    base = _base_revenue(config, clients, covered_by)
    target = {d: config.plan.revenue_target * config.direction_share(d) for d in config.directions}
    pursued = {
        (row.segment, row.direction): float(row.pursued)
        for row in prospects.itertuples(index=False)
        if row.pursued > 0
    }
    return StaffingInputs(
        config=config,
        roles=roles,
        fte_today=fte_today,
        persons_today=persons_today,
        openings=openings,
        pools=pools,
        base_revenue=base,
        target=target,
        pursued=pursued,
        after_handoff=after_handoff,
        existing=_existing_service(config, clients, covered_by, after_handoff),
        unit=per_meeting(config.funnel) if config.funnel is not None else None,
    )


def _base_revenue(
    config: ScenarioConfig, clients: pd.DataFrame, covered_by: dict[tuple[str, str], str]
) -> dict[str, float]:
    """Expected in-year revenue of today's clients per direction, under the chosen coverage."""
    base = dict.fromkeys(config.directions, 0.0)
    existing = clients[clients["status"] != "prospect"]
    grouped = existing.groupby(["direction", "segment", "status"], observed=True)
    for (direction, segment_key, status), group in grouped["revenue_last_year"]:
        share = kept_share(config, segment_key, status, covered_by)
        base[direction] += float(group.sum()) * share
    return base


def _existing_service(
    config: ScenarioConfig,
    clients: pd.DataFrame,
    covered_by: dict[tuple[str, str], str],
    after_handoff: dict[str, str],
) -> pd.DataFrame:
    """Today's clients per role, direction and month: how many, their hours, what a gap costs.

    `loss_per_client` is the revenue lost for each client left without its coverage for a
    month: a twelfth of the yearly difference between covered and uncovered revenue.
    """
    rows = []
    handoff = config.coverage.handoff_months
    existing = clients[clients["status"] != "prospect"]
    grouped = existing.groupby(["direction", "segment", "status"], observed=True)
    for (direction, segment_key, status), group in grouped["revenue_last_year"]:
        segment = config.segments[segment_key]
        n = len(group)
        hours = segment.service_hours_per_year / 12.0
        revenue_each = float(group.sum()) / n
        for month in range(1, config.months + 1):
            if status == "new":
                # Won evenly over the last hand-off period: this share is still with hunters.
                hunter_share = max(0.0, 1.0 - month / handoff) if handoff else 0.0
                split = [("hunter", hunter_share), (after_handoff[segment_key], 1 - hunter_share)]
            else:
                split = [(covered_by.get((segment_key, status), NO_COVERAGE), 1.0)]
            for role, share in split:
                if role == NO_COVERAGE or share <= 0:
                    continue
                uplift = revenue_factor(segment, role) - revenue_factor(segment, NO_COVERAGE)
                loss = revenue_each * max(0.0, uplift) / 12.0
                rows.append((role, direction, month, segment_key, status, n * share, hours, loss))
    columns = [
        "role", "direction", "month", "segment", "status", "clients", "hours_per_client",
        "loss_per_client",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


# ----- building the model -------------------------------------------------------------------
def build(
    inputs: StaffingInputs,
    *,
    objective: str,
    budget: float | None,
    win_rate_factor: float = 1.0,
) -> _Build:
    """The staffing MIP.

    `objective` is `min_cost` or `max_margin` (the two questions analysts ask), or one used to
    diagnose an infeasible plan: `min_budget`, the least personnel cost that meets the plan
    (coverage gaps accepted), and `max_plan`, the largest share of the plan, split across
    directions as the plan splits it, that can be delivered.
    """
    config = inputs.config
    sense = "min" if objective in ("min_cost", "min_budget") else "max"
    b = _Build(LinearModel("staffing", sense=sense))
    _declare_groups(b.model, inputs, objective=objective)
    _people(b, inputs)
    _funnel(b, inputs, win_rate_factor)
    _capacity(b, inputs, win_rate_factor)
    _structure(b, inputs)

    cost = pulp.lpSum(b.payroll.values()) + pulp.lpSum(b.hiring_cost.values())
    cost += sum(
        inputs.roles[role].monthly_cost * fte * config.months for role, _, fte, _ in inputs.pools
    )
    b.total_cost = cost
    revenue = {
        d: inputs.base_revenue[d] - b.coverage_loss[d] + b.new_revenue[d] for d in config.directions
    }
    # Money rows are stated in millions and each target row relative to its target, so that
    # coefficients stay near 1 whatever the size of the company (solvers need that).
    if budget is not None:
        b.model.add("budget", {"budget": budget}, cost * (1 / MILLION) <= budget / MILLION)
    if objective in ("min_cost", "min_budget", "max_plan"):
        if objective == "max_plan":
            b.plan_share = b.model.var("plan_share")
        for d in config.directions:
            scale = inputs.target[d] or 1.0
            labels = {"direction": d, "target": scale}
            share = b.plan_share if inputs.target[d] else 0.0
            b.model.add("direction_target", labels, revenue[d] * (1 / scale) >= share)
    # One currency unit per hire or reduction breaks ties towards the plan with fewest changes.
    churn = pulp.lpSum(b.hires.values()) + pulp.lpSum(b.cuts.values())
    if objective == "min_cost":
        # Revenue lost to coverage gaps counts as a cost: gaps are a stopgap until hires
        # arrive, not a cheaper way to the plan than the coverage the coverage model chose.
        b.model.set_objective(cost + pulp.lpSum(b.coverage_loss.values()) + churn)
    elif objective == "min_budget":
        # The smallest budget that meets the plan: personnel cost alone, gaps accepted.
        b.model.set_objective(cost + churn)
    elif objective == "max_plan":
        b.model.set_objective(b.plan_share)
    else:
        b.model.set_objective(pulp.lpSum(revenue.values()) - cost - churn)
    return b


def _declare_groups(model: LinearModel, inputs: StaffingInputs, *, objective: str) -> None:
    currency = inputs.config.currency
    # A cost-minimising plan is improved by saving; a margin-maximising one by adding.
    worth = "would save" if objective == "min_cost" else "would add"

    def person_hours(labels: Mapping[str, Any]) -> float:
        role = inputs.roles[labels["role"]]
        return (role.hours_per_month or 0.0) * availability(role)

    groups = [
        ConstraintGroup(
            "capacity",
            "{role} hours in {direction}, month {month}: work needed <= hours available",
            marginal="one more {role} in {direction} in month {month} "
            + worth
            + " ~{value} "
            + currency,
            unit="person-month",
            per_unit=person_hours,
        ),
        ConstraintGroup(
            "max_clients",
            "{role} in {direction}, month {month}: clients <= coverage.max_clients per person",
            marginal="one more {role} in {direction} in month {month} (client limit) "
            + worth
            + " ~"
            "{value} " + currency,
            unit="person-month",
            per_unit=lambda labels: labels["max_clients"],
        ),
        ConstraintGroup(
            "direction_target",
            "{direction}: in-year revenue >= its share of the plan",
            marginal="each extra 1M of plan in {direction} costs {value} " + currency,
            unit="1M of plan",
            per_unit=lambda labels: MILLION / labels["target"],
        ),
        ConstraintGroup(
            "budget",
            "personnel cost for the year <= plan.budget",
            marginal="+1M of budget buys {value} " + currency + " of in-year margin",
            unit="1M of budget",
        ),
        ConstraintGroup(
            "prospects",
            "{segment} opportunities in {direction} <= prospects hunters may pursue",
            marginal="one more {segment} prospect to pursue in {direction} "
            + worth
            + " ~{value} "
            + currency,
            unit="prospect",
        ),
        ConstraintGroup(
            "span",
            "heads of direction in {direction}, month {month}: sellers <= span x heads",
            marginal="one more seller per head in {direction}, month {month} "
            + worth
            + " ~{value} "
            + currency,
            unit="seller",
        ),
        ConstraintGroup(
            "leadership",
            "{role} in {direction}, month {month}: at least one in post",
        ),
        ConstraintGroup(
            "assistant_ratio",
            "assistants in {direction}, month {month} >= per_telesales x telesales",
            marginal="lowering the assistant ratio in {direction}, month {month} by one "
            "telesales " + worth + " ~{value} " + currency,
            unit="telesales",
        ),
        ConstraintGroup(
            "pipeline",
            "{segment} meetings in {direction}, month {month} (deals close next year) >= the "
            "year's monthly average, so next year starts with a pipeline",
            marginal="keeping the {segment} pipeline in {direction} in month {month} costs "
            "{value} " + currency + " per meeting",
            unit="meeting",
        ),
        ConstraintGroup("pool", "{role} shared across directions, month {month}: split <= fte"),
        ConstraintGroup("reductions", "{role} in {direction}: reductions <= people today"),
    ]
    for group in groups:
        model.group(group)


def _directions_of(role: str, inputs: StaffingInputs) -> tuple[str, ...]:
    return (COMPANY,) if role == "commercial_director" else tuple(inputs.config.directions)


def _people(b: _Build, inputs: StaffingInputs) -> None:
    """Hires, reductions, payroll, effective capacity and cost per role x direction x month."""
    config = inputs.config
    allow_cuts = config.staffing.allow_reductions
    for role_key, role in inputs.roles.items():
        phi = availability(role)
        for d in _directions_of(role_key, inputs):
            fte0 = inputs.fte_today.get((role_key, d), 0.0)
            persons0 = inputs.persons_today.get((role_key, d), 0)
            mean_fte = fte0 / persons0 if persons0 else 1.0
            hired: list[tuple[int, Any]] = []
            opened = inputs.openings.get((role_key, d), 0)
            if opened:
                hired.append((min(1 + role.hire_lead_months, config.months), opened))
            cut_so_far: list[pulp.LpVariable] = []
            for t in inputs.months:
                if t >= 1 + role.hire_lead_months:
                    var = b.model.var("hire", integer=True)
                    b.hires[role_key, d, t] = var
                    hired.append((t, var))
                # Reductions are decided with the plan, at its start: later ones would only
                # answer the end of the planning horizon, not the business.
                if allow_cuts and persons0 > 0 and t == 1:
                    var = b.model.var("cut", integer=True, ub=persons0)
                    b.cuts[role_key, d, t] = var
                    cut_so_far.append(var)
                hires_sum = pulp.lpSum(v for k, v in hired if k <= t)
                cuts_sum = pulp.lpSum(cut_so_far)
                pay = fte0 + hires_sum - mean_fte * cuts_sum
                ramped = pulp.lpSum(ramp_share(role, t - k) * v for k, v in hired)
                b.pay_fte[role_key, d, t] = pay
                b.persons[role_key, d, t] = persons0 + hires_sum - cuts_sum
                b.effective_fte[role_key, d, t] = phi * (fte0 + ramped - mean_fte * cuts_sum)
                b.payroll[role_key, d, t] = role.monthly_cost * pay
                new_hires = b.hires.get((role_key, d, t), 0)
                backfills = role.attrition_monthly * pay
                b.hiring_cost[role_key, d, t] = role.hire_cost * (new_hires + backfills)
            if cut_so_far:
                b.model.add(
                    "reductions",
                    {"role": role_key, "direction": d},
                    pulp.lpSum(cut_so_far) <= persons0,
                )
    # People shared across directions: their time is split month by month.
    for index, (role_key, directions, fte, _persons) in enumerate(inputs.pools):
        phi = availability(inputs.roles[role_key])
        for t in inputs.months:
            parts = []
            for d in directions:
                var = b.model.var("split")
                b.alloc[index, d, t] = var
                parts.append(var)
                b.effective_fte[role_key, d, t] += phi * var
            b.model.add("pool", {"role": role_key, "month": t}, pulp.lpSum(parts) <= fte)


def _funnel(b: _Build, inputs: StaffingInputs, win_rate_factor: float) -> None:
    """Meetings per segment x direction x month, and the revenue of the clients they win."""
    config = inputs.config
    b.new_revenue = {d: pulp.LpAffineExpression() for d in config.directions}
    if inputs.unit is None or config.funnel is None:
        return
    cycle = config.funnel.cycle_months
    keep_pipeline = config.funnel.keep_pipeline
    for (segment_key, d), pursued in sorted(inputs.pursued.items()):
        segment = config.segments[segment_key]
        win = min(1.0, segment.win_rate * win_rate_factor)
        opportunities = []
        revenue = []
        in_year: list[pulp.LpVariable] = []
        next_year: list[tuple[int, pulp.LpVariable]] = []
        for t in inputs.months:
            won_month = t + cycle
            # A client won in the last month earns nothing in-year: such meetings only build
            # next year's pipeline, booked when funnel.keep_pipeline asks for it.
            if won_month >= config.months and not keep_pipeline:
                continue
            meet = b.model.var("meetings")
            b.meetings[segment_key, d, t] = meet
            opportunities.append(inputs.unit.opportunities * meet)
            if won_month >= config.months:
                next_year.append((t, meet))
                continue
            in_year.append(meet)
            share = in_year_revenue_share(won_month, config.months)
            revenue.append(segment.avg_deal * share * win * inputs.unit.opportunities * meet)
        if not opportunities:
            continue
        b.model.add(
            "prospects",
            {"segment": segment_key, "direction": d},
            pulp.lpSum(opportunities) <= pursued,
        )
        if in_year:
            average = pulp.lpSum(in_year) * (1.0 / len(in_year))
            for t, meet in next_year:
                labels = {"segment": segment_key, "direction": d, "month": t}
                b.model.add("pipeline", labels, meet >= average)
        b.new_revenue[d] = b.new_revenue[d] + pulp.lpSum(revenue)


def _won(
    b: _Build, inputs: StaffingInputs, segment: str, d: str, won_month: int, factor: float
) -> Any:
    """Clients of a segment won in a direction in a month (expression in meetings)."""
    assert inputs.config.funnel is not None and inputs.unit is not None
    meet = b.meetings.get((segment, d, won_month - inputs.config.funnel.cycle_months))
    if meet is None:
        return 0
    win = min(1.0, inputs.config.segments[segment].win_rate * factor)
    return win * inputs.unit.opportunities * meet


def _capacity(b: _Build, inputs: StaffingInputs, factor: float) -> None:
    """Hours each role needs per direction and month must fit in the hours it has."""
    config = inputs.config
    need: dict[tuple[str, str, int], list[Any]] = {}
    clients: dict[tuple[str, str, int], list[Any]] = {}
    b.coverage_loss = dict.fromkeys(config.directions, 0.0)
    for row in inputs.existing.itertuples(index=False):
        # Clients the team cannot serve this month (e.g. before new hires arrive) go without
        # their coverage for the month and cost the revenue that coverage would have kept.
        gap = b.model.var("uncovered", ub=row.clients)
        b.uncovered[row.role, row.direction, row.month, row.segment, row.status] = gap
        key = (row.role, row.direction, row.month)
        need.setdefault(key, []).append(row.hours_per_client * (row.clients - gap))
        clients.setdefault(key, []).append(row.clients - gap)
        b.coverage_loss[row.direction] = b.coverage_loss[row.direction] + row.loss_per_client * gap

    if inputs.unit is not None and config.funnel is not None:
        unit = inputs.unit
        cycle = config.funnel.cycle_months
        spread = max(cycle, 1)
        for (_segment, d, t), meet in b.meetings.items():
            need.setdefault(("telesales", d, t), []).append(unit.telesales_hours * meet)
            need.setdefault(("assistant", d, t), []).append(unit.assistant_hours * meet)
            need.setdefault(("hunter", d, t), []).append(unit.hunter_hours_meeting * meet)
            for k in range(t, min(t + spread, config.months + 1)):
                hours = unit.hunter_hours_opportunity / spread
                need.setdefault(("hunter", d, k), []).append(hours * meet)
        # Won clients: with the hunter for hand-off months, then with the farmer of the segment.
        handoff = config.coverage.handoff_months
        for segment_key, d in inputs.pursued:
            hours = config.segments[segment_key].service_hours_per_year / 12.0
            farmer = inputs.after_handoff[segment_key]
            for w in inputs.months:
                won = _won(b, inputs, segment_key, d, w, factor)
                if isinstance(won, int):
                    continue
                for t in range(w + 1, config.months + 1):
                    holder = "hunter" if t - w <= handoff else farmer
                    if holder == NO_COVERAGE:
                        continue
                    need.setdefault((holder, d, t), []).append(hours * won)
                    clients.setdefault((holder, d, t), []).append(won)

    for (role_key, d, t), terms in need.items():
        role = inputs.roles.get(role_key)
        if role is None:
            raise MissingSectionError(f"roles.{role_key}", "clients are assigned to this role")
        hours = pulp.lpSum(terms)
        b.hours_needed[role_key, d, t] = hours
        available = (role.hours_per_month or 0.0) * b.effective_fte.get((role_key, d, t), 0)
        labels = {"role": role_key, "direction": d, "month": t}
        b.model.add("capacity", labels, hours <= available)
    for (role_key, d, t), terms in clients.items():
        cap = config.coverage.max_clients.get(role_key)
        if not cap:
            continue
        heads = b.pay_fte.get((role_key, d, t), 0) + _pool_share(b, inputs, role_key, d, t)
        labels = {"role": role_key, "direction": d, "month": t, "max_clients": cap}
        b.model.add("max_clients", labels, pulp.lpSum(terms) <= cap * heads)


def _pool_share(b: _Build, inputs: StaffingInputs, role: str, d: str, t: int) -> Any:
    return pulp.lpSum(
        b.alloc[i, d, t]
        for i, (pool_role, directions, _, _) in enumerate(inputs.pools)
        if pool_role == role and d in directions
    )


def _structure(b: _Build, inputs: StaffingInputs) -> None:
    """Spans of control, a leader in post, and the assistant-to-telesales ratio."""
    config = inputs.config
    head = inputs.roles.get("head_of_direction")
    assistant = inputs.roles.get("assistant")
    for t in inputs.months:
        for d in config.directions:
            labels = {"direction": d, "month": t}
            leaders = b.pay_fte.get(("head_of_direction", d, t), 0) + _pool_share(
                b, inputs, "head_of_direction", d, t
            )
            # "A head in post" counts people: a part-time or shared head is still the head.
            shared_heads = sum(
                persons
                for role, directions, _, persons in inputs.pools
                if role == "head_of_direction" and d in directions
            )
            heads_in_post = b.persons.get(("head_of_direction", d, t), 0) + shared_heads
            # Today's team may break a ratio; the plan must mend it once a hire can arrive.
            if head is not None and head.span and t >= 1 + head.hire_lead_months:
                sellers = pulp.lpSum(
                    b.pay_fte.get((r, d, t), 0) + _pool_share(b, inputs, r, d, t)
                    for r in SELLER_ROLES
                    if r in inputs.roles
                )
                b.model.add("span", labels, sellers <= head.span * leaders)
            if head is not None and _can_be_in_post(inputs, "head_of_direction", d, t):
                b.model.add(
                    "leadership", {"role": "head_of_direction", **labels}, heads_in_post >= 1
                )
            if (
                assistant is not None
                and assistant.per_telesales
                and "telesales" in inputs.roles
                and t >= 1 + assistant.hire_lead_months
            ):
                helpers = b.pay_fte.get(("assistant", d, t), 0) + _pool_share(
                    b, inputs, "assistant", d, t
                )
                callers = b.pay_fte.get(("telesales", d, t), 0) + _pool_share(
                    b, inputs, "telesales", d, t
                )
                b.model.add("assistant_ratio", labels, helpers >= assistant.per_telesales * callers)
        director = inputs.roles.get("commercial_director")
        if director is not None and _can_be_in_post(inputs, "commercial_director", COMPANY, t):
            labels = {"role": "commercial_director", "direction": COMPANY, "month": t}
            b.model.add("leadership", labels, b.persons[("commercial_director", COMPANY, t)] >= 1)


def _can_be_in_post(inputs: StaffingInputs, role_key: str, d: str, t: int) -> bool:
    """A leader is required from month 1 if one exists today, else once a hire can start."""
    has_today = inputs.fte_today.get((role_key, d), 0) > 0 or any(
        r == role_key and d in ds for r, ds, _, _ in inputs.pools
    )
    return has_today or t >= 1 + inputs.roles[role_key].hire_lead_months


# ----- solving and reporting ----------------------------------------------------------------
def solve_staffing(
    config: ScenarioConfig,
    clients: pd.DataFrame,
    team: pd.DataFrame,
    coverage: pd.DataFrame,
    prospects: pd.DataFrame,
    *,
    options: SolveOptions,
    diagnose: bool = True,
    by_direction: bool = True,
) -> ModelResult:
    """Size the team month by month; explain the answer or, if infeasible, what would fix it.

    `by_direction` solves independent groups of directions one by one when that is exact
    (models/staffing_by_direction.py); switch it off to solve the whole model at once.
    """
    inputs = prepare(config, clients, team, coverage, prospects)
    assert config.plan is not None
    objective = config.staffing.objective
    parts = solve_by_direction(inputs, options) if by_direction else None
    if parts is None:
        built = build(inputs, objective=objective, budget=config.plan.budget)
        solution = solve(built.model, options)
        if not solution.status.has_solution:
            from models.staffing_diagnosis import diagnose_infeasible

            relaxations = (
                diagnose_infeasible(inputs, options)
                if diagnose and solution.status is Status.INFEASIBLE
                else ()
            )
            headline = f"Staffing: {solution.status.value} ({solution.message})"
            return ModelResult(
                "staffing",
                solution.status,
                None,
                None,
                solution.seconds,
                solution.solver,
                {},
                Explanation(headline, relaxations=relaxations),
                sense=built.model.sense,
                details={"size": built.model.size(), "objective": objective},
            )
        parts = [(inputs, built, solution)]
    return _report(inputs, parts, options)


_EXPLAINED_GROUPS = (
    "capacity",
    "max_clients",
    "direction_target",
    "budget",
    "prospects",
    "span",
    "assistant_ratio",
)


def _report(inputs: StaffingInputs, parts: list[Part], options: SolveOptions) -> ModelResult:
    """The result of a solved plan, solved whole or as independent groups of directions."""
    from models.staffing_tables import staffing_frames

    config = inputs.config
    objective = config.staffing.objective
    tables = [staffing_frames(part, built, solution) for part, built, solution in parts]
    frames = {name: pd.concat([t[name] for t in tables], ignore_index=True) for name in tables[0]}
    found: list[Marginal] = []
    for _part, built, solution in parts:
        found += marginal_values(
            built.model,
            solution,
            options,
            groups=_EXPLAINED_GROUPS,
            fix_integers=objective == "max_margin",
        )
    marginals = tuple(sorted(found, key=lambda m: -m.value_per_unit)[:12])
    if len(parts) == 1:
        _, built, solution = parts[0]
        budget_value = _budget_marginal(inputs, options, solution, built)
        if budget_value is not None:
            marginals = (budget_value, *marginals)
    solutions = [solution for _, _, solution in parts]
    status = (
        Status.OPTIMAL if all(s.status is Status.OPTIMAL for s in solutions) else Status.FEASIBLE
    )
    objective_value = sum(s.objective or 0.0 for s in solutions)
    bounds = [s.bound for s in solutions]
    bound = sum(b for b in bounds if b is not None) if None not in bounds else None
    sizes = [built.model.size() for _, built, _ in parts]
    size = {key: sum(s[key] for s in sizes) for key in sizes[0]}

    budget_frame = frames["budget"]
    revenue_frame = frames["revenue"]
    breakdown = {
        "payroll": float(budget_frame["payroll_cost"].sum()),
        "hiring and backfill": float(budget_frame["hiring_cost"].sum()),
        "revenue of today's clients, after coverage gaps": float(
            revenue_frame["base_revenue"].sum()
        ),
        "revenue lost to coverage gaps until hires arrive": float(
            revenue_frame["coverage_gap_loss"].sum()
        ),
        "revenue of new clients": float(revenue_frame["new_business_revenue"].sum()),
    }
    total_cost = breakdown["payroll"] + breakdown["hiring and backfill"]
    goal = (
        "least personnel cost that meets the plan"
        if objective == "min_cost"
        else "most in-year margin within the budget"
    )
    headline = (
        f"Staffing: {status.value} ({goal}); personnel cost {total_cost:,.0f} "
        f"{config.currency}, revenue {float(revenue_frame['total_revenue'].sum()):,.0f}"
    )
    notes = []
    if len(parts) > 1:
        notes.append(
            f"Solved as {len(parts)} independent groups of directions (directions share only "
            "the budget, which the plans fit in, and people who work for several of them)."
        )
    if objective == "min_cost":
        notes.append(
            "Marginal values come from the continuous relaxation (people in fractions): "
            "they are rates at the margin, not the price of one whole person."
        )
    funnel = config.funnel
    if funnel is not None and not funnel.keep_pipeline and frames["funnel"]["meetings"].sum() > 0:
        last = config.months - funnel.cycle_months - 1
        notes.append(
            f"No meetings after month {last}: their deals would close after the year and earn "
            "nothing in-year, so next year starts without a pipeline. Set "
            "funnel.keep_pipeline: true to keep booking them (it costs people)."
        )
    shortfall = revenue_frame[revenue_frame["shortfall"] > 0.5]
    for row in shortfall.itertuples(index=False):
        notes.append(f"{row.direction} falls {row.shortfall:,.0f} short of its plan")
    return ModelResult(
        model="staffing",
        status=status,
        objective=objective_value,
        bound=bound,
        solve_seconds=sum(s.seconds for s in solutions),
        solver=solutions[0].solver,
        frames=frames,
        explanation=Explanation(headline, breakdown, marginals, notes=tuple(notes)),
        sense=parts[0][1].model.sense,
        details={"size": size, "objective": objective, "groups": len(parts)},
    )


def _budget_marginal(
    inputs: StaffingInputs, options: SolveOptions, solution: Solution, built: _Build
) -> Marginal | None:
    """What more budget buys when the budget binds a margin-maximising plan.

    With whole people the margin is a step function of the budget, so the LP dual says little;
    the plan is re-solved with the budget 1% higher and the gain is given per 1M.
    """
    config = inputs.config
    assert config.plan is not None
    budget = config.plan.budget
    if config.staffing.objective != "max_margin" or budget is None or budget <= 0:
        return None
    cost = solution.value(built.total_cost)
    if cost < budget * 0.99:  # more than 1% of the budget unspent: it does not bind
        return None
    step = budget * 0.01
    richer = build(inputs, objective="max_margin", budget=budget + step)
    better = solve(richer.model, options)
    if not better.status.has_solution or better.objective is None or solution.objective is None:
        return None
    per_million = (better.objective - solution.objective) / step * MILLION
    sentence = (
        f"the budget binds: +1M of budget buys ~{per_million:,.0f} {config.currency} of in-year "
        f"margin (re-solved with the budget 1% higher, {budget + step:,.0f})"
    )
    return Marginal("budget", {"budget": budget}, sentence, per_million, "1M of budget", 0.0)
