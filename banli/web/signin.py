"""Signing people in through the deployment's identity provider (OpenID Connect, authlib): the
authorization code flow with PKCE, the IdP's claims mapped to a Banli user, role and bureau by
settings (BANLI_OIDC_*), and Banli's own token afterwards (a JWT of banli.auth, valid
BANLI_SESSION_HOURS), handed to the page in the URL's fragment, which never reaches a server.
Sign-out revokes that token and ends the IdP's session too.

- `GET /auth/providers`: whether sign-in through an IdP is offered (the page asks, before
  anyone is signed in);
- `GET /auth/login` → the IdP → `GET /auth/callback` → `/app/#token=…`;
- `POST /api/signout` (any token): revoked; the answer names the IdP's end-session URL.
Tokens from `banli token issue` stay for service accounts; they sign out the same way.

Whatever goes wrong at the IdP's end is answered with the sign-in page's refusal, never a 500:
an id_token that does not verify (nonce, issuer, audience, expiry, signature) is 400, an IdP
that cannot be reached or answers out of turn is 502; the reason goes to the server's log
(`banli.signin`), no token with it."""
from __future__ import annotations

import json
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.errors import AuthlibBaseError
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.middleware.sessions import SessionMiddleware

from ..auth import ROLES, AuthError
from ..domain.types import Actor
from ..settings import Settings
from .deps import AppPorts, CurrentActor, Ports, bearer
from .schemas import READ, action

log = logging.getLogger("banli.signin")


def _unverified() -> tuple[type[Exception], ...]:
    """What an IdP's answer that does not verify raises: authlib's errors (a claim wrong or
    expired), and joserfc's (a signature, a key id, a token that does not
    decode) where authlib verifies with joserfc (as 1.9 does)."""
    try:
        from joserfc.errors import JoseError
    except ImportError:
        return (AuthlibBaseError,)
    return (AuthlibBaseError, JoseError)


UNVERIFIED = _unverified()
# An IdP unreachable, failing or answering what OpenID Connect does not say: httpx's errors
# (5xx included), and what reading its JSON raises.
IDP_FAILED: tuple[type[Exception], ...] = (httpx.HTTPError, ValueError, LookupError, TypeError,
                                           AttributeError, RuntimeError)

providers_router = APIRouter(include_in_schema=False)
signout_router = APIRouter(prefix="/api", tags=["session"], responses=READ)


class SignInRefused(Exception):
    """The IdP signed the person in, but its claims do not make a Banli user."""

    def __init__(self, message: str, message_en: str):
        super().__init__(message_en)
        self.message, self.message_en = message, message_en


def actor_from_claims(claims: dict[str, Any], settings: Settings) -> Actor:
    """The Banli user the IdP's claims name: the user claim, the role claim (a string or a list;
    values mapped by BANLI_OIDC_ROLE_MAP, else taken as Banli's role names; the first that maps
    wins), for a clerk the bureau claim, and for a filer the filer claim (BANLI_OIDC_FILER_CLAIM:
    their id in the filer registry; where the IdP gives none, `registered_filer` looks the
    account up)."""
    user = claims.get(settings.oidc_user_claim) or claims.get("sub")
    mapping: dict[str, str] = json.loads(settings.oidc_role_map) if settings.oidc_role_map else {}
    values = claims.get(settings.oidc_role_claim)
    values = values if isinstance(values, list) else [values] if values else []
    roles = [mapping.get(v, v if not mapping else None) for v in values if isinstance(v, str)]
    role = next((r for r in roles if r in ROLES), None)
    if not user or role is None:
        raise SignInRefused("您的账号尚未分配办理系统的角色，请联系管理员",
                            "your account has no Banli role; ask an administrator")
    bureau = claims.get(settings.oidc_bureau_claim) or None
    if role == "clerk" and not bureau:
        raise SignInRefused("经办人账号须注明所属承办单位，请联系管理员",
                            "a clerk's account must name its bureau; ask an administrator")
    filer = (claims.get(settings.oidc_filer_claim) or None) if role == "filer" else None
    try:
        return Actor(user=str(user), role=role, bureau=bureau if role != "filer" else None,
                     filer=filer)
    except ValidationError:
        raise SignInRefused("账号信息格式不符", "the account's claims are malformed") from None


async def registered_filer(actor: Actor, ports: Ports) -> Actor:
    """A filer whose claims name no filer id, as the filer registry knows their account (the
    one filer registered for it); refused where it knows none, or several."""
    if actor.role != "filer" or actor.filer is not None:
        return actor
    found = await ports.filer_accounts(actor.user) if ports.filer_accounts else []
    if len(found) != 1:
        raise SignInRefused("您的账号未在代表委员名册中登记（或对应多位代表委员），请联系交办单位",
                            "your account is not the account of one filer in the filer "
                            "registry; ask the office")
    return actor.model_copy(update={"filer": found[0]})


