"""Who entered a command, as the edges say it (commands.entered_by) and as the idempotency key and
the fingerprint read it: the recorder's id, the actor named part of what was asked."""
from __future__ import annotations

from banli.domain import commands as c
from banli.domain.registry import parse_command
from banli.domain.types import Actor

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
