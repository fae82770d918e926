"""Routing from history: for a new proposal, the most similar past proposals and the bureaus
that handled them, as suggestions for its lead and co-handlers (交办参考).

Similarity is TF-IDF (scikit-learn) over character 1-3-grams of the title and summary — Chinese
has no spaces, and character n-grams need no segmenter — plus the topic tags, and a little of
the kind and the affiliation, each block L2-normalised and weighted, then cosine. A bureau's
score is the share of the similar proposals' similarity that it led (or co-handled): 0.62 means
the proposals that led to it carry 62% of the weight of the `neighbours` most similar ones.

Who "handled" a past proposal is its current active lead(s) and co-handlers: a bureau that
returned it, or was removed from it, is not learnt from — that is the misrouting to avoid.

Pure: functions of the past proposals they are given (no I/O, no clock). scikit-learn is
imported when an index is first built, so importing this module stays cheap.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .domain import events as e
from .domain.proposal import Proposal, State, evolve

TEXT_WEIGHT, TOPIC_WEIGHT, META_WEIGHT = 1.0, 1.0, 0.3
NEIGHBOURS = 15  # similar past proposals whose handlers vote
METHOD = "tfidf: char 1-3-grams of title+summary, topic tags, kind and affiliation; cosine"


@dataclass(frozen=True)
class PastProposal:
    """What routing learns from one past proposal: its text and who handled it."""

    proposal_id: str
    year: int
    kind: str
    title: str
    summary: str = ""
    topics: tuple[str, ...] = ()
    affiliation: str = ""
    leads: tuple[str, ...] = ()
    cos: tuple[str, ...] = ()


@dataclass(frozen=True)
class Query:
    """A proposal to route: the fields of a `submit` that say what it is about."""

    title: str = ""
    summary: str = ""
    topics: tuple[str, ...] = ()
    kind: str | None = None
    affiliation: str = ""

    @classmethod
    def of(cls, p: PastProposal) -> "Query":
        return cls(title=p.title, summary=p.summary, topics=p.topics, kind=p.kind,
                   affiliation=p.affiliation)

    @property
    def empty(self) -> bool:
        return not (self.title.strip() or self.summary.strip() or self.topics)


@dataclass(frozen=True)
class Similar:
    proposal: PastProposal
    score: float


@dataclass(frozen=True)
class BureauScore:
    bureau: str
    score: float  # share of the neighbours' similarity, 0..1
    support: int  # how many of the neighbours it handled in that role


@dataclass(frozen=True)
class Suggestion:
    similar: list[Similar]
    lead: list[BureauScore]
    co: list[BureauScore]
    based_on: int  # past proposals in the index

    def as_dict(self, names: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
        names = names or {}

        def bureau(b: BureauScore) -> dict[str, Any]:
            return {"bureau": b.bureau, "name": names.get(b.bureau, {}).get("name", ""),
                    "name_en": names.get(b.bureau, {}).get("name_en", ""),
                    "score": round(b.score, 4), "support": b.support}

        return {
            "method": METHOD, "based_on": self.based_on,
            "similar": [{"proposal_id": s.proposal.proposal_id, "year": s.proposal.year,
                         "kind": s.proposal.kind, "title": s.proposal.title,
                         "topics": list(s.proposal.topics), "leads": list(s.proposal.leads),
                         "cos": list(s.proposal.cos), "score": round(s.score, 4)}
                        for s in self.similar],
            "lead": [bureau(b) for b in self.lead],
            "co": [bureau(b) for b in self.co],
        }


def _text(q: Query | PastProposal) -> list[str]:
    """Character 1-3-grams of the title and the summary, each without its whitespace."""
    grams = []
    for part in (q.title, q.summary):
        chars = "".join(part.lower().split())
        grams += [chars[i:i + n] for n in (1, 2, 3) for i in range(len(chars) - n + 1)]
    return grams


def _topics(q: Query | PastProposal) -> list[str]:
    return [f"topic:{t}" for t in q.topics]


def _meta(q: Query | PastProposal) -> list[str]:
    return [f"{name}:{value}" for name, value in (("kind", q.kind), ("aff", q.affiliation))
            if value]


def _tokens(doc: list[str]) -> list[str]:
    return doc


@dataclass
class RoutingIndex:
    """A TF-IDF index over past proposals that have at least one lead."""

    past: list[PastProposal]
    _vectorizers: list[tuple[Any, Any, float]] = field(default_factory=list, repr=False)
    _matrix: Any = field(default=None, repr=False)

    @classmethod
    def build(cls, past: Iterable[PastProposal]) -> "RoutingIndex":
        index = cls(sorted((p for p in past if p.leads), key=lambda p: p.proposal_id))
        if not index.past:
            return index
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        blocks = []
        for extract, vectorizer, weight in (
                (_text, TfidfVectorizer(analyzer=_tokens, sublinear_tf=True), TEXT_WEIGHT),
                (_topics, TfidfVectorizer(analyzer=_tokens), TOPIC_WEIGHT),
                (_meta, TfidfVectorizer(analyzer=_tokens), META_WEIGHT)):
            docs = [extract(p) for p in index.past]
            if not any(docs):  # nothing to learn in this block (e.g. no topics anywhere)
                continue
            blocks.append(vectorizer.fit_transform(docs) * weight)
            index._vectorizers.append((extract, vectorizer, weight))
        index._matrix = normalize(hstack(blocks).tocsr())
        return index

    def _vector(self, query: Query):
        from scipy.sparse import hstack
        from sklearn.preprocessing import normalize

        return normalize(hstack([vectorizer.transform([extract(query)]) * weight
                                 for extract, vectorizer, weight in self._vectorizers]).tocsr())

    def similar(self, query: Query, k: int = NEIGHBOURS, exclude: str | None = None
                ) -> list[Similar]:
        """The `k` most similar past proposals with a similarity above 0, best first (ties by
        id, so the answer is deterministic)."""
        if not self.past or query.empty:
            return []
        import numpy as np

        scores = (self._matrix @ self._vector(query).T).toarray().ravel()
        found = np.flatnonzero(scores > 0)
        order = found[np.argsort(-scores[found], kind="stable")]  # `past` is sorted by id
        near = (Similar(self.past[i], float(scores[i])) for i in order
                if self.past[i].proposal_id != exclude)
        return [s for _, s in zip(range(k), near)]

    def suggest(self, query: Query, top: int = 5, shown: int = 5,
                neighbours: int = NEIGHBOURS, exclude: str | None = None) -> Suggestion:
        """The `shown` most similar proposals, and up to `top` leads and co-handlers scored by
        the share of the `neighbours` most similar ones' similarity that each handled."""
        near = self.similar(query, neighbours, exclude)
        leads = _vote(near, "leads", top)
        cos = _vote(near, "cos", top, skip=leads[0].bureau if leads else None)
        return Suggestion(similar=near[:shown], lead=leads, co=cos, based_on=len(self.past))


