"""The deciders: one per command type, each the rule of its command against a proposal's (or a
bureau's) state, building the typed events it becomes (`Event(**env.next(), ...)`) or the
rejection that says why not. Each is declared with its Spec (`@decides`: its command, the events
it emits, who may send it, the clock it follows, its route), which banli.domain.registry gathers;
`banli.domain.decide` runs what every command goes through first."""
from __future__ import annotations

from datetime import date

from . import commands as c
from . import events as e
from .envelope import Decision, Envelopes
from .proposal import Assignment, Bureau, Context, Proposal, ReplyDraft, State, linked
from .rejections import Rejection
from .spec import BUREAUS, COORDINATING, FEEDBACK, SUPERVISION, Specs, proposal_route
from .types import CHOICES, RESULT_CLASS, Role, business_date
from .timing.workdays import OutsideCalendar

SPECS = Specs()
decides = SPECS.decides
REVIEW_WORDS = dict(next(choice.labels for choice in CHOICES if choice.name == "review"))


@decides(c.RegisterBureau, emits=(e.BureauRegistered,), roles=COORDINATING, clock="none",
         route="/bureaus", service="intake", on_proposal=False)
def register_bureau(state: State, cmd: c.RegisterBureau, ctx: Context, env: Envelopes) -> Decision:
    # The bureau's own stream says whether it is registered; not the directory, which may know
    # of this very command's event (Kafka: a registration a worker appended but did not commit
    # before it died is decided again by the next owner, whose directory has read the event).
    if state is not None:
        return Rejection.of("duplicate_bureau", bureau=cmd.bureau)
    short = _distinct(cmd.short_names, {cmd.name})
    return [e.BureauRegistered(**env.next(), bureau=cmd.bureau, name=cmd.name, name_en=cmd.name_en,
                               short_names=short,
                               former_names=_distinct(cmd.former_names, {cmd.name, *short}))]


def _distinct(names: list[str], taken: set[str]) -> list[str]:
    """The names in order, each once, stripped, leaving out those `taken` (a short name that
    is the full name says nothing)."""
    found = dict.fromkeys(n.strip() for n in names)
    return [n for n in found if n and n not in taken]


def _standing(state: State, bureau: str, ctx: Context) -> Bureau | Rejection:
    """A registered bureau not merged into another."""
    if not isinstance(state, Bureau):
        return Rejection.of("unknown_bureau", bureau=bureau)
    if state.merged_into is not None:
        return Rejection.of("bureau_merged", bureau=bureau, successor=state.merged_into,
                            at=state.merged_at)
    return state


def _after_last(state: Bureau, cmd: c.Command) -> Rejection | None:
    """A bureau's records follow each other in business time (its names over time)."""
    if cmd.business_time < state.last_at:
        return Rejection.of("out_of_order", at=cmd.business_time, last=state.last_at,
                            what="该单位的上一条记录", what_en="the bureau's last record")
    return None


@decides(c.RenameBureau, emits=(e.BureauRenamed,), roles=COORDINATING, clock="none",
         service="intake", on_proposal=False)
def rename_bureau(state: State, cmd: c.RenameBureau, ctx: Context, env: Envelopes) -> Decision:
    bureau = _standing(state, cmd.bureau, ctx)
    if isinstance(bureau, Rejection):
        return bureau
    if (untimely := _after_last(bureau, cmd)) is not None:
        return untimely
    short = bureau.short_names if cmd.short_names is None else cmd.short_names
    short = _distinct(list(short), {cmd.name})
    if (cmd.name, cmd.name_en, short) == (bureau.name, bureau.name_en, list(bureau.short_names)):
        return Rejection.of("name_unchanged", bureau=cmd.bureau)
    return [e.BureauRenamed(**env.next(), bureau=cmd.bureau, name=cmd.name, name_en=cmd.name_en,
                            short_names=short)]


@decides(c.MergeBureau, emits=(e.BureauMerged,), roles=COORDINATING, clock="none",
         service="intake", on_proposal=False)
