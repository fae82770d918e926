"""Each figure's link: the page's drill-down for exactly that number.

    {base}/app/?years=2020-2020&as_of=2020-11-20&profile=default&bureau=sh-ipa&measure=replied

The page (services/reporting/web/app.js, `defaults()`) reads its scope from the query and, with
`measure` (or `entries`), opens the drill-down at once. The parameters are the API's, so the
same query less `measure` asks `GET /api/items?measure=…` (and with `entries=K`,
`GET /api/entries?which=K`) for the list behind the number:

- `bureau=B` or `all=true`, `years=Y1-Y2`, `as_of=YYYY-MM-DD`, `profile=P`;
- `kind`, `level` where the figure's scope has them;
- `recorded_by=YYYY-MM-DDTHH:MM:SS` (Asia/Shanghai, as the page's field takes it) in an audit;
- `measure=M` (a number of the report, or a rate: its denominator's items, the numerator's
  marked), or `entries=all|late|imported|on_time` (the bureaus' records);
- `count=proposals` where the figure counts the distinct proposals of the items listed.

README ("Every number traced to its evidence") states the format for the page's sake."""
from __future__ import annotations

from datetime import datetime
from typing import Callable
from urllib.parse import urlencode

from ..domain.types import SHANGHAI
from .blocks import Trace

PAGE_PATH = "/app/"


def drilldown_query(trace: Trace, profile: str, recorded_by: datetime | None) -> dict[str, str]:
    """The query of a figure's link, in a stable order."""
    s = trace.scope
    query = {"years": f"{s.years[0]}-{s.years[1]}", "as_of": s.as_of.isoformat(),
             "profile": profile}
    query.update({"bureau": s.bureau} if s.bureau is not None else {"all": "true"})
    if s.kind:
        query["kind"] = s.kind
    if s.level:
        query["level"] = s.level
    if recorded_by is not None:
        local = (recorded_by if recorded_by.tzinfo is None
                 else recorded_by.astimezone(SHANGHAI).replace(tzinfo=None))
        query["recorded_by"] = local.isoformat(timespec="seconds")
    if trace.measure is not None:
        query["measure"] = trace.measure
    else:
        query["entries"] = str(trace.entries)
    if trace.proposals:
        query["count"] = "proposals"
    return query


def linker(base_url: str, profile: str, recorded_by: datetime | None
           ) -> Callable[[Trace], str]:
    """Trace -> the absolute URL of its drill-down on the page served at `base_url`."""
    base = base_url.rstrip("/") + PAGE_PATH
    return lambda trace: f"{base}?{urlencode(drilldown_query(trace, profile, recorded_by))}"
