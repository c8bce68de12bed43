"""The seeded demo company, "Demo Industrial Supply", and larger copies of it for benchmarks.

`generate_scenario(out_dir, scale=1.0, seed=0)` writes a complete scenario folder (SPEC §2):
scenario.yaml, clients.csv and team.csv. The same seed and scale give byte-identical files.
At scale k the company has round(4k) directions of the same shape, k times the clients and the
team; the plan's revenue target and budget are derived from the generated data (see
`plan_figures` and docs/demo.md), so they scale with it.

Command line: ``python -m optim.demo --scale 10 --seed 0 --out DIR``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from optim.schema import ScenarioConfig

COMPANY = "Demo Industrial Supply"
CURRENCY = "RUB"
YEAR = 2027
MONTHS = 12

# --- the plan: the two figures the lead tunes against the models -------------------------------
# revenue_target = (existing base if covered) x (1 + NEW_BUSINESS_SHARE), where the base if
# covered is sum(revenue_last_year x retention.covered x (1 + growth.covered)) over the clients
# that buy today. budget = BUDGET_HEADROOM x the current team's annual cost
# (sum of monthly_cost x fte x months over team.csv, open positions included).
NEW_BUSINESS_SHARE = 0.05
BUDGET_HEADROOM = 1.35
# variable_budget = VARIABLE_BUDGET_HEADROOM x today's team's variable pay at 100% payout: the
# same headroom as the personnel budget, since the plan's hires are paid variable pay too.
VARIABLE_BUDGET_HEADROOM = BUDGET_HEADROOM
PLAN_SIGNIFICANT_DIGITS = 3  # "nice" figures: 1,650,000,000 rather than 1,647,318,000
QUOTA_HEDGE = 0.05

# --- directions ----------------------------------------------------------------------------------
DIRECTION_KINDS = ("energy", "construction", "manufacturing", "retail")
DIRECTION_WEIGHTS = (0.35, 0.25, 0.25, 0.15)  # plan share and share of clients, per kind
DIRECTIONS_PER_SCALE = 4
SHARE_UNITS = 10**9  # plan shares are written as whole billionths, so they add up to 1 exactly
SEASONALITY = (0.07, 0.07, 0.08, 0.08, 0.09, 0.09, 0.08, 0.08, 0.09, 0.09, 0.09, 0.09)

# --- clients -------------------------------------------------------------------------------------
CLIENTS_PER_SCALE = 6000
SEGMENTS = ("A", "B", "C")
SEGMENT_SHARES = (0.07, 0.23, 0.70)  # A few and large, C many and small
STATUSES = ("prospect", "new", "active", "key")
STATUS_MIX = {  # probability of each status within a segment; key accounts are mostly A
    "A": (0.50, 0.05, 0.30, 0.15),
    "B": (0.55, 0.05, 0.39, 0.01),
    "C": (0.62, 0.05, 0.329, 0.001),
}
ACTIVE_REVENUE_MEAN = {"A": 3_000_000, "B": 800_000, "C": 150_000}  # last year, active client
REVENUE_SIGMA = {"A": 0.6, "B": 0.6, "C": 0.7}  # lognormal spread of revenue and potential
STATUS_REVENUE_FACTOR = {"prospect": 0.0, "new": 0.35, "active": 1.0, "key": 1.5}
POTENTIAL_UPLIFT = (1.2, 2.5)  # buying clients: potential = revenue x U(low, high)
ROUND_MONEY_TO = 1000  # revenue and potential in whole thousands of roubles

REGIONS = {  # name: (lat, lon, share of clients, spread in degrees)
    "Moscow": (55.7558, 37.6173, 0.35, 0.6),
    "St Petersburg": (59.9343, 30.3351, 0.15, 0.5),
    "Ural": (56.8389, 60.6057, 0.15, 1.5),
    "Volga": (55.7963, 49.1088, 0.15, 1.5),
    "Siberia": (55.0084, 82.9357, 0.10, 2.0),
    "South": (45.0355, 38.9753, 0.10, 1.2),
}
HOME_SPREAD_DEGREES = 0.15

# --- the team today ------------------------------------------------------------------------------
# Per direction kind. Each head carries one seller (KAM + AM + hunter) more than
# head_of_direction.span = 8 allows: today's organisation is a little over its span, and the plan
# has to mend that once a head can be hired. Telesales and assistants are sized for the funnel
# and remote coverage of the demo's segments.
TEAM_PER_DIRECTION = {  # telesales and assistants keep assistant.per_telesales in each direction
    "energy": {
        "key_account_manager": 1,
        "account_manager": 4,
        "hunter": 4,
        "telesales": 3,
        "assistant": 2,
    },
    "construction": {
        "key_account_manager": 2,
        "account_manager": 3,
        "hunter": 4,
        "telesales": 3,
        "assistant": 2,
    },
    "manufacturing": {
        "key_account_manager": 2,
        "account_manager": 3,
        "hunter": 4,
        "telesales": 3,
        "assistant": 2,
    },
    "retail": {
        "key_account_manager": 1,
        "account_manager": 3,
        "hunter": 4,
        "telesales": 3,
        "assistant": 2,
    },
}
SHARED_POOL_PER_SCALE = {"telesales": 2, "assistant": 1}  # working for a group of directions
OPEN_POSITION_SHARE = 0.045  # of the people below head level; listed with an empty name
PART_TIME_SHARE = 0.15  # of telesales (a part-time assistant could break the ratio)
PART_TIME_FTE = (0.5, 0.6, 0.75, 0.8)

# --- who owns which client today -----------------------------------------------------------------
# Owners are assigned within each rep's capacity and max_clients, so today's organisation is a
# feasible (if poor) territory: the optimiser improves it rather than repairs it.
OWNER_CLIENT_SLACK = 2  # owners hold at most max_clients - 2 clients
FARMER_LOAD = 0.85  # KAM and AM service hours as a share of their hours
HUNTER_SERVICE_LOAD = 0.7  # new clients are served by their hunter until the hand-off
TELESALES_SERVICE_LOAD = 0.4  # telesales also make the cold calls
HUNTER_KEEPS_ACTIVE_SHARE = 0.05  # "whoever found the client keeps it" (SPEC §1.2)
HUNTER_PURSUES_PROSPECT_SHARE = 0.05
TELESALES_SERVES_C_SHARE = 0.8  # unowned active C clients served by phone
LOCKED_SHARE = {"key_account_manager": 0.06, "account_manager": 0.02}
FITTING_OWNER_ROLES = {  # roles that may own a client of each status in the demo
    "prospect": ("hunter",),
    "new": ("hunter",),
    # a hunter still holding an active client is the failure mode the product exists to fix
    "active": ("account_manager", "key_account_manager", "telesales", "hunter"),
    "key": ("key_account_manager", "account_manager"),
}

# --- scenario.yaml sections ----------------------------------------------------------------------
ROLES: dict[str, dict[str, Any]] = {
    "commercial_director": {
        "monthly_cost": 900_000,
        "ramp": [0.5, 0.8],
        "hire_lead_months": 4,
        "hire_cost": 1_500_000,
        "attrition_monthly": 0.005,
        "variable_share": 0.3,
    },
    "head_of_direction": {
        "monthly_cost": 420_000,
        "ramp": [0.5, 0.8],
        "hire_lead_months": 3,
        "hire_cost": 600_000,
        "attrition_monthly": 0.01,
        "variable_share": 0.3,
        "span": 8,
    },
    "key_account_manager": {
        "monthly_cost": 330_000,
        "hours_per_month": 140,
        "ramp": [0.4, 0.7, 0.9],
        "hire_lead_months": 3,
        "hire_cost": 250_000,
        "attrition_monthly": 0.01,
        "variable_share": 0.35,
    },
    "account_manager": {
        "monthly_cost": 230_000,
        "hours_per_month": 150,
        "ramp": [0.5, 0.8],
        "hire_lead_months": 2,
        "hire_cost": 120_000,
        "attrition_monthly": 0.015,
        "variable_share": 0.3,
    },
    "hunter": {
        "monthly_cost": 260_000,
        "hours_per_month": 120,
        "ramp": [0.3, 0.6, 0.9],
        "hire_lead_months": 2,
        "hire_cost": 150_000,
        "attrition_monthly": 0.02,
        "variable_share": 0.4,
    },
    "telesales": {
        "monthly_cost": 110_000,
        "hours_per_month": 140,
        "ramp": [0.5, 0.8],
        "hire_lead_months": 1,
        "hire_cost": 40_000,
        "attrition_monthly": 0.04,
        "variable_share": 0.3,
    },
    "assistant": {
        "monthly_cost": 70_000,
        "hours_per_month": 150,
        "ramp": [0.7],
        "hire_lead_months": 1,
        "hire_cost": 20_000,
        "attrition_monthly": 0.03,
        "variable_share": 0.1,
        "per_telesales": 0.5,
    },
}
SEGMENT_ECONOMICS: dict[str, dict[str, Any]] = {
    "A": {
        "avg_deal": 6_000_000,
        "win_rate": 0.2,
        "service_hours_per_year": 80,
        "retention": {"covered": 0.95, "uncovered": 0.70},
        "growth": {"covered": 0.12, "uncovered": 0.0},
    },
    "B": {
        "avg_deal": 1_500_000,
        "win_rate": 0.25,
        "service_hours_per_year": 30,
        "retention": {"covered": 0.92, "uncovered": 0.75},
        "growth": {"covered": 0.08, "uncovered": 0.0},
    },
    "C": {
        "avg_deal": 300_000,
        "win_rate": 0.3,
        "service_hours_per_year": 8,
        "retention": {"covered": 0.88, "uncovered": 0.80, "remote": 0.86},
        "growth": {"covered": 0.05, "uncovered": 0.0, "remote": 0.03},
    },
}
FUNNEL = {
    "meeting_to_opportunity": 0.5,
    "conversation_to_meeting": 0.2,
    "contacts_per_conversation": 5,
    "dials_per_contact": 3,
    "minutes_per_dial": 2,
    "minutes_per_conversation": 12,
    "research_hours_per_contact": 0.25,
    "hunter_hours_per_meeting": 3,
    "hunter_hours_per_opportunity": 16,
    "cycle_months": 3,
}
MAX_CLIENTS = {"account_manager": 60, "key_account_manager": 12}
COVERAGE = {"handoff_months": 6, "max_clients": MAX_CLIENTS}
TERRITORY = {
    "balance": 0.10,
    "max_moves": 0.15,
    "travel": {"cost_per_km": 15, "visits_per_year": 4},
}
KPIS = {
    "new_client_revenue": 0.30,
    "retained_revenue": 0.25,
    "account_growth": 0.15,
    "meetings_set": 0.15,
    "contacts_researched": 0.10,
    "direction_revenue": 0.05,
}
CONTROLLABILITY = {
    "commercial_director": {
        "direction_revenue": 1.0,
        "new_client_revenue": 0.5,
        "retained_revenue": 0.5,
        "account_growth": 0.5,
    },
    "head_of_direction": {
        "direction_revenue": 1.0,
        "new_client_revenue": 0.6,
        "retained_revenue": 0.6,
        "account_growth": 0.5,
    },
    "key_account_manager": {
        "retained_revenue": 1.0,
        "account_growth": 1.0,
        "new_client_revenue": 0.1,
    },
    "account_manager": {"retained_revenue": 1.0, "account_growth": 0.8, "new_client_revenue": 0.0},
    "hunter": {"new_client_revenue": 1.0, "meetings_set": 0.3, "retained_revenue": 0.0},
    "telesales": {"meetings_set": 1.0, "new_client_revenue": 0.2, "contacts_researched": 0.1},
    "assistant": {"contacts_researched": 1.0, "meetings_set": 0.3},
}
# A 0.5% gap lets `optim plan` on the demo finish in seconds: coverage, staffing, quota and
# motivation still prove their optimum; territories stop within 0.5% of the proven bound.
SOLVER = {"time_limit": 60, "gap": 0.005, "threads": 0, "seed": 0}

# --- names ---------------------------------------------------------------------------------------
CYRILLIC_STEMS = (
    "Энерго",
    "Строй",
    "Пром",
    "Техно",
    "Сиб",
    "Урал",
    "Волга",
    "Нефте",
    "Газ",
    "Металл",
    "Маш",
    "Агро",
    "Электро",
    "Термо",
    "Гидро",
    "Авто",
    "Нева",
    "Кама",
    "Дон",
    "Север",
    "Балт",
    "Спец",
    "Вектор",
    "Альфа",
)
CYRILLIC_ENDINGS = (
    "ресурс",
    "снаб",
    "торг",
    "монтаж",
    "сервис",
    "комплект",
    "проект",
    "строй",
    "пром",
    "инвест",
    "сбыт",
    "системы",
    "холдинг",
    "трейд",
    "маш",
    "техника",
)
CYRILLIC_FORMS = (
    "ООО {}",
    "ООО «{}»",
    "АО «{}»",
    "ПАО «{}»",
    "ЗАО {}",
    'ООО "{}"',
    "ТД «{}»",
    "{}, ООО",
    "Группа компаний «{}»",
)
LATIN_STEMS = (
    "Nord",
    "Volga",
    "Ural",
    "Sib",
    "Baltic",
    "Trans",
    "Techno",
    "Power",
    "Steel",
    "Unity",
    "Alfa",
    "Delta",
    "Vector",
    "Arctic",
    "Severstal",
    "Kama",
)
LATIN_ENDINGS = (
    " Energy",
    " Systems",
    " Group",
    " Trade",
    " Engineering",
    " Logistics",
    " Industrial",
    " Components",
    "tech",
    "prom",
)
LATIN_FORMS = ("{} LLC", "{}, LLC", '"{}" JSC', "{} Ltd.", "{} Holding, JSC", "{}")
LATIN_NAME_SHARE = 0.25
MALE_FIRST = (
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Михаил",
    "Иван",
    "Николай",
    "Павел",
    "Артём",
    "Илья",
    "Олег",
    "Роман",
)
FEMALE_FIRST = (
    "Анна",
    "Елена",
    "Мария",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Юлия",
    "Светлана",
    "Екатерина",
    "Дарья",
    "Ксения",
)
SURNAMES = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Зайцев",
)

CLIENT_COLUMNS = (
    "client_id",
    "name",
    "segment",
    "direction",
    "region",
    "status",
    "revenue_last_year",
    "potential",
    "owner",
    "locked",
    "lat",
    "lon",
)
TEAM_COLUMNS = ("rep_id", "name", "role", "direction", "region", "fte", "lat", "lon")


@dataclass(frozen=True)
class PlanFigures:
    """How the plan's target and budget were derived from the generated company."""

    base_if_covered: float
    new_business: float
    revenue_target: float
    team_annual_cost: float
    budget: float
    variable_budget: float


