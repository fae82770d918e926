"""Who entered a command, as the edges say it (commands.entered_by) and as the idempotency key and
the fingerprint read it: the recorder's id, the actor named part of what was asked."""
from __future__ import annotations

from datetime import timedelta

from banli.domain import commands as c
from banli.domain.registry import parse_command
from banli.domain.types import Actor, Letter
from banli.eventlog import Outcome

IMPORTER = Actor(user="importer", role="importer")
CLERK = Actor(user="wang", bureau="sh-ipa", role="clerk")
OTHER_CLERK = Actor(user="li", bureau="sh-ipa", role="clerk")


def contact(actor: Actor, **more) -> c.Command:
    return parse_command({"type": "log_contact", "proposal": "2020-cppcc_proposal-1",
                          "bureau": "sh-ipa", "stage": "before", "method": "phone",
                          "command_id": "line-1", "at": "2020-03-01T10:00:00+08:00",
                          "actor": actor.model_dump(), **more})


def test_a_line_naming_another_actor_is_entered_by_the_signed_in_user():
    entered = c.entered_by(contact(CLERK), IMPORTER)
    assert entered.actor == CLERK and entered.recorded_by == IMPORTER
    assert c.recorder_of(entered) == IMPORTER
    assert c.sender_of(entered) == c.actor_key(IMPORTER)  # the id is the importer's


def test_a_users_own_act_names_no_recorder():
    own = c.entered_by(contact(IMPORTER), IMPORTER)
    assert own.recorded_by is None and c.sender_of(own) == c.actor_key(IMPORTER)
    assert "recorded_by" not in own.model_dump_json()


def test_a_recorder_in_the_body_is_never_taken():
    claimed = contact(CLERK, recorded_by={"user": "someone", "role": "importer"})
    assert c.entered_by(claimed, CLERK).recorded_by is None
    assert c.entered_by(claimed, IMPORTER).recorded_by == IMPORTER


def test_the_actor_named_is_part_of_what_an_importer_asked():
    """Resending a line is the same command; the same id naming another actor is another."""
    first = c.entered_by(contact(CLERK), IMPORTER)
    assert c.fingerprint(first) == c.fingerprint(c.entered_by(contact(CLERK), IMPORTER))
    assert c.fingerprint(first) != c.fingerprint(c.entered_by(contact(OTHER_CLERK), IMPORTER))
    # a user's own command: the actor is the edge's, not part of what was asked
    assert c.fingerprint(contact(CLERK)) == c.fingerprint(contact(OTHER_CLERK))


def test_a_command_sent_again_is_answered_by_the_record_the_code_before_letters_kept():
    """A reply or an approval without a letter, a submission whose filers have no id: their
    fingerprint as the code before those fields (9f4d12d) computed it, digests of then, is
    `fingerprint_before`, which Outcome.answers accepts beside `fingerprint` (a file
    imported then is answered `replayed` when imported again, not refused command_id_conflict).
    A command using either field could not have been asked then: it has none."""
    reply = parse_command({"type": "reply", "proposal": "2020-npc_suggestion-00019",
                           "bureau": "sh-stcsm", "result": "solved", "summary": "答复意见",
                           "signed_by": "芮文彪", "at": "2020-05-02T10:34:00+08:00",
                           "command_id": "x", "actor": IMPORTER.model_dump()})
    approval = parse_command({"type": "approve_reply", "proposal": "P1", "bureau": "sh-ipa",
                              "signed_by": "局长", "at": "2020-05-02T10:34:00+08:00",
                              "command_id": "y", "actor": CLERK.model_dump()})
    submission = parse_command({
        "type": "submit", "kind": "cppcc_proposal", "level": "municipal", "year": 2020,
        "number": "00015", "title": "关于加强养老工作的提案（00015号）",
        "filers": [{"name": "黄敏"}, {"name": "王芳"}], "affiliation": "民盟市委",
        "topics": ["养老"], "at": "2020-02-01T10:36:00+08:00", "command_id": "z",
        "actor": IMPORTER.model_dump()})
    then = [(reply, "3239f20bb21a717b86392b1db9c3e9b2f0b7429f817b41cb675d3bdc4255f470"),
            (approval, "b74e6c626f3768b2c3f07df0d6784c1c820c604a4ebc71428bc6894a8d9ccbfb"),
            (submission, "bf7b8e7af09bf231756d6cfb2751bacaef6855434af68728737303a0c55b65e1")]
    for command, digest in then:
        assert c.fingerprint_before(command) == digest != c.fingerprint(command)
        recorded = Outcome(command.command_id, sender=c.sender_of(command), fingerprint=digest)
        assert recorded.answers(command)
        other = command.model_copy(update={"at": command.at + timedelta(days=1)})
        assert not recorded.answers(other)  # another command under the id
    letter = Letter(sha256="a" * 64, name="答复函.pdf", media_type="application/pdf", size=10)
    assert c.fingerprint_before(reply.model_copy(update={"letter": letter})) is None
    linked = submission.model_copy(update={"filers": [c.Filer(name="黄敏", id="d-huang")]})
    assert c.fingerprint_before(linked) is None
    assert c.fingerprint_before(contact(CLERK)) is None  # no field it lacked then


def test_a_bureau_registered_before_short_and_former_names_is_answered_by_its_record():
    """register_bureau without short or former names: its fingerprint as the code before those
    fields (7929cb3) computed it, the digest of then; with either, it could not have been asked
    then."""
    register = parse_command({"type": "register_bureau", "bureau": "sh-ipa",
                              "name": "上海市知识产权局", "name_en": "Shanghai IP Administration",
                              "command_id": "b", "actor": {"user": "admin", "role": "admin"}})
    digest = "afee05fc66a9a770fe4002b747bb43b9b75ef1e72576484b7cc5457305e89fcb"
    assert c.fingerprint_before(register) == digest != c.fingerprint(register)
    assert Outcome("b", sender=c.sender_of(register), fingerprint=digest).answers(register)
    named = register.model_copy(update={"short_names": ["市知识产权局"]})
    assert c.fingerprint_before(named) is None
