"""The keys of scenario.yaml, their types and their documented defaults.

Every key here is part of the product's contract (SPEC §2). Defaults are documented in
docs/scenario.md; a number a model uses either comes from the scenario or from a default here.
Unknown keys are rejected (`extra="forbid"`), so a typo never passes silently.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ROLE_KEYS = (
    "commercial_director",
    "head_of_direction",
    "key_account_manager",
    "hunter",
    "account_manager",
    "telesales",
    "assistant",
)
SELLER_ROLES = ("key_account_manager", "hunter", "account_manager")
STATUSES = ("prospect", "new", "active", "key")
NO_COVERAGE = "none"

Probability = float  # validated as 0..1 by Field bounds where used


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Plan(_Section):
    revenue_target: float = Field(ge=0)
    by_direction: dict[str, float] = Field(default_factory=dict)
    seasonality: tuple[float, ...] | None = None
    budget: float | None = Field(default=None, ge=0)
    quota_hedge: float = Field(default=0.0, ge=0, le=1)

    @field_validator("by_direction")
    @classmethod
    def _shares_are_fractions(cls, shares: dict[str, float]) -> dict[str, float]:
        for direction, share in shares.items():
            if not 0 <= share <= 1:
                raise ValueError(f"share of {direction} must be between 0 and 1, got {share}")
        if shares and abs(sum(shares.values()) - 1) > 1e-6:
            raise ValueError(f"shares must add up to 1, they add up to {sum(shares.values()):g}")
        return shares

    @field_validator("seasonality")
    @classmethod
    def _seasonality_sums_to_one(
        cls, weights: tuple[float, ...] | None
    ) -> tuple[float, ...] | None:
        if weights is None:
            return None
        if any(w < 0 for w in weights):
            raise ValueError("seasonality weights must be >= 0")
        if abs(sum(weights) - 1) > 1e-6:
            raise ValueError(f"seasonality must add up to 1, it adds up to {sum(weights):g}")
        return weights


class Role(_Section):
    monthly_cost: float = Field(ge=0)
    hours_per_month: float | None = Field(default=None, gt=0)
    ramp: tuple[float, ...] = ()
    hire_lead_months: int = Field(default=0, ge=0)
    hire_cost: float = Field(default=0.0, ge=0)
    attrition_monthly: float = Field(default=0.0, ge=0, le=1)
    variable_share: float = Field(default=0.0, ge=0, le=1)
    span: float | None = Field(default=None, gt=0)
    per_telesales: float | None = Field(default=None, ge=0)

    @field_validator("ramp")
    @classmethod
    def _ramp_is_productivity(cls, ramp: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 <= r <= 1 for r in ramp):
            raise ValueError("ramp values are productivity shares and must be between 0 and 1")
        return ramp


class Outcome(_Section):
    """A rate for covered and uncovered clients; `remote` is telesales-only coverage."""

    covered: float = Field(ge=0)
    uncovered: float = Field(ge=0)
    remote: float | None = Field(default=None, ge=0)

    def remote_or_midpoint(self) -> float:
        """Remote coverage defaults to halfway between covered and uncovered."""
        if self.remote is not None:
            return self.remote
        return (self.covered + self.uncovered) / 2


class Segment(_Section):
    avg_deal: float = Field(ge=0)
    win_rate: float = Field(ge=0, le=1)
    service_hours_per_year: float = Field(ge=0)
    retention: Outcome = Outcome(covered=1.0, uncovered=1.0)
    growth: Outcome = Outcome(covered=0.0, uncovered=0.0)

    @model_validator(mode="after")
    def _retention_is_probability(self) -> Segment:
        for name in ("covered", "uncovered", "remote"):
            value = getattr(self.retention, name)
            if value is not None and value > 1:
                raise ValueError(f"retention.{name} must be between 0 and 1, got {value}")
        return self


class Funnel(_Section):
    meeting_to_opportunity: float = Field(gt=0, le=1)
    conversation_to_meeting: float = Field(gt=0, le=1)
    contacts_per_conversation: float = Field(gt=0)
    dials_per_contact: float = Field(ge=0)
    minutes_per_dial: float = Field(ge=0)
    minutes_per_conversation: float = Field(ge=0)
    research_hours_per_contact: float = Field(ge=0)
    hunter_hours_per_meeting: float = Field(ge=0)
    hunter_hours_per_opportunity: float = Field(ge=0)
    cycle_months: int = Field(default=3, ge=0)
    keep_pipeline: bool = False


CoverageOption = Literal["key_account_manager", "account_manager", "telesales", "hunter", "none"]


def _default_allowed() -> dict[str, tuple[str, ...]]:
    return {
        # SPEC §1: strategic accounts go to key-account managers (or, if not worth it, nobody).
        "key": ("key_account_manager", NO_COVERAGE),
        "active": ("key_account_manager", "account_manager", "telesales", NO_COVERAGE),
    }


class Coverage(_Section):
    handoff_months: int = Field(default=6, ge=0)
    max_clients: dict[str, int] = Field(default_factory=dict)
    allowed: dict[Literal["active", "key"], tuple[CoverageOption, ...]] = Field(
        default_factory=_default_allowed  # type: ignore[arg-type]
    )
    max_pursued_share: float = Field(default=1.0, ge=0, le=1)

    @field_validator("allowed")
    @classmethod
    def _hunters_never_farm(cls, allowed: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        # A status the scenario leaves out keeps its default options.
        allowed = {**_default_allowed(), **allowed}
        for status, options in allowed.items():
            if "hunter" in options:
                raise ValueError(
                    f"hunters cannot cover {status} clients: the hand-off rule passes serial "
                    "clients to account managers"
                )
            if not options:
                raise ValueError(f"allowed.{status} needs at least one option (e.g. none)")
        return allowed


class TerritoryWeights(_Section):
    """Weights of the territory objective's terms, all in money; 0 switches a term off."""

    moves: float = Field(default=0.05, ge=0)  # cost per unit of last-year revenue that moves
    travel: float = Field(default=1.0, ge=0)  # multiplies the travel cost
    pairs: float = Field(default=1.0, ge=0)  # multiplies pairs.csv's per-pair cost


