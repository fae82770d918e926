"""Banli's tokens: standard JWTs, a key ring that rotates, revocation by token and by user, a
maximum lifetime, secrets that are strong or refused, and files only their owner reads."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import jwt
import pytest

from banli.auth import Authority, AuthError, WeakSecret, issue_token, key_id
from apps.cli import main
from banli.domain.types import Actor
from tests.conftest import ROOT, SECRET

CLERK = Actor(user="wang", bureau="sh-ipa", role="clerk")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_token_is_a_standard_jwt_with_the_claims_and_the_key_id(tmp_path):
    auth = Authority(tmp_path / "auth")
    token = auth.issue(CLERK, 3600)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256" and header["kid"] == auth.keys()[0].kid
    assert {k: claims[k] for k in ("sub", "role", "bureau", "iss")} == {
        "sub": "wang", "role": "clerk", "bureau": "sh-ipa", "iss": "banli"}
    assert claims["exp"] - claims["iat"] == 3600 and len(claims["jti"]) == 32
    assert auth.verify(token)[0] == CLERK
    assert mode(tmp_path / "auth") == 0o700 and mode(tmp_path / "auth" / "auth.sqlite3") == 0o600


def test_keys_rotate_and_retire(tmp_path):
    auth = Authority(tmp_path)
    old = auth.issue(CLERK, 3600)
    first = auth.keys()[0].kid
    second = auth.rotate()
    new = auth.issue(CLERK, 3600)
    assert jwt.get_unverified_header(new)["kid"] == second != first
    assert auth.verify(old)[0] == auth.verify(new)[0] == CLERK  # old keys verify until retired
    with pytest.raises(ValueError, match="rotate first"):
        auth.retire(second)
    auth.retire(first)
    with pytest.raises(AuthError, match="retired"):
        auth.verify(old)
    assert auth.verify(new)[0] == CLERK
    again = Authority(tmp_path)  # another process on the same auth dir sees the same ring
    assert again.verify(new)[0] == CLERK and [k.kid for k in again.keys()] == [second, first]


def test_revocation_by_token_and_by_user(tmp_path):
    auth = Authority(tmp_path)
    one, two = auth.issue(CLERK, 3600), auth.issue(CLERK, 3600)
    other = auth.issue(Actor(user="li", bureau="sh-hrss", role="clerk"), 3600)
    auth.revoke(one)
    with pytest.raises(AuthError, match="revoked"):
        auth.verify(one)
    assert auth.verify(two)[0] == CLERK
    auth.revoke_user("wang")
    with pytest.raises(AuthError, match="revoked"):
        auth.verify(two)
    assert auth.verify(other)[0].user == "li"
    later = auth.issue(CLERK, 3600, now=time.time() + 2)  # signed in again afterwards
    assert auth.verify(later)[0] == CLERK
    with pytest.raises(AuthError, match="revoked"):
        Authority(tmp_path).verify(two)  # the revocations are shared through the auth dir


def test_no_token_lives_longer_than_allowed(tmp_path):
    auth = Authority(tmp_path, max_ttl_days=90)
    with pytest.raises(ValueError, match="90 days"):
        auth.issue(CLERK, 100 * 86400)
    long = jwt.encode({"iss": "banli", "sub": "wang", "role": "overseer", "iat": int(time.time()),
                       "exp": int(time.time()) + 365 * 86400, "jti": "x"},
                      auth.keys()[0].secret, algorithm="HS256",
                      headers={"kid": auth.keys()[0].kid})
    with pytest.raises(AuthError, match="longer"):
        auth.verify(long)


@pytest.mark.parametrize("weak", ["a", "x" * 64, "short-but-mixed-123", "é" * 40])
def test_a_weak_secret_is_refused(tmp_path, weak):
    with pytest.raises(WeakSecret, match="32 random bytes"):
        Authority(tmp_path, secret=weak)


def test_a_configured_secret_signs_and_old_ones_still_verify(tmp_path):
    old_secret = "former-Secret-0123456789-abcdefghijKLMNOP"
    old_token = issue_token(old_secret, CLERK, 3600)
    auth = Authority(tmp_path, secret=SECRET, old_secrets=[old_secret])
    new_token = auth.issue(CLERK, 3600)
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(SECRET)
    assert auth.verify(old_token)[0] == auth.verify(new_token)[0] == CLERK
    with pytest.raises(AuthError, match="unknown"):
        Authority(tmp_path, secret=SECRET).verify(old_token)  # dropped from the old ones
    with pytest.raises(ValueError, match="BANLI_SECRET"):
        auth.rotate()


def test_the_token_command(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BANLI_SECRET", raising=False)
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["token", "issue", "--user", "wang", "--bureau", "sh-ipa", "--role", "clerk",
                 *data]) == 0
    token = capsys.readouterr().out.strip()
    auth = Authority(tmp_path / "data")
    assert auth.verify(token)[0] == CLERK
    assert main(["token", "issue", "--user", "w", "--role", "admin", "--ttl-days", "36500",
                 *data]) == 2
    assert "at most 90 days" in capsys.readouterr().err
    assert main(["token", "issue", "--user", "w", "--role", "clerk", *data]) == 2  # no bureau
    assert main(["token", "revoke", "--token", token, *data]) == 0
    with pytest.raises(AuthError, match="revoked"):
        auth.verify(token)
    assert main(["token", "rotate", *data]) == 0 and main(["token", "keys", *data]) == 0
    listed = capsys.readouterr().out
    assert listed.count("active") == 2
    monkeypatch.setenv("BANLI_SECRET", "a")
    assert main(["token", "issue", "--user", "w", "--role", "admin", *data]) == 2
    assert "32 random bytes" in capsys.readouterr().err


def test_the_data_dir_and_its_files_are_the_owners_only(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an earlier release left it
    (data / "events.sqlite3").touch(mode=0o644)
    (data / "events.sqlite3").chmod(0o644)
    history = tmp_path / "h.jsonl"
    history.write_text('{"type": "register_bureau", "bureau": "sh-ipa", "name": "局", '
                       '"at": "2020-01-02T09:00:00+08:00"}\n', encoding="utf-8")
    env = {**os.environ, "BANLI_SECRET": SECRET}
    done = subprocess.run([sys.executable, "-m", "apps.cli", "import", str(history),
                           "--data-dir", str(data)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert mode(data) == 0o700
    files = [p for p in data.iterdir() if p.is_file()]
    assert any(p.name == "events.sqlite3" for p in files)
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def _signed(auth: Authority, **claims) -> str:
    """A token signed with the authority's own key, carrying exactly these claims."""
    now = int(time.time())
    body = {"iss": "banli", "sub": "wang", "role": "clerk", "bureau": "sh-ipa", "iat": now,
            "exp": now + 3600, "jti": "j-" + os.urandom(8).hex(), **claims}
    key = auth.keys()[0]
    return jwt.encode(body, key.secret, algorithm="HS256", headers={"kid": key.kid})


