"""Banli's own tokens: standard JWTs (HS256, PyJWT) with `sub`, `role`, `bureau` (a clerk's),
`filer` (a filer's id in the filer registry), `iat`, `exp`, `jti` and the signing key's `kid` in
the header.

- Keys: a ring kept in `<auth dir>/auth.sqlite3` (0600): the newest key signs, older ones verify
  until retired (`banli token rotate`, `banli token retire KID`). With BANLI_SECRET set (the
  distributed services share it), that secret signs and BANLI_OLD_SECRETS verify; a secret is at
  least 32 random bytes, and a weak one is refused, never used.
- Revocation: by `jti` (one token) or by user (every token issued to the user before now), kept
  in the same file and checked on every request (`banli token revoke`). `iat` is in whole
  seconds: a token issued in the second of its user's revocation, after it, is dated the next
  second, so that it counts as issued after the revocation (and one issued before it, as before).
- `iat` and `exp` are JSON numbers (RFC 7519's NumericDate), finite: a token whose dates are
  text, NaN or infinite is malformed, whatever its signature.
- A maximum lifetime (BANLI_TOKEN_MAX_DAYS, default 90): longer tokens are neither issued nor
  taken.
Who may do what with a token's role is banli.domain.permissions'."""
from __future__ import annotations

import hashlib
import math
import os
import secrets
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import jwt

from .domain.types import Actor

ROLES = ("coordinator", "clerk", "overseer", "admin", "importer", "filer")
ALGORITHM = "HS256"
ISSUER = "banli"

SCHEMA = """
CREATE TABLE IF NOT EXISTS signing_keys (kid TEXT PRIMARY KEY, secret TEXT NOT NULL,
                                         created REAL NOT NULL, retired REAL);
CREATE TABLE IF NOT EXISTS revoked_tokens (jti TEXT PRIMARY KEY, user TEXT NOT NULL,
                                           expires REAL NOT NULL, revoked REAL NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_users (user TEXT PRIMARY KEY, before REAL NOT NULL);
"""


class AuthError(Exception):
    """A token that is missing, malformed, forged, expired, too long-lived or revoked."""


class NoAuthStore(ValueError):
    """No process has used this auth dir: revoking, rotating or retiring there would change
    nothing any server reads."""


class WeakSecret(ValueError):
    """A configured secret too short or too plain to sign tokens with."""


