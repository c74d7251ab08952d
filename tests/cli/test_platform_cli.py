import json
from pathlib import Path

from tests.cli.conftest import Invoke


def test_seed_list_export_import(reclaim: Invoke, tmp_path: Path) -> None:
    result = reclaim("platform", "seed")
    assert result.exit_code == 0, result.output
    assert "platforms added" in result.output
    again = reclaim("platform", "seed")
    assert again.output.startswith("0 platforms added")

    exported = tmp_path / "platforms.csv"
    assert reclaim("platform", "export", "-o", str(exported)).exit_code == 0
    text = exported.read_text("utf-8")
    assert text.splitlines()[0].startswith("name,domains,abuse_email")
    edited = text.replace(
        "Dcard,dcard.io dcard.tw,,", "Dcard,dcard.io dcard.tw,abuse@dcard.example,"
    )
    assert edited != text
    exported.write_text(edited, "utf-8")
    result = reclaim("platform", "import", str(exported))
    assert result.exit_code == 0, result.output

    listed = reclaim("platform", "export", "--format", "json")
    platforms = {p["name"]: p for p in json.loads(listed.output)["platforms"]}
    assert platforms["Dcard"]["abuse_email"] == "abuse@dcard.example"


def test_a_bad_file_changes_nothing(reclaim: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "reclaim-platforms/1",
                "platforms": [
                    {"name": "Fine", "domains": ["fine.example"]},
                    {"name": "Broken", "domains": ["not a domain"]},
                ],
            }
        ),
        "utf-8",
    )
    result = reclaim("platform", "import", str(bad))
    assert result.exit_code == 1
    assert "platform 2" in result.output and "nothing was imported" in result.output
    assert json.loads(reclaim("platform", "export").output)["platforms"] == []