class Travel(_Section):
    """Travel cost of a client for a person: round trips per year x distance x cost per km."""

    cost_per_km: float = Field(default=0.0, ge=0)
    visits_per_year: float = Field(default=4.0, ge=0)


class Territory(_Section):
    balance: float | None = Field(default=0.10, ge=0)
    potential_balance: float | None = Field(default=None, ge=0)
    max_moves: float | None = Field(default=None, ge=0, le=1)
    direction_match: bool = True
    weights: TerritoryWeights = TerritoryWeights()
    travel: Travel = Travel()


AttainmentDistribution = Literal["normal", "lognormal", "triangular", "uniform"]


class KpiAttainment(_Section):
    """One KPI's own attainment spread; a key left out follows `motivation.attainment`."""

    distribution: AttainmentDistribution | None = None
    mean: float | None = Field(default=None, gt=0)
    sd: float | None = Field(default=None, ge=0)


class Attainment(_Section):
    """How attainment (actual / target) of a KPI spreads over people, for the payout simulation."""

    distribution: AttainmentDistribution = "normal"
    mean: float = Field(default=1.0, gt=0)
    sd: float = Field(default=0.15, ge=0)
    samples: int = Field(default=20000, ge=100)


class Kpi(_Section):
    priority: float = Field(ge=0)
    attainment: KpiAttainment | None = None


class Payout(_Section):
    threshold: float = Field(default=0.8, ge=0)
    cap: float = Field(default=1.5, ge=0)
    accelerator: float = Field(default=1.0, ge=0)  # payout slope above 100% attainment

    @model_validator(mode="after")
    def _cap_not_below_threshold(self) -> Payout:
        if self.cap < self.threshold:
            raise ValueError(f"cap {self.cap:g} is below threshold {self.threshold:g}")
        return self


class Motivation(_Section):
    kpis: dict[str, Kpi] = Field(default_factory=dict)
    controllability: dict[str, dict[str, float]] = Field(default_factory=dict)
    weight_step: float = Field(default=0.05, gt=0, le=1)
    min_weight: float = Field(default=0.10, ge=0, le=1)
    max_kpis: int = Field(default=4, ge=1)
    variable_budget: float | None = Field(default=None, ge=0)
    payout: Payout = Payout()
    attainment: Attainment = Attainment()


