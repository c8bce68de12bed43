"""The new-business funnel: how many contacts, dials, conversations and meetings make a deal.

Researched contacts -> dials -> conversations -> meetings -> opportunities -> won clients.
All stages are proportional to meetings, so the staffing model decides meetings and derives
the rest with these ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

from optim.schema import Funnel


@dataclass(frozen=True)
class PerMeeting:
    """Volumes and hours that one meeting needs or yields."""

    conversations: float
    researched_contacts: float
    dials: float
    opportunities: float
    hunter_hours_meeting: float
    hunter_hours_opportunity: float  # spread over the sales cycle
    telesales_hours: float
    assistant_hours: float


def per_meeting(funnel: Funnel) -> PerMeeting:
    """Everything one meeting needs upstream and yields downstream."""
    conversations = 1.0 / funnel.conversation_to_meeting
    contacts = conversations * funnel.contacts_per_conversation
    dials = contacts * funnel.dials_per_contact
    opportunities = funnel.meeting_to_opportunity
    telesales_minutes = (
        dials * funnel.minutes_per_dial + conversations * funnel.minutes_per_conversation
    )
    return PerMeeting(
        conversations=conversations,
        researched_contacts=contacts,
        dials=dials,
        opportunities=opportunities,
        hunter_hours_meeting=funnel.hunter_hours_per_meeting,
        hunter_hours_opportunity=opportunities * funnel.hunter_hours_per_opportunity,
        telesales_hours=telesales_minutes / 60.0,
        assistant_hours=contacts * funnel.research_hours_per_contact,
    )


def in_year_revenue_share(won_month: int, months: int) -> float:
    """Share of a year's deal value earned in-year when won in `won_month` (SPEC §2 convention).

    A client won in month t brings avg_deal / 12 in every later month of the plan year.
    """
    return max(0, months - won_month) / 12.0
