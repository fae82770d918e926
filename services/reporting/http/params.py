"""The query parameters reporting's routes share, each declared once, with what the OpenAPI
says of them as exact as JSON Schema allows (the ranges of dates and years as patterns, the
profiles and measures as lists), so that a schema-valid request is one the routes take, but
for what a schema cannot say (exactly one of `bureau` and `all`, a range's order)."""
from __future__ import annotations

from typing import Annotated

from fastapi import Query

from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import ITEM_MEASURES, MEASURES, RATE_MEASURES
from banli.domain.types import Day, Instant

_YEAR = r"(1949|19[5-9]\d|2[01]\d\d|2200)"
Years = Annotated[str, Query(description="Y or Y1-Y2 (1949 to 2200, the first not after the "
                                         "last)", pattern=f"^{_YEAR}(-{_YEAR})?$")]
OptionalYears = Annotated[str | None, Query(
    description="Y or Y1-Y2 (1949 to 2200, the first not after the last); default every year",
    pattern=f"^{_YEAR}(-{_YEAR})?$")]
BusinessDate = Annotated[Day, Query(description="business date, YYYY-MM-DD")]
OptionalDate = Annotated[Day | None, Query(description="business date; default today")]
AuditClock = Annotated[Instant | None, Query(
    description="audit clock: count only what the system had recorded by then")]
BureauQuery = Annotated[str | None, Query(
    description="one bureau (a clerk: its own, the default)",
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ScopeBureau = Annotated[str | None, Query(
    description="one bureau; leave out with all=true",
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Urgent = Annotated[bool, Query(description="only the overdue and those due within 10 days (the "
                                          "page's deadlines list)")]
AllBureaus = Annotated[bool, Query(description="every bureau (oversight roles); leave out with "
                                               "bureau")]
ProfileName = Annotated[str, Query(description=f"one of {', '.join(PROFILES)}",
                                   json_schema_extra={"enum": list(PROFILES)})]
OtherProfile = Annotated[str | None, Query(description="compare with this profile (one of "
                                                       f"{', '.join(PROFILES)})",
                                           json_schema_extra={"enum": list(PROFILES)})]
MeasureName = Annotated[str, Query(
    description="a number of the report (e.g. `replied`, `result.solved`, `late_lead`) or a rate "
                "(e.g. `on_time_reply`: its denominator's items, each `counted` or not)",
    json_schema_extra={"enum": [*MEASURES, *RATE_MEASURES, *ITEM_MEASURES]})]