def generate_scenario(out_dir: Path, *, scale: float = 1.0, seed: int = 0) -> Path:
    """Write the demo company at `scale` into `out_dir`; return the folder.

    Deterministic: the same seed and scale write byte-identical files.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    rng = np.random.default_rng(seed)
    directions, weights = direction_plan(scale)
    team = _team(rng, directions, scale)
    clients = _clients(rng, directions, weights, scale)
    _assign_owners(rng, clients, team)
    figures = plan_figures(clients, team)
    if len(directions) > len(DIRECTION_KINDS):
        # Many directions of one kind differ by chance; each gets the plan its own clients can
        # carry (its share of the base), so that no direction is out of reach by the draw.
        weights = base_shares(clients, directions)
    config = _config(directions, weights, figures)
    ScenarioConfig.model_validate(config)  # the generator never writes an invalid scenario

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    header = (
        f"{COMPANY}: generated by `python -m optim.demo --scale {scale:g} --seed {seed}`.\n"
        f"plan.revenue_target = existing base if covered ({figures.base_if_covered:,.0f})\n"
        f"  + new business {NEW_BUSINESS_SHARE:.0%} ({figures.new_business:,.0f}), "
        f"to {PLAN_SIGNIFICANT_DIGITS} significant digits\n"
        f"plan.budget = {BUDGET_HEADROOM:g} x current team annual cost "
        f"({figures.team_annual_cost:,.0f}), to {PLAN_SIGNIFICANT_DIGITS} significant digits\n"
        "See docs/demo.md."
    )
    _write_yaml(out_dir / "scenario.yaml", config, header)
    _write_csv(out_dir / "clients.csv", _client_table(clients, team))
    _write_csv(out_dir / "team.csv", _team_table(team))
    return out_dir


# --- directions and plan -------------------------------------------------------------------------


def direction_plan(scale: float) -> tuple[list[str], list[float]]:
    """Direction names and plan shares at `scale`; shares add up to 1 exactly."""
    count = max(1, _round_half_up(DIRECTIONS_PER_SCALE * scale))
    kinds = [DIRECTION_KINDS[i % len(DIRECTION_KINDS)] for i in range(count)]
    if count <= len(DIRECTION_KINDS):
        names = kinds
    else:
        names = [f"{kind}_{i // len(DIRECTION_KINDS) + 1:02d}" for i, kind in enumerate(kinds)]
    raw = np.array([DIRECTION_WEIGHTS[i % len(DIRECTION_WEIGHTS)] for i in range(count)])
    units = _largest_remainder(raw / raw.sum(), SHARE_UNITS)
    return names, [int(u) / SHARE_UNITS for u in units]


def _base_if_covered(clients: pd.DataFrame) -> pd.Series:
    """Each client's expected revenue this year if covered: last year x retention x growth."""
    retention = clients["segment"].map(
        {s: e["retention"]["covered"] for s, e in SEGMENT_ECONOMICS.items()}
    )
    growth = clients["segment"].map(
        {s: e["growth"]["covered"] for s, e in SEGMENT_ECONOMICS.items()}
    )
    return clients["revenue_last_year"] * retention * (1 + growth)