class Staffing(_Section):
    """How the staffing model is asked: meet the plan at least cost, or the best margin."""

    objective: Literal["min_cost", "max_margin"] = "min_cost"
    allow_reductions: bool = False


class Quota(_Section):
    """How the quota model cascades the plan: who carries quota, growth bounds, analyst pins."""

    carriers: tuple[str, ...] = SELLER_ROLES
    growth_floor: float | None = Field(default=0.0, ge=-1)
    growth_cap: float | None = Field(default=1.0, ge=-1)
    potential_weight: float = Field(default=0.7, ge=0, le=1)
    pins: dict[str, float] = Field(default_factory=dict)

    @field_validator("carriers")
    @classmethod
    def _carriers_are_roles(cls, carriers: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in carriers if c not in ROLE_KEYS]
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r}; roles are {', '.join(ROLE_KEYS)}")
        if not carriers:
            raise ValueError("at least one role must carry quota")
        return tuple(dict.fromkeys(carriers))

    @field_validator("pins")
    @classmethod
    def _pins_are_amounts(cls, pins: dict[str, float]) -> dict[str, float]:
        for key, amount in pins.items():
            if not 0 <= amount < float("inf"):
                raise ValueError(f"pin {key} must be an amount >= 0, got {amount}")
        return pins

    @model_validator(mode="after")
    def _floor_below_cap(self) -> Quota:
        floor, cap = self.growth_floor, self.growth_cap
        if floor is not None and cap is not None and floor > cap:
            raise ValueError(f"growth_floor {floor:g} is above growth_cap {cap:g}")
        return self


SolverName = Literal["highs", "cbc", "ortools"]


class SolverSettings(_Section):
    name: SolverName = "ortools"
    time_limit: float = Field(default=60.0, gt=0)
    gap: float = Field(default=0.001, ge=0)
    threads: int = Field(default=0, ge=0)
    seed: int = Field(default=0, ge=0)


class ScenarioConfig(_Section):
    """Everything in scenario.yaml."""

    company: str = "Unnamed company"
    currency: str = "RUB"
    year: int | None = None
    months: int = Field(default=12, ge=1, le=60)
    directions: tuple[str, ...]
    plan: Plan | None = None
    roles: dict[str, Role] = Field(default_factory=dict)
    segments: dict[str, Segment] = Field(default_factory=dict)
    funnel: Funnel | None = None
    coverage: Coverage = Coverage()
    territory: Territory | None = None
    motivation: Motivation | None = None
    staffing: Staffing = Staffing()
    quota: Quota = Quota()
    solver: SolverSettings = SolverSettings()

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: dict[str, Role]) -> dict[str, Role]:
        for key in roles:
            if key not in ROLE_KEYS:
                raise ValueError(f"unknown role {key!r}; roles are {', '.join(ROLE_KEYS)}")
        return roles

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioConfig:
        if len(set(self.directions)) != len(self.directions):
            raise ValueError("directions are listed twice")
        if self.plan is not None:
            unknown = set(self.plan.by_direction) - set(self.directions)
            if unknown:
                raise ValueError(
                    f"plan.by_direction names unknown directions: {', '.join(sorted(unknown))}"
                )
            if self.plan.seasonality is not None and len(self.plan.seasonality) != self.months:
                raise ValueError(
                    f"plan.seasonality has {len(self.plan.seasonality)} values, "
                    f"months is {self.months}"
                )
        return self

    def direction_share(self, direction: str) -> float:
        """The plan's share for a direction; equal shares when by_direction is absent."""
        if self.plan is not None and self.plan.by_direction:
            return self.plan.by_direction.get(direction, 0.0)
        return 1.0 / len(self.directions)

    def require_role(self, key: str, *, why: str) -> Role:
        """The role, or a clear error saying why this command needs it."""
        role = self.roles.get(key)
        if role is None:
            raise MissingSectionError(f"roles.{key}", why)
        return role


class MissingSectionError(ValueError):
    """A key the requested command needs is missing from scenario.yaml."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"scenario.yaml needs {key}: {why}")
        self.key = key
        self.why = why
