"""Seeded territory instances for the benchmarks: N clients x M people, realistic shape.

Clients sit in regional clusters (lat/lon), belong to one of D directions and to segments A/B/C
with different service hours; every client is active and covered by account managers. Today's
owners are the people of the client's direction, chosen mostly by proximity but with noise and
with 10% of the seats empty (new hires without clients), so balance forces moves and the moves
cap matters. Balance is ±5% and at most 15% of last year's revenue may move (issue 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optim.schema import ScenarioConfig

SEGMENTS = {  # hours per year, share of clients, revenue scale
    "A": (60.0, 0.10, 4.0e6),
    "B": (24.0, 0.35, 1.0e6),
    "C": (8.0, 0.55, 0.25e6),
}
REGIONS = [  # (name, lat, lon)
    ("Moscow", 55.75, 37.62),
    ("St Petersburg", 59.94, 30.31),
    ("Kazan", 55.79, 49.12),
    ("Yekaterinburg", 56.84, 60.61),
    ("Novosibirsk", 55.01, 82.93),
    ("Rostov", 47.24, 39.71),
    ("Samara", 53.20, 50.15),
    ("Krasnoyarsk", 56.01, 92.89),
]


@dataclass(frozen=True)
class Instance:
    config: ScenarioConfig
    clients: pd.DataFrame
    team: pd.DataFrame
    coverage: pd.DataFrame


def make_instance(
    n_clients: int,
    n_people: int,
    *,
    directions: int = 10,
    balance: float = 0.05,
    max_moves: float = 0.15,
    new_seat_share: float = 0.10,
    seed: int = 0,
) -> Instance:
    rng = np.random.default_rng(seed)
    names = [f"d{k:02d}" for k in range(directions)]
    segment = rng.choice(list(SEGMENTS), size=n_clients, p=[s[1] for s in SEGMENTS.values()])
    region = rng.integers(len(REGIONS), size=n_clients)
    lat = np.array([REGIONS[r][1] for r in region]) + rng.normal(0, 1.2, n_clients)
    lon = np.array([REGIONS[r][2] for r in region]) + rng.normal(0, 2.0, n_clients)
    direction = rng.integers(directions, size=n_clients)
    scale = np.array([SEGMENTS[s][2] for s in segment])
    revenue = np.round(scale * rng.lognormal(0, 0.6, n_clients), -3)
    potential = np.round(revenue * rng.uniform(1.0, 2.0, n_clients), -3)

    person_direction = np.arange(n_people) % directions
    person_region = rng.integers(len(REGIONS), size=n_people)
    plat = np.array([REGIONS[r][1] for r in person_region]) + rng.normal(0, 0.5, n_people)
    plon = np.array([REGIONS[r][2] for r in person_region]) + rng.normal(0, 0.8, n_people)
    new_seat = rng.random(n_people) < new_seat_share
    rep_ids = np.array([f"R{k:05d}" for k in range(n_people)])

    owner = np.empty(n_clients, dtype=object)
    for d in range(directions):
        mine = np.flatnonzero(direction == d)
        staff = np.flatnonzero((person_direction == d) & ~new_seat)
        if len(staff) == 0:
            staff = np.flatnonzero(person_direction == d)
        # Nearest of three random people of the direction: proximity with noise and imbalance.
        picks = staff[rng.integers(len(staff), size=(len(mine), 3))]
        dist = (lat[mine, None] - plat[picks]) ** 2 + (lon[mine, None] - plon[picks]) ** 2
        owner[mine] = rep_ids[picks[np.arange(len(mine)), dist.argmin(axis=1)]]
    hours_total = sum(SEGMENTS[s][0] for s in segment)
    # Hours per month chosen so the team runs at about 85% of capacity.
    hours_per_month = hours_total / (n_people * 12 * 0.85)

    config = ScenarioConfig.model_validate(
        {
            "company": f"Territory benchmark {n_clients}x{n_people}",
            "months": 12,
            "directions": names,
            "roles": {
                "account_manager": {"monthly_cost": 200000, "hours_per_month": hours_per_month}
            },
            "segments": {
                k: {"avg_deal": v[2], "win_rate": 0.2, "service_hours_per_year": v[0]}
                for k, v in SEGMENTS.items()
            },
            "coverage": {"allowed": {"active": ["account_manager"], "key": ["none"]}},
            "territory": {
                "balance": balance,
                "max_moves": max_moves,
                "travel": {"cost_per_km": 15, "visits_per_year": 4},
            },
        }
    )
    clients = pd.DataFrame(
        {
            "client_id": [f"C{k:07d}" for k in range(n_clients)],
            "name": [f"Client {k}" for k in range(n_clients)],
            "segment": segment,
            "direction": np.array(names)[direction],
            "region": np.array([REGIONS[r][0] for r in region]),
            "status": "active",
            "revenue_last_year": revenue,
            "potential": potential,
            "owner": owner.astype(str),
            "locked": rng.random(n_clients) < 0.002,
            "lat": lat,
            "lon": lon,
        }
    )
    team = pd.DataFrame(
        {
            "rep_id": rep_ids,
            "name": [f"Person {k}" for k in range(n_people)],
            "role": "account_manager",
            "direction": np.array(names)[person_direction],
            "region": np.array([REGIONS[r][0] for r in person_region]),
            "fte": np.where(rng.random(n_people) < 0.05, 0.5, 1.0),
            "lat": plat,
            "lon": plon,
        }
    )
    coverage = pd.DataFrame(
        {
            "segment": list(SEGMENTS),
            "status": "active",
            "covered_by": "account_manager",
        }
    )
    return Instance(config, clients, team, coverage)


def write_scenario(instance: Instance, out_dir: str | Path) -> Path:
    """The instance as a scenario folder for `optim assign` (scenario.yaml, clients, team).

    The coverage table is not written: `optim assign` decides it (every active client to
    account managers, as `coverage.allowed` says).
    """
    import yaml

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = instance.config.model_dump(mode="json", exclude_defaults=True)
    (out / "scenario.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    instance.clients.to_csv(out / "clients.csv", index=False)
    instance.team.to_csv(out / "team.csv", index=False)
    return out


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write a territory benchmark scenario folder.")
    parser.add_argument("size", help="CLIENTSxPEOPLE, e.g. 100000x1000")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_clients, n_people = (int(v) for v in args.size.lower().split("x"))
    out = write_scenario(make_instance(n_clients, n_people, seed=args.seed), args.out_dir)
    print(f"{out}: {n_clients:,} clients x {n_people:,} people")


if __name__ == "__main__":
    main()