def base_shares(clients: pd.DataFrame, directions: list[str]) -> list[float]:
    """Each direction's share of the base if covered; shares add up to 1 exactly."""
    base = _base_if_covered(clients).groupby(clients["direction"]).sum()
    raw = base.reindex(directions, fill_value=0.0).to_numpy(dtype=float)
    units = _largest_remainder(raw / raw.sum(), SHARE_UNITS)
    return [int(u) / SHARE_UNITS for u in units]


def plan_figures(clients: pd.DataFrame, team: pd.DataFrame) -> PlanFigures:
    """The plan's revenue target, budget and variable budget, derived as documented above."""
    base = float(_base_if_covered(clients).sum())
    new_business = NEW_BUSINESS_SHARE * base
    monthly = team["role"].map({r: c["monthly_cost"] for r, c in ROLES.items()}) * team["fte"]
    variable = team["role"].map({r: c["variable_share"] for r, c in ROLES.items()})
    annual_cost = float(monthly.sum()) * MONTHS
    return PlanFigures(
        base_if_covered=base,
        new_business=new_business,
        revenue_target=_round_significant(base + new_business),
        team_annual_cost=annual_cost,
        budget=_round_significant(BUDGET_HEADROOM * annual_cost),
        variable_budget=_round_significant(
            VARIABLE_BUDGET_HEADROOM * float((monthly * variable).sum()) * MONTHS
        ),
    )


