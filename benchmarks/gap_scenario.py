"""Turn a generalized assignment problem (GAP) instance into an optim scenario folder.

The instance format is OR-Library's (Beasley) as used by Yagiura's C/D/E instances: the number
of agents m and jobs n, then the m x n cost matrix row by row, the m x n resource matrix row by
row, and the m capacities, all whitespace-separated integers.

The scenario makes `optim assign` a pure GAP: every job is an active client of one segment and
direction, every agent an account manager whose hours (hours_per_month x months x fte) are the
agent's capacity, and pairs.csv lists every job x agent pair with its resource use as `hours`
and its cost as `cost`. Balance and the cap on moves are switched off, nobody owns a client yet,
so the territory objective is the sum of pair costs.

    python benchmarks/gap_scenario.py benchmarks/gap_instances/c10400 /tmp/c10400
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

ROLE = "account_manager"
SEGMENT = "G"
DIRECTION = "all"


@dataclass(frozen=True)
class GapInstance:
    """A GAP instance: cost[i][j] and resource[i][j] of job j on agent i, capacity[i]."""

    name: str
    cost: list[list[int]]
    resource: list[list[int]]
    capacity: list[int]

    @property
    def agents(self) -> int:
        return len(self.capacity)

    @property
    def jobs(self) -> int:
        return len(self.cost[0]) if self.cost else 0

    def assignment_cost(self, agent_of_job: list[int]) -> int:
        """Cost of an assignment given as one agent index per job."""
        return sum(self.cost[i][j] for j, i in enumerate(agent_of_job))

    def loads(self, agent_of_job: list[int]) -> list[int]:
        """Resource used on each agent by an assignment."""
        used = [0] * self.agents
        for j, i in enumerate(agent_of_job):
            used[i] += self.resource[i][j]
        return used


def read_gap(path: str | Path) -> GapInstance:
    """Read an OR-Library GAP file; the number count must be exactly 2 + 2mn + m."""
    path = Path(path)
    numbers = [int(token) for token in path.read_text().split()]
    if len(numbers) < 2:
        raise ValueError(f"{path}: expected 'agents jobs' on the first line")
    m, n = numbers[0], numbers[1]
    if m <= 0 or n <= 0:
        raise ValueError(f"{path}: agents and jobs must be positive, got {m} and {n}")
    expected = 2 + 2 * m * n + m
    if len(numbers) != expected:
        raise ValueError(
            f"{path}: {m} agents x {n} jobs needs {expected - 2} numbers after the sizes "
            f"(2mn + m), found {len(numbers) - 2}"
        )
    body = numbers[2:]
    cost = [body[i * n : (i + 1) * n] for i in range(m)]
    resource = [body[m * n + i * n : m * n + (i + 1) * n] for i in range(m)]
    capacity = body[2 * m * n :]
    return GapInstance(path.name, cost, resource, capacity)


def read_solution(path: str | Path, instance: GapInstance) -> list[int]:
    """A solution file: one agent index (0-based) per job, whitespace-separated."""
    agents = [int(token) for token in Path(path).read_text().split()]
    if len(agents) != instance.jobs:
        raise ValueError(f"{path}: {len(agents)} agents for {instance.jobs} jobs")
    if any(not 0 <= a < instance.agents for a in agents):
        raise ValueError(f"{path}: agent index outside 0..{instance.agents - 1}")
    return agents


def job_id(j: int, jobs: int) -> str:
    return f"J{j + 1:0{max(4, len(str(jobs)))}d}"


def agent_id(i: int, agents: int) -> str:
    return f"A{i + 1:0{max(2, len(str(agents)))}d}"


def _yaml_text(instance: GapInstance, hours_per_month: int) -> str:
    return (
        f"# A generalized assignment problem as a scenario: written by benchmarks/gap_scenario.py\n"
        f"# from the GAP instance {instance.name} ({instance.agents} agents x "
        f"{instance.jobs} jobs).\n"
        f"company: GAP {instance.name}\n"
        "months: 1\n"
        f"directions: [{DIRECTION}]\n"
        "segments:\n"
        f"  {SEGMENT}: {{avg_deal: 0, win_rate: 0, service_hours_per_year: 0}}\n"
        "roles:\n"
        f"  {ROLE}: {{monthly_cost: 0, hours_per_month: {hours_per_month}}}\n"
        "coverage:\n"
        "  allowed:\n"
        f"    active: [{ROLE}]\n"
        "territory:\n"
        "  balance: null\n"
        "  max_moves: null\n"
    )


def write_gap_scenario(instance_path: str | Path, out_dir: str | Path) -> Path:
    """Write the scenario folder for a GAP instance and return its path.

    Agent i gets fte = capacity_i / max capacity (written with full precision), so that
    hours_per_month x months x fte = capacity_i with hours_per_month = max capacity, months = 1.
    """
    instance = read_gap(instance_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    top = max(instance.capacity)
    if top <= 0:
        raise ValueError(f"{instance.name}: capacities must be positive")
    jobs = [job_id(j, instance.jobs) for j in range(instance.jobs)]
    agents = [agent_id(i, instance.agents) for i in range(instance.agents)]

    (out / "scenario.yaml").write_text(_yaml_text(instance, top))
    with (out / "clients.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["client_id", "name", "segment", "direction", "status", "revenue_last_year"]
        writer.writerow([*header, "potential"])
        for j, cid in enumerate(jobs):
            writer.writerow([cid, f"Job {j + 1}", SEGMENT, DIRECTION, "active", 0, 0])
    with (out / "team.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rep_id", "name", "role", "direction", "fte"])
        for i, rid in enumerate(agents):
            fte = repr(instance.capacity[i] / top)  # full precision: fte x top == capacity
            writer.writerow([rid, f"Agent {i + 1}", ROLE, DIRECTION, fte])
    with (out / "pairs.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["client_id", "rep_id", "hours", "cost"])
        for j, cid in enumerate(jobs):
            for i, rid in enumerate(agents):
                writer.writerow([cid, rid, instance.resource[i][j], instance.cost[i][j]])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("instance", type=Path, help="GAP instance file (OR-Library format)")
    parser.add_argument("out_dir", type=Path, help="scenario folder to write")
    args = parser.parse_args(argv)
    out = write_gap_scenario(args.instance, args.out_dir)
    instance = read_gap(args.instance)
    print(f"{out}: {instance.agents} agents x {instance.jobs} jobs")


if __name__ == "__main__":
    main()
