"""Key rotation's background job: re-encrypt what older keys still encrypt, hourly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.fetching.quarantine.store import QuarantineStore
from reclaim.keys.rotation import reencrypt_all
from reclaim.security.field_crypto import FieldCipher, keyring

#: Hourly, after the quarantine purge (minute 7): nothing to do costs one query per column.
REENCRYPT_SCHEDULE = {"minute": "23"}


@dataclass(frozen=True, slots=True)
class KeyTasks:
    reencrypt: Any


def register(huey: Huey, settings: Settings, sessions: sessionmaker[Session]) -> KeyTasks:
    @huey.periodic_task(crontab(**REENCRYPT_SCHEDULE), name="reclaim.reencrypt")  # type: ignore[untyped-decorator]
    def reencrypt() -> dict[str, int]:
        """Move encrypted fields and quarantine objects to the current key."""
        ring = keyring(settings)
        store = QuarantineStore(settings.data_dir / "quarantine", ring)
        done = reencrypt_all(sessions, FieldCipher(ring), store, ring.current_key_id)
        return {"values": done.values, "objects": done.objects}

    return KeyTasks(reencrypt=reencrypt)