def check_secret(secret: str, name: str = "BANLI_SECRET") -> str:
    """The secret, if it is at least 32 bytes of something random-looking; else WeakSecret."""
    if len(secret.encode()) < 32 or len(set(secret)) < 12:
        raise WeakSecret(
            f"{name} must be at least 32 random bytes, e.g. the output of "
            f"`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    return secret


def key_id(secret: str) -> str:
    """A key's id, derived from it (so every service sharing a secret names it alike)."""
    return "k-" + hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str
    created: float
    retired: float | None = None


def secure_dir(path: Path) -> Path:
    """The directory, created if need be, readable by its owner only (0700), with the files
    directly in it 0600."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    for child in path.iterdir():
        if child.is_file():
            child.chmod(0o600)
    return path


class Authority:
    """Issues and verifies tokens; keeps the key ring and the revocations (see the module)."""

    def __init__(self, directory: Path, secret: str | None = None,
                 old_secrets: Sequence[str] = (), max_ttl_days: float = 90,
                 create: bool = True):
        """`create=False`: only an auth dir some process has used already (its auth.sqlite3
        exists), else NoAuthStore: what the operator's commands change must be where the
        servers look."""
        self.path = directory / "auth.sqlite3"
        self.max_ttl = max_ttl_days * 86400
        self._local = threading.local()
        self._changes = 0  # this process's changes to the key ring and revocations (stamp)
        if not create and not self.path.is_file():
            raise NoAuthStore(f"no key ring or revocations at {directory}: give the data dir "
                              f"(--data-dir, or BANLI_AUTH_DIR) the servers use")
        secure_dir(directory)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self.path.chmod(0o600)
        with self._db() as db:
            db.executescript(SCHEMA)
        self.configured = secret is not None
        if secret is not None:
            now = time.time()
            self._env_keys = [SigningKey(key_id(s), check_secret(s, name), now)
                              for s, name in [(secret, "BANLI_SECRET"),
                                              *((o, "BANLI_OLD_SECRETS") for o in old_secrets)]]
        elif not self.keys():
            self.rotate()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                                  check_same_thread=False)
            db.execute("PRAGMA busy_timeout=30000")
        return db

    def stamp(self) -> tuple[int, int, int]:
        """Something that changes whenever what `verify` reads besides the token may have: the
        key ring and the revocations, changed by this process (counted) or by any other
        connection to auth.sqlite3, of this process or another (SQLite's `data_version`, which
        one connection compares with itself only: hence the thread, whose connection it is).
        One cheap pragma: a stream that holds a verified token asks this before each batch,
        and verifies again only when it changed (banli.web.deps.Session.holds)."""
        version = self._db().execute("PRAGMA data_version").fetchone()[0]
        return self._changes, threading.get_ident(), version

    # --- keys ---------------------------------------------------------------------------------
    def keys(self) -> list[SigningKey]:
        """Newest first: the first not retired signs."""
        if self.configured:
            return list(self._env_keys)
        return [SigningKey(*row) for row in self._db().execute(
            "SELECT kid, secret, created, retired FROM signing_keys ORDER BY created DESC")]

    def rotate(self) -> str:
        """A new signing key (32 random bytes); the older ones still verify until retired."""
        if self.configured:
            raise ValueError("keys come from BANLI_SECRET / BANLI_OLD_SECRETS: rotate those")
        secret = secrets.token_urlsafe(32)
        kid = key_id(secret)
        self._db().execute("INSERT INTO signing_keys VALUES (?, ?, ?, NULL)",
                           (kid, secret, time.time()))
        self._changes += 1
        return kid

    def retire(self, kid: str) -> None:
        """Stop taking tokens signed with `kid` (never the key that signs now)."""
        if self.configured:
            raise ValueError("keys come from BANLI_SECRET / BANLI_OLD_SECRETS: drop it there")
        current = self._signing()
        if kid == current.kid:
            raise ValueError(f"{kid} signs new tokens: rotate first")
        changed = self._db().execute("UPDATE signing_keys SET retired = ? WHERE kid = ? AND "
                                     "retired IS NULL", (time.time(), kid)).rowcount
        self._changes += 1
        if not changed:
            raise ValueError(f"no active key {kid}")

    def _signing(self) -> SigningKey:
        return next(k for k in self.keys() if k.retired is None)

    # --- tokens -------------------------------------------------------------------------------
    def issue(self, actor: Actor, ttl_seconds: float, now: float | None = None) -> str:
        if actor.role == "clerk" and not actor.bureau:
            raise ValueError("a clerk's token names its bureau")
        if actor.role == "filer" and not actor.filer:
            raise ValueError("a filer's token names the filer's id in the filer registry")
        if not 0 < ttl_seconds <= self.max_ttl:
            raise ValueError(f"a token lives at most {self.max_ttl / 86400:g} days "
                             f"(BANLI_TOKEN_MAX_DAYS)")
        moment = now if now is not None else time.time()
        return _encode(self._signing(), actor, ttl_seconds, self._dated_after_revocation(
            actor.user, moment))

    def _dated_after_revocation(self, user: str, moment: float) -> float:
        """The token's issue time: `moment`, or, when its user's tokens were revoked earlier in
        the same second, the next second: `iat` keeps whole seconds, and a token dated in that
        second would count as issued before the revocation."""
        row = self._db().execute("SELECT before FROM revoked_users WHERE user = ?",
                                 (user,)).fetchone()
        if row is not None and int(moment) <= row[0] < moment:
            return float(int(row[0]) + 1)
        return moment

    def verify(self, token: str, now: float | None = None) -> tuple[Actor, dict]:
        """The token's actor and claims, or AuthError saying what is wrong with it."""
        moment = now if now is not None else time.time()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        key = next((k for k in self.keys() if k.kid == kid and k.retired is None), None)
        if key is None:
            raise AuthError("unknown or retired signing key")
        try:
            claims = jwt.decode(token, key.secret, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "jti", "role"],
                                         "verify_exp": False, "verify_iat": False})
        except jwt.InvalidSignatureError:
            raise AuthError("bad signature") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}") from None
        try:
            issued, expires = _numeric_date(claims["iat"]), _numeric_date(claims["exp"])
            actor = Actor(user=claims["sub"], bureau=claims.get("bureau"), role=claims["role"],
                          filer=claims.get("filer") if claims["role"] == "filer" else None)
        except (TypeError, ValueError):
            raise AuthError("malformed claims") from None
        if actor.role == "clerk" and not actor.bureau:
            raise AuthError("a clerk's token names no bureau")
        if actor.role == "filer" and not actor.filer:
            raise AuthError("a filer's token names no filer")
        if expires <= moment:
            raise AuthError("token expired")
        if issued > moment + 60:
            raise AuthError("token issued in the future")
        if expires - issued > self.max_ttl:
            raise AuthError("token lives longer than the deployment allows")
        if self.revoked(str(claims["jti"]), actor.user, issued):
            raise AuthError("token revoked")
        return actor, claims

    # --- revocation ---------------------------------------------------------------------------
    def revoked(self, jti: str, user: str, issued: float) -> bool:
        db = self._db()
        if db.execute("SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,)).fetchone():
            return True
        row = db.execute("SELECT before FROM revoked_users WHERE user = ?", (user,)).fetchone()
        return row is not None and issued <= row[0]

    def revoke_token(self, jti: str, user: str = "", expires: float = 0) -> None:
        """Revoke one token by its id (again: nothing changes). A revocation that cannot be
        stored raises (sqlite3's `OR IGNORE` would also skip a row breaking NOT NULL, and
        report success having stored nothing)."""
        self._db().execute("INSERT INTO revoked_tokens VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (jti) DO NOTHING",
                           (jti, user, _numeric_date(expires), time.time()))
        self._changes += 1

    def revoke_user(self, user: str, now: float | None = None) -> None:
        """Every token the user holds now stops working (new sign-ins work again)."""
        self._db().execute("INSERT OR REPLACE INTO revoked_users VALUES (?, ?)",
                           (user, now if now is not None else time.time()))
        self._changes += 1

    def revoke(self, token: str) -> None:
        """Revoke a token this authority issued (sign-out)."""
        _, claims = self.verify(token)
        self.revoke_token(str(claims["jti"]), str(claims["sub"]), float(claims["exp"]))


def _numeric_date(value: object) -> float:
    """A JWT date claim as seconds: a finite JSON number (not a bool, not text), else
    ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"not a NumericDate: {value!r}")
    return float(value)


def issue_token(secret: str, actor: Actor, ttl_seconds: float, now: float | None = None) -> str:
    """A token signed with `secret` as BANLI_SECRET would sign it (tests, scripts)."""
    return _encode(SigningKey(key_id(secret), secret, 0), actor, ttl_seconds, now)


def _encode(key: SigningKey, actor: Actor, ttl_seconds: float, now: float | None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"iss": ISSUER, "sub": actor.user, "role": actor.role, "bureau": actor.bureau,
              "iat": issued, "exp": issued + int(ttl_seconds), "jti": uuid.uuid4().hex}
    if actor.filer is not None:
        claims["filer"] = actor.filer
    return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})


def authority(settings, create: bool = True) -> Authority:
    """The process's Authority from its settings (banli.settings.Settings); `create=False`:
    only on an auth dir in use (see Authority)."""
    old = [s.strip() for s in settings.old_secrets.split(",") if s.strip()]
    return Authority(settings.auth_path, settings.secret, old, settings.token_max_days, create)