def _config(directions: list[str], weights: list[float], figures: PlanFigures) -> dict[str, Any]:
    return {
        "company": COMPANY,
        "currency": CURRENCY,
        "year": YEAR,
        "months": MONTHS,
        "directions": list(directions),
        "plan": {
            "revenue_target": int(figures.revenue_target),
            "by_direction": dict(zip(directions, weights, strict=True)),
            "seasonality": list(SEASONALITY),
            "budget": int(figures.budget),
            "quota_hedge": QUOTA_HEDGE,
        },
        "roles": ROLES,
        "segments": SEGMENT_ECONOMICS,
        "funnel": FUNNEL,
        "coverage": COVERAGE,
        "territory": TERRITORY,
        "motivation": {
            "kpis": {kpi: {"priority": p} for kpi, p in KPIS.items()},
            "controllability": CONTROLLABILITY,
            "weight_step": 0.05,
            "min_weight": 0.10,
            "max_kpis": 4,
            "variable_budget": int(figures.variable_budget),
            "payout": {"threshold": 0.8, "cap": 1.5},
        },
        "solver": SOLVER,
        "staffing": {"objective": "min_cost"},
    }


# --- the team ------------------------------------------------------------------------------------


def _team(rng: np.random.Generator, directions: list[str], scale: float) -> pd.DataFrame:
    """Everyone on the team today: one commercial director, a head and a crew per direction."""
    roles: list[str] = ["commercial_director"]
    homes: list[str] = [""]
    for i, direction in enumerate(directions):
        crew = TEAM_PER_DIRECTION[DIRECTION_KINDS[i % len(DIRECTION_KINDS)]]
        roles.append("head_of_direction")
        homes.append(direction)
        for role, count in crew.items():
            roles += [role] * count
            homes += [direction] * count
    # Shared people work for every direction of one group of four (energy_01, construction_01,
    # ...): in the demo that is the whole company, written as an empty direction (= any).
    kinds = len(DIRECTION_KINDS)
    groups = [directions[i : i + kinds] for i in range(0, len(directions), kinds)]
    for role, per_scale in SHARED_POOL_PER_SCALE.items():
        count = _round_half_up(per_scale * scale)
        roles += [role] * count
        for k in range(count):
            group = groups[k % len(groups)]
            homes.append("" if len(groups) == 1 else ";".join(group))

    n = len(roles)
    team = pd.DataFrame({"role": roles, "direction": homes})
    code = {d: i for i, d in enumerate(directions)}
    team["direction_code"] = [code.get(d, -1) for d in homes]
    team["rep_id"] = [f"R{i + 1:0{max(4, len(str(n)))}d}" for i in range(n)]
    region_names = list(REGIONS)
    region_share = np.array([r[2] for r in REGIONS.values()])
    region_idx = rng.choice(len(REGIONS), size=n, p=region_share)
    leaders = team["role"].isin(["commercial_director", "head_of_direction"]).to_numpy()
    region_idx[leaders] = 0  # the head office, in the first region
    team["region"] = np.array(region_names)[region_idx]
    centre = np.array([r[:2] for r in REGIONS.values()])[region_idx]
    home = centre + rng.normal(0.0, HOME_SPREAD_DEGREES, size=(n, 2))
    team["lat"], team["lon"] = home[:, 0].round(4), home[:, 1].round(4)
    team["name"] = _person_names(rng, n)

    below_heads = np.flatnonzero(~leaders)
    n_open = _round_half_up(OPEN_POSITION_SHARE * n)
    team.loc[rng.choice(below_heads, size=n_open, replace=False), "name"] = ""
    telesales = np.flatnonzero((team["role"] == "telesales").to_numpy())
    part_time = rng.choice(
        telesales, size=_round_half_up(PART_TIME_SHARE * len(telesales)), replace=False
    )
    team["fte"] = 1.0
    team.loc[part_time, "fte"] = rng.choice(PART_TIME_FTE, size=len(part_time))
    return team


