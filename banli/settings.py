"""Typed settings. Built by the caller (a composition root, a test), never at import time.

Every field can be set by an environment variable `BANLI_<FIELD>` (upper case); `banli serve`
and the service entry points also take the most used ones as flags.
"""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Per-user data: $XDG_DATA_HOME/banli, else ~/.local/share/banli."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "banli"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANLI_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir,
                           description="where the embedded event store, projections and secret live")
    host: str = Field("127.0.0.1", description="HTTP bind address")
    port: int = Field(8000, description="HTTP port")
    secret: str | None = Field(None, description="the token signing key (at least 32 random "
                                                 "bytes; shared by the distributed services); "
                                                 "unset: a key ring in the auth dir, generated "
                                                 "on first use")
    old_secrets: str = Field("", description="comma-separated former BANLI_SECRETs that still "
                                             "verify tokens until dropped from here")
    auth_dir: Path | None = Field(None, description="where the key ring and the revocations "
                                                    "live (default: the data dir); services "
                                                    "sharing tokens share it")
    token_ttl_days: float = Field(30, gt=0, description="lifetime of tokens printed by "
                                                        "`banli token`")
    token_max_days: float = Field(90, gt=0, description="no token lives longer (issued or taken)")
    profile: str = Field("default", description="deadline and rate profile for decisions")
    clerk_backdate_days: int = Field(30, ge=0, description="how many days back a clerk may date "
                                     "a record; older records need the coordinator or importer "
                                     "role")
    calendar_notices: str = Field("", description="holiday notice files (JSON, see banli/"
                                  "workcalendar.py), separated by the path separator; "
                                  "`banli calendar load` keeps them in <data_dir>/calendar")
    late_entry_working_days: int = Field(5, ge=0, description="a record entered more than this "
                                         "many working days after its business date counts as "
                                         "entered late (reports, page, year-end document)")
    clickhouse_dsn: str | None = Field(
        None, description="ClickHouse DSN: chdb:///path (embedded, default <data_dir>/clickhouse) "
                          "or http://user:pass@host:8123/db")
    clickhouse_database: str = Field("banli", description="the ClickHouse database of the projections")
    # sign-in through an identity provider (OpenID Connect): see README, "Security"
    oidc_issuer: str | None = Field(None, description="the IdP's issuer URL (its /.well-known/"
                                                      "openid-configuration is read); unset: no "
                                                      "sign-in page, tokens only")
    oidc_client_id: str = Field("banli-web", description="Banli's client id at the IdP")
    oidc_client_secret: str | None = Field(None, description="Banli's client secret at the IdP")
    oidc_scope: str = Field("openid profile", description="scopes asked for at sign-in")
    oidc_user_claim: str = Field("preferred_username", description="the claim naming the user")
    oidc_role_claim: str = Field("banli_role", description="the claim giving the Banli role (a "
                                                          "string or a list of strings)")
    oidc_bureau_claim: str = Field("bureau", description="the claim giving a clerk's bureau")
    oidc_role_map: str = Field("", description='JSON mapping IdP role values to Banli roles, '
                                               'e.g. {"gov-clerk": "clerk"}; unset: the values '
                                               'are Banli role names')
    session_hours: float = Field(8, gt=0, description="lifetime of the token a sign-in gives")
    public_url: str | None = Field(None, description="Banli's own base URL as browsers reach it "
                                                     "(the sign-in's redirect); default: the "
                                                     "request's")
    cors_origins: str = Field("", description="comma-separated origins allowed to call the API "
                                              "from a browser (CORS); unset: none")
    max_body_bytes: int = Field(1_000_000, description="largest request body accepted (413 above)")
    max_import_bytes: int = Field(256 << 20, description="largest bulk import body (413 above)")
    projection_batch: int = Field(2000, description="events per projector insert batch")
    webhook_url: str | None = Field(None, description="reminders (yellow: due in 10 days or "
                                                      "fewer, red: overdue) are POSTed here; "
                                                      "none are sent when unset")
    reminder_interval_s: float = Field(300.0, description="how often reminders are computed and "
                                                          "due deliveries attempted")
    # distributed mode
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    topic_partitions: int = Field(6, description="partitions of banli.commands and banli.events")
    state_cache: int = Field(10_000, ge=100, description="handling: streams' states kept in "
                                                         "memory (the least recently used "
                                                         "leave first and load again: from "
                                                         "their snapshots, over Kafka)")
    reply_timeout_s: float = Field(5.0, description="how long intake waits for a decision before "
                                                    "answering 202")
    topic_prefix: str = Field("", description="prefix of every topic name (several deployments "
                                              "on one broker)")
    app_id: str = Field("banli", description="prefix of the Kafka consumer groups and faust apps")
    flush_interval_s: float = Field(0.2, description="reporting: longest wait before a batch of "
                                                     "events is inserted")

    @property
    def topics(self):
        from .eventlog.kafka import Topics

        return Topics(self.topic_prefix)

    @property
    def store_path(self) -> Path:
        return self.data_dir / "events.sqlite3"

    @property
    def auth_path(self) -> Path:
        return self.auth_dir or self.data_dir

    @property
    def calendar_dir(self) -> Path:
        return self.data_dir / "calendar"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def dsn(self) -> str:
        return self.clickhouse_dsn or f"chdb:///{self.data_dir / 'clickhouse'}"
