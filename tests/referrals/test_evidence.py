"""The evidence package: built, signed, verified by Reclaim and by standard tools alone
(openssl, sha256sum, and the short script in docs/agencies.md); one changed byte fails."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.cases.domain import AgeGroup
from reclaim.cases.models import PageSnapshot
from reclaim.config import Settings
from reclaim.fetching.quarantine import QuarantineStore
from reclaim.referrals import custody, evidence
from reclaim.referrals.domain import AgencyKind, CustodyAction, Share
from reclaim.referrals.verifying import verify_package
from reclaim.security.field_crypto import field_cipher, keyring
from reclaim.security.signing import signing_keyring
from tests.support.cases import make_case, make_user, quarantined
from tests.support.clock import T0, FakeClock
from tests.support.referrals import AGENCY_PRIVATE, make_agency, sent_referral
from tests.support.settings import require_or_skip

DOCS = Path(__file__).resolve().parents[2] / "docs" / "agencies.md"


@pytest.fixture
def store(settings: Settings, clock: FakeClock) -> QuarantineStore:
    return QuarantineStore(settings.data_dir / "quarantine", keyring(settings), clock=clock)


@pytest.fixture
def package(
    session: Session, settings: Settings, store: QuarantineStore, clock: FakeClock
) -> bytes:
    police = make_agency(session, "Police unit", AgencyKind.POLICE)
    case = make_case(
        session,
        urls=["https://example.org/profile"],
        age=AgeGroup.UNDER_18,
        contact="reporter@example.org",
        cipher=field_cipher(settings),
        created_at=T0,
    )
    item = case.items[0]
    kept = quarantined(session, item, "evidence-media", fetched_at=T0, expires_at=T0)
    store.put(kept.object_id, b"synthetic picture bytes")
    snapshot = PageSnapshot(
        item_id=item.id,
        object_id="evidence-page",
        final_url="https://example.org/profile",
        http_status=200,
        headers={"content-type": "text/html; charset=utf-8", "server": "test"},
        content_type="text/html",
        size=30,
        sha256="0" * 64,
        fetched_at=T0,
        expires_at=T0,
    )
    session.add(snapshot)
    store.put(snapshot.object_id, b"<html><body>profile</body></html>")
    session.flush()
    referral = sent_referral(
        session, case, police, make_user(session, Role.SUPERVISOR), shares=[Share.MEDIA]
    )
    built = evidence.build(
        session,
        referral,
        cipher=field_cipher(settings),
        store=store,
        keyring=signing_keyring(settings),
        actor="user 1",
        actor_id=None,
        clock=clock,
    )
    assert built.sha256 == referral.package_sha256
    assert custody.log(session, case.id)[-1].action is CustodyAction.EXPORTED
    return built.data


def _keys(settings: Settings) -> dict:  # type: ignore[type-arg]
    return signing_keyring(settings).public_keys()


def test_the_package_verifies_and_says_what_it_holds(package: bytes, settings: Settings) -> None:
    result = verify_package(package, _keys(settings))
    assert result.problems == []
    assert result.key_id == "s1" and not result.used_enclosed_key
    assert result.files == 2  # the page snapshot and the sealed media
    assert result.custody_entries == 1 and result.audit_events > 0
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(package)).read("manifest.json"))
    shared = manifest["shared"]
    assert shared["items"][0]["snapshots"][0]["headers"]["server"] == "test"
    # Consent was never given: no contact, no words, no decisions.
    assert "reporter_contact" not in shared and "reporter_words" not in shared
    assert "decisions" not in shared
    assert "reporter@example.org" not in package.decode("latin-1")


def test_media_is_sealed_to_the_agency(package: bytes) -> None:
    archive = zipfile.ZipFile(io.BytesIO(package))
    (name,) = [n for n in archive.namelist() if n.startswith("media/")]
    sealed = archive.read(name)
    assert b"synthetic picture bytes" not in sealed
    assert evidence.unseal(AGENCY_PRIVATE, sealed) == b"synthetic picture bytes"


def test_one_changed_byte_fails(package: bytes, settings: Settings) -> None:
    keys = _keys(settings)
    step = max(1, len(package) // 60)
    for position in range(0, len(package), step):
        tampered = bytearray(package)
        tampered[position] ^= 0x01
        assert not verify_package(bytes(tampered), keys).ok, f"byte {position} went unnoticed"


def test_a_repacked_package_with_a_changed_manifest_fails(
    package: bytes, settings: Settings
) -> None:
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "manifest.json":
                data = data.replace(b"Police unit", b"Police unix")
            target.writestr(name, data)
    result = verify_package(out.getvalue(), _keys(settings))
    assert any("signature" in p for p in result.problems)


def test_standard_tools_alone_verify_it(package: bytes, tmp_path: Path) -> None:
    if shutil.which("openssl") is None or shutil.which("sha256sum") is None:
        require_or_skip("openssl and sha256sum are needed")
    zipfile.ZipFile(io.BytesIO(package)).extractall(tmp_path)
    signed = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "hotline-public-key.pem",
            "-rawin",
            "-in",
            "manifest.json",
            "-sigfile",
            "manifest.sig",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert signed.returncode == 0, signed.stdout + signed.stderr
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    (tmp_path / "manifest.json").write_bytes(
        (tmp_path / "manifest.json").read_bytes().replace(b"Police", b"Polise")
    )
    refused = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "hotline-public-key.pem",
            "-rawin",
            "-in",
            "manifest.json",
            "-sigfile",
            "manifest.sig",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0


def test_the_script_in_the_docs_verifies_it(package: bytes, tmp_path: Path) -> None:
    """docs/agencies.md's short script (Python and `cryptography` only, no Reclaim)."""
    script = re.search(r"```python\n(# verify-evidence\.py.*?)```", DOCS.read_text(), re.S)
    assert script is not None, "docs/agencies.md lost its verification script"
    (tmp_path / "verify.py").write_text(script.group(1))
    good = tmp_path / "good.zip"
    good.write_bytes(package)
    ok = subprocess.run(
        [sys.executable, "verify.py", "good.zip"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stdout + ok.stderr
    bad = bytearray(package)
    bad[len(bad) // 2] ^= 0x01
    (tmp_path / "bad.zip").write_bytes(bytes(bad))
    failed = subprocess.run(
        [sys.executable, "verify.py", "bad.zip"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode != 0