def _person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Russian personal names; all different while the team is smaller than the name pool."""
    names = [f"{first} {surname}" for first in MALE_FIRST for surname in SURNAMES]
    names += [f"{first} {surname}а" for first in FEMALE_FIRST for surname in SURNAMES]
    pick = rng.choice(len(names), size=n, replace=n > len(names))
    return [names[i] for i in pick]


# --- clients -------------------------------------------------------------------------------------


def _clients(
    rng: np.random.Generator, directions: list[str], weights: list[float], scale: float
) -> pd.DataFrame:
    """Clients and prospects: direction by plan share, segment, status, region, money."""
    n = max(1, _round_half_up(CLIENTS_PER_SCALE * scale))
    per_direction = _largest_remainder(np.array(weights), n)
    direction_code = rng.permutation(np.repeat(np.arange(len(directions)), per_direction))
    segment_code = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    status_cdf = np.cumsum([STATUS_MIX[s] for s in SEGMENTS], axis=1)
    status_cdf[:, -1] = 1.0
    draw = rng.random(n)
    status_code = (draw[:, None] >= status_cdf[segment_code]).sum(axis=1)

    segment = np.array(SEGMENTS)[segment_code]
    status = np.array(STATUSES)[status_code]
    mean = np.array([ACTIVE_REVENUE_MEAN[s] for s in SEGMENTS])[segment_code]
    sigma = np.array([REVENUE_SIGMA[s] for s in SEGMENTS])[segment_code]
    factor = np.array([STATUS_REVENUE_FACTOR[s] for s in STATUSES])[status_code]
    # lognormal with the given mean: exp(N(log(mean) - sigma^2 / 2, sigma))
    revenue = factor * np.exp(rng.normal(np.log(mean) - sigma**2 / 2, sigma))
    revenue = _round_money(revenue)
    avg_deal = np.array([SEGMENT_ECONOMICS[s]["avg_deal"] for s in SEGMENTS])[segment_code]
    prospect_potential = np.exp(rng.normal(np.log(avg_deal) - sigma**2 / 2, sigma))
    uplift = rng.uniform(*POTENTIAL_UPLIFT, size=n)
    potential = _round_money(np.where(revenue > 0, revenue * uplift, prospect_potential))
    potential = np.maximum(potential, revenue)

    region_idx = rng.choice(len(REGIONS), size=n, p=[r[2] for r in REGIONS.values()])
    regions = list(REGIONS.values())
    centre = np.array([r[:2] for r in regions])[region_idx]
    spread = np.array([r[3] for r in regions])[region_idx]
    place = centre + rng.normal(0.0, 1.0, size=(n, 2)) * spread[:, None]

    return pd.DataFrame(
        {
            "client_id": [f"C{i + 1:0{max(6, len(str(n)))}d}" for i in range(n)],
            "name": _company_names(rng, n),
            "segment": segment,
            "direction_code": direction_code,
            "direction": np.array(directions)[direction_code],
            "region": np.array(list(REGIONS))[region_idx],
            "status": status,
            "revenue_last_year": revenue,
            "potential": potential,
            "lat": place[:, 0].round(4),
            "lon": place[:, 1].round(4),
            "service_hours": np.array(
                [SEGMENT_ECONOMICS[s]["service_hours_per_year"] for s in SEGMENTS], dtype=float
            )[segment_code],
        }
    )


def _company_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible company names, about a quarter Latin, some with commas and quotes."""
    cyrillic = np.array(
        [
            form.format(stem + end)
            for form in CYRILLIC_FORMS
            for stem in CYRILLIC_STEMS
            for end in CYRILLIC_ENDINGS
        ]
    )
    latin = np.array(
        [
            form.format(stem + end)
            for form in LATIN_FORMS
            for stem in LATIN_STEMS
            for end in LATIN_ENDINGS
        ]
    )
    is_latin = rng.random(n) < LATIN_NAME_SHARE
    return np.where(
        is_latin,
        latin[rng.integers(len(latin), size=n)],
        cyrillic[rng.integers(len(cyrillic), size=n)],
    )


