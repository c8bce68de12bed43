"""Typed results shared by every model: status, objective, bound, gap, time, frames, explanation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pandas as pd


class Status(Enum):
    """How a solve ended, in the words the CLI and the exit codes use."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a solution within the time limit, with a gap to the bound
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def exit_code(self) -> int:
        """SPEC §5: 0 solved, 3 infeasible, 4 solver or internal failure."""
        if self.has_solution:
            return 0
        if self is Status.INFEASIBLE:
            return 3
        return 4


@dataclass(frozen=True)
class Marginal:
    """One binding constraint and what relaxing it by one unit is worth, in the user's units."""

    group: str
    labels: dict[str, Any]
    sentence: str
    value_per_unit: float  # change of the objective per unit of `unit`
    unit: str
    slack: float = 0.0


@dataclass(frozen=True)
class Relaxation:
    """A smallest change of the input that turns an infeasible scenario feasible."""

    what: str  # e.g. "plan.budget"
    current: float
    needed: float
    sentence: str


@dataclass(frozen=True)
class Explanation:
    """What a solve can say about itself, in plain language and as data."""

    headline: str
    objective_breakdown: dict[str, float] = field(default_factory=dict)
    binding: tuple[Marginal, ...] = ()
    relaxations: tuple[Relaxation, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The explanation as sentences for a terminal or a report."""
        out = [self.headline]
        if self.objective_breakdown:
            out.append("Objective breakdown:")
            out += [f"  {k}: {v:,.0f}" for k, v in self.objective_breakdown.items()]
        if self.binding:
            out.append("Binding constraints and what one more unit is worth:")
            out += [f"  - {m.sentence}" for m in self.binding]
        if self.relaxations:
            out.append("What would make it feasible:")
            out += [f"  - {r.sentence}" for r in self.relaxations]
        out += [f"Note: {n}" for n in self.notes]
        return out


@dataclass(frozen=True)
class ModelResult:
    """The result of one model: status and figures of the solve, output frames, explanation."""

    model: str
    status: Status
    objective: float | None
    bound: float | None
    solve_seconds: float
    solver: str
    frames: dict[str, pd.DataFrame]
    explanation: Explanation
    sense: str = "min"  # "min" or "max"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and bound (0 when proven optimal)."""
        if self.objective is None or self.bound is None:
            return None
        if self.status is Status.OPTIMAL:
            return 0.0
        denom = max(abs(self.objective), 1e-9)
        return abs(self.objective - self.bound) / denom

    def summary(self) -> str:
        """One line for people."""
        parts = [f"{self.model}: {self.status.value}"]
        if self.objective is not None and math.isfinite(self.objective):
            parts.append(f"objective {self.objective:,.0f}")
        if self.gap is not None:
            parts.append(f"gap {self.gap:.3%}")
        parts.append(f"{self.solve_seconds:.2f}s with {self.solver}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable form without the frames (they go to CSV/xlsx)."""
        e = self.explanation
        return {
            "model": self.model,
            "status": self.status.value,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "sense": self.sense,
            "solve_seconds": round(self.solve_seconds, 4),
            "solver": self.solver,
            "details": self.details,
            "explanation": {
                "headline": e.headline,
                "objective_breakdown": e.objective_breakdown,
                "binding": [m.__dict__ for m in e.binding],
                "relaxations": [r.__dict__ for r in e.relaxations],
                "notes": list(e.notes),
                "lines": e.lines(),
            },
        }