def merge_bureau(state: State, cmd: c.MergeBureau, ctx: Context, env: Envelopes) -> Decision:
    bureau = _standing(state, cmd.bureau, ctx)
    if isinstance(bureau, Rejection):
        return bureau
    if (untimely := _after_last(bureau, cmd)) is not None:
        return untimely
    if cmd.into == cmd.bureau:
        return Rejection.of("merge_into_itself", bureau=cmd.bureau)
    if (into := _successor(cmd.into, ctx)) is not None:
        return into
    return [e.BureauMerged(**env.next(), bureau=cmd.bureau, into=cmd.into)]


def _successor(bureau: str, ctx: Context) -> Rejection | None:
    """Why `bureau` cannot take another bureau's duties: not registered, or merged itself."""
    if not ctx.directory.has_bureau(bureau):
        return Rejection.of("unknown_bureau", bureau=bureau)
    if (merged := ctx.directory.merged_into(bureau)) is not None:
        return Rejection.of("bureau_merged", bureau=bureau, successor=merged[0], at=merged[1])
    return None


@decides(c.RegisterFiler, emits=(e.FilerRegistered,), roles=COORDINATING, clock="none",
         route="/filers", service="intake", on_proposal=False)
def register_filer(state: State, cmd: c.RegisterFiler, ctx: Context, env: Envelopes) -> Decision:
    # as for a bureau, the filer's own stream says whether it is registered
    if state is not None:
        return Rejection.of("duplicate_filer", filer=cmd.filer)
    owner = ctx.directory.filer_of_account(cmd.account) if cmd.account else None
    if owner is not None and owner != cmd.filer:
        return Rejection.of("account_taken", account=cmd.account, owner=owner)
    return [e.FilerRegistered(**env.next(), filer=cmd.filer, name=cmd.name, kind=cmd.kind,
                              affiliation=cmd.affiliation, term=cmd.term, account=cmd.account)]


@decides(c.Submit, emits=(e.ProposalSubmitted, e.ProposalReceived), roles=COORDINATING,
         clock="none", route="/proposals", service="intake", on_proposal=False)
def submit(state: State, cmd: c.Submit, ctx: Context, env: Envelopes) -> Decision:
    """Filed on submit, or (`review`) received for the office's review, due by the profile's
    clock."""
    if state is not None:
        return Rejection.of("duplicate_proposal", proposal=cmd.proposal_id)
    owner = ctx.directory.owner_of(cmd.natural_key)
    if owner is not None and owner != cmd.proposal_id:
        return Rejection.of("duplicate_number", key=cmd.natural_key, existing=owner)
    ids = _filer_ids(cmd, ctx)
    if isinstance(ids, Rejection):
        return ids
    if (unknown := _unknown_area(cmd.area, cmd.year, ctx)) is not None:
        return unknown
    due = _review_due(cmd, ctx) if cmd.review else None
    if isinstance(due, Rejection):
        return due
    submitted = e.ProposalSubmitted(**env.next(),
        kind=cmd.kind, level=cmd.level, year=cmd.year, number=cmd.number, title=cmd.title,
        filers=[f.name for f in cmd.filers], filer_ids=ids, affiliation=cmd.affiliation,
        topics=cmd.topics, summary=cmd.summary, key_item=cmd.key_item,
        filer_kind=cmd.filer_kind, area=cmd.area or "")
    if due is None:
        return [submitted]
    return [submitted, e.ProposalReceived(**env.next(), review_due=due)]


def _unknown_area(area: str | None, year: int, ctx: Context) -> Rejection | None:
    """Why `area` is not one of the areas of `year` (the profile's list), or None."""
    areas = ctx.profile.areas_of(year)
    if area is None or area in {a.code for a in areas}:
        return None
    return Rejection.of("unknown_area", area=area, year=year,
                        areas="、".join(f"{a.zh}（{a.code}）" for a in areas),
                        areas_en=", ".join(f"{a.en or a.zh} ({a.code})" for a in areas))