@pytest.mark.parametrize("claims", [
    {"exp": "nan"}, {"exp": float("nan")}, {"exp": "inf"}, {"exp": float("inf")},
    {"iat": "nan"}, {"iat": float("nan")}, {"exp": str(int(time.time()) + 3600)},
    {"exp": True}, {"iat": None}, {"exp": [1]},
])
def test_dates_that_are_not_finite_numbers_make_a_malformed_token(tmp_path, claims):
    auth = Authority(tmp_path)
    with pytest.raises(AuthError, match="malformed"):
        auth.verify(_signed(auth, **claims))


def test_a_nan_expiry_neither_outlives_the_cap_nor_escapes_revocation(tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.delenv("BANLI_SECRET", raising=False)
    data = tmp_path / "data"
    auth = Authority(data)
    forever = _signed(auth, exp="nan", iat=int(time.time()) - 400 * 86400)
    with pytest.raises(AuthError):
        auth.verify(forever)
    # the command line does not claim to have revoked what it could not store
    assert main(["token", "revoke", "--token", forever, "--data-dir", str(data)]) == 2
    assert "revoked" not in capsys.readouterr().out
    with pytest.raises(ValueError):
        auth.revoke_token("x", "wang", float("nan"))


def test_revoking_a_token_on_the_command_line_stores_it_where_the_servers_look(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BANLI_SECRET", SECRET)  # any auth dir verifies a token signed with it
    served = tmp_path / "served"
    server = Authority(served, secret=SECRET)  # what a server on that data dir opens
    token = server.issue(CLERK, 3600)
    unused = tmp_path / "unused"
    for action in (["revoke", "--token", token], ["revoke", "--user", "wang"],
                   ["revoke", "--jti", "j"], ["keys"]):
        assert main(["token", *action, "--data-dir", str(unused)]) == 2, action
        assert "no key ring or revocations" in capsys.readouterr().err
    assert not unused.exists()
    assert server.verify(token)[0] == CLERK
    assert main(["token", "revoke", "--token", token, "--data-dir", str(served)]) == 0
    assert str(served / "auth.sqlite3") in capsys.readouterr().out
    with pytest.raises(AuthError, match="revoked"):
        server.verify(token)


def test_a_token_issued_in_the_second_after_its_users_revocation_lives(tmp_path):
    auth = Authority(tmp_path)
    second = float(int(time.time()))
    before = auth.issue(CLERK, 3600, now=second + 0.2)
    auth.revoke_user("wang", now=second + 0.5)
    after = auth.issue(CLERK, 3600, now=second + 0.7)
    with pytest.raises(AuthError, match="revoked"):
        auth.verify(before, now=second + 0.8)
    assert auth.verify(after, now=second + 0.8)[0] == CLERK
    claims = jwt.decode(after, options={"verify_signature": False})
    assert claims["iat"] == second + 1 and claims["exp"] - claims["iat"] == 3600
    later = auth.issue(CLERK, 3600, now=second + 5)  # other seconds keep their own
    assert jwt.decode(later, options={"verify_signature": False})["iat"] == second + 5


FILER = Actor(user="zhangwei", role="filer", filer="d-zhang")


def test_a_filers_token_names_the_filer_and_no_other_token_does(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BANLI_SECRET", raising=False)
    auth = Authority(tmp_path / "data")
    token = auth.issue(FILER, 3600)
    assert jwt.decode(token, options={"verify_signature": False})["filer"] == "d-zhang"
    assert auth.verify(token)[0] == FILER
    assert "filer" not in jwt.decode(auth.issue(CLERK, 3600), options={"verify_signature": False})
    with pytest.raises(ValueError, match="filer"):
        auth.issue(Actor(user="x", role="filer"), 3600)
    # a forged claim on another role is not taken, and a filer's token without one is refused
    forged = issue_token(SECRET, CLERK, 3600)
    claims = jwt.decode(forged, options={"verify_signature": False})
    configured = Authority(tmp_path / "configured", secret=SECRET)
    for role, filer, refused in (("clerk", "d-zhang", False), ("filer", None, True),
                                 ("filer", "../x", True)):
        body = {**claims, "role": role, **({"filer": filer} if filer else {})}
        made = jwt.encode(body, SECRET, algorithm="HS256", headers={"kid": key_id(SECRET)})
        if refused:
            with pytest.raises(AuthError):
                configured.verify(made)
        else:
            assert configured.verify(made)[0].filer is None

    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["token", "issue", "--user", "zhangwei", "--role", "filer", "--filer",
                 "d-zhang", *data]) == 0
    assert auth.verify(capsys.readouterr().out.strip())[0] == FILER
    assert main(["token", "issue", "--user", "w", "--role", "filer", *data]) == 2  # no filer
    assert "filer" in capsys.readouterr().err
    assert main(["token", "issue", "--user", "w", "--role", "filer", "--filer", "a/b",
                 *data]) == 2


def test_the_stamp_changes_with_every_revocation_and_key_change_of_any_connection(tmp_path):
    """A live stream verifies its token again only when Authority.stamp moved: so it must move
    with every change that could end a token, made here, in another thread, or in another
    process (the CLI's `banli token revoke`), and stay put otherwise."""
    import threading

    auth, other = Authority(tmp_path), Authority(tmp_path)
    token = auth.issue(CLERK, 3600)
    before = auth.stamp()
    auth.verify(token)
    assert auth.stamp() == before, "verifying changes nothing"
    other.revoke_user("nobody")  # another connection, this process
    assert auth.stamp() != before
    before = auth.stamp()
    auth.revoke_token("some-jti")  # this very connection
    assert auth.stamp() != before
    before = auth.stamp()
    thread = threading.Thread(target=auth.rotate)  # this authority, another thread's connection
    thread.start()
    thread.join()
    assert auth.stamp() != before
    before = auth.stamp()
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from banli.auth import Authority; "
                    "Authority(Path(sys.argv[1])).revoke_user('wang')", str(tmp_path)],
                   check=True, cwd=ROOT)
    assert auth.stamp() != before
    with pytest.raises(AuthError, match="revoked"):
        auth.verify(token)
