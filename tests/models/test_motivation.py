"""Motivation weights on tiny catalogues solved by hand, their rules, the budget, the payouts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.motivation import headcount_from_team, solve_motivation
from models.motivation_payout import (
    AttainmentLaw,
    attainment_law,
    expected_payout_factor,
    payout_factor,
)
from optim.result import Status
from optim.schema import MissingSectionError, Payout, ScenarioConfig
from optim.solver import SolveOptions

OPTIONS = SolveOptions()
FAST = SolveOptions(time_limit=10)

# The demo's hunter and telesales: priorities and how much each role drives each KPI.
KPIS = {"new_client_revenue": 0.30, "retained_revenue": 0.25, "meetings_set": 0.15,
        "contacts_researched": 0.10}  # fmt: skip
CONTROL = {
    "hunter": {"new_client_revenue": 1.0, "meetings_set": 0.3, "retained_revenue": 0.0},
    "telesales": {"meetings_set": 1.0, "new_client_revenue": 0.2, "contacts_researched": 0.1},
}


def _config(
    kpis: dict[str, Any] = KPIS,
    control: dict[str, dict[str, float]] = CONTROL,
    **motivation: Any,
) -> ScenarioConfig:
    """A one-direction scenario whose hunters and telesales cost 100,000 a month, half variable."""
    role = {"monthly_cost": 100_000, "variable_share": 0.5, "hire_lead_months": 2}
    catalogue = {
        k: (spec if isinstance(spec, dict) else {"priority": spec}) for k, spec in kpis.items()
    }
    return ScenarioConfig.model_validate(
        {
            "directions": ["north"],
            "roles": {"hunter": role, "telesales": role, "account_manager": role},
            "motivation": {"kpis": catalogue, "controllability": control, **motivation},
        }
    )


def _headcount(people: dict[str, float], months: int = 12) -> pd.DataFrame:
    """`people` full-time people of each role in every month."""
    rows = [
        {"role": role, "direction": "north", "month": t, "headcount": n, "fte": n}
        for role, n in people.items()
        for t in range(1, months + 1)
    ]
    return pd.DataFrame(rows)


def _weights(result: Any) -> dict[str, dict[str, float]]:
    table = result.frames["motivation"]
    paid = table[table["weight"] > 0]
    return {
        role: dict(zip(group["kpi"], group["weight"].round(9), strict=True))
        for role, group in paid.groupby("role", sort=False)
    }


# ----- weights known by hand ----------------------------------------------------------------
def test_demo_hunter_and_telesales_weights_by_hand() -> None:
    # hunter: ideal 0.3/0.345 = 20/23 and 3/23 (0.870/0.130); on the 0.05 grid (0.85, 0.15) is
    # 0.039 away, (0.90, 0.10) 0.061. telesales: ideal 15/22, 6/22, 1/22 (0.682, 0.273,
    # 0.045): contacts_researched is below min_weight 0.1; (0.70, 0.30) is 2/22 = 0.091 away,
    # (0.65, 0.25, 0.10) 0.109, (0.75, 0.25) 0.136.
    result = solve_motivation(_config(), _headcount({"hunter": 2, "telesales": 1}), options=OPTIONS)
    assert result.status is Status.OPTIMAL
    assert _weights(result) == {
        "hunter": {"new_client_revenue": 0.85, "meetings_set": 0.15},
        "telesales": {"new_client_revenue": 0.3, "meetings_set": 0.7},
    }
    assert result.objective == pytest.approx(100 * (0.9 / 23 + 2 / 22), abs=1e-6)
    table = result.frames["motivation"].set_index(["role", "kpi"])
    assert table.loc[("hunter", "new_client_revenue"), "ideal_weight"] == pytest.approx(20 / 23)
    assert "below min_weight" in table.loc[("telesales", "contacts_researched"), "reason"]
    roles = result.frames["motivation_roles"].set_index("role")
    assert roles.loc["telesales", "binding_limits"] == "min_weight, step rounding"
    assert roles.loc["hunter", "alignment_share"] == pytest.approx(1 - 0.45 / 23)


def test_kpis_left_out_by_max_kpis_are_spread_in_proportion_not_piled_on_the_top_one() -> None:
    # Ideal 0.4/0.3/0.2/0.1 with max_kpis 2: every split of the freed 0.3 over a and b with
    # both at least their ideal is 0.6 away. The most proportional split (0.571, 0.429) lies
    # between (0.55, 0.45) and (0.60, 0.40), both at most 1.5 x their ideal; alignment with
    # the priorities then picks (0.60, 0.40). Alignment alone would have piled it on a: (0.7, 0.3).
    kpis = {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}
    control = {"hunter": dict.fromkeys(kpis, 1.0)}
    config = _config(kpis, control, max_kpis=2)
    result = solve_motivation(config, _headcount({"hunter": 1}), options=OPTIONS)
    assert _weights(result) == {"hunter": {"a": 0.6, "b": 0.4}}
    assert result.objective == pytest.approx(60.0, abs=1e-6)
    reasons = result.frames["motivation"].set_index("kpi")["reason"]
    assert reasons["c"].startswith("dropped: max_kpis 2")
    assert "max_kpis" in result.frames["motivation_roles"]["binding_limits"].iloc[0]


def test_ideal_on_the_grid_is_paid_exactly_and_no_limit_binds() -> None:
    kpis = {"a": 0.6, "b": 0.3, "c": 0.1}
    config = _config(kpis, {"hunter": dict.fromkeys(kpis, 1.0)})
    result = solve_motivation(config, _headcount({"hunter": 3}), options=OPTIONS)
    assert _weights(result) == {"hunter": {"a": 0.6, "b": 0.3, "c": 0.1}}
    assert result.objective == pytest.approx(0.0, abs=1e-6)
    assert result.frames["motivation_roles"]["binding_limits"].iloc[0] == "none"


# ----- the rules ----------------------------------------------------------------------------
def test_a_role_is_never_paid_on_what_it_does_not_control() -> None:
    # Retained revenue is the plan's top priority; hunters do not drive it (control 0), and
    # telesales are not even listed for it.
    kpis = {"new_client_revenue": 0.1, "retained_revenue": 0.9}
    control = {
        "hunter": {"new_client_revenue": 1.0, "retained_revenue": 0.0},
        "telesales": {"new_client_revenue": 0.5},
    }
    result = solve_motivation(_config(kpis, control), _headcount({"hunter": 1}), options=OPTIONS)
    assert _weights(result) == {
        "hunter": {"new_client_revenue": 1.0},
        "telesales": {"new_client_revenue": 1.0},
    }
    reasons = result.frames["motivation"].set_index(["role", "kpi"])["reason"]
    assert "does not control retained_revenue" in reasons["hunter", "retained_revenue"]
    assert "no controllability" in reasons["telesales", "retained_revenue"]


def test_roles_without_a_controllable_kpi_get_no_weights_and_a_note() -> None:
    control = {**CONTROL, "account_manager": {"new_client_revenue": 0.0}}
    headcount = _headcount({"hunter": 1, "account_manager": 2})
    result = solve_motivation(_config(control=control), headcount, options=OPTIONS)
    assert "account_manager" not in _weights(result)
    assert any("account_manager controls none of the KPIs" in n for n in result.explanation.notes)
    payout = result.frames["payout"].set_index("role")
    assert math.isnan(payout.loc["account_manager", "expected_cost"])
    assert payout.loc["account_manager", "target_variable_pay"] == 2 * 12 * 50_000


def test_min_weight_off_the_step_grid_rounds_up_and_says_so() -> None:
    # The hunter's ideal is 0.870 / 0.130. min_weight 0.12 on a 0.05 grid: the least paid
    # weight is 0.15, so meetings_set is raised to it. min_weight 0.16: the least is 0.20;
    # (0.80, 0.20) is 0.139 away, (1.0, 0) 0.261. min_weight 0.55: two KPIs cannot both
    # reach 0.55, so one KPI takes everything.
    hunters = _headcount({"hunter": 1})
    result = solve_motivation(_config(min_weight=0.12), hunters, options=OPTIONS)
    assert _weights(result)["hunter"] == {"new_client_revenue": 0.85, "meetings_set": 0.15}
    reasons = result.frames["motivation"].set_index(["role", "kpi"])["reason"]
    assert reasons["hunter", "meetings_set"].startswith("raised to min_weight 0.15")
    assert any("the smallest weight paid is 0.15" in n for n in result.explanation.notes)
    result = solve_motivation(_config(min_weight=0.16), hunters, options=OPTIONS)
    assert _weights(result)["hunter"] == {"new_client_revenue": 0.8, "meetings_set": 0.2}
    result = solve_motivation(_config(min_weight=0.55), hunters, options=OPTIONS)
    assert _weights(result)["hunter"] == {"new_client_revenue": 1.0}


def test_a_step_that_does_not_divide_one_is_reported_with_the_steps_that_would() -> None:
    result = solve_motivation(_config(weight_step=0.3), _headcount({"hunter": 1}), options=OPTIONS)
    assert result.status is Status.INFEASIBLE
    assert result.status.exit_code == 3
    needed = sorted(r.needed for r in result.explanation.relaxations)
    assert needed == pytest.approx([0.25, 1 / 3])
    assert all(r.what == "motivation.weight_step" for r in result.explanation.relaxations)


def test_a_controllability_of_an_unknown_kpi_is_an_error() -> None:
    config = _config(control={"hunter": {"new_client_revenu": 1.0}})
    with pytest.raises(ValueError, match="new_client_revenu"):
        solve_motivation(config, _headcount({"hunter": 1}), options=OPTIONS)


def test_a_scenario_without_motivation_says_it_needs_one() -> None:
    config = ScenarioConfig.model_validate({"directions": ["north"]})
    with pytest.raises(MissingSectionError, match="motivation"):
        solve_motivation(config, _headcount({}), options=OPTIONS)


# ----- the budget ---------------------------------------------------------------------------
# Two KPIs the plan values equally, with certain attainment: a at 120% pays 1.2 of target, b
# at 90% pays 0.9. One hunter all year: 12 x 100,000 x 0.5 = 600,000 variable pay at target.
# The ideal (0.5, 0.5) costs 600,000 x 1.05 = 630,000; all on b costs 540,000, the least.
BUDGET_KPIS = {
    "a": {"priority": 0.5, "attainment": {"mean": 1.2, "sd": 0.0}},
    "b": {"priority": 0.5, "attainment": {"mean": 0.9, "sd": 0.0}},
}
BUDGET_CONTROL = {"hunter": {"a": 1.0, "b": 1.0}}


def test_budget_below_any_valid_weights_is_infeasible_with_the_budget_needed() -> None:
    config = _config(BUDGET_KPIS, BUDGET_CONTROL, variable_budget=500_000)
    result = solve_motivation(config, _headcount({"hunter": 1}), options=OPTIONS)
    assert result.status is Status.INFEASIBLE
    relaxations = result.explanation.relaxations
    assert [r.what for r in relaxations] == ["motivation.variable_budget"] * 2
    assert [r.needed for r in relaxations] == [540_000, 630_000]
    assert relaxations[0].current == 500_000
    assert "540,000" in result.explanation.headline


def test_a_binding_budget_moves_weight_to_the_cheaper_kpi() -> None:
    # cost = 600,000 x (0.9 + 0.3 a) <= 600,000 needs a <= 1/3: a = 0.30 on the grid.
    config = _config(BUDGET_KPIS, BUDGET_CONTROL, variable_budget=600_000)
    result = solve_motivation(config, _headcount({"hunter": 1}), options=OPTIONS)
    assert result.status is Status.OPTIMAL
    assert _weights(result) == {"hunter": {"a": 0.3, "b": 0.7}}
    payout = result.frames["payout"].set_index("role")
    assert payout.loc["hunter", "expected_cost"] == pytest.approx(600_000 * (0.36 + 0.63))
    assert payout.loc["hunter", "p90_cost"] == pytest.approx(594_000)  # attainment is certain
    assert "variable_budget" in result.frames["motivation_roles"]["binding_limits"].iloc[0]
    assert any("30,000 over budget" in n for n in result.explanation.notes)
    reasons = result.frames["motivation"].set_index("kpi")["reason"]
    assert reasons["a"].endswith("without the variable budget it would weigh 0.5")


def test_a_budget_that_fits_changes_nothing() -> None:
    config = _config(BUDGET_KPIS, BUDGET_CONTROL, variable_budget=630_000)
    result = solve_motivation(config, _headcount({"hunter": 1}), options=OPTIONS)
    assert _weights(result) == {"hunter": {"a": 0.5, "b": 0.5}}
    assert result.frames["motivation_roles"]["binding_limits"].iloc[0] == "none"


# ----- headcount ----------------------------------------------------------------------------
def test_headcount_from_team_counts_open_positions_from_their_start_month() -> None:
    team = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "name": ["Anna", "", "Boris"],
            "role": ["hunter", "hunter", "telesales"],
            "direction": ["north", "north", ""],
            "fte": [1.0, 1.0, 0.5],
        }
    )
    config = _config()
    headcount = headcount_from_team(config, team)
    hunters = headcount[headcount["role"] == "hunter"].set_index("month")
    assert hunters.loc[1, "headcount"] == 1 and hunters.loc[3, "headcount"] == 2  # lead 2 months
    result = solve_motivation(config, headcount, options=OPTIONS)
    payout = result.frames["payout"].set_index("role")
    assert payout.loc["hunter", "fte_months"] == 12 + 10
    assert payout.loc["hunter", "target_variable_pay"] == 22 * 50_000
    assert payout.loc["telesales", "fte_months"] == 6
    assert payout.loc["hunter", "people"] == 2  # 22 person-months over 12, rounded


# ----- the payout curve and its expectation -------------------------------------------------
def test_payout_curve_threshold_accelerator_and_cap() -> None:
    payout = Payout(threshold=0.8, cap=1.5, accelerator=2.0)
    attainment = np.array([0.79, 0.8, 1.0, 1.2, 1.5, 2.0])
    assert payout_factor(attainment, payout) == pytest.approx([0, 0.8, 1.0, 1.4, 2.0, 2.0])


def test_expected_payout_factor_matches_closed_forms() -> None:
    payout = Payout(threshold=0.8, cap=1.5)
    # Uniform on [0.7, 1.3]: the integral of a / 0.6 from 0.8 to 1.3.
    uniform = AttainmentLaw("uniform", 1.0, 0.3 / math.sqrt(3))
    assert expected_payout_factor(uniform, payout) == pytest.approx(0.875, abs=1e-12)
    # Normal: mu (Phi(b) - Phi(a)) - sd (phi(b) - phi(a)) + cap (1 - Phi(b)).
    mean, sd = 0.95, 0.2
    a, b = (0.8 - mean) / sd, (1.5 - mean) / sd
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    exact = mean * (cdf(b) - cdf(a)) - sd * (pdf(b) - pdf(a)) + 1.5 * (1 - cdf(b))
    normal = AttainmentLaw("normal", mean, sd)
    assert expected_payout_factor(normal, payout) == pytest.approx(exact, abs=1e-10)


@pytest.mark.parametrize("distribution", ["normal", "lognormal", "triangular", "uniform"])
def test_expected_payout_factor_agrees_with_sampling(distribution: str) -> None:
    payout = Payout(threshold=0.9, cap=1.3, accelerator=2.0)
    law = AttainmentLaw(distribution, 1.05, 0.25)
    draws = payout_factor(law.sample(np.random.default_rng(7), (400_000,)), payout)
    standard_error = draws.std() / math.sqrt(draws.size)
    assert abs(expected_payout_factor(law, payout) - draws.mean()) < 4 * standard_error


def test_a_kpi_attainment_override_keeps_the_keys_it_leaves_out() -> None:
    kpis = {"a": {"priority": 1, "attainment": {"sd": 0.3}}, "b": 1}
    config = _config(kpis, {"hunter": {"a": 1}}, attainment={"distribution": "lognormal"})
    assert config.motivation is not None
    assert attainment_law(config.motivation, "a") == AttainmentLaw("lognormal", 1.0, 0.3)
    assert attainment_law(config.motivation, "b") == AttainmentLaw("lognormal", 1.0, 0.15)


def test_a_cap_below_the_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="below threshold"):
        _config(payout={"threshold": 1.0, "cap": 0.9})


# ----- the simulation -----------------------------------------------------------------------
def test_payout_simulation_is_repeatable_with_a_seed_and_varies_with_it() -> None:
    config = _config(attainment={"sd": 0.3, "samples": 2000})
    headcount = _headcount({"hunter": 5, "telesales": 3})
    first = solve_motivation(config, headcount, options=SolveOptions(seed=1))
    again = solve_motivation(config, headcount, options=SolveOptions(seed=1))
    other = solve_motivation(config, headcount, options=SolveOptions(seed=2))
    pd.testing.assert_frame_equal(first.frames["payout"], again.frames["payout"])
    one, two = first.frames["payout"], other.frames["payout"]
    assert (one["p90_cost"] != two["p90_cost"]).all()
    assert (one["simulated_mean_cost"] != two["simulated_mean_cost"]).all()
    pd.testing.assert_series_equal(one["expected_cost"], two["expected_cost"])  # exact, no draws
    assert (one["p90_cost"] > one["expected_cost"]).all()


# ----- valid weights on random catalogues ---------------------------------------------------
STEPS = (0.05, 0.1, 0.125, 0.2, 0.25, 1 / 3, 0.5, 1.0)


@st.composite
def catalogues(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 6))
    kpis = [f"kpi{i}" for i in range(count)]
    share = st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.5, 1.0]) | st.floats(0, 1)
    priorities = {k: draw(share) for k in kpis}
    control = {
        role: {k: draw(share) for k in draw(st.lists(st.sampled_from(kpis), unique=True))}
        for role in draw(st.lists(st.sampled_from(["hunter", "telesales"]), unique=True))
    }
    return {
        "kpis": priorities,
        "control": control,
        "weight_step": draw(st.sampled_from(STEPS)),
        "min_weight": draw(st.floats(0, 0.6)),
        "max_kpis": draw(st.integers(1, 5)),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogues())
def test_weights_are_valid_on_random_catalogues(example: dict[str, Any]) -> None:
    config = _config(
        example["kpis"],
        example["control"],
        weight_step=example["weight_step"],
        min_weight=example["min_weight"],
        max_kpis=example["max_kpis"],
    )
    result = solve_motivation(config, _headcount({"hunter": 1}), options=FAST)
    assert result.status is Status.OPTIMAL
    step, least = example["weight_step"], example["min_weight"]
    table = result.frames["motivation"]
    for role, control in example["control"].items():
        rows = table[table["role"] == role]
        paid = rows[rows["weight"] > 0]
        if not any(c > 0 for c in control.values()):
            assert paid.empty
            continue
        weights = paid["weight"].to_numpy()
        assert weights.sum() == pytest.approx(1.0, abs=1e-9)
        assert np.allclose(weights / step, np.round(weights / step), atol=1e-9)
        assert (weights >= least - 1e-9).all()
        assert len(weights) <= example["max_kpis"]
        assert all(control.get(k, 0.0) > 0 for k in paid["kpi"])