def _review_due(cmd: c.Command, ctx: Context) -> date | Rejection:
    """The office's review of what it receives on the command's day is due N working days on
    (the profile's `intake_review_working_days`)."""
    try:
        return ctx.profile.intake_review_due(ctx.calendar, business_date(cmd.business_time))
    except OutsideCalendar as gap:
        return _not_covered(gap)


def _filer_ids(cmd: c.Submit, ctx: Context) -> list[str | None] | Rejection:
    """Each filer's id in the registry: the one given (registered, else refused), or the one
    registered filer of that exact name and the proposal's affiliation (none where there is
    none, or several: `link_filers` links them later)."""
    ids: list[str | None] = []
    for filer in cmd.filers:
        if filer.id is not None and ctx.directory.filer_name(filer.id) is None:
            return Rejection.of("unknown_filer", filer=filer.id)
        found = [filer.id] if filer.id else ctx.directory.filers_named(filer.name,
                                                                       cmd.affiliation)
        ids.append(found[0] if len(found) == 1 and found[0] not in ids else None)
    return ids


@decides(c.LinkFilers, emits=(e.FilersLinked,), roles=COORDINATING, clock="none",
         route=proposal_route("filers"), service="intake")
def link_filers(p: Proposal, cmd: c.LinkFilers, ctx: Context, env: Envelopes) -> Decision:
    links: list[e.LinkedFiler] = []
    for link in cmd.filers:
        registered = ctx.directory.filer_name(link.id)
        if registered is None:
            return Rejection.of("unknown_filer", filer=link.id)
        if link.id in p.filer_ids or link.id in [made.id for made in links]:
            continue  # linked already: linking again changes nothing
        name = link.name or registered
        links.append(e.LinkedFiler(name=name, id=link.id))
        if linked(p, links) == linked(p, links[:-1]):
            return Rejection.of("not_a_filer_name", proposal=p.id, name=name)
    if not links:
        return Rejection.of("already_linked", proposal=p.id)
    return [e.FilersLinked(**env.next(), filers=links)]


def _new_duties(p: Proposal, cmd: c.Assign | c.Reassign, leads: list[str], cos: list[str],
                ctx: Context) -> list[e.Duty] | Rejection:
    seen: set[str] = set()
    for bureau in [*leads, *cos]:
        if bureau in seen:
            return Rejection.of("duplicate_role", bureau=bureau)
        seen.add(bureau)
        if (gone := _successor(bureau, ctx)) is not None:
            return gone
    assigned = business_date(cmd.business_time)
    reply_due = cmd.reply_due or ctx.profile.reply_due(assigned, p.kind)
    opinion_due = cmd.opinion_due or ctx.profile.opinion_due(assigned)
    for due in ((reply_due,) if leads else ()) + ((opinion_due,) if cos else ()):
        if due < assigned:
            return Rejection.of("due_before_assignment", due=due, assigned=assigned)
    return ([e.Duty(bureau=b, role="lead", due=reply_due) for b in leads]
            + [e.Duty(bureau=b, role="co", due=opinion_due) for b in cos])


@decides(c.Assign, emits=(e.ProposalAssigned,), roles=COORDINATING, clock="proposal",
         route=proposal_route("assign"), service="intake")
def assign(p: Proposal, cmd: c.Assign, ctx: Context, env: Envelopes) -> Decision:
    if p.review != "filed":  # only a filed proposal is handled (审查立案 first)
        return _review_state("not_filed_yet", p)
    if p.ever_assigned:
        return Rejection.of("already_assigned", proposal=p.id)
    if not cmd.lead:
        return Rejection.of("no_lead")
    duties = _new_duties(p, cmd, cmd.lead, cmd.co, ctx)
    if isinstance(duties, Rejection):
        return duties
    return [e.ProposalAssigned(**env.next(), duties=duties)]