# --- owners --------------------------------------------------------------------------------------


def _assign_owners(rng: np.random.Generator, clients: pd.DataFrame, team: pd.DataFrame) -> None:
    """Give most buying clients an owner of a fitting role in their direction, within capacity.

    KAMs take the largest key accounts; account managers the rest of the key accounts, then
    active clients by revenue; hunters their new clients, a few active clients they never
    handed off and a few prospects; telesales serve part of the remaining active C clients.
    """
    status = clients["status"].to_numpy()
    revenue = clients["revenue_last_year"].to_numpy()
    owner = np.full(len(clients), -1)
    key, active, new = status == "key", status == "active", status == "new"
    skip = -1

    def deal(role: str, priority: np.ndarray, load: float, per_rep: int | None = None) -> None:
        """Clients with priority >= 0 go to `role`, lowest priority first, larger revenue first."""
        order = np.lexsort((-revenue, priority))
        _round_robin(order[priority[order] >= 0], owner, clients, team, role, load, per_rep)

    kam_limit = MAX_CLIENTS["key_account_manager"] - OWNER_CLIENT_SLACK
    deal("key_account_manager", np.where(key, 0, skip), FARMER_LOAD, kam_limit)
    am_limit = MAX_CLIENTS["account_manager"] - OWNER_CLIENT_SLACK
    deal(
        "account_manager",
        np.select([key & (owner < 0), active], [0, 1], skip),
        FARMER_LOAD,
        am_limit,
    )
    keeps = active & (owner < 0) & (rng.random(len(owner)) < HUNTER_KEEPS_ACTIVE_SHARE)
    pursues = (status == "prospect") & (rng.random(len(owner)) < HUNTER_PURSUES_PROSPECT_SHARE)
    deal("hunter", np.select([new, keeps, pursues], [0, 1, 2], skip), HUNTER_SERVICE_LOAD)
    phone = active & (clients["segment"].to_numpy() == "C") & (owner < 0)
    phone &= rng.random(len(owner)) < TELESALES_SERVES_C_SHARE
    deal("telesales", np.where(phone, 0, skip), TELESALES_SERVICE_LOAD)

    owner_role = np.where(owner >= 0, team["role"].to_numpy()[np.maximum(owner, 0)], "")
    lock_share = np.array([LOCKED_SHARE.get(r, 0.0) for r in owner_role])
    clients["locked"] = (status != "prospect") & (rng.random(len(owner)) < lock_share)
    clients["owner_idx"] = owner
    _check_owner_loads(clients, team)


