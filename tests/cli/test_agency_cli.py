"""`reclaim agency …` and `reclaim evidence verify`, in-process."""

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.support.referrals import AGENCY_PUBLIC


def test_add_list_export_import(reclaim: Invoke, tmp_path: Path) -> None:
    added = reclaim(
        "agency",
        "add",
        "Taipei 113",
        "--kind",
        "social_services",
        "--email",
        "113@social.example.org",
        "--public-key",
        AGENCY_PUBLIC,
    )
    assert added.exit_code == 0, added.output
    assert "Taipei 113" in reclaim("agency", "list").output
    exported = tmp_path / "agencies.json"
    assert reclaim("agency", "export", "-o", str(exported)).exit_code == 0
    document = json.loads(exported.read_text("utf-8"))
    assert document["format"] == "reclaim-agencies/1"
    document["agencies"].append(
        {"name": "Police unit", "kind": "police", "email": "unit@police.example.org"}
    )
    document["agencies"][0]["region"] = "Taipei"
    exported.write_text(json.dumps(document), "utf-8")
    imported = reclaim("agency", "import", str(exported))
    assert imported.exit_code == 0, imported.output
    assert "1 agencies added, 1 updated" in imported.output
    csv_text = reclaim("agency", "export", "--format", "csv").output
    assert csv_text.splitlines()[0].startswith("name,kind,region,email")
    assert "Taipei,113@social.example.org" in csv_text


def test_a_bad_file_changes_nothing(reclaim: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "reclaim-agencies/1",
                "agencies": [
                    {"name": "Fine", "kind": "police", "email": "a@police.example.org"},
                    {"name": "No way to reach", "kind": "police"},
                    {"name": "Odd", "kind": "army", "email": "b@example.org"},
                ],
            }
        ),
        "utf-8",
    )
    result = reclaim("agency", "import", str(bad))
    assert result.exit_code == 1
    assert "row 2" in result.output and "row 3" in result.output
    assert "Fine" not in reclaim("agency", "list").output


def test_evidence_verify_refuses_what_is_not_a_package(reclaim: Invoke, tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    result = reclaim("evidence", "verify", str(junk))
    assert result.exit_code == 1
    assert "does not verify" in result.output
