"""Arithmetic of one role: ramp-up, availability after attrition, hourly cost.

Shared by the coverage and staffing models so both count a person's capacity the same way.
"""

from __future__ import annotations

from optim.schema import Role


def ramp_share(role: Role, months_since_start: int) -> float:
    """Productivity of a new hire in the given month of employment (0 = first month)."""
    if months_since_start < 0:
        return 0.0
    if months_since_start < len(role.ramp):
        return role.ramp[months_since_start]
    return 1.0


def availability(role: Role) -> float:
    """Share of a seat's hours that is productive once attrition is allowed for.

    Every month `attrition_monthly` of the people in a seat leave; each leaver's seat stays empty
    for `hire_lead_months` and its replacement then ramps up. In steady state a seat therefore
    loses attrition x (lead + ramp shortfall) months of work per month.
    """
    ramp_shortfall = sum(1.0 - r for r in role.ramp)
    lost = role.attrition_monthly * (role.hire_lead_months + ramp_shortfall)
    return max(0.0, 1.0 - lost)


def hourly_cost(role: Role) -> float:
    """Cost of one productive hour of the role (zero when the role has no hours)."""
    if not role.hours_per_month:
        return 0.0
    productive = role.hours_per_month * availability(role)
    return role.monthly_cost / productive if productive > 0 else float("inf")
