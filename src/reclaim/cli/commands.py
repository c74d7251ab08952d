"""Imports every command module so that each registers its commands on the app."""

from reclaim.cli import agency as agency_command  # noqa: F401
from reclaim.cli import audit as audit_command  # noqa: F401
from reclaim.cli import backup as backup_command  # noqa: F401
from reclaim.cli import bank, db, demo, match, platform, quarantine, serve, worker  # noqa: F401
from reclaim.cli import feed_guard as feed_guard_command  # noqa: F401
from reclaim.cli import hash as hash_command  # noqa: F401
from reclaim.cli import keys as keys_command  # noqa: F401
from reclaim.cli import partner as partner_command  # noqa: F401
from reclaim.cli import patrol as patrol_command  # noqa: F401
from reclaim.cli import receipt as receipt_command  # noqa: F401
from reclaim.cli import scan as scan_command  # noqa: F401
from reclaim.cli import stats as stats_command  # noqa: F401
from reclaim.cli import user as user_command  # noqa: F401