@decides(c.Reassign, emits=(e.ProposalReassigned,), roles=COORDINATING, clock="proposal")
def reassign(p: Proposal, cmd: c.Reassign, ctx: Context, env: Envelopes) -> Decision:
    for bureau in cmd.remove:
        duty = p.duty(bureau)
        if duty is None:
            return Rejection.of("not_assigned", bureau=bureau, proposal=p.id)
        if duty.replies:
            return Rejection.of("cannot_remove_replied", bureau=bureau)
    for bureau in [*cmd.add_lead, *cmd.add_co]:
        if bureau in cmd.remove:
            return Rejection.of("duplicate_role", bureau=bureau)
        if p.duty(bureau) is not None:
            return Rejection.of("already_active", bureau=bureau, proposal=p.id)
    duties = _new_duties(p, cmd, cmd.add_lead, cmd.add_co, ctx)
    if isinstance(duties, Rejection):
        return duties
    leads_left = [a for a in p.active_duties() if a.role == "lead" and a.bureau not in cmd.remove]
    if not leads_left and not cmd.add_lead:
        return Rejection.of("no_lead")
    return [e.ProposalReassigned(**env.next(), added=duties, removed=cmd.remove)]


def _own_duty(p: Proposal, bureau: str, role: Role | None = None) -> Assignment | Rejection:
    duty = p.duty(bureau)
    if duty is None:
        return Rejection.of("not_assigned", bureau=bureau, proposal=p.id)
    if role == "lead" and duty.role != "lead":
        return Rejection.of("not_lead", proposal=p.id)
    if role == "co" and duty.role != "co":
        return Rejection.of("not_co")
    return duty


def _replied_lead(p: Proposal, bureau: str) -> Assignment | Rejection:
    duty = _own_duty(p, bureau, "lead")
    if isinstance(duty, Assignment) and not duty.replies:
        return Rejection.of("not_replied", bureau=bureau, proposal=p.id)
    return duty


@decides(c.Acknowledge, emits=(e.AssignmentAcknowledged,), roles=BUREAUS, clock="duty",
         route=proposal_route("acknowledge"))
def acknowledge(p: Proposal, cmd: c.Acknowledge, ctx: Context, env: Envelopes) -> Decision:
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if duty.acknowledged:
        return Rejection.of("already_acknowledged", bureau=cmd.bureau)
    return [e.AssignmentAcknowledged(**env.next(), bureau=cmd.bureau)]


@decides(c.Return, emits=(e.AssignmentReturned,), roles=BUREAUS, clock="duty",
         route=proposal_route("return"))
def return_(p: Proposal, cmd: c.Return, ctx: Context, env: Envelopes) -> Decision:
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if duty.replies or duty.opinions:
        return Rejection.of("cannot_return_after_reply", bureau=cmd.bureau)
    day = business_date(cmd.business_time)
    try:
        too_late = ctx.profile.return_too_late(ctx.calendar, duty.assigned_on, day)
    except OutsideCalendar as gap:
        return _not_covered(gap)
    if too_late:
        return Rejection.of("return_window_closed", bureau=cmd.bureau,
                            days=ctx.profile.return_working_days, assigned=duty.assigned_on,
                            deadline=ctx.profile.return_deadline(ctx.calendar, duty.assigned_on))
    return [e.AssignmentReturned(**env.next(), bureau=cmd.bureau, reason=cmd.reason)]


def _not_covered(gap: OutsideCalendar) -> Rejection:
    return Rejection.of("calendar_not_covered", day=gap.day, calendar=gap.calendar_name,
                        first=gap.first_year, last=gap.last_year)


@decides(c.LogContact, emits=(e.ContactLogged,), roles=BUREAUS, clock="duty",
         route=proposal_route("contacts"))
def log_contact(p: Proposal, cmd: c.LogContact, ctx: Context, env: Envelopes) -> Decision:
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [e.ContactLogged(**env.next(), bureau=cmd.bureau, stage=cmd.stage, method=cmd.method,
                                   note=cmd.note)]


