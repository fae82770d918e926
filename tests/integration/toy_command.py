"""A toy command, `log_progress` (办理进度: a lead bureau says how far it has come), added the way
README's checklist says, in four files; and the check that sees it through the system, run
(`python -m tests.integration.toy_command DIR`) in a copy of the repository that has it
(tests/integration/test_adding_a_command.py makes the copy).

The check prints one JSON object: what the system made of the toy command (its route, its row
of the permission table, its form and words, the demo lines that carry it, the outcomes of
sending it, its events in the projections' history, the state they evolved)."""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

COMMAND = '''

class LogProgress(Command):
    """A lead bureau records how far its handling has come (办理进度)."""

    type: Literal["log_progress"] = "log_progress"
    labels: ClassVar[Labels] = Labels("办理进度", "log progress",
                                      expected=("预计办理结果", "expected result"),
                                      percent=("完成比例", "per cent done"),
                                      note=("进展情况", "progress made"))
    proposal: ProposalId
    bureau: BureauId
    expected: Result
    percent: int = Field(ge=0, le=100)
    note: Text = ""
'''

EVENT = '''

class ProgressLogged(Event):
    type: Literal["ProgressLogged"] = "ProgressLogged"
    labels: ClassVar[Labels] = Labels("办理进度", "progress logged")
    bureau: BureauId
    expected: Result
    percent: int
    note: str = ""
'''

DECIDER = '''

@decides(c.LogProgress, emits=(e.ProgressLogged,), roles=BUREAUS, clock="duty",
         route=proposal_route("progress"))
def log_progress(p: Proposal, cmd: c.LogProgress, ctx: Context, env: Envelopes) -> Decision:
    duty = _own_duty(p, cmd.bureau, "lead")
    if isinstance(duty, Rejection):
        return duty
    return [e.ProgressLogged(**env.next(), bureau=cmd.bureau, expected=cmd.expected,
                             percent=cmd.percent, note=cmd.note)]
'''

STATE_FIELD = "    progress: int = 0  # per cent done, as the lead last logged it\n"
EVOLVE_CASE = ("        case e.ProgressLogged():\n"
               "            return {\"progress\": event.percent}\n")

# The four files the checklist names, each with what the toy adds there.
FILES = ("banli/domain/commands.py", "banli/domain/events.py", "banli/domain/deciders.py",
         "banli/domain/proposal.py")


def add_toy_command(root: Path) -> list[str]:
    """Add the toy command to the repository at `root`; the files it changed."""
    for path, text in zip(FILES[:3], (COMMAND, EVENT, DECIDER)):
        with (root / path).open("a", encoding="utf-8") as out:
            out.write(text)
    proposal = root / FILES[3]
    proposal.write_text(_with_evolve_case(proposal.read_text(encoding="utf-8")),
                        encoding="utf-8")
    return list(FILES)


def _with_evolve_case(source: str) -> str:
    """proposal.py with the toy's field in Assignment (after its docstring) and its case first
    in `_duty_change`'s match."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    duty = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Assignment")
    change = next(n for n in tree.body
                  if isinstance(n, ast.FunctionDef) and n.name == "_duty_change")
    match = next(n for n in ast.walk(change) if isinstance(n, ast.Match))
    at_case, after_doc = match.cases[0].pattern.lineno - 1, duty.body[0].end_lineno
    assert after_doc is not None and after_doc < at_case
    return "".join([*lines[:after_doc], STATE_FIELD, *lines[after_doc:at_case], EVOLVE_CASE,
                    *lines[at_case:]])


def check(workdir: Path) -> dict:
    """See the toy command through the system, as the copy has it: everything in the answer is
    read from the running system (the embedded one, served over real HTTP)."""
    import httpx

    import banli
    from apps.embedded import EmbeddedSystem, create_app
    from banli.demo.generate import iter_history, to_jsonl
    from banli.domain.permissions import RIGHTS
    from banli.settings import Settings
    from tests.conftest import SECRET, LiveServer, token_for

    found: dict = {"banli": banli.__file__}
    settings = Settings(data_dir=workdir / "data", clickhouse_dsn=f"chdb:///{workdir / 'chdb'}",
                        clickhouse_database="toy", secret=SECRET)
    found["rights"] = dict(RIGHTS["log_progress"])
    history = list(iter_history(40, seed=5, years=(2020, 2020), bureaus=4))
    toy = [line for line in history if line["type"] == "log_progress"]
    found["demo_lines"] = toy
    system = EmbeddedSystem(settings).start()

    def client(role: str, bureau: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=live.url, timeout=120, headers={
            "Authorization": f"Bearer {token_for(SECRET, role, bureau)}"})

    try:
        with LiveServer(create_app(system)) as live:
            spec = client("admin").get("/openapi.json").json()
            found["route"] = {path: ops["post"]["x-banli-action"]
                              for path, ops in spec["paths"].items()
                              if ops.get("post", {}).get("x-banli-action") == "log_progress"}
            imported = client("importer").post(
                "/api/import", content="".join(map(to_jsonl, history)).encode(),
                headers={"Content-Type": "application/x-ndjson"})
            found["imported"] = imported.json()
            pid, lead = toy[0]["proposal"], toy[0]["bureau"]
            vocabulary = client("clerk", lead).get("/api/vocabulary").json()
            found["form"] = next(c for c in vocabulary["commands"] if c["type"] == "log_progress")
            found["event_words"] = next(e for e in vocabulary["events"]
                                        if e["type"] == "ProgressLogged")
            body = {"bureau": lead, "expected": "planned", "percent": 80}
            sent = client("clerk", lead).post(f"/api/proposals/{pid}/progress", json=body)
            found["sent"] = [sent.status_code, sent.json()]
            found["refused"] = {  # another bureau's clerk for this one; an overseer
                who: [(answer := client(role, bureau).post(
                    f"/api/proposals/{pid}/progress", json=body)).status_code,
                    answer.json().get("code")]
                for who, role, bureau in (("other clerk", "clerk", "sh-other"),
                                          ("overseer", "overseer", None))}
            assert system.settle(60), "the projections did not catch up"
            events = client("coordinator").get(f"/api/proposals/{pid}/history").json()["events"]
            found["history"] = [e for e in events if e["type"] == "ProgressLogged"]
            state = client("coordinator").get(f"/api/proposals/{pid}").json()
            found["progress"] = state["assignments"][lead]["progress"]
    finally:
        system.stop()
        system.reporting.drop()
    return found


if __name__ == "__main__":
    print(json.dumps(check(Path(sys.argv[1])), ensure_ascii=False, default=str))
