"""Quota cascade on tiny instances solved by hand, checked to the cent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from models.quota import people_from_owners, solve_quota
from optim.result import ModelResult, Status
from optim.scenario import ScenarioError, load_scenario
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions

OPTIONS = SolveOptions()
PEOPLE = ["rep_id", "name", "role", "direction", "fte", "start_month", "potential",
          "revenue_last_year", "capacity_hours"]  # fmt: skip


def _config(
    target: float = 900.0,
    *,
    directions: tuple[str, ...] = ("north",),
    hedge: float = 0.0,
    **quota: Any,
) -> ScenarioConfig:
    return ScenarioConfig.model_validate(
        {
            "directions": list(directions),
            "plan": {"revenue_target": target, "quota_hedge": hedge},
            "roles": {
                "account_manager": {"monthly_cost": 100, "hours_per_month": 100},
                "hunter": {"monthly_cost": 100, "hours_per_month": 100, "ramp": [0.5]},
                "telesales": {"monthly_cost": 50, "hours_per_month": 100},
            },
            "quota": {"growth_cap": None, **quota},
        }
    )


def _people(*rows: tuple[Any, ...]) -> pd.DataFrame:
    """rows: (rep_id, direction, potential, revenue_last_year[, start_month[, role]])."""
    records = []
    for rep_id, direction, potential, last_year, *rest in rows:
        start = rest[0] if rest else 1
        role = rest[1] if len(rest) > 1 else "account_manager"
        records.append((rep_id, f"Name {rep_id}", role, direction, 1.0, start, potential,
                        last_year, 1000.0))  # fmt: skip
    return pd.DataFrame(records, columns=PEOPLE)


def _cents(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float) * 100).astype(np.int64)


def _annual(result: ModelResult) -> dict[str, float]:
    people = result.frames["quota_people"]
    return dict(zip(people["rep_id"], people["quota"], strict=True))


def _assert_identities(result: ModelResult, company: float) -> None:
    """Every sum of the cascade, recomputed from the frames in whole cents."""
    people = result.frames["quota_people"]
    months = result.frames["quotas"]
    directions = result.frames["quota_directions"].set_index("direction")
    month_columns = [c for c in directions.columns if c.startswith("month_")]
    assert _cents(directions["quota"]).sum() == round(company * 100)
    by_direction = people.groupby("direction")["quota"].apply(lambda q: _cents(q).sum())
    assert (by_direction == _cents(directions.loc[by_direction.index, "quota"])).all()
    assert (_cents(directions[month_columns]).sum(axis=1) == _cents(directions["quota"])).all()
    cents = months.assign(cents=_cents(months["quota"]))
    by_person = cents.groupby("rep_id")["cents"].sum()
    annual = pd.Series(_cents(people["quota"]), index=people["rep_id"])
    assert (by_person.loc[annual.index] == annual).all()
    by_month = cents.pivot_table(index="direction", columns="month", values="cents", aggfunc="sum")
    for direction, row in by_month.iterrows():
        expected = _cents(directions.loc[direction, month_columns])
        assert (row.to_numpy() == expected).all()
    assert (months["quota"] >= 0).all()
    assert result.frames["quota_checks"]["ok"].all()


# ----- the fair split ---------------------------------------------------------------------------
def test_fair_share_blends_potential_and_hours_and_months_add_up_to_the_cent() -> None:
    # Company 1,000,000 x 1.1 = 1,100,000. A has 75% of the potential and 50% of the hours,
    # B 25% and 50%: with potential_weight 0.5 their shares are 62.5% and 37.5%.
    config = _config(1_000_000, hedge=0.1, potential_weight=0.5)
    result = solve_quota(config, _people(("A", "north", 300, 0), ("B", "north", 100, 0)),
                         options=OPTIONS)  # fmt: skip
    assert result.status is Status.OPTIMAL
    assert _annual(result) == {"A": 687_500.00, "B": 412_500.00}
    assert result.objective == pytest.approx(0.0, abs=1e-9)
    assert list(result.frames["quota_people"]["stretch"]) == pytest.approx([1.0, 1.0])
    # 1,100,000 / 12 = 91,666.666...: eight months of 91,666.67 and four of 91,666.66.
    months = result.frames["quota_directions"].filter(like="month_").iloc[0]
    assert sorted(_cents(months)) == [9_166_666] * 4 + [9_166_667] * 8
    _assert_identities(result, 1_100_000)


def test_cap_binds_and_everyone_else_shares_one_stretch() -> None:
    # Three equal people, fair 300 each of 900. C did 200 last year and may grow 20%: 240.
    # The 60 left over goes to A and B alike (330 each, stretch 1.1 against C's 0.8); the least
    # largest deviation from a common stretch is half of 1.1 - 0.8.
    config = _config(growth_cap=0.2)
    people = _people(("A", "north", 100, 0), ("B", "north", 100, 0), ("C", "north", 100, 200))
    result = solve_quota(config, people, options=OPTIONS)
    assert result.status is Status.OPTIMAL
    assert _annual(result) == {"A": 330.0, "B": 330.0, "C": 240.0}
    assert result.objective == pytest.approx(0.15)
    table = result.frames["quota_people"].set_index("rep_id")
    assert table.loc["C", "bound"] == "growth_cap"
    assert table.loc["A", "bound"] == ""
    assert table.loc["A", "common_stretch"] == pytest.approx(1.1)
    assert "growth cap" in table.loc["C", "reason"]
    assert [(m.group, m.labels["rep_id"]) for m in result.explanation.binding] == [
        ("growth_cap", "C")
    ]
    _assert_identities(result, 900)


def test_floor_binds_and_the_others_carry_less() -> None:
    # C did 350 last year and may not fall below it (growth_floor 0): 350; A and B 275 each.
    people = _people(("A", "north", 100, 0), ("B", "north", 100, 0), ("C", "north", 100, 350))
    result = solve_quota(_config(), people, options=OPTIONS)
    assert _annual(result) == {"A": 275.0, "B": 275.0, "C": 350.0}
    assert result.objective == pytest.approx((350 - 275) / 300 / 2)
    table = result.frames["quota_people"].set_index("rep_id")
    assert table.loc["C", "bound"] == "growth_floor"
    assert table.loc["C", "growth"] == pytest.approx(0.0)
    _assert_identities(result, 900)


def test_quota_is_split_to_the_cent_when_shares_do_not_divide() -> None:
    # 1,000.00 over three equal people: 333.34 + 333.33 + 333.33, the extra cent to the first.
    people = _people(("A", "north", 1, 0), ("B", "north", 1, 0), ("C", "north", 1, 0))
    result = solve_quota(_config(1000), people, options=OPTIONS)
    assert _annual(result) == {"A": 333.34, "B": 333.33, "C": 333.33}
    _assert_identities(result, 1000)


# ----- pins -------------------------------------------------------------------------------------
def test_person_pin_rebalances_the_rest_and_keeps_every_identity() -> None:
    people = _people(("A", "north", 100, 0), ("B", "north", 100, 0), ("C", "north", 100, 0))
    result = solve_quota(_config(), people, options=OPTIONS, pins={"A": 500})
    assert result.status is Status.OPTIMAL
    assert _annual(result) == {"A": 500.0, "B": 200.0, "C": 200.0}
    table = result.frames["quota_people"].set_index("rep_id")
    assert table.loc["A", "pinned"] and table.loc["A", "bound"] == "pin"
    assert not table.loc["B", "pinned"]
    _assert_identities(result, 900)


def test_caller_pin_wins_over_the_scenario_pin() -> None:
    people = _people(("A", "north", 100, 0), ("B", "north", 100, 0))
    config = _config(pins={"A": 400})
    assert _annual(solve_quota(config, people, options=OPTIONS))["A"] == 400
    assert _annual(solve_quota(config, people, options=OPTIONS, pins={"A": 600}))["A"] == 600


def test_direction_pin_rebalances_the_other_directions_by_plan_share() -> None:
    config = ScenarioConfig.model_validate(
        {
            **_config().model_dump(),
            "directions": ["north", "south", "east"],
            "plan": {
                "revenue_target": 1000,
                "by_direction": {"north": 0.6, "south": 0.3, "east": 0.1},
            },
        }
    )
    people = _people(("N1", "north", 1, 0), ("S1", "south", 1, 0), ("S2", "south", 3, 0),
                     ("E1", "east", 1, 0))  # fmt: skip
    result = solve_quota(config, people, options=OPTIONS, pins={"north": 700})
    directions = result.frames["quota_directions"].set_index("direction")
    # 300 left for south and east, 3 : 1.
    assert dict(directions["quota"]) == {"north": 700.0, "south": 225.0, "east": 75.0}
    assert list(directions["pinned"]) == [True, False, False]
    # In south, S2 has 3/4 of the potential and half the hours: 0.7 x 3/4 + 0.3 x 1/2 = 0.675
    # of 225 is 151.875 and S1 gets 73.125; the half cent goes to the first (S1).
    assert _annual(result) == {"N1": 700, "S1": 73.13, "S2": 151.87, "E1": 75}
    _assert_identities(result, 1000)


def test_pinned_people_above_their_direction_are_infeasible_and_named() -> None:
    people = _people(("A", "north", 100, 0), ("B", "north", 100, 0), ("C", "north", 100, 0))
    result = solve_quota(_config(), people, options=OPTIONS, pins={"A": 600, "B": 500})
    assert result.status is Status.INFEASIBLE
    conflicts = result.frames["quota_conflicts"]
    assert list(conflicts["node"]) == ["north"]
    assert list(conflicts["gap"]) == [200.0]
    assert "A = 600" in conflicts["sentence"][0] and "B = 500" in conflicts["sentence"][0]
    relaxations = {r.what: r.needed for r in result.explanation.relaxations}
    assert relaxations == {"quota.pins.A": 400, "quota.pins.B": 300, "quota.pins.north": 1100}
    assert "A, B" in result.explanation.headline


def test_pin_below_the_growth_floor_is_infeasible() -> None:
    people = _people(("A", "north", 100, 350), ("B", "north", 100, 0))
    result = solve_quota(_config(), people, options=OPTIONS, pins={"A": 100})
    assert result.status is Status.INFEASIBLE
    conflict = result.frames["quota_conflicts"].iloc[0]
    assert (conflict["level"], conflict["node"], conflict["gap"]) == ("person", "A", 250.0)
    assert "below the growth floor of 350" in conflict["sentence"]
    assert [(r.what, r.needed) for r in result.explanation.relaxations] == [("quota.pins.A", 350)]


def test_direction_pins_above_the_company_are_infeasible() -> None:
    config = _config(1000, directions=("north", "south"))
    people = _people(("A", "north", 1, 0), ("B", "south", 1, 0))
    result = solve_quota(config, people, options=OPTIONS, pins={"north": 800, "south": 300})
    assert result.status is Status.INFEASIBLE
    assert list(result.frames["quota_conflicts"]["gap"]) == [100.0]
    relaxations = {r.what: r.needed for r in result.explanation.relaxations}
    assert relaxations == {
        "quota.pins.north": 700,
        "quota.pins.south": 200,
        "plan.revenue_target": pytest.approx(1100),
    }


def test_caps_below_the_direction_without_pins_say_which_cap_would_do() -> None:
    config = _config(1000, growth_cap=1.0)
    people = _people(("A", "north", 1, 100), ("B", "north", 1, 100))
    result = solve_quota(config, people, options=OPTIONS)
    assert result.status is Status.INFEASIBLE
    assert list(result.frames["quota_conflicts"]["gap"]) == [600.0]
    relaxations = {r.what: r.needed for r in result.explanation.relaxations}
    assert relaxations["quota.growth_cap"] == pytest.approx(4.0)  # 1000 / 200 - 1


def test_a_direction_nobody_carries_is_infeasible() -> None:
    config = _config(1000, directions=("north", "south"))
    result = solve_quota(config, _people(("A", "north", 1, 0)), options=OPTIONS)
    assert result.status is Status.INFEASIBLE
    assert "south" in result.explanation.headline
    assert "nobody who can carry it" in result.frames["quota_conflicts"]["sentence"][0]


def test_unknown_pins_are_bad_input_naming_where_they_came_from() -> None:
    people = _people(("A", "north", 1, 0))
    with pytest.raises(ScenarioError, match=r"--pin, column X: X is neither a direction"):
        solve_quota(_config(), people, options=OPTIONS, pins={"X": 5})
    telesales = pd.concat([people, _people(("T", "north", 1, 0, 1, "telesales"))])
    with pytest.raises(ScenarioError, match=r"quota.pins.T: T does not carry quota"):
        solve_quota(_config(pins={"T": 5}), telesales, options=OPTIONS)


# ----- new hires and months ---------------------------------------------------------------------
def test_new_hire_carries_nothing_before_the_start_and_ramps_up() -> None:
    # N starts in month 7 at half pace, then full pace: 5.5 of 12 months. With equal territories
    # fair shares are 12 : 5.5 of 1,750,000, i.e. 1,200,000 and 550,000.
    config = _config(1_750_000)
    people = _people(("A", "north", 1, 0), ("N", "north", 1, 0, 7, "hunter"))
    result = solve_quota(config, people, options=OPTIONS)
    assert _annual(result) == {"A": 1_200_000.0, "N": 550_000.0}
    months = result.frames["quotas"]
    hire = months[months["rep_id"] == "N"].set_index("month")
    assert (hire.loc[1:6, "quota"] == 0).all()
    assert hire.loc[7, "quota"] < hire.loc[8, "quota"]
    assert list(hire["ramp"]) == [0] * 6 + [0.5] + [1.0] * 5
    # A covers months 1-6 alone, so the direction still follows seasonality to the cent.
    directions = result.frames["quota_directions"]
    assert directions["follows_seasonality"].all()
    assert set(_cents(directions.filter(like="month_").iloc[0])) == {14_583_333, 14_583_334}
    _assert_identities(result, 1_750_000)


def test_a_direction_of_late_starters_follows_their_ramp_not_seasonality() -> None:
    config = _config(1200, directions=("north", "south"))
    people = _people(("A", "north", 1, 0), ("N", "south", 1, 0, 4, "hunter"))
    result = solve_quota(config, people, options=OPTIONS)
    assert result.status is Status.OPTIMAL
    south = result.frames["quota_directions"].set_index("direction").loc["south"]
    assert not south["follows_seasonality"]
    assert [south[f"month_{m}"] for m in (1, 2, 3)] == [0, 0, 0]
    assert any("south's months follow" in note for note in result.explanation.notes)
    _assert_identities(result, 1200)


def test_the_unhedged_layer_adds_up_to_the_target() -> None:
    config = _config(1000.01, hedge=0.07)
    people = _people(("A", "north", 3, 0), ("B", "north", 7, 0), ("C", "north", 11, 0))
    result = solve_quota(config, people, options=OPTIONS)
    table = result.frames["quota_people"]
    assert _cents(table["unhedged_quota"]).sum() == 100_001
    assert _cents(table["quota"]).sum() == round(1000.01 * 1.07 * 100)
    assert (
        _cents(table["hedge_buffer"]) == _cents(table["quota"]) - _cents(table["unhedged_quota"])
    ).all()


def test_carriers_are_configurable() -> None:
    people = _people(("A", "north", 1, 0), ("H", "north", 1, 0, 1, "hunter"))
    result = solve_quota(_config(carriers=["account_manager"]), people, options=OPTIONS)
    assert _annual(result) == {"A": 900.0}


def test_same_input_same_output() -> None:
    people = _people(
        ("A", "north", 3, 50), ("B", "north", 7, 0), ("C", "north", 11, 0, 5, "hunter")
    )
    first = solve_quota(_config(1234.57, hedge=0.05), people, options=OPTIONS)
    second = solve_quota(_config(1234.57, hedge=0.05), people.iloc[::-1], options=OPTIONS)
    for name, frame in first.frames.items():
        pd.testing.assert_frame_equal(frame, second.frames[name])


# ----- inputs -----------------------------------------------------------------------------------
def test_people_from_owners_sums_territories_and_picks_a_home_direction() -> None:
    config = _config(directions=("north", "south"))
    config = config.model_copy(
        update={"roles": {**config.roles, "account_manager": config.roles["account_manager"]
                          .model_copy(update={"hire_lead_months": 2})}}
    )  # fmt: skip
    team = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3", "R4", "R5"],
            "name": ["Anna", "Boris", "Clara", "Dan", ""],
            "role": ["account_manager"] * 3 + ["telesales", "account_manager"],
            "direction": ["north", "north;south", "", "north", "south"],
            "fte": [1.0, 0.5, 1.0, 1.0, 1.0],
        }
    )
    clients = pd.DataFrame(
        {
            "client_id": ["C1", "C2", "C3", "C4"],
            "direction": ["north", "south", "north", "north"],
            "potential": [100.0, 300.0, 50.0, 70.0],
            "revenue_last_year": [10.0, 20.0, 5.0, 7.0],
            "owner": ["R2", "R2", "R1", None],
        }
    )
    people = people_from_owners(config, clients, team).set_index("rep_id")
    assert list(people.index) == ["R1", "R2", "R3", "R5"]  # telesales carry no quota
    assert dict(people["direction"]) == {"R1": "north", "R2": "south", "R3": "north", "R5": "south"}
    assert dict(people["potential"]) == {"R1": 50.0, "R2": 400.0, "R3": 0.0, "R5": 0.0}
    assert dict(people["revenue_last_year"]) == {"R1": 5.0, "R2": 30.0, "R3": 0.0, "R5": 0.0}
    assert dict(people["start_month"]) == {"R1": 1, "R2": 1, "R3": 1, "R5": 3}  # open position
    assert people.loc["R2", "capacity_hours"] == 100 * 12 * 0.5


def test_people_from_owners_reads_missing_cells_as_the_defaults() -> None:
    # No owner column (optional in clients.csv), no direction (any), no fte (1), no name (open).
    config = _config(directions=("north", "south"))
    team = pd.DataFrame(
        {"rep_id": ["R1"], "name": [np.nan], "role": ["account_manager"], "direction": [np.nan],
         "fte": [np.nan]}
    )  # fmt: skip
    clients = pd.DataFrame({"client_id": ["C1"], "direction": ["south"], "potential": [5.0],
                            "revenue_last_year": [1.0]})  # fmt: skip
    people = people_from_owners(config, clients, team)
    assert people.loc[0, ["direction", "name", "fte", "potential"]].tolist() == [
        "north",
        "",
        1.0,
        0,
    ]
    assert people.loc[0, "capacity_hours"] == 100 * 12


def test_the_demo_cascades_with_every_identity() -> None:
    scenario = load_scenario("data/demo")
    people = people_from_owners(scenario.config, scenario.clients, scenario.team)
    result = solve_quota(scenario.config, people, options=OPTIONS)
    assert result.status is Status.OPTIMAL
    plan = scenario.config.plan
    assert plan is not None
    _assert_identities(result, plan.revenue_target * (1 + plan.quota_hedge))


def test_quota_section_defaults_and_checks() -> None:
    quota = ScenarioConfig.model_validate({"directions": ["north"]}).quota
    assert quota.carriers == ("key_account_manager", "hunter", "account_manager")
    assert (quota.growth_floor, quota.growth_cap, quota.potential_weight) == (0.0, 1.0, 0.7)
    assert quota.pins == {}
    with pytest.raises(ValidationError, match="above growth_cap"):
        _config(growth_floor=0.5, growth_cap=0.2)
    with pytest.raises(ValidationError, match="unknown role 'seller'"):
        _config(carriers=["seller"])
    with pytest.raises(ValidationError, match="must be an amount >= 0"):
        _config(pins={"A": -1})