@decides(c.SubmitOpinion, emits=(e.OpinionSubmitted,), roles=BUREAUS, clock="duty",
         route=proposal_route("opinion"))
def submit_opinion(p: Proposal, cmd: c.SubmitOpinion, ctx: Context, env: Envelopes) -> Decision:
    duty = _own_duty(p, cmd.bureau, "co")
    if isinstance(duty, Rejection):
        return duty
    return [e.OpinionSubmitted(**env.next(), bureau=cmd.bureau, summary=cmd.summary)]


def _awaiting_lead(p: Proposal, bureau: str) -> Assignment | Rejection:
    duty = _own_duty(p, bureau, "lead")
    if isinstance(duty, Assignment) and not duty.awaiting_reply:
        return Rejection.of("already_replied", bureau=bureau, proposal=p.id)
    return duty


@decides(c.Reply, emits=(e.ReplyIssued,), roles=BUREAUS, clock="duty",
         route=proposal_route("reply"))
def reply(p: Proposal, cmd: c.Reply, ctx: Context, env: Envelopes) -> Decision:
    duty = _awaiting_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    # A history import records replies as they were issued: their review, if any, happened
    # before the system knew of them (whoever's act it names: the importer entered it).
    recorder = c.recorder_of(cmd)
    if ctx.profile.review and (recorder is None or recorder.role != "importer"):
        steps = "cosign" in ctx.profile.review
        return Rejection.of("review_required", profile=ctx.profile.name,
                            steps="、经会办单位会签" if steps else "",
                            steps_en="co-signed" if steps else "reviewed")
    return [e.ReplyIssued(**env.next(), bureau=cmd.bureau, result=cmd.result, summary=cmd.summary,
                                 signed_by=cmd.signed_by, letter=cmd.letter)]


@decides(c.DraftReply, emits=(e.ReplyDrafted,), roles=BUREAUS, clock="duty",
         route=proposal_route("reply/draft"))
def draft_reply(p: Proposal, cmd: c.DraftReply, ctx: Context, env: Envelopes) -> Decision:
    duty = _awaiting_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [e.ReplyDrafted(**env.next(), bureau=cmd.bureau, result=cmd.result, summary=cmd.summary)]


def _drafted(p: Proposal, lead: str) -> ReplyDraft | Rejection:
    duty = p.duty(lead)
    if duty is None or duty.role != "lead" or duty.draft is None:
        return Rejection.of("no_draft", bureau=lead)
    return duty.draft


@decides(c.SignOffReply, emits=(e.ReplySignedOff,), roles=BUREAUS, clock="duty",
         route=proposal_route("reply/sign-off"))
def sign_off_reply(p: Proposal, cmd: c.SignOffReply, ctx: Context, env: Envelopes) -> Decision:
    duty = _own_duty(p, cmd.bureau, "co")
    if isinstance(duty, Rejection):
        return duty
    draft = _drafted(p, cmd.lead)
    if isinstance(draft, Rejection):
        return draft
    if cmd.bureau in draft.signed_off:
        return Rejection.of("already_signed_off", bureau=cmd.bureau, lead=cmd.lead)
    return [e.ReplySignedOff(**env.next(), bureau=cmd.bureau, lead=cmd.lead, remark=cmd.remark)]


@decides(c.RegradeReply, emits=(e.ReplyRegraded,), roles=COORDINATING, clock="duty",
         route=proposal_route("reply/regrade"))
def regrade_reply(p: Proposal, cmd: c.RegradeReply, ctx: Context, env: Envelopes) -> Decision:
    draft = _drafted(p, cmd.bureau)
    if isinstance(draft, Rejection):
        return draft
    if draft.result == cmd.result:
        return Rejection.of("regrade_unchanged", result_class=RESULT_CLASS[cmd.result])
    return [e.ReplyRegraded(**env.next(), bureau=cmd.bureau, result=cmd.result, previous=draft.result,
                                   reason=cmd.reason)]


