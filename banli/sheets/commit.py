"""Committing a preview: its rows' commands sent in order, as the importing user, and what each
row became. The sending is the caller's (the handling loop in `banli import`, the command bus
over HTTP); this turns the answers into the rows' results.

    {"counts": {"rows": 12, "imported": 9, "already": 1, "refused": 1, "pending": 0,
                "unchanged": 1, "differs": 0, "refused_in_preview": 0, "commands": 18},
     "rows": [{"row": 7, "number": "21007", "proposal": "...", "status": "refused",
               "reason": {"code": "out_of_order", "message": ..., "message_en": ...}}, ...]}

A filer registry's commit also says how many proposals it linked to the registry (`linked`).
A row is `imported` when the kernel accepted its commands (some for the first time), `already`
when every one was decided before (the same sheet imported again), `refused` with the first
rejection, `pending` when an answer did not come in time (importing again finishes it)."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from ..domain.types import Actor
from ..eventlog import Outcome
from .preview import Preview, RowResult


def row_commands(preview: Preview, actor: Actor) -> Iterator[tuple[RowResult, list[dict]]]:
    """Each row with commands to send, its commands acting as `actor`."""
    who = actor.model_dump(mode="json")
    for row in preview["rows"]:
        if row["commands"]:
            yield row, [{**command, "actor": who} for command in row["commands"]]


def row_status(outcomes: Sequence[Outcome | None]) -> tuple[str, dict[str, Any] | None]:
    for outcome in outcomes:
        if outcome is None:
            return "pending", None
        if outcome.rejection is not None:
            return "refused", outcome.rejection.model_dump(mode="json")
    if all(outcome is not None and outcome.replayed for outcome in outcomes):
        return "already", None
    return "imported", None


def summary(preview: Preview, sent: Sequence[tuple[RowResult, Sequence[Outcome | None]]]
            ) -> dict[str, Any]:
    """What the commit of `preview` did, from each sent row's answers."""
    counts = {"rows": preview["counts"]["rows"], "imported": 0, "already": 0, "refused": 0,
              "pending": 0, "unchanged": preview["counts"]["unchanged"],
              "differs": preview["counts"]["differs"],
              "refused_in_preview": preview["counts"]["refused"],
              "commands": sum(len(outcomes) for _, outcomes in sent)}
    if "links" in preview["counts"]:  # a filer registry: how many proposals it linked
        counts["linked"] = sum(1 for _, outcomes in sent for outcome in outcomes
                               if outcome is not None and not outcome.replayed
                               and any(s.event.type == "FilersLinked" for s in outcome.events))
    rows = []
    for row, outcomes in sent:
        status, reason = row_status(outcomes)
        counts[status] += 1
        if status in ("refused", "pending"):
            rows.append({"row": row["row"], "number": row["number"],
                         "proposal": row["proposal"], "status": status, "reason": reason})
    return {"counts": counts, "rows": rows}


def commit_rows(preview: Preview, actor: Actor, send: Callable[[dict], Outcome | None],
                sent_one: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """Each row's commands sent in order by `send`, as `actor`, a row stopping at its first
    refusal (or an answer that did not come); what the commit did (summary). `sent_one` is
    told of each command sent (a progress bar)."""
    sent = []
    for row, commands in row_commands(preview, actor):
        outcomes: list[Outcome | None] = []
        for command in commands:
            outcome = send(command)
            outcomes.append(outcome)
            sent_one()
            if outcome is None or outcome.rejection is not None:
                break
        sent.append((row, outcomes))
    return summary(preview, sent)
