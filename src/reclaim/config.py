"""Reclaim's one typed settings object.

Settings are read from ``RECLAIM_*`` environment variables and, optionally, from a
settings file (``RECLAIM_SETTINGS_FILE``, in ``KEY=value`` dotenv form).  Entry points
(the CLI, ``create_app``, the worker) build a :class:`Settings` and pass it down; no
module reads the environment on its own, and nothing builds settings at import time.

Every field is documented in ``docs/configuration.md``; ``tests/test_config.py`` fails
when one is not.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reclaim.domain.languages import DEFAULT_LANGUAGE, Language
from reclaim.domain.times import DEFAULT_TIME_ZONE, zone_named
from reclaim.hashing.limits import HashingLimits

if TYPE_CHECKING:
    from reclaim.matching.video import VideoRule

#: Values that ship in the code for development; refused outside development mode.
_DEVELOPMENT_SECRET = "development-only-secret-change-me"  # noqa: S105
_DEVELOPMENT_QUARANTINE_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktY2hhbmdlLW1lISE="
_DEVELOPMENT_SIGNING_KEY = "ZGV2ZWxvcG1lbnQtb25seSBzaWduaW5nIGtleSEhISE="
_DEVELOPMENT_AUDIT_KEY = "ZGV2ZWxvcG1lbnQtb25seSBhdWRpdCBjaGFpbiBrZXkhIQ=="


class InsecureSettingsError(ValueError):
    """Raised when a default (public) secret is used outside development mode."""


#: A secret key must be this long and carry about this many bits by a character-count
#: estimate (``secrets.token_urlsafe(32)`` gives 43 characters and ~230 bits).
SECRET_MIN_LENGTH = 24
SECRET_MIN_BITS = 80
_SECRET_ADVICE = "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"  # noqa: S105 - advice text


#: In production the secret must also resist zxcvbn's guessing (words, keyboard
#: walks, sequences, dates): at least 10^20 guesses, about 66 bits.
SECRET_MIN_GUESSES_LOG10 = 20


def secret_weakness(value: str, *, production: bool = False) -> str | None:
    """Why ``value`` is too weak for a secret key (None: strong enough).

    Everywhere but development: the string's own character entropy times its length (it
    cannot prove a secret random, but it refuses what people type by hand: "x",
    "changeme", "aaaa…", a word repeated).  In production also zxcvbn's estimate, which
    sees words and sequences ("abcdefgh…", "my-secret-0123456789").  Generated tokens
    pass both."""
    if len(value) < SECRET_MIN_LENGTH:
        return f"is {len(value)} characters long; at least {SECRET_MIN_LENGTH} are needed"
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    if len(counts) < 10 or per_char * len(value) < SECRET_MIN_BITS:
        return "repeats too few characters to be hard to guess"
    if production:
        from zxcvbn import zxcvbn  # imported here: only production start-up pays for it

        # zxcvbn only looks at the first 72 characters; a longer secret is stronger still.
        if float(zxcvbn(value[:72])["guesses_log10"]) < SECRET_MIN_GUESSES_LOG10:
            return "is made of words or sequences that are easy to guess"
    return None


class Settings(BaseSettings):
    """Everything an operator can set.  See docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="RECLAIM_",
        extra="forbid",
        frozen=True,
        env_file_encoding="utf-8",
    )

    # --- deployment -------------------------------------------------------------
    environment: Literal["development", "test", "production"] = "production"
    database_url: str = "sqlite:///var/reclaim.sqlite3"
    data_dir: Path = Path("var")
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: SecretStr = SecretStr(_DEVELOPMENT_SECRET)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # --- request limits at the server (reclaim serve; see docs/deployment.md) -------
    server_max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    server_max_headers: int = Field(default=100, ge=10, le=1000)
    server_max_request_line_bytes: int = Field(default=8 * 1024, ge=256, le=1024 * 1024)
    server_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    server_max_connections_per_client: int = Field(default=32, ge=1)
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (the client address throttles and logs see); empty: no forwarded header is trusted.
    server_trusted_proxies: list[str] = Field(default_factory=list)

    # --- background jobs --------------------------------------------------------
    redis_url: str | None = None
    # Prefix of every Redis key Reclaim writes, the queue's included (several
    # installations may share one Redis).
    redis_key_prefix: str = Field(default="reclaim", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    queue_path: Path | None = None
    run_worker_in_process: bool = True

    # --- languages and time -----------------------------------------------------
    default_language: Language = DEFAULT_LANGUAGE
    # The zone people read times in (console, reports, notices); storage stays UTC.
    time_zone: str = DEFAULT_TIME_ZONE

    # --- hashing limits ---------------------------------------------------------
    max_file_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    max_video_bytes: int = Field(default=2 * 1024 * 1024 * 1024, gt=0)
    # Capped at Pillow's own warning threshold, above which it warns for every image.
    max_image_pixels: int = Field(default=50_000_000, gt=0, le=89_478_485)
    max_video_seconds: float = Field(default=3 * 60 * 60, gt=0)
    max_video_frames: int = Field(default=20_000, gt=0)
    hash_timeout_seconds: float = Field(default=120.0, gt=0)

    # --- safe fetching and the quarantine ---------------------------------------
    fetch_max_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    fetch_total_timeout_seconds: float = Field(default=30.0, gt=0)
    fetch_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    fetch_read_timeout_seconds: float = Field(default=10.0, gt=0)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    fetch_allowlist: list[str] = Field(default_factory=list)
    fetch_allowed_ports: list[int] | None = None
    fetch_user_agent: str = "Reclaim-Verifier/0.1 (child-protection hotline; removal checks)"
    # the patrol's re-fetches of watched pages (review), separate from the verifier's
    review_user_agent: str = "Reclaim-Review/0.1 (child-protection hotline; content review)"
    patrol_host_interval_seconds: float = Field(default=10.0, ge=0)
    quarantine_current_key_id: str = "dev"
    quarantine_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(_DEVELOPMENT_QUARANTINE_KEY)}
    )
    quarantine_retention_days: int = Field(default=30, ge=1)

    # --- the hotline's signing key (receipts, evidence packages, audit checkpoints) -
    # Ed25519 private keys (base64 of the 32-byte seed) by key id; new signatures use
    # the current one, older ones stay so that what they signed still verifies.
    signing_current_key_id: str = "dev"
    signing_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(_DEVELOPMENT_SIGNING_KEY)}
    )

    # --- the audit trail's key and checkpoints ------------------------------------
    # HMAC-SHA256 keys (base64, at least 32 bytes) by key id: each audit row's hash is
    # keyed, so someone who can write the database but not read these settings cannot
    # forge or recompute rows.  New rows use the current key; older ones verify old rows.
    audit_current_key_id: str = "dev"
    audit_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(_DEVELOPMENT_AUDIT_KEY)}
    )
    # Signed checkpoints of the chain's head, written outside the database.
    audit_checkpoint_dir: Path | None = None
    audit_checkpoint_minutes: int = Field(default=15, ge=1, le=60)
    # Optional witnesses that receive every checkpoint: an address and/or an https URL.
    audit_witness_email: str | None = None
    audit_witness_webhook_url: str | None = None

    # --- the public portal ------------------------------------------------------
    # Who to call, shown on the home page and after an urgent report.
    protection_line_phone: str = "113"
    emergency_phone: str = "110"
    hotline_phone: str = ""
    hotline_hours: str = ""
    # The same hours in English (RECLAIM_HOTLINE_HOURS is shown in Traditional Chinese).
    hotline_hours_en: str = ""
    hotline_email: str = ""
    # Case number + PIN checks: failures allowed per case and per client in the window.
    pin_max_failures_per_case: int = Field(default=5, ge=1)
    pin_max_failures_per_client: int = Field(default=20, ge=1)
    pin_lockout_minutes: int = Field(default=15, ge=1)
    report_max_urls: int = Field(default=50, ge=1, le=500)
    report_max_files: int = Field(default=50, ge=1, le=500)
    # Where "leave this site quickly" goes (a neutral page that replaces the portal's).
    quick_exit_url: str = "https://www.cwa.gov.tw/"
    # Reports a client (one address) may make within an hour, and all clients together;
    # beyond them a report is refused with the advice and the numbers to call.
    report_max_per_client_per_hour: int = Field(default=5, ge=1)
    report_max_per_hour: int = Field(default=300, ge=1)

    # --- staff accounts and sessions --------------------------------------------
    password_min_length: int = Field(default=12, ge=8)
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_client: int = Field(default=20, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    enrolment_link_hours: int = Field(default=72, ge=1)
    # Require a second analyst's agreement before a confirming decision takes effect.
    require_second_analyst: bool = False

    # --- triage -----------------------------------------------------------------
    # An open case waiting longer than this is overdue (urgent cases: the second).
    triage_overdue_hours: int = Field(default=24, ge=1)
    triage_urgent_overdue_hours: int = Field(default=2, ge=1)

    # --- statistics (issue 15) ------------------------------------------------------
    # Public figures: a count below this (but not zero) is shown as "<N".
    statistics_small_cell: int = Field(default=5, ge=2)

    # --- takedown ---------------------------------------------------------------
    hotline_name: str = "Reclaim"
    notice_deadline_hours_minor: int = Field(default=24, ge=1)
    notice_deadline_hours_adult: int = Field(default=72, ge=1)
    notice_reminder_hours: int = Field(default=24, ge=1)
    notice_follow_up_days: int = Field(default=30, ge=1)
    legal_basis_minor: str = (
        "Child and Youth Sexual Exploitation Prevention Act (Taiwan), Article 8"
    )
    legal_basis_adult: str = (
        "Sexual Assault Crime Prevention Act (Taiwan), Article 13: sexual images "
        "shared without consent"
    )
    # The same, for notices in Traditional Chinese.
    legal_basis_minor_zh_tw: str = "兒童及少年性剝削防制條例第八條"
    legal_basis_adult_zh_tw: str = "性侵害犯罪防治法第十三條（未經同意散布之性影像）"
    # Account notices (an offender's profile in a sextortion case): no statute sets a
    # deadline; this one is for follow-up and escalation.
    notice_deadline_hours_account: int = Field(default=24, ge=1)
    # When noticed pages are checked: minutes after sending, then every interval.
    # Shorten both for a demonstration (e.g. "1,2,3" and 5).
    verification_schedule_minutes: list[int] = Field(default_factory=lambda: [60, 360, 1440])
    verification_interval_minutes: int = Field(default=1440, ge=1)

    # --- referrals (issue 13) ------------------------------------------------------
    # Hours within which a minor's sexual exploitation must be reported to the
    # authorities (CYSEPA art. 7: 24 hours); the referral's deadline.
    referral_mandatory_hours: int = Field(default=24, ge=1)
    # Reminders to an agency that has not answered, and when a referral expires.
    referral_reminder_hours: int = Field(default=24, ge=1)
    referral_expiry_days: int = Field(default=14, ge=1)
    # How long a referred case's quarantined media and page snapshots are kept (the
    # platforms' legal retention, CYSEPA art. 8: 180 days); a legal hold keeps longer.
    referred_retention_days: int = Field(default=180, ge=1)

    # --- banks and matching -----------------------------------------------------
    bank_min_pdq_quality: int = Field(default=50, ge=0, le=100)
    match_max_distance: int = Field(default=31, ge=0, le=63)
    # Flood guard: a self-reported hash is held out of the feed, pending an analyst,
    # when this many partners matched it within the window, or when this many partners
    # said a match on it was not violating.
    flood_guard_match_partners: int = Field(default=5, ge=2)
    flood_guard_feedback_partners: int = Field(default=2, ge=1)
    flood_guard_window_days: int = Field(default=30, ge=1)
    # Videos (vPDQ's rule): frames of this PDQ quality or more count; a frame matches
    # within the distance; a video matches a banked one when both shares of matching
    # frames reach their thresholds (the query's, the banked video's).
    vpdq_quality_threshold: int = Field(default=50, ge=0, le=100)
    vpdq_max_distance: int = Field(default=31, ge=0, le=63)
    vpdq_query_match_percent: float = Field(default=80.0, ge=0, le=100)
    vpdq_target_match_percent: float = Field(default=80.0, ge=0, le=100)

    # --- delivery ---------------------------------------------------------------
    # Notices by email.  STARTTLS (with a verified certificate) is required by
    # default: a notice names URLs of abuse material and must not cross a network in
    # clear; "none" is for a relay on this machine.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_local_hostname: str | None = None
    mail_from: str = "Reclaim <notices@reclaim.invalid>"
    # Notices by signed webhook; the fetch allow-list and ports apply to them too.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Failed deliveries: exponential backoff with full jitter up to the cap.
    delivery_retry_base_seconds: float = Field(default=60.0, gt=0)
    delivery_retry_cap_seconds: float = Field(default=6 * 60 * 60.0, gt=0)
    delivery_max_attempts: int = Field(default=10, ge=1)

    # --- partner API --------------------------------------------------------------
    # Per-key token bucket, in memory in each server process (see docs/partners.md).
    api_rate_per_second: float = Field(default=100.0, gt=0)
    api_burst: int = Field(default=200, ge=1)
    # Largest request body the partner API reads (a 1,000-signal batch with dihedral
    # variants is about 700 KB).
    api_max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Largest page of the hash feed a partner may ask for.
    api_feed_max_limit: int = Field(default=10_000, ge=1)
    # A checked key is trusted this long in memory; a revoked key stops working within it.
    api_key_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # Match volumes (statistics) are counted in memory and written at most this often
    # per process: a hard crash loses up to this much of them.
    api_match_volume_flush_seconds: float = Field(default=60.0, ge=0, le=3600)

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        zone_named(value)
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "development":
            return self
        if self.secret_key.get_secret_value() == _DEVELOPMENT_SECRET:
            raise InsecureSettingsError(
                "RECLAIM_SECRET_KEY still has its development default; set a long random "
                "value (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) "
                "or set RECLAIM_ENVIRONMENT=development on a development machine."
            )
        weakness = secret_weakness(
            self.secret_key.get_secret_value(), production=self.environment == "production"
        )
        if weakness:
            raise InsecureSettingsError(f"RECLAIM_SECRET_KEY {weakness}; {_SECRET_ADVICE}.")
        if any(
            key.get_secret_value() == _DEVELOPMENT_QUARANTINE_KEY
            for key in self.quarantine_keys.values()
        ):
            raise InsecureSettingsError(
                "RECLAIM_QUARANTINE_KEYS still holds the development key; set "
                '{"<key id>": "<32 random bytes, base64>"} and RECLAIM_QUARANTINE_CURRENT_KEY_ID '
                "(e.g. `python -c 'import os, base64; "
                "print(base64.b64encode(os.urandom(32)).decode())'`)."
            )
        if any(
            key.get_secret_value() == _DEVELOPMENT_SIGNING_KEY for key in self.signing_keys.values()
        ):
            raise InsecureSettingsError(
                "RECLAIM_SIGNING_KEYS still holds the development key; set "
                '{"<key id>": "<32 random bytes, base64>"} and RECLAIM_SIGNING_CURRENT_KEY_ID'
            )
        if self.signing_current_key_id not in self.signing_keys:
            raise InsecureSettingsError(
                f"RECLAIM_SIGNING_CURRENT_KEY_ID {self.signing_current_key_id!r} is not one "
                "of the ids in RECLAIM_SIGNING_KEYS"
            )
        if self.quarantine_current_key_id not in self.quarantine_keys:
            raise InsecureSettingsError(
                f"RECLAIM_QUARANTINE_CURRENT_KEY_ID {self.quarantine_current_key_id!r} is not "
                "one of the ids in RECLAIM_QUARANTINE_KEYS"
            )
        if any(
            key.get_secret_value() == _DEVELOPMENT_AUDIT_KEY for key in self.audit_keys.values()
        ):
            raise InsecureSettingsError(
                "RECLAIM_AUDIT_KEYS still holds the development key; set "
                '{"<key id>": "<32 random bytes, base64>"} and RECLAIM_AUDIT_CURRENT_KEY_ID'
            )
        if self.audit_current_key_id not in self.audit_keys:
            raise InsecureSettingsError(
                f"RECLAIM_AUDIT_CURRENT_KEY_ID {self.audit_current_key_id!r} is not one "
                "of the ids in RECLAIM_AUDIT_KEYS"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The operator's time zone, for times shown to people."""
        return zone_named(self.time_zone)

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    def hashing_limits(self) -> HashingLimits:
        return HashingLimits(
            max_file_bytes=self.max_file_bytes,
            max_video_bytes=self.max_video_bytes,
            max_image_pixels=self.max_image_pixels,
            max_video_seconds=self.max_video_seconds,
            max_video_frames=self.max_video_frames,
            timeout_seconds=self.hash_timeout_seconds,
        )

    def video_rule(self) -> VideoRule:
        """vPDQ's rule with this server's thresholds (matching loads numpy: imported here)."""
        from reclaim.matching.video import VideoRule

        return VideoRule(
            distance=self.vpdq_max_distance,
            quality_threshold=self.vpdq_quality_threshold,
            query_match_percent=self.vpdq_query_match_percent,
            target_match_percent=self.vpdq_target_match_percent,
        )

    @property
    def secret_bytes(self) -> bytes:
        """The secret key as bytes, for HMACs (CSRF tokens, PINs, throttle keys, cookies)."""
        return self.secret_key.get_secret_value().encode()

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` whenever the service is reached over https."""
        return self.base_url.startswith("https://")

    @property
    def queue_file(self) -> Path:
        return self.queue_path or self.data_dir / "queue.sqlite3"

    @property
    def checkpoint_dir(self) -> Path:
        """Where signed audit checkpoints are written (keep it off the database's disk)."""
        return self.audit_checkpoint_dir or self.data_dir / "audit-checkpoints"

    @property
    def index_dir(self) -> Path:
        """Where the match engine saves its index between restarts."""
        return self.data_dir / "index"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, the optional settings file and overrides.

    Entry points call this once; tests pass overrides instead of touching the
    environment.
    """
    settings_file = os.environ.get("RECLAIM_SETTINGS_FILE")
    if settings_file:
        return Settings(_env_file=settings_file, **overrides)
    return Settings(**overrides)


__all__ = ["InsecureSettingsError", "Settings", "load_settings"]