def _round_robin(
    order: np.ndarray,
    owner: np.ndarray,
    clients: pd.DataFrame,
    team: pd.DataFrame,
    role: str,
    load: float,
    per_rep: int | None,
) -> None:
    """Deal `order` (clients in priority order) round-robin to the role's reps, per direction.

    A direction accepts clients while their cumulative service hours stay within `load` of its
    reps' hours and each rep holds at most `per_rep`; a rep whose share would pass its own
    hours (round-robin is only roughly even) leaves the rest of its share unowned.
    """
    hours_per_year = ROLES[role]["hours_per_month"] * MONTHS
    eligible = (
        (team["role"] == role) & (team["name"] != "") & (team["direction_code"] >= 0)
    ).to_numpy()
    rep_direction = team["direction_code"].to_numpy()[eligible]
    by_direction = np.argsort(rep_direction, kind="stable")
    rep_ids = np.flatnonzero(eligible)[by_direction]
    n_directions = int(team["direction_code"].max()) + 1
    reps_per_direction = np.bincount(rep_direction, minlength=n_directions)
    first_rep = np.concatenate([[0], np.cumsum(reps_per_direction)[:-1]])
    rep_hours = hours_per_year * team["fte"].to_numpy()
    budget_hours = load * np.bincount(
        rep_direction, weights=rep_hours[eligible], minlength=n_directions
    )

    direction = clients["direction_code"].to_numpy()[order]
    grouped = np.argsort(direction, kind="stable")
    order, direction = order[grouped], direction[grouped]
    hours = clients["service_hours"].to_numpy()[order]
    rank, hours_so_far = _running_totals(direction, hours)
    count = reps_per_direction[direction]
    accept = (count > 0) & (hours_so_far <= budget_hours[direction])
    if per_rep is not None:
        accept &= rank < count * per_rep
    order, hours = order[accept], hours[accept]
    rep = rep_ids[(first_rep[direction] + rank % np.maximum(count, 1))[accept]]

    by_rep = np.argsort(rep, kind="stable")
    order, hours, rep = order[by_rep], hours[by_rep], rep[by_rep]
    _, rep_hours_so_far = _running_totals(rep, hours)
    within = rep_hours_so_far <= rep_hours[rep]
    owner[order[within]] = rep[within]


