"""A filer signing in: the IdP's claims name their id in the filer registry
(BANLI_OIDC_FILER_CLAIM), or their account is looked up there; anything else is refused."""
from __future__ import annotations

import asyncio

import pytest

from banli.auth import Authority
from banli.domain.types import Actor
from banli.settings import Settings
from banli.web.deps import Ports
from banli.web.signin import SignInRefused, actor_from_claims, registered_filer


def ports(tmp_path, accounts: dict[str, list[str]] | None) -> Ports:
    async def lookup(account: str) -> list[str]:
        assert accounts is not None
        return accounts.get(account, [])

    return Ports(authority=Authority(tmp_path), filer_accounts=lookup if accounts is not None
                 else None)


def test_the_filer_claim_names_the_filer():
    actor = actor_from_claims({"preferred_username": "zhangwei", "banli_role": "filer",
                               "banli_filer": "d-zhang", "bureau": "sh-ipa"}, Settings())
    assert actor == Actor(user="zhangwei", role="filer", filer="d-zhang")  # no bureau
    settings = Settings(oidc_filer_claim="deputy_id")
    assert actor_from_claims({"preferred_username": "z", "banli_role": "filer",
                              "deputy_id": "d-9"}, settings).filer == "d-9"
    clerk = actor_from_claims({"preferred_username": "w", "banli_role": "clerk",
                               "bureau": "sh-ipa", "banli_filer": "d-zhang"}, Settings())
    assert clerk.filer is None  # only a filer is one
    with pytest.raises(SignInRefused):
        actor_from_claims({"preferred_username": "z", "banli_role": "filer",
                           "banli_filer": "../etc"}, Settings())


def test_without_the_claim_the_account_is_looked_up_in_the_registry(tmp_path):
    signed = actor_from_claims({"preferred_username": "lina", "banli_role": "filer"}, Settings())
    assert signed.filer is None
    registry = ports(tmp_path, {"lina": ["d-li"], "twins": ["d-a", "d-b"]})
    assert asyncio.run(registered_filer(signed, registry)).filer == "d-li"
    for account, port in (("nobody", registry), ("twins", registry),
                          ("lina", ports(tmp_path / "none", None))):
        with pytest.raises(SignInRefused) as refused:
            asyncio.run(registered_filer(signed.model_copy(update={"user": account}), port))
        assert "名册" in refused.value.message and "registry" in refused.value.message_en
    named = Actor(user="z", role="filer", filer="d-zhang")
    assert asyncio.run(registered_filer(named, registry)) is named  # the claim stands
