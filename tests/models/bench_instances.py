"""The benchmarks' seeded territory generator (benchmarks/territory_instances.py), for tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

NAME = "territory_instances"


def make_instance(n_clients: int, n_people: int, **kwargs: Any) -> Any:
    """`territory_instances.make_instance`, loaded from the benchmarks folder."""
    if NAME not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{NAME}.py"
        spec = importlib.util.spec_from_file_location(NAME, path)
        assert spec is not None and spec.loader is not None
        sys.modules[NAME] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[NAME])
    return sys.modules[NAME].make_instance(n_clients, n_people, **kwargs)