def _vote(near: list[Similar], role: str, top: int, skip: str | None = None
          ) -> list[BureauScore]:
    total = sum(s.score for s in near)
    weight: dict[str, float] = defaultdict(float)
    support: Counter[str] = Counter()
    for s in near:
        for bureau in getattr(s.proposal, role):
            weight[bureau] += s.score
            support[bureau] += 1
    ranked = sorted((b for b in weight if b != skip), key=lambda b: (-weight[b], b))
    return [BureauScore(b, weight[b] / total, support[b]) for b in ranked[:top]]


# --- from the log ------------------------------------------------------------------------------
def past_from_streams(streams: Iterable[Sequence[e.Event]]) -> list[PastProposal]:
    """Past proposals from each proposal's events (the reference for the projections' query):
    text as submitted, handlers as they stand after the last event."""
    past = []
    for events in streams:
        state: State = None
        summary = ""
        for event in events:
            state = evolve(state, event)
            if isinstance(event, e.ProposalSubmitted):
                summary = event.summary
        if isinstance(state, Proposal):
            past.append(_past(state, summary))
    return sorted(past, key=lambda p: p.proposal_id)


def _past(p: Proposal, summary: str) -> PastProposal:
    duties = sorted(p.active_duties(), key=lambda a: a.bureau)
    return PastProposal(
        proposal_id=p.id, year=p.year, kind=p.kind, title=p.title, summary=summary,
        topics=p.topics, affiliation=p.affiliation,
        leads=tuple(a.bureau for a in duties if a.role == "lead"),
        cos=tuple(a.bureau for a in duties if a.role == "co"))


# --- measuring it --------------------------------------------------------------------------------
@dataclass(frozen=True)
class YearScore:
    year: int
    trained_on: int
    tested: int
    top1: int
    top3: int
    baseline_top1: int
    baseline_top3: int


@dataclass(frozen=True)
class Backtest:
    years: list[YearScore]

    def _share(self, name: str) -> float | None:
        tested = sum(y.tested for y in self.years)
        return sum(getattr(y, name) for y in self.years) / tested if tested else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tested": sum(y.tested for y in self.years),
            "top1": self._share("top1"), "top3": self._share("top3"),
            "baseline_top1": self._share("baseline_top1"),
            "baseline_top3": self._share("baseline_top3"),
            "years": [y.__dict__ for y in self.years],
            "method": METHOD,
            "baseline": "the bureaus that led most proposals in the training years",
        }


def most_frequent_leads(past: Iterable[PastProposal]) -> list[str]:
    """The naive baseline: bureaus by how many past proposals they led (ties by id)."""
    counts = Counter(b for p in past for b in p.leads)
    return sorted(counts, key=lambda b: (-counts[b], b))


def hit(actual: Sequence[str], ranked: Sequence[str], k: int) -> bool:
    """A hit when any actual lead (several under split handling) is among the first k."""
    return bool(set(actual) & set(ranked[:k]))


def backtest(past: Sequence[PastProposal], test_years: Sequence[int]) -> Backtest:
    """For each test year, index the proposals of the years before it, suggest leads for that
    year's proposals from their text alone, and count how often their actual lead is the first
    suggestion, or among the first three; the same for the naive baseline."""
    scores = []
    for year in test_years:
        train = [p for p in past if p.year < year and p.leads]
        test = [p for p in past if p.year == year and p.leads]
        index = RoutingIndex.build(train)
        baseline = most_frequent_leads(train)
        n: Counter[str] = Counter()
        for p in test:
            ranked = [b.bureau for b in index.suggest(Query.of(p), top=3).lead]
            n["top1"] += hit(p.leads, ranked, 1)
            n["top3"] += hit(p.leads, ranked, 3)
            n["baseline_top1"] += hit(p.leads, baseline, 1)
            n["baseline_top3"] += hit(p.leads, baseline, 3)
        scores.append(YearScore(year=year, trained_on=len(index.past), tested=len(test),
                                top1=n["top1"], top3=n["top3"],
                                baseline_top1=n["baseline_top1"],
                                baseline_top3=n["baseline_top3"]))
    return Backtest(scores)
