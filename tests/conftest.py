"""Shared fixtures: a tiny valid scenario folder that a test can change one file or key of.

    def test_something(make_scenario):
        folder = make_scenario(clients=my_csv_text, set={"plan.revenue_target": 5})
        scenario = load_scenario(folder)

`make_scenario` writes a new folder on every call. Each keyword replaces one file's text
(`None` leaves the file out, bytes are written as they are); `set` changes dotted YAML keys
(`REMOVE` deletes one). The default texts are attributes of the fixture (`make_scenario.clients`)
so a test can edit them with `str.replace`. `tiny_scenario` is the loaded default scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import yaml

from optim.scenario import Scenario, load_scenario

REMOVE = object()  # `set={"plan": REMOVE}` deletes the key

SCENARIO_YAML = dedent(
    """\
    company: Tiny Supply
    currency: RUB
    year: 2027
    months: 12
    directions: [energy, retail]
    plan:
      revenue_target: 10000000
      by_direction: {energy: 0.6, retail: 0.4}
    roles:
      hunter: {monthly_cost: 200000, hours_per_month: 120, ramp: [0.3, 0.6]}
      account_manager: {monthly_cost: 150000, hours_per_month: 140}
      key_account_manager: {monthly_cost: 250000, hours_per_month: 120}
      telesales: {monthly_cost: 90000, hours_per_month: 140}
    segments:
      A: {avg_deal: 2000000, win_rate: 0.25, service_hours_per_year: 100}
      B: {avg_deal: 500000, win_rate: 0.3, service_hours_per_year: 30}
    coverage:
      handoff_months: 6
    """
)

CLIENTS_CSV = dedent(
    """\
    client_id,name,segment,direction,region,status,revenue_last_year,potential,owner,locked,lat,lon
    C1,"Acme, ""Best"" Ltd",A,energy,North,key,3000000,4000000,R1,true,55.75,37.62
    C2,=SUM(A1:A2),B,retail,,active,500000,800000,R2,,,
    C3,ООО «Ромашка»,A,energy,South,new,200000,2000000,,no,59.93,30.33
    C4,Prospect Co,B,retail,North,prospect,0,600000,,,,
    """
)

TEAM_CSV = dedent(
    """\
    rep_id,name,role,direction,region,fte,lat,lon
    R1,Anna,key_account_manager,energy,North,1,55.75,37.62
    R2,Boris,account_manager,energy;retail,,0.5,,
    R3,,hunter,,North,,,
    """
)

PAIRS_CSV = dedent(
    """\
    client_id,rep_id,hours,cost
    C1,R1,90,0
    C2,R2,25,-1000
    """
)

_DEFAULT = object()


class ScenarioFolders:
    """Writes tiny scenario folders under one temporary directory."""

    scenario = SCENARIO_YAML
    clients = CLIENTS_CSV
    team = TEAM_CSV
    pairs = PAIRS_CSV
    REMOVE = REMOVE

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made = 0

    def __call__(
        self,
        *,
        scenario: Any = _DEFAULT,
        clients: Any = _DEFAULT,
        team: Any = _DEFAULT,
        pairs: Any = _DEFAULT,
        set: Mapping[str, Any] | None = None,
    ) -> Path:
        self.made += 1
        folder = self.root / f"scenario{self.made}"
        folder.mkdir()
        texts = {
            "scenario.yaml": self.scenario if scenario is _DEFAULT else scenario,
            "clients.csv": self.clients if clients is _DEFAULT else clients,
            "team.csv": self.team if team is _DEFAULT else team,
            "pairs.csv": self.pairs if pairs is _DEFAULT else pairs,
        }
        if set:
            texts["scenario.yaml"] = _with_keys(texts["scenario.yaml"], set)
        for name, text in texts.items():
            if isinstance(text, bytes):
                (folder / name).write_bytes(text)
            elif text is not None:
                (folder / name).write_text(text, encoding="utf-8")
        return folder


def _with_keys(text: str, changes: Mapping[str, Any]) -> str:
    data = yaml.safe_load(text)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        if value is REMOVE:
            node.pop(last, None)
        else:
            node[last] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.fixture
def make_scenario(tmp_path: Path) -> ScenarioFolders:
    return ScenarioFolders(tmp_path)


@pytest.fixture
def tiny_scenario(make_scenario: ScenarioFolders) -> Scenario:
    return load_scenario(make_scenario())
