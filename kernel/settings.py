"""Settings from the environment (prefix ``CIVICDESK_``) and an optional ``.env`` file.

An empty ``database_url`` / ``broker_url`` / ``result_backend`` means "embedded": PostgreSQL and Valkey
started from their wheels with their data under ``var_dir`` (see kernel/embedded.py), so
``civicdesk run`` needs no server. Production points them at PostgreSQL and Redis or RabbitMQ.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PUBLIC_BASE_URL = "http://localhost:8000"
# Signs tokens in tests only; it is public (it is in the source), so anywhere else it is refused.
DEV_SECRET = "dev-insecure-change-me-before-production"  # noqa: S105 - a marker refused outside tests
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICDESK_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = Field("", description="empty: the embedded PostgreSQL under var_dir")
    broker_url: str = Field("", description="empty: the embedded Valkey under var_dir")
    result_backend: str = Field("", description="empty: the broker's Valkey")
    cache_url: str = Field(
        "",
        description="Redis/Valkey keeping rendered public pages for every web worker; empty: the broker when"
        " it is Redis or Valkey, off: none",
    )
    secret_key: str = Field(
        "",
        description="signs sign-ins and CSRF tokens; empty: required in production, else generated once"
        " per install into var_dir/secret_key",
    )
    public_list_seconds: int = Field(
        30,
        ge=0,
        le=600,
        description="how long the public list page and API are served as rendered, by every web worker,"
        " before a new report or a change shows there (the page says so); 0: rendered for each request",
    )
    web_threads: int = Field(
        3,
        ge=1,
        le=1000,
        description="threads of each web worker for the routes' blocking work (database, files): a few"
        " threads queue requests fairly instead of sharing one interpreter lock among many (the load"
        " benchmark measured 2-4 ahead of 8 and 40); raise it when long staff requests are common, or run"
        " more workers",
    )
    public_base_url: str = Field(
        "", description="base of citizens' links; empty: the address `civicdesk run` serves (not production)"
    )
    trusted_proxies: str = Field(
        "127.0.0.1",
        description="comma-separated addresses or networks (CIDR) of the reverse proxies whose"
        " X-Forwarded-For and X-Forwarded-Proto headers are believed",
    )
    city_code: str = Field("PR", pattern=r"^[A-Z]{2,5}$", description="prefix of human ticket codes")
    city_profile: Path | None = Field(
        None, description="the city's facts (kernel/data/city.toml's shape); empty: the shipped one"
    )
    timezone: str = Field("", description="IANA time zone; empty: the city profile's")
    access_token_minutes: int = 8 * 60
    session_hours: int = Field(10, ge=1, le=24, description="a staff sign-in lasts one working shift")
    cookie_secure: bool | None = Field(
        None, description="Secure flag on the staff cookie; by default set whenever the request is HTTPS"
    )
    attachment_max_bytes: int = 10 * 1024 * 1024
    # Open311: which web origins may read the API from a browser ("*" for any) and which may also POST
    # (with their api_key); a request's media_url is fetched within this time and size
    open311_cors_origins: list[str] = ["*"]
    open311_cors_post_origins: list[str] = []
    open311_media_timeout_seconds: float = 10.0
    # fetching a media_url from a private or loopback address is refused unless this is set (SSRF)
    open311_media_allow_private: bool = False
    # request bodies are refused with 413 beyond these, before they are read (web/intake.py); upload
    # routes allow attachment_max_bytes per file they take
    api_body_max_bytes: int = Field(1024 * 1024, ge=16 * 1024, description="JSON and form bodies")
    webhook_body_max_bytes: int = Field(1024 * 1024, ge=16 * 1024, description="Zalo and Facebook deliveries")
    image_max_pixels: int = Field(
        40_000_000, ge=1_000_000, description="photos with more pixels are refused before decoding"
    )
    attachment_dir: Path | None = None
    # where attachment bytes live (tickets/storage/): this host's folder, or an S3-compatible bucket
    # that every web and worker host shares
    storage: Literal["local", "s3"] = "local"
    s3_endpoint_url: str = Field(
        "", description="empty: AWS S3; else MinIO, Ceph, Garage… e.g. http://minio:9000"
    )
    s3_bucket: str = ""
    s3_region: str = ""
    s3_access_key_id: str = Field("", description="empty: boto3's own chain (environment, instance role)")
    s3_secret_access_key: str = ""
    s3_prefix: str = Field("attachments/", description="key prefix inside the bucket")
    description_max_chars: int = 5000
    reopen_days: int = 7

    # the PBX behind the telephony listener: Asterisk over AMI (CIVICDESK_AMI_*), or the simulated PBX in
    # the listener's own process (telephony/adapters/simulated.py; for demos and tests, never in production)
    pbx_mode: Literal["ami", "simulator"] = "ami"
    ami_host: str = ""
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: str = ""
    # contexts where PSTN calls to the hotline enter the dialplan (sample: telephony/asterisk/extensions.conf)
    ami_inbound_contexts: str = "from-pstn,from-trunk"
    hotline_number: str = Field("", pattern=r"^(\+?\d{3,15})?$", description="empty: the city profile's")
    ami_callback_context: str = "from-internal"
    ami_ping_seconds: float = Field(10.0, gt=0)
    queue_wrap_up_seconds: int = Field(10, ge=0, description="as wrapuptime in queues.conf")
    service_level_seconds: int = Field(20, gt=0, description="answered within this many seconds of joining")
    short_abandon_seconds: int = Field(5, ge=0, description="abandons quicker than this are reported apart")
    transcribe_recordings: bool = False  # also transcribe recorded conversations (kept on the call)
    # who turns voicemail into words: Vosk (CIVICDESK_VOSK_MODEL) or the simulated recogniser, which reads
    # the transcript from a sidecar file next to the audio (nlp/speech.py; never in production)
    speech_mode: Literal["vosk", "simulator"] = "vosk"
    vosk_model: Path | None = None  # a Vosk model directory, e.g. vosk-model-small-vn-0.4
    voicemail_dir: Path = Path("/var/spool/asterisk/voicemail")  # where relative voicemail files live
    # a voicemail's transcript is filed like any report only when Vosk is this sure of its words (the
    # mean of their confidences) and it has this many words; else a person listens to it first
    speech_confidence_threshold: float = Field(
        0.6, ge=0, le=1, description="below it a voicemail ticket waits in the triage queue"
    )
    speech_min_words: int = Field(3, ge=0, description="fewer recognised words: the triage queue")
    # SLA working calendar: office hours on working weekdays, local time (see sla/calendar.py)
    sla_office_hours: str = Field(
        "07:00-11:30,13:30-17:00", pattern=r"^\d\d:\d\d-\d\d:\d\d(,\d\d:\d\d-\d\d:\d\d)*$"
    )
    sla_working_weekdays: str = Field("mon,tue,wed,thu,fri", description="comma-separated, mon..sun")
    task_queue: str = Field("celery", description="Celery queue name; lets several cities share one broker")
    # channels (see channels/): Zalo OA and Facebook Page credentials, API addresses (fakes in tests)
    zalo_app_id: str = ""
    zalo_app_secret: str = ""
    zalo_oa_secret_key: str = ""
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"
    facebook_verify_token: str = ""
    facebook_app_secret: str = ""
    facebook_app_id: str = ""
    facebook_page_id: str = ""
    facebook_page_token: str = ""
    facebook_graph_base: str = "https://graph.facebook.com/v21.0"
    # which adapter sends on each chat channel (channels/clients.py): the provider's API, the simulator (same
    # answers, recorded under var_dir/channel-simulator) or off. Unset: real with credentials, else the
    # simulator in development and off in test and production
    zalo_mode: Literal["off", "simulator", "real"] = "real"
    facebook_mode: Literal["off", "simulator", "real"] = "real"
    channel_http_timeout: float = Field(10.0, gt=0, le=60)
    outbox_sending_timeout_seconds: int = Field(
        300,
        ge=120,
        description="a message still `sending` this long after its claim lost its worker: the sweep"
        " queues it again (well above channel_http_timeout, so a slow send is not sent twice)",
    )
    # notifications (see notifications/): the routes after the citizen's own channel, each real, a
    # simulator (same wire format, recorded under var_dir/notify-simulator) or off
    notify_fallback_order: str = Field(
        "zns,sms,email",
        pattern=r"^((zns|sms|email)(,(zns|sms|email))*)?$",
        description="administrators can change it at run time; this is the order until they do",
    )
    zns_mode: Literal["off", "simulator", "real"] = "simulator"
    sms_mode: Literal["off", "simulator", "real"] = "simulator"
    email_mode: Literal["off", "simulator", "real"] = "simulator"
    zns_api_base: str = "https://business.openapi.zalo.me"
    zns_template_id: str = Field("civicdesk-status", description="the approved ZNS template for updates")
    zns_cost_vnd: int = Field(300, ge=0, description="price of one ZNS message")
    sms_api_base: str = "https://rest.esms.vn"
    sms_api_key: str = ""
    sms_secret_key: str = ""
    sms_brandname: str = "UBND-PRTC"
    sms_callback_url: str = ""
    sms_cost_vnd: int = Field(700, ge=0, description="price of one 160-character SMS segment")
    sms_quiet_hours: str = Field(
        "21:00-07:00", pattern=r"^(\d\d:\d\d-\d\d:\d\d)?$", description="local time; urgent reports ignore it"
    )
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "CivicDesk <no-reply@localhost>"
    thread_window_hours: int = Field(72, ge=0, description="a message joins the open ticket this recent")
    ioc_wall_key: str = Field("", description="key the video wall uses for /ioc pages; empty: open")
    # the public maps (report form, /reports): background tiles from this URL template, shown with this
    # attribution; empty: offline, the ward outlines (or centres) alone on a blank background. The pages'
    # CSP allows images from this template's origin only.
    map_tile_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        pattern=r"^(https?://[^/\s'\";]+/\S*\{z\}\S*)?$",
        description="XYZ tile URL template: {z}, {x}, {y} (and {s}: a/b/c subdomains); empty: offline",
    )
    map_tile_attribution: str = Field(
        "© OpenStreetMap contributors", max_length=300, description="credit the tile server asks for"
    )
    nlp_model_path: str = Field("", description="category model file; empty: the one shipped in nlp/model/")
    # the triage thresholds and sensitive departments are the city profile's unless these are set
    triage_confidence_threshold: float | None = Field(None, ge=0, le=1, description="below it: human triage")
    triage_sensitive_threshold: float | None = Field(
        None, ge=0, le=1, description="below it, a report for a sensitive department waits for a person"
    )
    triage_sensitive_departments: str | None = Field(
        None,
        description="comma-separated departments a wrong report must not reach (police, health, education)",
    )
    nlp_retrain_seconds: float = Field(
        6 * 3600.0, gt=0, description="how often the worker retrains the category model on corrections"
    )
    sla_scan_seconds: float = Field(15.0, gt=0, le=60, description="how often beat looks for due SLA timers")
    # observability (see civicdesk/observability/ and docs/operations.md)
    log_format: Literal["json", "console"] | None = Field(
        None, description="json in production, readable console text elsewhere, unless set"
    )
    log_level: str = Field("INFO", pattern=r"^(?i:debug|info|warning|error|critical)$")
    metrics_token: str = Field("", description="bearer token /metrics asks for; empty: loopback callers only")
    sentry_dsn: str = Field("", description="error tracking by DSN (Sentry or compatible); empty: off")
    beat_heartbeat_seconds: float = Field(30.0, gt=0, le=300, description="how often beat proves it runs")
    task_soft_time_limit: int = Field(300, gt=0, description="seconds before a task is asked to stop")
    task_time_limit: int = Field(360, gt=0, description="seconds before a task's process is killed")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value and not zone_exists(value):
            raise ValueError(f"CIVICDESK_TIMEZONE: '{value}' is not an IANA time zone, e.g. Asia/Ho_Chi_Minh")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"CIVICDESK_TRUSTED_PROXIES: '{entry}' is not an IP address or network;"
                    " write e.g. 127.0.0.1,10.0.0.0/24"
                ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.public_base_url:
            if self.environment == "production":
                raise ValueError(
                    "CIVICDESK_PUBLIC_BASE_URL phải được đặt khi chạy production"
                    " (the public address of the site, e.g. https://phananh.example.gov.vn)"
                )
            self.public_base_url = DEFAULT_PUBLIC_BASE_URL
        if self.attachment_dir is None:
            self.attachment_dir = self.var_dir / "attachments"
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("CIVICDESK_STORAGE=s3 needs CIVICDESK_S3_BUCKET (and usually _S3_ENDPOINT_URL)")
        if self.task_time_limit <= self.task_soft_time_limit:
            raise ValueError(
                "CIVICDESK_TASK_TIME_LIMIT must be longer than CIVICDESK_TASK_SOFT_TIME_LIMIT"
                " (the soft limit asks the task to stop, the hard one kills it)"
            )
        self._check_secret_key()
        self._no_simulators_in_production()
        self._chat_channel_modes()
        return self

    def _no_simulators_in_production(self) -> None:
        """A simulator tells no citizen anything: in production a route is off unless it is set, and the
        PBX and speech are never simulated."""
        if self.environment != "production":
            return
        for name in ("zns_mode", "sms_mode", "email_mode"):
            if name not in self.model_fields_set:
                setattr(self, name, "off")
        for name, variable in (("pbx_mode", "CIVICDESK_PBX_MODE"), ("speech_mode", "CIVICDESK_SPEECH_MODE")):
            if getattr(self, name) == "simulator":
                raise ValueError(
                    f"{variable}=simulator không dùng được khi chạy production"
                    " (a simulated PBX or recogniser hears no real caller)"
                )

    def _chat_channel_modes(self) -> None:
        """A channel with credentials talks to its provider; without, a development install simulates it
        so a demo's replies go somewhere visible. Production refuses `real` without credentials."""
        for channel, credentials, needed in (
            ("zalo", self.zalo_credentials, "CIVICDESK_ZALO_APP_ID and CIVICDESK_ZALO_APP_SECRET"),
            ("facebook", self.facebook_credentials, "CIVICDESK_FACEBOOK_PAGE_ID and _PAGE_TOKEN"),
        ):
            name = f"{channel}_mode"
            if name not in self.model_fields_set:
                fallback = "simulator" if self.environment == "development" else "off"
                setattr(self, name, "real" if credentials else fallback)
            elif getattr(self, name) == "real" and not credentials and self.environment == "production":
                raise ValueError(f"CIVICDESK_{name.upper()}=real needs {needed}")

    @property
    def zalo_credentials(self) -> bool:
        return bool(self.zalo_app_id and self.zalo_app_secret)

    @property
    def facebook_credentials(self) -> bool:
        return bool(self.facebook_page_id and self.facebook_page_token)

    def _check_secret_key(self) -> None:
        make_one = " python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        if self.secret_key == DEV_SECRET and self.environment != "test":
            raise ValueError(
                "CIVICDESK_SECRET_KEY là khoá phát triển công khai trong mã nguồn, không được dùng"
                " (the development key is public; unset it or make a new one with" + make_one + ")"
            )
        if not self.secret_key:
            if self.environment == "production":
                raise ValueError(
                    "CIVICDESK_SECRET_KEY phải được đặt khi chạy production (at least 32 random characters,"
                    " the same on every host; make one with" + make_one + ")"
                )
            if self.environment == "test":
                self.secret_key = DEV_SECRET
        elif len(self.secret_key) < 32:
            raise ValueError("CIVICDESK_SECRET_KEY needs at least 32 characters; make one with" + make_one)

    @property
    def signing_key(self) -> str:
        """The configured secret, or this install's own, generated on first use under ``var_dir``."""
        return self.secret_key or install_secret(self.var_dir.resolve())

    @property
    def trusted_proxy_list(self) -> list[str]:
        """As uvicorn's forwarded_allow_ips takes them; empty: no proxy is believed."""
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.environment == "production" else "console")

    @property
    def ami_configured(self) -> bool:
        return bool(self.ami_host and self.ami_username)

    @property
    def attachments_path(self) -> Path:
        assert self.attachment_dir is not None
        return self.attachment_dir


def zone_exists(name: str) -> bool:
    """Whether the IANA database here knows the zone (read by the settings and the city profile)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache
def install_secret(var_dir: Path) -> str:
    """Read this install's secret, creating it first if needed. Every process of the install (web, worker,
    beat, several web workers) ends up with the same one: the file appears whole or not at all (written
    aside, then hard-linked into place, which fails if another process got there first)."""
    path = var_dir / SECRET_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        draft = var_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds no usable secret; delete it and a new one is made on the next start")
    return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()
