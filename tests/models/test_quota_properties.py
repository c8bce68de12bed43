"""Quota cascade on random hierarchies: every identity holds to the cent, whatever the input.

Each example draws 1-3 directions with 0-5 people each (some starting late and ramping up,
some with no potential, hours or last year), 1-12 months of random seasonality, a target in
cents, a hedge, growth bounds or none, and pins on people and directions. Solved examples are
checked from the output frames alone; infeasible ones must name what conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.quota import solve_quota
from models.quota_rounding import largest_remainder, round_to_margins
from optim.result import ModelResult, Status
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions
from tests.models.test_quota import PEOPLE, _assert_identities, _cents

OPTIONS = SolveOptions()
PROPERTIES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Cascade:
    data: dict[str, Any]
    people: pd.DataFrame
    pins: dict[str, float]

    @property
    def config(self) -> ScenarioConfig:
        return ScenarioConfig.model_validate(self.data)

    @property
    def company(self) -> float:
        plan = self.data["plan"]
        return round(plan["revenue_target"] * (1 + plan["quota_hedge"]), 2)

    def solve(self, pins: dict[str, float] | None = None) -> ModelResult:
        chosen = self.pins if pins is None else pins
        return solve_quota(self.config, self.people, options=OPTIONS, pins=chosen)


@st.composite
def cascades(draw: st.DrawFn, *, with_pins: bool = True) -> Cascade:
    directions = [f"d{i}" for i in range(draw(st.integers(1, 3)))]
    months = draw(st.integers(1, 12))
    weights = draw(st.lists(st.integers(0, 5), min_size=months, max_size=months))
    seasonality = [w / sum(weights) for w in weights] if sum(weights) else None
    target = draw(st.integers(0, 10**11)) / 100
    shares = draw(st.lists(st.integers(0, 4), min_size=len(directions), max_size=len(directions)))
    floor = draw(st.sampled_from([None, -0.5, -0.1, 0.0, 0.1]))
    cap = draw(st.sampled_from([None, 0.0, 0.2, 1.0, 3.0]))
    if floor is not None and cap is not None and cap < floor:
        cap = None
    ramp = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.9]), max_size=3))
    data: dict[str, Any] = {
        "directions": directions,
        "months": months,
        "plan": {
            "revenue_target": target,
            "quota_hedge": draw(st.sampled_from([0.0, 0.05, 0.0731, 0.2])),
            "seasonality": seasonality,
            "by_direction": (
                {d: s / sum(shares) for d, s in zip(directions, shares, strict=True)}
                if sum(shares)
                else {}
            ),
        },
        "roles": {
            "account_manager": {"monthly_cost": 1, "hours_per_month": 100},
            "hunter": {"monthly_cost": 1, "hours_per_month": 100, "ramp": ramp},
        },
        "quota": {
            "growth_floor": floor,
            "growth_cap": cap,
            "potential_weight": draw(st.sampled_from([0.0, 0.5, 0.7, 1.0])),
        },
    }
    rows = []
    for direction in directions:
        count = draw(st.sampled_from([0] + [1, 2, 3, 4, 5] * 4))
        share = data["plan"]["by_direction"].get(direction, 1 / len(directions))
        per_person = target * share / max(count, 1)  # last year near each one's part of the plan
        for i in range(count):
            start = draw(st.sampled_from([1, 1, 1, 1, 1, 2, months, months + 1]))
            rows.append(
                (
                    f"{direction}-{i}",
                    f"Person {i}",
                    draw(st.sampled_from(["account_manager", "hunter"])),
                    direction,
                    1.0,
                    start,
                    float(draw(st.sampled_from([0, 1, 10**6, 3 * 10**7]))),
                    round(per_person * draw(st.sampled_from([0, 0, 0.3, 0.6, 0.9, 1.3])), 2),
                    float(draw(st.sampled_from([0, 600, 1200]))),
                )
            )
    people = pd.DataFrame(rows, columns=PEOPLE)
    pins: dict[str, float] = {}
    if with_pins and not people.empty and draw(st.booleans()):
        for rep_id in draw(st.lists(st.sampled_from(list(people["rep_id"])), max_size=2)):
            pins[rep_id] = round(target * draw(st.sampled_from([0, 0.02, 0.1, 0.3])), 2)
        if draw(st.booleans()):
            share = draw(st.sampled_from([0.2, 0.6]))
            pins[draw(st.sampled_from(directions))] = round(target * share, 2)
    return Cascade(data, people, pins)


@PROPERTIES
@given(cascades())
def test_solved_cascades_keep_every_identity_and_bound(example: Cascade) -> None:
    result = example.solve()
    if result.status is Status.INFEASIBLE:
        conflicts = result.frames["quota_conflicts"]
        assert len(conflicts) and (conflicts["gap"] > 0).all()
        assert result.explanation.relaxations or result.explanation.notes
        for relaxation in result.explanation.relaxations:
            assert relaxation.needed != relaxation.current, relaxation
        return
    assert result.status is Status.OPTIMAL
    _assert_identities(result, example.company)
    people = result.frames["quota_people"].set_index("rep_id")
    quota = _cents(people["quota"])
    assert (quota >= _cents(people["floor"])).all()
    assert (
        quota <= np.where(np.isinf(people["cap"]), np.inf, _cents(people["cap"].clip(upper=1e15)))
    ).all()
    months = result.frames["quotas"].merge(
        people["start_month"], left_on="rep_id", right_index=True
    )
    assert (months.loc[months["month"] < months["start_month"], "quota"] == 0).all()
    _assert_seasonal(example, result.frames["quota_directions"])
    directions = result.frames["quota_directions"].set_index("direction")["quota"]
    for key, amount in example.pins.items():
        held = directions[key] if key in directions.index else people.loc[key, "quota"]
        assert round(held * 100) == round(amount * 100)


def _assert_seasonal(example: Cascade, directions: pd.DataFrame) -> None:
    """Directions that follow seasonality are within two cents of annual x seasonality each
    month; when all do, the company's months are within a cent of its quota x seasonality."""
    months = example.data["months"]
    weights = np.array(example.data["plan"]["seasonality"] or [1.0] * months)
    seasonality = weights / weights.sum()
    columns = [f"month_{m}" for m in range(1, months + 1)]
    by_month = _cents(directions[columns])
    expected = _cents(directions["quota"])[:, None] * seasonality[None, :]
    seasonal = directions["follows_seasonality"].to_numpy()
    assert (np.abs(by_month - expected)[seasonal] < 2).all()
    if seasonal.all():
        company = round(example.company * 100)
        assert (np.abs(by_month.sum(axis=0) - company * seasonality) < 1).all()


