"""Benchmark the quota cascade: 1,000 people x 12 months (or any size), per solver.

A seeded synthetic company: people spread over directions, a tenth of them hires starting in
months 2-10, territories with lognormal potential, last year's revenue a share of it, the plan
15% above last year with a 5% hedge, the demo's seasonality, growth floor and cap at their
defaults, a few pins. It prints, per solver, the status, the LP's solve time, the whole run's
time (preparing, the LP and its duals, rounding, months, frames), the LP's size, the largest
stretch deviation and the identity check: the cascade's own `quota_checks` plus an independent
recount of every sum from the output frames in whole cents.

    python benchmarks/quota.py                          # 1,000 people, every solver
    python benchmarks/quota.py --people 1000 10000 --solvers ortools
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd

from models.quota import solve_quota
from optim.result import ModelResult
from optim.schema import ScenarioConfig
from optim.solver import SolveOptions

SEASONALITY = [0.07, 0.07, 0.08, 0.08, 0.09, 0.09, 0.08, 0.08, 0.09, 0.09, 0.09, 0.09]
ROLES = {
    "key_account_manager": {
        "monthly_cost": 330_000,
        "hours_per_month": 140,
        "ramp": [0.4, 0.7, 0.9],
    },
    "account_manager": {"monthly_cost": 230_000, "hours_per_month": 150, "ramp": [0.5, 0.8]},
    "hunter": {"monthly_cost": 260_000, "hours_per_month": 120, "ramp": [0.3, 0.6, 0.9]},
}
ROLE_MIX = {"key_account_manager": 0.15, "account_manager": 0.5, "hunter": 0.35}
PEOPLE_PER_DIRECTION = 50


def synthetic_company(
    people: int, seed: int
) -> tuple[ScenarioConfig, pd.DataFrame, dict[str, float]]:
    """A scenario, its people frame and a few pins, all drawn from `seed`."""
    rng = np.random.default_rng(seed)
    directions = [f"direction-{i:03d}" for i in range(max(1, people // PEOPLE_PER_DIRECTION))]
    roles = rng.choice(list(ROLE_MIX), size=people, p=list(ROLE_MIX.values()))
    hire = rng.random(people) < 0.1
    start = np.where(hire, rng.integers(2, 11, size=people), 1)
    potential = np.round(rng.lognormal(mean=17.5, sigma=0.6, size=people), -3)
    kept = np.where(
        roles == "hunter", rng.uniform(0.2, 0.6, people), rng.uniform(0.45, 0.75, people)
    )
    last_year = np.where(hire, 0.0, np.round(potential * kept, -3))
    fte = np.where(rng.random(people) < 0.1, 0.5, 1.0)
    hours = np.array([ROLES[r]["hours_per_month"] for r in roles]) * 12 * fte
    frame = pd.DataFrame(
        {
            "rep_id": [
                f"NEW-{r}-{i:05d}" if h else f"R{i:05d}"
                for i, (r, h) in enumerate(zip(roles, hire, strict=True))
            ],
            "name": [f"Person {i}" for i in range(people)],
            "role": roles,
            "direction": [directions[i % len(directions)] for i in range(people)],
            "fte": fte,
            "start_month": start,
            "potential": potential,
            "revenue_last_year": last_year,
            "capacity_hours": hours,
        }
    )
    last_year_by_direction = frame.groupby("direction")["revenue_last_year"].sum()
    target = round(float(last_year_by_direction.sum()) * 1.15, -3)
    shares = (last_year_by_direction / last_year_by_direction.sum()).round(6)
    shares.iloc[-1] = 1 - shares.iloc[:-1].sum()
    config = ScenarioConfig.model_validate(
        {
            "company": "Synthetic quota benchmark",
            "directions": directions,
            "plan": {
                "revenue_target": target,
                "by_direction": shares.to_dict(),
                "seasonality": SEASONALITY,
                "quota_hedge": 0.05,
            },
            "roles": {k: {**v, "hire_lead_months": 2} for k, v in ROLES.items()},
        }
    )
    farmers = frame[(frame["role"] != "hunter") & (frame["start_month"] == 1)]
    chosen = farmers.sample(n=min(5, len(farmers)), random_state=seed)
    pins = {
        r: round(float(y) * 1.2, 2)
        for r, y in zip(chosen["rep_id"], chosen["revenue_last_year"], strict=True)
    }
    return config, frame, pins


def recount(result: ModelResult, company_cents: int) -> list[str]:
    """Every sum of the cascade recomputed from the output frames in cents; what fails."""

    def cents(values: Any) -> np.ndarray:
        return np.round(np.asarray(values, dtype=float) * 100).astype(np.int64)

    people = result.frames["quota_people"]
    months = result.frames["quotas"].assign(cents=lambda f: cents(f["quota"]))
    directions = result.frames["quota_directions"].set_index("direction")
    month_columns = [c for c in directions.columns if c.startswith("month_")]
    failed = []
    if cents(directions["quota"]).sum() != company_cents:
        failed.append("company = sum of directions")
    by_direction = people.assign(cents=cents(people["quota"])).groupby("direction")["cents"].sum()
    if not (by_direction == cents(directions.loc[by_direction.index, "quota"])).all():
        failed.append("direction = sum of people")
    by_person = months.groupby("rep_id")["cents"].sum()
    if not (by_person.loc[people["rep_id"]].to_numpy() == cents(people["quota"])).all():
        failed.append("person = sum of months")
    grid = months.pivot_table(index="direction", columns="month", values="cents", aggfunc="sum")
    if not (grid.loc[directions.index].to_numpy() == cents(directions[month_columns])).all():
        failed.append("direction month = sum of people")
    if not (cents(directions[month_columns]).sum(axis=1) == cents(directions["quota"])).all():
        failed.append("direction = sum of months")
    late = months.merge(people[["rep_id", "start_month"]], on="rep_id")
    if (late.loc[late["month"] < late["start_month"], "cents"] != 0).any():
        failed.append("nothing before start")
    if (months["cents"] < 0).any():
        failed.append("no negative quota")
    return failed


def run(people: int, solver: str, seed: int, time_limit: float) -> dict[str, Any]:
    config, frame, pins = synthetic_company(people, seed)
    options = SolveOptions(solver=solver, time_limit=time_limit, seed=seed)  # type: ignore[arg-type]
    started = time.perf_counter()
    result = solve_quota(config, frame, options=options, pins=pins)
    total = time.perf_counter() - started
    plan = config.plan
    assert plan is not None
    company_cents = round(plan.revenue_target * (1 + plan.quota_hedge) * 100)
    solved = result.status.has_solution
    checks = result.frames.get("quota_checks")
    failed = recount(result, company_cents) if solved else ["not solved"]
    directions = result.frames["quota_directions"] if solved else pd.DataFrame()
    return {
        "people": people,
        "months": config.months,
        "directions": len(config.directions),
        "solver": options.label,
        "status": result.status.value,
        "lp_s": result.solve_seconds,
        "total_s": total,
        "size": result.details.get("size", {}),
        "largest_deviation_points": float(directions["largest_deviation"].max() * 100)
        if solved
        else None,
        "bound_people": int((result.frames["quota_people"]["bound"] != "").sum())
        if solved
        else None,
        "checks": len(checks) if checks is not None else 0,
        "checks_ok": bool(checks["ok"].all()) if checks is not None else False,
        "recount_failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1000])
    parser.add_argument("--solvers", nargs="+", default=["ortools", "highs", "cbc"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    print(
        "| people | months | directions | solver | status | LP s | total s | variables | rows | "
        "largest deviation | held by a bound or pin | identities |"
    )
    print("|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|")
    for people in args.people:
        for solver in args.solvers:
            row = run(people, solver, args.seed, args.time_limit)
            size = row["size"]
            identities = (
                f"{row['checks']:,} checks hold, recount clean"
                if row["checks_ok"] and not row["recount_failed"]
                else f"FAILED: {', '.join(row['recount_failed']) or 'quota_checks'}"
            )
            deviation = row["largest_deviation_points"]
            print(
                f"| {row['people']:,} | {row['months']} | {row['directions']} | {row['solver']} | "
                f"{row['status']} | {row['lp_s']:.2f} | {row['total_s']:.2f} | "
                f"{size.get('variables', 0):,} | {size.get('constraints', 0):,} | "
                f"{'' if deviation is None else f'{deviation:.1f} points'} | "
                f"{row['bound_people'] or 0:,} | {identities} |"
            )


if __name__ == "__main__":
    main()
