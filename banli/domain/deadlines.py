"""Deadline rules and the named profiles that hold them with the rate definitions."""
from __future__ import annotations

import calendar
from datetime import date

from pydantic import Field

from .types import Frozen, Kind, Result


def add_months(day: date, months: int) -> date:
    """Calendar months, as the rules count them: 31 Jan + 1 month is 28/29 Feb."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Profile(Frozen):
    """A jurisdiction's definitions: deadlines at assignment and what the rates count.
    Reports name the profile they used."""

    name: str
    reply_months: int = 3
    reply_months_by_kind: dict[Kind, int] = Field(default_factory=dict)
    opinion_months: int = 1
    max_extension_months: int = 6
    adopted: tuple[Result, ...] = ("solved",)

    def reply_due(self, assigned: date, kind: Kind) -> date:
        return add_months(assigned, self.reply_months_by_kind.get(kind, self.reply_months))

    def opinion_due(self, assigned: date) -> date:
        return add_months(assigned, self.opinion_months)

    def extension_limit(self, assigned: date) -> date:
        return add_months(assigned, self.max_extension_months)


PROFILES: dict[str, Profile] = {
    "default": Profile(name="default"),
    # Jurisdictions that count B (列入计划) as adopted too.
    "adopt_planned": Profile(name="adopt_planned", adopted=("solved", "planned")),
    # CPPCC plenary proposals answered within 5 months.
    "cppcc_5_months": Profile(name="cppcc_5_months", reply_months_by_kind={"cppcc_proposal": 5}),
}
DEFAULT_PROFILE = PROFILES["default"]


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
