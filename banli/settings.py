"""Typed settings. Built by the caller (a composition root, a test), never at import time.

Every field can be set by an environment variable `BANLI_<FIELD>` (upper case); `banli serve`
and the service entry points also take the most used ones as flags.
"""
from __future__ import annotations

import os
from pathlib import Path

import json

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .sheets.infer import DEFAULT_SESSIONS, parse_sessions
from .sheets.limits import DEFAULT_LIMITS as SHEET

# Each distributed service's HTTP port unless told otherwise (banli intake|handling|reporting,
# banli stack, docker-compose.yml)
SERVICE_PORTS = {"intake": 8001, "handling": 8002, "reporting": 8003}


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
    areas: Path | None = Field(None, description="the areas proposals are classified in, per "
                               "year (a JSON file, see banli/areas.py); unset: the five (经济, "
                               "政治, 文化, 社会, 生态文明)")
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
    oidc_filer_claim: str = Field("banli_filer", description="the claim giving a filer's id in "
                                                            "the filer registry; without it a "
                                                            "filer's account is looked up there")
    oidc_role_map: str = Field("", description='JSON mapping IdP role values to Banli roles, '
                                               'e.g. {"gov-clerk": "clerk"}; unset: the values '
                                               'are Banli role names')
    session_hours: float = Field(8, gt=0, description="lifetime of the token a sign-in gives")
    public_url: str | None = Field(None, description="Banli's own base URL as browsers reach it "
                                                     "(the sign-in's redirect, the links of the "
                                                     "year-end documents' figures); default: "
                                                     "the request's")
    office_name: str | None = Field(None, description="the office issuing the year-end document "
                                                      "of all bureaus (its masthead and "
                                                      "signature); default 建议提案办理工作办公室")
    office_name_en: str | None = Field(None, description="the same in English; default Office "
                                                         "for Deputies' Suggestions and CPPCC "
                                                         "Proposals")
    cors_origins: str = Field("", description="comma-separated origins allowed to call the API "
                                              "from a browser (CORS); unset: none")
    access_log: bool = Field(True, description="log each HTTP request on standard output "
                                               "(client, method, path, status, time; never a "
                                               "query string, a header or a body)")
    live_recheck_s: float = Field(30.0, gt=0, description="an open live feed (/api/live) asks "
                                                          "again at least this often whether "
                                                          "its token has expired or been "
                                                          "revoked, and ends if so (and before "
                                                          "each batch of events)")
    live_pace_s: float = Field(1.0, ge=0, description="an open live feed (/api/live) is sent "
                                                      "at most one batch of events this "
                                                      "often: what lands sooner goes with "
                                                      "the next (0: each batch at once)")
    max_body_bytes: int = Field(1_000_000, description="largest request body accepted (413 above)")
    max_import_bytes: int = Field(256 << 20, description="largest bulk import body (413 above)")
    # spreadsheet uploads (banli.sheets.limits; docs/sheets.md, "Bounds"): a sheet past one is
    # refused 413 naming the bound; it is read in a child process with these limits
    sheet_max_bytes: int = Field(SHEET.max_bytes, gt=0, description="largest sheet file (413 "
                                                                    "above)")
    sheet_max_rows: int = Field(SHEET.max_rows, gt=0, description="last row a sheet may hold a "
                                                                  "value in, or declare")
    sheet_max_columns: int = Field(SHEET.max_columns, gt=0, description="last column a sheet "
                                                                        "may hold a value in, "
                                                                        "or declare")
    sheet_max_cells: int = Field(SHEET.max_cells, gt=0, description="cells holding a value (and "
                                                                    "shared strings, merged "
                                                                    "ranges) in a sheet")
    sheet_max_unzipped_mb: int = Field(SHEET.max_unzipped_mb, gt=0, description="what a sheet's "
                                       "zip entries may inflate to, in all (MiB)")
    sheet_max_zip_entries: int = Field(SHEET.max_zip_entries, gt=0, description="entries in a "
                                                                                "sheet's zip")
    sheet_memory_mb: int = Field(SHEET.memory_mb, ge=128, description="address space of the "
                                 "process that reads a sheet (RLIMIT_AS, MiB)")
    sheet_cpu_s: int = Field(SHEET.cpu_s, gt=0, description="processor time of the process that "
                                                            "reads a sheet (RLIMIT_CPU, s)")
    sheet_timeout_s: float = Field(SHEET.timeout_s, gt=0, description="wall-clock time a sheet "
                                   "is read in (and an upload waits for a reader) (s)")
    sheet_parallel: int = Field(SHEET.parallel, gt=0, description="sheets read at once by a "
                                                                  "server")
    sheet_queue: int = Field(SHEET.queue, ge=0, description="uploads waiting for a reader; more "
                                                            "are refused 503 with Retry-After")
    sheet_previews_per_user: int = Field(SHEET.previews_per_user, gt=0, description="previews "
                                         "kept per uploader (their own oldest go first)")
    sheet_previews_mb: int = Field(SHEET.previews_mb, gt=0, description="previews a server "
                                   "keeps in all (MiB); past it uploads are refused 503")
    sheet_sessions: str = Field(
        json.dumps(DEFAULT_SESSIONS), description="the congresses' terms, to read a list's year "
        "from the session its title names: JSON {level: {kind: [term, year of its first "
        "session]}}; session S of term N meets in first + 5 × (N − term) + S − 1")

    @field_validator("sheet_sessions")
    @classmethod
    def _sessions(cls, text: str) -> str:
        parse_sessions(text)  # ValueError: the setting is refused at start
        return text

    projection_batch: int = Field(2000, description="events per projector insert batch")
    projector_process: bool = Field(True, description="banli serve builds the projections' "
                                                      "rows in a child process of its own, "
                                                      "which it starts again should it die "
                                                      "(off: in a thread of the server's)")
    webhook_url: str | None = Field(None, description="reminders (yellow: due in 10 days or "
                                                      "fewer, red: overdue) are POSTed here; "
                                                      "none are sent when unset")
    reminder_interval_s: float = Field(300.0, description="how often reminders are computed and "
                                                          "due deliveries attempted")
    # reply letters (答复函) as files: README, "Reply letters"
    letters_dir: Path | None = Field(None, description="where the letters' files live (a "
                                     "directory: default <data_dir>/letters); the distributed "
                                     "services share one (a shared volume), unless "
                                     "BANLI_LETTERS_S3_BUCKET is set")
    letters_s3_bucket: str | None = Field(None, description="keep the letters in this bucket of "
                                          "an S3-compatible store instead of a directory (the "
                                          "bucket must exist)")
    letters_s3_endpoint: str | None = Field(None, description="the S3-compatible server's URL, "
                                            "e.g. http://minio:9000 (unset: AWS S3)")
    letters_s3_region: str | None = Field(None, description="the bucket's region (unset: "
                                          "boto3's default)")
    letters_s3_prefix: str = Field("letters/", description="the letters' keys start with this")
    letters_s3_access_key: str | None = Field(None, description="S3 access key id (unset: "
                                              "boto3's own chain: AWS_* variables, ~/.aws, an "
                                              "instance role)")
    letters_s3_secret_key: str | None = Field(None, description="S3 secret access key")
    max_letter_bytes: int = Field(20 << 20, gt=0, description="largest letter file accepted "
                                  "(413 above; counted while it streams in)")
    letters_grace_hours: float = Field(168, ge=0, description="`banli letters sweep` removes a "
                                       "file no event references only once it is older than "
                                       "this (an upload waits this long for its command)")
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
    group_session_timeout_s: float = Field(
        6.0, ge=1, le=600, description="handling's and reporting's consumer groups: how long the "
        "broker waits for a member that stopped answering (a SIGKILLed worker's partitions move "
        "after it). 6 s is the least a broker allows by default (group.min.session.timeout.ms); "
        "a worker that stops cleanly leaves its group at once and waits for nothing")
    flush_interval_s: float = Field(0.2, description="reporting: how often the events read are "
                                    "inserted; under a bulk import the inserts are spaced "
                                    "further, to 4 times as long as one takes (at most 1 s)")

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

    def rules(self):
        """The profile decisions are made by (BANLI_PROFILE), with the configured areas
        (BANLI_AREAS). ValueError for an unknown profile or a bad areas file."""
        from .areas import load_areas, with_areas
        from .domain.timing.deadlines import get_profile

        profile = get_profile(self.profile)
        return profile if self.areas is None else with_areas(profile, load_areas(self.areas))

    @property
    def letters_path(self) -> Path:
        return self.letters_dir or self.data_dir / "letters"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def dsn(self) -> str:
        return self.clickhouse_dsn or f"chdb:///{self.data_dir / 'clickhouse'}"