def install(app: FastAPI, ports: Ports, settings: Settings) -> None:
    """Add sign-out, and the sign-in routes (with the short session they keep state in) when an
    IdP is configured (its sign-out becomes `ports.end_session`); without one `/auth/providers`
    says so."""
    app.include_router(signout_router)
    if not settings.oidc_issuer:
        app.include_router(providers_router)
        return
    from authlib.integrations.starlette_client import OAuth, OAuthError

    oauth = OAuth()
    oauth.register("idp", client_id=settings.oidc_client_id,
                   client_secret=settings.oidc_client_secret,
                   server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}"
                                       f"/.well-known/openid-configuration",
                   client_kwargs={"scope": settings.oidc_scope,
                                  "code_challenge_method": "S256"})
    # The state, nonce and PKCE verifier live in a signed cookie for the ten minutes a sign-in
    # may take; nothing else does.
    app.add_middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32),
                       session_cookie="banli_signin", max_age=600, same_site="lax",
                       https_only=(settings.public_url or "").startswith("https://"))
    router = APIRouter(include_in_schema=False)

    def base(request: Request) -> str:
        return (settings.public_url or str(request.base_url)).rstrip("/")

    @router.get("/auth/login")
    async def login(request: Request, next: str = "/app/"):
        # back where the person was, on the page only (never another site)
        request.session["next"] = next if _on_the_page(next) else "/app/"
        try:
            return await oauth.idp.authorize_redirect(request, f"{base(request)}/auth/callback")
        except IDP_FAILED as exc:
            return idp_failed("login", exc)

    @router.get("/auth/callback")
    async def callback(request: Request, ports: AppPorts):
        try:
            token = await oauth.idp.authorize_access_token(request)
            claims = token.get("userinfo") or await oauth.idp.userinfo(token=token)
            actor = await registered_filer(actor_from_claims(dict(claims), settings), ports)
        except SignInRefused as refused:
            return refusal(refused.message, refused.message_en, 403)
        except OAuthError as exc:  # the IdP said no (the person cancelled, a code used twice)
            return refusal("统一身份认证未能完成登录", f"the sign-in did not complete: "
                                               f"{exc.error}", 400)
        except UNVERIFIED as exc:
            log.warning("sign-in refused: the identity provider's answer does not verify: %s: "
                        "%s", type(exc).__name__, exc)
            return refusal("统一身份认证未能完成登录：身份凭证无法验证，请重新登录",
                           f"the sign-in did not complete: the identity provider's answer "
                           f"does not verify ({type(exc).__name__})", 400)
        except IDP_FAILED as exc:
            return idp_failed("callback", exc)
        session = ports.authority.issue(actor, settings.session_hours * 3600)
        request.session["id_token"] = token.get("id_token", "")
        back = request.session.pop("next", "/app/")
        return RedirectResponse(f"{base(request)}{back}#token={session}", status_code=303)

    @router.get("/auth/providers")
    async def providers() -> dict[str, Any]:
        return {"oidc": True, "login": "/auth/login"}

    @router.get("/auth/signed-out")
    async def signed_out(request: Request):
        return RedirectResponse(f"{base(request)}/app/", status_code=303)

    async def end_session(request: Request) -> str | None:
        try:
            metadata = await oauth.idp.load_server_metadata()
        except IDP_FAILED as exc:  # signed out of Banli all the same: the token is revoked
            log.warning("sign-out: the identity provider is not answering: %s: %s",
                        type(exc).__name__, exc)
            return None
        endpoint = metadata.get("end_session_endpoint")
        if not endpoint:
            return None
        query = {"client_id": settings.oidc_client_id,
                 "post_logout_redirect_uri": f"{base(request)}/auth/signed-out"}
        id_token = (request.scope.get("session") or {}).get("id_token")
        if id_token:  # the IdP ends its session without asking again
            query["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(query)}"

    ports.end_session = end_session
    app.include_router(router)


@providers_router.get("/auth/providers")
async def no_providers() -> dict[str, Any]:
    return {"oidc": False, "login": None}


class SignedOut(BaseModel):
    signed_out: bool
    user: str
    end_session: str | None  # the IdP's end-session URL, to go to next


@signout_router.post("/signout", summary="Sign out: the token is revoked (and the identity "
                                         "provider's session ended, where there is one)",
                     response_model=SignedOut, openapi_extra=action("read:directory"))
async def signout(request: Request, actor: CurrentActor, ports: AppPorts) -> SignedOut:
    credentials = await bearer(request)
    if credentials is not None:  # there is one: CurrentActor verified it
        try:
            ports.authority.revoke(credentials.credentials)
        except AuthError:  # verified a moment ago: only a race with its expiry lands here
            pass
    return SignedOut(signed_out=True, user=actor.user,
                     end_session=await ports.end_session(request) if ports.end_session
                     else None)


def _on_the_page(path: str) -> bool:
    return (path.startswith("/app/") and "#" not in path and "\\" not in path
            and not path.startswith("//"))


def idp_failed(step: str, exc: Exception) -> HTMLResponse:
    """The refusal when the IdP could not be reached or answered out of turn (502), logged."""
    log.warning("sign-in (%s): the identity provider failed: %s: %s", step,
                type(exc).__name__, exc)
    return refusal("统一身份认证服务暂时无法使用，请稍后再试",
                   f"the identity provider is not answering as it should ({type(exc).__name__}); "
                   f"try again later", 502)


def refusal(message: str, message_en: str, status: int) -> HTMLResponse:
    """A plain page (no script, no style: the strict CSP holds) saying why, with a way back."""
    page = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>办理 · 登录'
            f'</title></head><body><h1>未能登录 / Not signed in</h1><p>{_escape(message)}</p>'
            f'<p lang="en">{_escape(message_en)}</p><p><a href="/app/">返回 / Back</a></p>'
            f'</body></html>')
    return HTMLResponse(page, status_code=status)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