@decides(c.ApproveReply, emits=(e.ReplyApproved, e.ReplyIssued), roles=BUREAUS, clock="duty",
         route=proposal_route("reply/approve"))
def approve_reply(p: Proposal, cmd: c.ApproveReply, ctx: Context, env: Envelopes) -> Decision:
    duty = _awaiting_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    draft = _drafted(p, cmd.bureau)
    if isinstance(draft, Rejection):
        return draft
    if "cosign" in ctx.profile.review:
        pending = [a.bureau for a in p.active_duties()
                   if a.role == "co" and a.bureau not in draft.signed_off]
        if pending:
            return Rejection.of("cosign_pending", pending=", ".join(sorted(pending)))
    return [e.ReplyApproved(**env.next(), bureau=cmd.bureau, signed_by=cmd.signed_by),
            e.ReplyIssued(**env.next(), bureau=cmd.bureau, result=draft.result, summary=draft.summary,
                                 signed_by=cmd.signed_by, letter=cmd.letter)]


@decides(c.DecideDisclosure, emits=(e.DisclosureDecided,), roles=BUREAUS, clock="duty",
         route=proposal_route("disclosure"))
def decide_disclosure(p: Proposal, cmd: c.DecideDisclosure, ctx: Context,
                       env: Envelopes) -> Decision:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [e.DisclosureDecided(**env.next(), bureau=cmd.bureau, disclosure=cmd.disclosure,
                                       reason=cmd.reason, url=cmd.url)]


@decides(c.RecordFeedback, emits=(e.FeedbackRecorded,), roles=FEEDBACK, clock="duty",
         route=proposal_route("feedback"))
def record_feedback(p: Proposal, cmd: c.RecordFeedback, ctx: Context, env: Envelopes) -> Decision:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    # a filer rating a reply themselves does so on line (the page), unless they say otherwise
    recorder = c.recorder_of(cmd)
    channel = cmd.channel or ("online" if recorder is not None and recorder.role == "filer"
                              else None)
    return [e.FeedbackRecorded(**env.next(), bureau=cmd.bureau, satisfaction=cmd.satisfaction,
                                      comment=cmd.comment, channel=channel)]


@decides(c.Reopen, emits=(e.HandlingReopened,), roles=BUREAUS, clock="duty",
         route=proposal_route("reopen"))
def reopen(p: Proposal, cmd: c.Reopen, ctx: Context, env: Envelopes) -> Decision:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if duty.awaiting_reply:
        return Rejection.of("not_replied", bureau=cmd.bureau, proposal=p.id)
    if duty.feedback_on_reply != "dissatisfied":  # feedback on an earlier reply does not count
        return Rejection.of("not_dissatisfied")
    if cmd.reply_due < business_date(cmd.business_time):
        return Rejection.of("due_before_assignment", due=cmd.reply_due,
                            assigned=business_date(cmd.business_time))
    return [e.HandlingReopened(**env.next(), bureau=cmd.bureau, reason=cmd.reason,
                                      reply_due=cmd.reply_due)]


@decides(c.ReviseResult, emits=(e.ResultRevised,), roles=BUREAUS, clock="duty",
         route=proposal_route("revise-result"))