@PROPERTIES
@given(cascades(with_pins=False))
def test_without_bounds_or_pins_only_an_empty_direction_is_infeasible(example: Cascade) -> None:
    data = {
        **example.data,
        "quota": {**example.data["quota"], "growth_floor": None, "growth_cap": None},
    }
    result = Cascade(data, example.people, {}).solve()
    if result.status is Status.OPTIMAL:
        return
    assert result.status is Status.INFEASIBLE
    for node in result.frames["quota_conflicts"]["node"]:
        crew = example.people[example.people["direction"] == node]
        assert all(_time_at_full_pace(example, person) == 0 for person in crew.itertuples())


def _time_at_full_pace(example: Cascade, person: Any) -> float:
    """Seasonality-weighted months worked, at ramp-up productivity for people starting late."""
    months = example.data["months"]
    weights = example.data["plan"]["seasonality"] or [1.0] * months
    ramp = example.data["roles"][person.role].get("ramp", [])
    total = 0.0
    for month in range(person.start_month, months + 1):
        step = month - person.start_month
        pace = ramp[step] if person.start_month > 1 and step < len(ramp) else 1.0
        total += weights[month - 1] * pace
    return total


@settings(PROPERTIES, max_examples=20)
@given(cascades(with_pins=False), st.data())
def test_pinning_someone_at_their_own_quota_moves_nobody(
    example: Cascade, data: st.DataObject
) -> None:
    result = example.solve()
    if result.status is not Status.OPTIMAL or example.people.empty:
        return
    people = result.frames["quota_people"]
    chosen = data.draw(st.sampled_from(list(people["rep_id"])))
    quota = people.set_index("rep_id")["quota"]
    again = example.solve(pins={chosen: float(quota[chosen])})
    assert again.status is Status.OPTIMAL
    moved = _cents(again.frames["quota_people"].set_index("rep_id")["quota"]) - _cents(quota)
    assert np.abs(moved).max() <= 1


@settings(PROPERTIES, max_examples=20)
@given(cascades(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(example: Cascade, random: Any) -> None:
    shuffled = example.people.sample(frac=1.0, random_state=random.randint(0, 2**31))
    first = example.solve()
    second = solve_quota(example.config, shuffled, options=OPTIONS, pins=example.pins)
    assert first.status is second.status
    for name, frame in first.frames.items():
        pd.testing.assert_frame_equal(frame, second.frames[name])


# ----- rounding -----------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e9), min_size=1, max_size=30))
def test_largest_remainder_adds_up_and_stays_next_to_each_value(values: list[float]) -> None:
    real = np.array(values)
    cents = largest_remainder(real, round(real.sum()))
    assert cents.sum() == round(real.sum())
    assert (np.abs(cents - real) < 1).all()


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_rounding_a_table_lands_both_margins(rows: int, cols: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.random((rows, cols)) * 1e6 * (rng.random((rows, cols)) > 0.2)
    row_totals = largest_remainder(table.sum(axis=1), round(table.sum()))
    col_totals = largest_remainder(table.sum(axis=0), round(table.sum()))
    rounded = round_to_margins(table, row_totals, col_totals, allowed=table > 0)
    assert rounded is not None
    assert (rounded.sum(axis=1) == row_totals).all() and (rounded.sum(axis=0) == col_totals).all()
    assert (rounded[table == 0] == 0).all()
    assert (np.abs(rounded - table) < 2).all()