def _running_totals(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position within its group and running sum of `values`, for `keys` sorted in groups."""
    starts = np.searchsorted(keys, keys, side="left")
    cumulative = np.cumsum(values)
    before_group = np.concatenate([[0.0], cumulative])[starts]
    return np.arange(len(keys)) - starts, cumulative - before_group


def _check_owner_loads(clients: pd.DataFrame, team: pd.DataFrame) -> None:
    """Raise if any owner holds more service hours than its capacity or more than max_clients."""
    owned = clients[clients["owner_idx"] >= 0]
    load = owned.groupby("owner_idx").agg(
        hours=("service_hours", "sum"), clients=("client_id", "size")
    )
    rep = team.loc[load.index]
    capacity = (
        rep["role"].map({r: c.get("hours_per_month", np.inf) * MONTHS for r, c in ROLES.items()})
        * rep["fte"]
    )
    limit = rep["role"].map(MAX_CLIENTS).fillna(np.inf)
    over = (load["hours"] > capacity) | (load["clients"] > limit)
    if over.any():
        raise AssertionError(f"demo owners over capacity: {list(rep.loc[over, 'rep_id'])}")


# --- writing -------------------------------------------------------------------------------------


def _client_table(clients: pd.DataFrame, team: pd.DataFrame) -> pd.DataFrame:
    owner_idx = clients["owner_idx"].to_numpy()
    rep_ids = team["rep_id"].to_numpy()[np.maximum(owner_idx, 0)]
    table = clients.assign(
        owner=np.where(owner_idx >= 0, rep_ids, ""),
        locked=np.where(clients["locked"], "true", "false"),
    )
    return table.loc[:, list(CLIENT_COLUMNS)]


def _team_table(team: pd.DataFrame) -> pd.DataFrame:
    return team.loc[:, list(TEAM_COLUMNS)]


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    table.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


INLINE_MAPPING_MAX = 4


class _ScenarioDumper(yaml.SafeDumper):
    """Lists and short mappings of plain values inline, everything else one key per line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    inline = len(data) <= INLINE_MAPPING_MAX and not any(
        isinstance(v, dict | list) for v in data.values()
    )
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=inline)


_ScenarioDumper.add_representer(list, _represent_list)
_ScenarioDumper.add_representer(dict, _represent_dict)


def _write_yaml(path: Path, config: Mapping[str, Any], header: str) -> None:
    body = yaml.dump(
        dict(config), Dumper=_ScenarioDumper, sort_keys=False, allow_unicode=True, width=100
    )
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    path.write_text(comments + body, encoding="utf-8")


# --- small helpers -------------------------------------------------------------------------------


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _round_significant(x: float, digits: int = PLAN_SIGNIFICANT_DIGITS) -> float:
    if x == 0:
        return 0.0
    return float(round(x, digits - 1 - math.floor(math.log10(abs(x)))))


def _round_money(x: np.ndarray) -> np.ndarray:
    return (np.round(x / ROUND_MONEY_TO) * ROUND_MONEY_TO).astype(np.int64)


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to `shares` that add up to `total` exactly."""
    exact = shares / shares.sum() * total
    whole = np.floor(exact).astype(np.int64)
    short = total - int(whole.sum())
    extra = np.argsort(-(exact - whole), kind="stable")[:short]
    whole[extra] += 1
    return whole


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m optim.demo", description=f"Generate the {COMPANY} demo scenario."
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="size: round(4 x scale) directions, 6000 x scale clients",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    args = parser.parse_args(argv)
    if not args.scale > 0:
        parser.error(f"--scale must be positive, got {args.scale}")
    out = generate_scenario(args.out, scale=args.scale, seed=args.seed)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