def revise_result(p: Proposal, cmd: c.ReviseResult, ctx: Context, env: Envelopes) -> Decision:
    duty = _replied_lead(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    return [e.ResultRevised(**env.next(), bureau=cmd.bureau, result=cmd.result, note=cmd.note)]


def _extensible(p: Proposal, bureau: str, reply_due: date, ctx: Context
                ) -> Assignment | Rejection:
    """A lead's first reply deadline, which may move to `reply_due`: later than it is, and no
    later than the profile's limit after the assignment."""
    duty = _own_duty(p, bureau, "lead")
    if isinstance(duty, Rejection):
        return duty
    if duty.replies:
        return Rejection.of("already_replied", bureau=bureau, proposal=p.id)
    if reply_due <= duty.due:
        return Rejection.of("extension_not_later", reply_due=reply_due, current=duty.due)
    limit = ctx.profile.extension_limit(duty.assigned_on)
    if reply_due > limit:
        return Rejection.of("extension_too_long", limit=limit)
    return duty


@decides(c.ExtendDeadline, emits=(e.DeadlineExtended,), roles=COORDINATING, clock="duty",
         route=proposal_route("extend-deadline"))
def extend_deadline(p: Proposal, cmd: c.ExtendDeadline, ctx: Context, env: Envelopes) -> Decision:
    """The coordinator's approval (settles a pending request, whatever date it asked)."""
    duty = _extensible(p, cmd.bureau, cmd.reply_due, ctx)
    if isinstance(duty, Rejection):
        return duty
    return [e.DeadlineExtended(**env.next(), bureau=cmd.bureau, reply_due=cmd.reply_due,
                                      reason=cmd.reason)]


@decides(c.RequestExtension, emits=(e.ExtensionRequested,), roles=BUREAUS, clock="duty",
         route=proposal_route("extension-request"))
def request_extension(p: Proposal, cmd: c.RequestExtension, ctx: Context,
                      env: Envelopes) -> Decision:
    """What the coordinator could approve: the rules of an extension, asked in advance."""
    duty = _extensible(p, cmd.bureau, cmd.reply_due, ctx)
    if isinstance(duty, Rejection):
        return duty
    return [e.ExtensionRequested(**env.next(), bureau=cmd.bureau, reply_due=cmd.reply_due,
                                 reason=cmd.reason)]


@decides(c.DenyExtension, emits=(e.ExtensionDenied,), roles=COORDINATING, clock="duty",
         route=proposal_route("extension-request/deny"))
def deny_extension(p: Proposal, cmd: c.DenyExtension, ctx: Context, env: Envelopes) -> Decision:
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if duty.extension_request is None:
        return Rejection.of("no_extension_request", bureau=cmd.bureau)
    return [e.ExtensionDenied(**env.next(), bureau=cmd.bureau,
                              reply_due=duty.extension_request.reply_due, reason=cmd.reason)]


@decides(c.Supervise, emits=(e.ProposalSupervised,), roles=SUPERVISION, clock="proposal",
         route=proposal_route("supervise"))
def supervise(p: Proposal, cmd: c.Supervise, ctx: Context, env: Envelopes) -> Decision:
    if cmd.bureau is not None and p.duty(cmd.bureau) is None:
        return Rejection.of("not_assigned", bureau=cmd.bureau, proposal=p.id)
    return [e.ProposalSupervised(**env.next(), bureau=cmd.bureau, note=cmd.note)]


@decides(c.MarkKeyItem, emits=(e.KeyItemMarked,), roles=COORDINATING, clock="proposal",
         route=proposal_route("key-item"))
def mark_key_item(p: Proposal, cmd: c.MarkKeyItem, ctx: Context, env: Envelopes) -> Decision:
    if p.key_item == cmd.key:
        return Rejection.of("key_item_unchanged", proposal=p.id,
                            now="已是" if cmd.key else "不是", now_en="is" if cmd.key else "is not")
    return [e.KeyItemMarked(**env.next(), key=cmd.key, reason=cmd.reason)]


@decides(c.HandOver, emits=(e.DutyHandedOver,), roles=COORDINATING, clock="duty")
def hand_over(p: Proposal, cmd: c.HandOver, ctx: Context, env: Envelopes) -> Decision:
    """A split's handover (a merger's are recorded before any decider runs:
    banli.domain.reorganisation)."""
    done = p.assignments.get(cmd.bureau)
    if done is not None and done.status == "handed_over":
        return Rejection.of("already_handed_over", bureau=cmd.bureau, to=done.handed_to,
                            proposal=p.id)
    duty = _own_duty(p, cmd.bureau)
    if isinstance(duty, Rejection):
        return duty
    if cmd.to == cmd.bureau:
        return Rejection.of("hand_over_to_itself", bureau=cmd.bureau)
    if (gone := _successor(cmd.to, ctx)) is not None:
        return gone
    return [e.DutyHandedOver(**env.next(), from_bureau=cmd.bureau, to_bureau=cmd.to)]
# --- the office's review (审查立案): each decision on a proposal awaiting it ---------------------
def _review_state(code: str, p: Proposal) -> Rejection:
    zh, en = REVIEW_WORDS[p.review]
    return Rejection.of(code, proposal=p.id, state=zh, state_en=en)


@decides(c.FileProposal, emits=(e.ProposalFiled,), roles=COORDINATING, clock="proposal",
         route=proposal_route("review/file"), service="intake")
def file_proposal(p: Proposal, cmd: c.FileProposal, ctx: Context, env: Envelopes) -> Decision:
    if p.review != "pending":
        return _review_state("not_under_review", p)
    if (unknown := _unknown_area(cmd.area, p.year, ctx)) is not None:
        return unknown
    return [e.ProposalFiled(**env.next(), area=cmd.area or p.area)]


@decides(c.DeclineFiling, emits=(e.FilingDeclined,), roles=COORDINATING, clock="proposal",
         route=proposal_route("review/decline"), service="intake")
def decline_filing(p: Proposal, cmd: c.DeclineFiling, ctx: Context, env: Envelopes) -> Decision:
    if p.review != "pending":
        return _review_state("not_under_review", p)
    return [e.FilingDeclined(**env.next(), referred_to=cmd.referred_to, reason=cmd.reason)]


@decides(c.RequestRevision, emits=(e.RevisionRequested,), roles=COORDINATING, clock="proposal",
         route=proposal_route("review/return"), service="intake")
def request_revision(p: Proposal, cmd: c.RequestRevision, ctx: Context,
                     env: Envelopes) -> Decision:
    if p.review != "pending":
        return _review_state("not_under_review", p)
    return [e.RevisionRequested(**env.next(), reason=cmd.reason)]


@decides(c.Resubmit, emits=(e.ProposalResubmitted,), roles={**COORDINATING, "filer": "filed"},
         clock="proposal", route=proposal_route("resubmit"), service="intake")
def resubmit(p: Proposal, cmd: c.Resubmit, ctx: Context, env: Envelopes) -> Decision:
    """The filer's own (a proposal they filed), or the office's for them."""
    if p.review != "returned":
        return _review_state("not_returned", p)
    if (unknown := _unknown_area(cmd.area, p.year, ctx)) is not None:
        return unknown
    due = _review_due(cmd, ctx)
    if isinstance(due, Rejection):
        return due
    return [e.ProposalResubmitted(**env.next(), title=cmd.title, summary=cmd.summary,
                                  topics=cmd.topics, area=cmd.area, note=cmd.note,
                                  review_due=due)]


@decides(c.Withdraw, emits=(e.ProposalWithdrawn,), roles=COORDINATING, clock="closing")
def withdraw(p: Proposal, cmd: c.Withdraw, ctx: Context, env: Envelopes) -> Decision:
    return [e.ProposalWithdrawn(**env.next(), reason=cmd.reason)]


@decides(c.Merge, emits=(e.ProposalMerged,), roles=COORDINATING, clock="closing")
def merge(p: Proposal, cmd: c.Merge, ctx: Context, env: Envelopes) -> Decision:
    """并案. On a proposal awaiting the office's review (or returned for revision) it is the
    review's outcome `merged`, not filed; on a filed one, a merge while in hand (its duties stop
    counting, as a withdrawal's)."""
    if cmd.into == p.id or ctx.directory.proposal_status(cmd.into) != "open":
        return Rejection.of("merge_target", into=cmd.into)
    return [e.ProposalMerged(**env.next(), into=cmd.into)]
