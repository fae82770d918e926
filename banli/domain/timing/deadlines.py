"""Deadline rules and the named profiles that hold them with the rate definitions."""
from __future__ import annotations

import calendar
from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from ..types import Frozen, Kind, Result
from .workdays import Calendar, add_working_days, past_working_days


def add_months(day: date, months: int) -> date:
    """Calendar months, as the rules count them: 31 Jan + 1 month is 28/29 Feb."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


ReviewStep = Literal["cosign", "approve"]


class Area(Frozen):
    """An area (领域) proposals are classified in for the office's report, beside their topics:
    its code (what events record) and its names."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    zh: str = Field(min_length=1, max_length=50)
    en: str = Field(default="", max_length=100)


# The five areas the offices report by (经济, 政治, 文化, 社会, 生态文明).
FIVE_AREAS: tuple[Area, ...] = (
    Area(code="economy", zh="经济", en="economy"), Area(code="politics", zh="政治", en="politics"),
    Area(code="culture", zh="文化", en="culture"), Area(code="society", zh="社会", en="society"),
    Area(code="ecology", zh="生态文明", en="ecological conservation"))


class Profile(Frozen):
    """A jurisdiction's definitions: deadlines at assignment and what the rates count.
    Reports name the profile they used."""

    name: str
    reply_months: int = 3
    reply_months_by_kind: dict[Kind, int] = Field(default_factory=dict)
    opinion_months: int = 1
    max_extension_months: int = 6
    adopted: tuple[Result, ...] = ("solved",)
    # Counted in working days (a Calendar), unlike the months above.
    return_working_days: int = Field(default=10, ge=0)
    disclosure_working_days: int = Field(default=20, ge=0)
    # Review before a reply goes out: "approve" (签发) — a reply is issued only by the leader's
    # approval of a draft; "cosign" (会签) — every co-handler signs the draft off first. Neither
    # (the default): a lead's single `reply` issues it.
    review: tuple[ReviewStep, ...] = ()
    # The office's review of what it received (审查立案): decided within N working days of the
    # receipt (or of the filer's resubmission), the review's own clock.
    intake_review_working_days: int = Field(default=15, ge=0)
    # The areas proposals are classified in (the five by default); a year may have its own list
    # (`areas_by_year`, from configuration: BANLI_AREAS).
    areas: tuple[Area, ...] = FIVE_AREAS
    areas_by_year: dict[int, tuple[Area, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cosign_before_approval(self) -> "Profile":
        if "cosign" in self.review and "approve" not in self.review:
            raise ValueError("a co-signed draft is issued by its approval: add 'approve'")
        return self

    def areas_of(self, year: int) -> tuple[Area, ...]:
        """The areas of proposals of `year`: the year's own list, else the profile's."""
        return self.areas_by_year.get(year, self.areas)

    def intake_review_due(self, calendar: Calendar, received: date) -> date:
        """The day by which the office reviews a proposal received (or resubmitted) on
        `received`: N working days after it."""
        return add_working_days(calendar, received, self.intake_review_working_days)

    def reply_due(self, assigned: date, kind: Kind) -> date:
        return add_months(assigned, self.reply_months_by_kind.get(kind, self.reply_months))

    def opinion_due(self, assigned: date) -> date:
        return add_months(assigned, self.opinion_months)

    def extension_limit(self, assigned: date) -> date:
        return add_months(assigned, self.max_extension_months)

    def return_deadline(self, calendar: Calendar, assigned: date) -> date:
        """The last day a bureau may return an assignment (退回): N working days after it."""
        return add_working_days(calendar, assigned, self.return_working_days)

    def return_too_late(self, calendar: Calendar, assigned: date, day: date) -> bool:
        """Whether a return on `day` comes after the window (asks the calendar only up to
        `day`)."""
        return past_working_days(calendar, assigned, self.return_working_days, day)

    def disclosure_due(self, calendar: Calendar, replied: date) -> date:
        """The day by which a reply to be disclosed must be published: N working days after
        the reply."""
        return add_working_days(calendar, replied, self.disclosure_working_days)


PROFILES: dict[str, Profile] = {
    "default": Profile(name="default"),
    # Jurisdictions that count B (列入计划) as adopted too.
    "adopt_planned": Profile(name="adopt_planned", adopted=("solved", "planned")),
    # CPPCC plenary proposals answered within 5 months.
    "cppcc_5_months": Profile(name="cppcc_5_months", reply_months_by_kind={"cppcc_proposal": 5}),
    # Replies drafted, co-signed by the co-handlers (会签) and approved by the leader (签发).
    "reviewed": Profile(name="reviewed", review=("cosign", "approve")),
}
DEFAULT_PROFILE = PROFILES["default"]
# Each profile's name for people (the board's select, a report's and a spreadsheet's scope).
PROFILE_WORDS: dict[str, tuple[str, str]] = {
    "default": ("默认口径", "default"), "adopt_planned": ("采纳含 B 类", "adoption counts B"),
    "cppcc_5_months": ("政协提案五个月", "CPPCC five months"),
    "reviewed": ("起草、会签、签发", "drafted, co-signed, approved")}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
