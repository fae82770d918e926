"""No line of a history, however odd its values, breaks the reading or the deciding of the
others: each is a command decided (taken or refused) or a problem with its number. Values of
every JSON kind (nested, NaN and infinities, huge integers, text, wrong types) in every field
any command has."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from banli.domain.registry import REGISTRY
from banli.history import run_history

TYPES = [spec.type for spec in REGISTRY]
FIELDS = sorted({name for spec in REGISTRY for name in spec.command.model_fields
                 if name not in ("type", "at")})
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["sh-ipa", "sh-hrss", "p1", "2020-01-02T09:00:00+08:00", "2020-01-02", "",
                     "solved", "lead", "phone", "before", "full", "satisfied", "clerk", "admin",
                     "importer", "9" * 5000]),
    st.text(max_size=20))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from([*FIELDS, "user", "role", "bureau"]), inner, max_size=4)),
    max_leaves=8)
COMMANDS = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES),
     "at": st.sampled_from(["2020-01-02T09:00:00+08:00", "2020-03-01", "2021-01-01T00:00:00Z"])},
    optional={name: VALUES for name in FIELDS})
BASE = [json.dumps(line) for line in (
    {"type": "register_bureau", "bureau": "sh-ipa", "name": "局", "at": "2020-01-01"},
    {"type": "register_bureau", "bureau": "sh-hrss", "name": "局", "at": "2020-01-01"},
    {"type": "submit", "proposal": "p1", "kind": "cppcc_proposal", "year": 2020, "number": "1",
     "title": "提案", "at": "2020-01-01"},
    {"type": "assign", "proposal": "p1", "lead": ["sh-ipa"], "co": ["sh-hrss"],
     "at": "2020-01-02"},
)]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(COMMANDS, min_size=1, max_size=8))
def test_every_line_is_decided_or_a_problem_and_none_breaks_the_others(commands):
    lines = BASE + [json.dumps(c, allow_nan=True) for c in commands]
    ledger, problems = run_history(lines)
    assert len(ledger.decided) + sum(p.code == "invalid" for p in problems) == len(lines)
    assert all(p.reason and p.reason_en for p in problems)
