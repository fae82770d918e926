"""Signed bearer tokens and what each role may read.

A token is `base64url(claims).base64url(HMAC-SHA256(secret, claims))`; claims name the user,
the bureau (for clerks), the role and an expiry. Who may *change* what is the kernel's rule
(`banli.domain.proposal.authorize`); who may *read* what is here."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from .domain.types import Actor

ROLES = ("coordinator", "clerk", "overseer", "admin", "importer")


class AuthError(Exception):
    """A token that is missing, malformed, forged or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: str, actor: Actor, ttl_seconds: int, now: float | None = None) -> str:
    if actor.role == "clerk" and not actor.bureau:
        raise ValueError("a clerk's token names its bureau")
    claims = {"user": actor.user, "bureau": actor.bureau, "role": actor.role,
              "exp": int((now or time.time()) + ttl_seconds)}
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{_b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())}"


def verify_token(secret: str, token: str, now: float | None = None) -> Actor:
    body, dot, signature = token.partition(".")
    if not dot:
        raise AuthError("malformed token")
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(_unb64(signature), expected)
        claims = json.loads(_unb64(body)) if valid else None
    except (ValueError, json.JSONDecodeError):
        raise AuthError("malformed token") from None
    if not valid:
        raise AuthError("bad signature")
    try:
        if claims.get("exp", 0) < (now or time.time()):
            raise AuthError("token expired")
        return Actor(user=claims["user"], bureau=claims.get("bureau"), role=claims["role"])
    except (KeyError, ValueError, TypeError, AttributeError):
        raise AuthError("malformed claims") from None


def load_or_create_secret(data_dir: Path, configured: str | None) -> str:
    """The configured secret, or one generated once into the data dir (mode 0600)."""
    if configured:
        return configured
    path = data_dir / "secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret)
    return secret


def sees_everything(actor: Actor) -> bool:
    return actor.role != "clerk"


def may_read_bureau(actor: Actor, bureau: str | None) -> bool:
    """A clerk reads its own bureau only (never "all bureaus"); other roles read everything."""
    return sees_everything(actor) or (bureau is not None and bureau == actor.bureau)
