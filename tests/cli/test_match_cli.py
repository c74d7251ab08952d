import json
from pathlib import Path

import pytest

from reclaim.domain.signals import pdq_distance
from tests.cli.conftest import Invoke


@pytest.fixture
def reference(testdata: Path) -> dict[str, dict[str, str]]:
    table = (testdata / "threatexchange" / "pdq" / "reference.tsv").read_text().splitlines()
    header = table[0].split("\t")
    return {
        row.split("\t")[0]: dict(zip(header, row.split("\t"), strict=True)) for row in table[1:]
    }


@pytest.fixture
def banked(reclaim: Invoke, tmp_path: Path, reference: dict[str, dict[str, str]]) -> str:
    original = reference["dih/bridge-1-original.jpg"]
    source = tmp_path / "bank.txt"
    source.write_text(f"pdq {original['pdq_rgb']}\nvideo_md5 {original['md5']}\n")
    assert reclaim("bank", "import", str(source), "--bank", "unverified").exit_code == 0
    return original["pdq_rgb"]


def test_a_file_matches_its_banked_hash(reclaim: Invoke, banked: str, testdata: Path) -> None:
    image = testdata / "threatexchange" / "pdq" / "dih" / "bridge-1-original.jpg"
    result = reclaim("match", str(image), "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    found = {(m["signal_type"], m["distance"]) for m in record["matches"]}
    assert found == {("pdq", 0), ("md5", 0)}
    assert all(m["bank"] == "unverified" for m in record["matches"])


def test_rotated_files_match_only_with_dihedral(
    reclaim: Invoke, banked: str, testdata: Path, reference: dict[str, dict[str, str]]
) -> None:
    rotated = testdata / "threatexchange" / "pdq" / "dih" / "bridge-2-rotate-90.jpg"
    assert pdq_distance(reference["dih/bridge-2-rotate-90.jpg"]["pdq_rgb"], banked) > 31
    plain = json.loads(reclaim("match", str(rotated), "--json").output)
    assert plain["matches"] == []
    turned = json.loads(reclaim("match", str(rotated), "--dihedral", "--json").output)
    [match] = turned["matches"]
    assert match["signal_type"] == "pdq" and match["distance"] <= 31


def test_hashes_on_the_command_line(reclaim: Invoke, banked: str) -> None:
    near = f"{int(banked, 16) ^ 0b1011:064x}"
    result = reclaim("match", f"pdq:{near}", near, "--json")
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert [m["distance"] for m in first["matches"]] == [3]
    # A bare 64-hex value is looked up as PDQ and as SHA-256.
    assert [(m["query_signal"], m["distance"]) for m in second["matches"]] == [("pdq", 3)]


def test_readable_output_and_max_distance(reclaim: Invoke, banked: str) -> None:
    near = f"{int(banked, 16) ^ 0xFFFF:064x}"
    assert "unverified" in reclaim("match", f"pdq:{near}").output
    assert "no match" in reclaim("match", f"pdq:{near}", "--max-distance", "15").output


def test_bad_inputs_are_reported_and_the_rest_matched(reclaim: Invoke, banked: str) -> None:
    result = reclaim("match", "pdq:xyz", "not-a-file-or-hash", f"pdq:{banked}", "--json")
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.output.splitlines()]
    assert "64 hexadecimal" in records[0]["error"]
    assert "not a file" in records[1]["error"]
    assert len(records[2]["matches"]) == 1


def test_bank_filter(reclaim: Invoke, banked: str) -> None:
    result = reclaim("match", f"pdq:{banked}", "--bank", "self-reported", "--json")
    assert json.loads(result.output)["matches"] == []
