"""Hypothesis strategies: small random but valid scenarios for the coverage and staffing models.

`scenarios()` draws a whole example: scenario.yaml as a dict (1-3 directions, 1-3 segments,
3-12 months, random role costs, hours, ramp, lead time and attrition, a funnel with or without
next year's pipeline, coverage options, reductions allowed or not, min_cost or max_margin),
clients of every status with random revenue, and a current team (people tied to one direction,
to any direction or to `a;b`, part-time, open positions with an empty name). The plan is a share
of today's revenue plus a multiple of the new business within reach, per direction, split by
those targets, at random or equally; the optional budget is a multiple of a rough payroll; so
feasible and infeasible plans both appear. Every example solves in well under a second (an
infeasible one's diagnosis takes a dozen solves more).

    @given(scenarios())
    def test_something(example: Example) -> None:
        coverage, staffing = solve_example(example, SolveOptions())
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from models.coverage import solve_coverage
from models.staffing import solve_staffing
from optim.result import ModelResult
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions

DIRECTIONS = ("north", "south", "east")
SEGMENTS = ("A", "B", "C")
OPTIONAL_ROLES = (
    "account_manager",
    "key_account_manager",
    "head_of_direction",
    "commercial_director",
)
CLIENT_COLUMNS = [
    "client_id", "name", "segment", "direction", "status", "revenue_last_year", "potential",
]  # fmt: skip
TEAM_COLUMNS = ["rep_id", "name", "role", "direction", "fte"]


@dataclass(frozen=True)
class Example:
    """One drawn scenario: scenario.yaml as a dict plus the clients and team tables."""

    data: dict[str, Any]
    clients: pd.DataFrame
    team: pd.DataFrame

    @property
    def config(self) -> ScenarioConfig:
        return ScenarioConfig.model_validate(self.data)

    def with_plan(self, **changes: Any) -> Example:
        """The same example with plan keys changed (e.g. `budget=...`)."""
        data = copy.deepcopy(self.data)
        data["plan"].update(changes)
        return Example(data, self.clients, self.team)

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example
        return (
            f"Example(data={self.data!r},\n"
            f"clients=\n{self.clients.to_string()},\nteam=\n{self.team.to_string()})"
        )


def solve_example(
    example: Example, options: SolveOptions, *, diagnose: bool = True
) -> tuple[ModelResult, ModelResult]:
    """Coverage, then staffing on the coverage decision (as `optim plan` chains them)."""
    config = example.config
    coverage = solve_coverage(config, example.clients, options=options)
    staffing = solve_staffing(
        config,
        example.clients,
        example.team,
        coverage.frames["coverage"],
        coverage.frames["prospects"],
        options=options,
        diagnose=diagnose,
    )
    return coverage, staffing


# ----- building blocks ----------------------------------------------------------------------
def _grid(low: int, high: int, scale: float) -> st.SearchStrategy[float]:
    """Round numbers low*scale .. high*scale: readable examples that shrink well."""
    return st.integers(low, high).map(lambda k: k * scale)


@st.composite
def roles(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """The funnel roles always, each optional role with probability one half."""
    present = ["hunter", "telesales", "assistant"]
    present += [r for r in OPTIONAL_ROLES if draw(st.booleans())]
    out: dict[str, dict[str, Any]] = {}
    for key in present:
        role: dict[str, Any] = {
            "monthly_cost": draw(_grid(50, 400, 1_000.0)),
            "hire_lead_months": draw(st.integers(0, 2)),
            "hire_cost": draw(_grid(0, 20, 10_000.0)),
            "attrition_monthly": draw(_grid(0, 5, 0.01)),
        }
        if key not in ("head_of_direction", "commercial_director"):
            role["hours_per_month"] = draw(_grid(6, 17, 10.0))
            role["ramp"] = draw(st.lists(_grid(2, 10, 0.1), max_size=3))
        if key == "head_of_direction" and draw(st.booleans()):
            role["span"] = draw(st.integers(1, 8))
        if key == "assistant" and draw(st.booleans()):
            role["per_telesales"] = draw(_grid(1, 10, 0.1))
        out[key] = role
    return out


@st.composite
def segments(draw: st.DrawFn, keys: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out = {}
    for key in keys:
        covered = draw(_grid(80, 100, 0.01))
        uncovered = draw(_grid(30, 80, 0.01))
        retention: dict[str, float] = {"covered": covered, "uncovered": uncovered}
        if draw(st.booleans()):
            retention["remote"] = draw(_grid(30, 100, 0.01))
        out[key] = {
            "avg_deal": draw(_grid(2, 50, 100_000.0)),
            "win_rate": draw(_grid(10, 60, 0.01)),
            "service_hours_per_year": draw(_grid(1, 30, 5.0)),
            "retention": retention,
            "growth": {"covered": draw(_grid(0, 20, 0.01)), "uncovered": 0.0},
        }
    return out


def funnels() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "meeting_to_opportunity": _grid(2, 10, 0.1),
            "conversation_to_meeting": _grid(2, 5, 0.1),
            "contacts_per_conversation": st.integers(1, 4),
            "dials_per_contact": st.integers(1, 3),
            "minutes_per_dial": st.integers(1, 3),
            "minutes_per_conversation": st.integers(5, 20),
            "research_hours_per_contact": _grid(1, 5, 0.1),
            "hunter_hours_per_meeting": st.integers(1, 4),
            "hunter_hours_per_opportunity": st.integers(2, 20),
            "cycle_months": st.integers(0, 3),
            "keep_pipeline": st.sampled_from((False, False, True)),
        }
    )


@st.composite
def coverage_section(draw: st.DrawFn, role_keys: tuple[str, ...]) -> dict[str, Any]:
    section: dict[str, Any] = {
        "handoff_months": draw(st.integers(0, 6)),
        "max_pursued_share": draw(_grid(5, 10, 0.1)),
    }
    caps = {
        r: draw(st.integers(2, 30))
        for r in ("account_manager", "key_account_manager")
        if r in role_keys and draw(st.booleans())
    }
    if caps:
        section["max_clients"] = caps
    if draw(st.booleans()):  # otherwise the documented default
        active = ("key_account_manager", "account_manager", "telesales", "none")
        key = ("key_account_manager", "account_manager", "none")
        section["allowed"] = {
            "active": draw(st.lists(st.sampled_from(active), min_size=1, max_size=4, unique=True)),
            "key": draw(st.lists(st.sampled_from(key), min_size=1, max_size=3, unique=True)),
        }
    return section


@st.composite
def clients(
    draw: st.DrawFn, directions: tuple[str, ...], segment_keys: tuple[str, ...]
) -> pd.DataFrame:
    counts = {"prospect": (0, 12), "new": (0, 3), "active": (0, 6), "key": (0, 2)}
    rows: list[dict[str, Any]] = []
    for d in directions:
        for s in segment_keys:
            for status, (low, high) in counts.items():
                for _ in range(draw(st.integers(low, high))):
                    revenue = 0.0 if status == "prospect" else draw(_grid(0, 50, 100_000.0))
                    rows.append(
                        {
                            "client_id": f"c{len(rows)}",
                            "name": f"Client {len(rows)}",
                            "segment": s,
                            "direction": d,
                            "status": status,
                            "revenue_last_year": revenue,
                            "potential": draw(_grid(0, 50, 100_000.0)),
                        }
                    )
    return pd.DataFrame(rows, columns=CLIENT_COLUMNS)


@st.composite
def teams(
    draw: st.DrawFn, directions: tuple[str, ...], role_keys: tuple[str, ...], *, staffed: bool
) -> pd.DataFrame:
    """Today's people: tied to one direction, to any (empty) or to several (`a;b`), and open
    positions (an empty name).

    With `staffed`, each direction first gets one full-time person of most roles (a team that
    can serve today's clients from month 1); extra people follow either way.
    """
    rows: list[dict[str, Any]] = []

    def person(role: str, direction: str, fte: float, name: str | None = None) -> None:
        i = len(rows)
        rows.append({"rep_id": f"r{i}", "name": f"Rep {i}" if name is None else name,
                     "role": role, "direction": direction, "fte": fte})  # fmt: skip

    if staffed:
        for d in directions:
            for role in role_keys:
                if role != "commercial_director" and draw(st.integers(0, 4)) > 0:
                    person(role, d, 1.0)
        if "commercial_director" in role_keys:
            person("commercial_director", "", 1.0)
    for _ in range(draw(st.integers(0, 4))):
        role = draw(st.sampled_from(role_keys))
        kind = draw(st.sampled_from(("one", "any", "several")))
        if kind == "one" or len(directions) == 1:
            direction = draw(st.sampled_from(directions))
        elif kind == "any":
            direction = ""
        else:
            picked = draw(
                st.lists(st.sampled_from(directions), min_size=2, max_size=3, unique=True)
            )
            direction = ";".join(picked)
        fte = draw(st.sampled_from((1.0, 1.0, 0.5, 0.8, 0.25)))
        open_position = draw(st.integers(0, 4)) == 0  # an empty name: a hire under way
        person(role, direction, fte, "" if open_position else None)
    return pd.DataFrame(rows, columns=TEAM_COLUMNS)


def reachable_revenue(data: dict[str, Any], table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Rough ceilings on in-year revenue per direction: of today's clients (all covered) and
    of new business (every prospect an opportunity in month 1)."""
    months = data["months"]
    cycle = data["funnel"]["cycle_months"]
    share = max(0, months - 1 - cycle) / 12
    reach = {d: (0.0, 0.0) for d in data["directions"]}
    for row in table.itertuples(index=False):
        segment = data["segments"][row.segment]
        existing, new = reach[row.direction]
        if row.status == "prospect":
            new += segment["win_rate"] * segment["avg_deal"] * share
        else:
            existing += row.revenue_last_year * segment["retention"]["covered"]
        reach[row.direction] = (existing, new)
    return reach


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    objectives: tuple[str, ...] = ("min_cost", "max_margin"),
    target: tuple[float, float] = (0.0, 1.3),
    kept: tuple[float, float] = (0.5, 1.0),
    budget: bool | None = None,
    budget_scale: tuple[float, float] = (0.1, 4.0),
    staffed: bool | None = None,
    months: tuple[int, int] = (3, 12),
) -> Example:
    """A whole example.

    The plan is `kept` x today's revenue plus `target` x the new business within reach (rough
    ceilings, per direction, drawn in the given ranges); `budget` forces a
    budget in (True) or out (False), None draws it; `budget_scale` bounds the budget as a
    multiple of one person of every role in every direction for the year; `staffed` forces a
    team that holds most roles today (True), none of that (False), or draws it (None);
    `months` bounds the plan's horizon.
    """
    directions = DIRECTIONS[: draw(st.integers(1, 3))]
    segment_keys = SEGMENTS[: draw(st.integers(1, 3))]
    horizon = draw(st.integers(*months))
    role_table = draw(roles())
    data: dict[str, Any] = {
        "company": "Hypothesis",
        "months": horizon,
        "directions": list(directions),
        "roles": role_table,
        "segments": draw(segments(segment_keys)),
        "funnel": draw(funnels()),
        "coverage": draw(coverage_section(tuple(role_table))),
        "staffing": {
            "objective": draw(st.sampled_from(objectives)),
            "allow_reductions": draw(st.booleans()),
        },
    }
    table = draw(clients(directions, segment_keys))
    with_team = draw(st.booleans()) if staffed is None else staffed
    team = draw(teams(directions, tuple(role_table), staffed=with_team))

    # The plan: a share of today's revenue plus a multiple of the new business within reach,
    # per direction; by_direction follows those targets, is drawn at random, or is absent.
    factor = draw(_grid(round(target[0] * 20), round(target[1] * 20), 0.05))
    keep = draw(_grid(round(kept[0] * 20), round(kept[1] * 20), 0.05))
    wanted = {d: e * keep + n * factor for d, (e, n) in reachable_revenue(data, table).items()}
    total = sum(wanted.values())
    plan: dict[str, Any] = {"revenue_target": round(total, -3)}
    shares_from = draw(st.sampled_from(("targets", "targets", "random", "equal")))
    if len(directions) > 1 and shares_from != "equal" and total > 0:
        if shares_from == "targets":
            shares = [wanted[d] / total for d in directions]
        else:
            weights = [draw(st.integers(1, 5)) for _ in directions]
            shares = [w / sum(weights) for w in weights]
        shares[-1] = max(0.0, 1.0 - sum(shares[:-1]))
        plan["by_direction"] = dict(zip(directions, shares, strict=True))
    with_budget = draw(st.booleans()) if budget is None else budget
    if with_budget:
        payroll = sum(r["monthly_cost"] for r in role_table.values()) * len(directions) * horizon
        scale = draw(_grid(round(budget_scale[0] * 10), round(budget_scale[1] * 10), 0.1))
        plan["budget"] = round(payroll * scale, -3)
    data["plan"] = plan
    return Example(data, table, team)
