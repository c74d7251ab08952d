import csv
import json
from pathlib import Path

from tests.cli.conftest import Invoke

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d35c785545392755e7e4164457657269"
SHA = "b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298"


def pdq_values(count: int, start: int = 1) -> list[str]:
    return [f"{(i * 0x9E3779B97F4A7C15) % (1 << 256):064x}" for i in range(start, start + count)]


def test_list_shows_the_builtin_banks(reclaim: Invoke) -> None:
    result = reclaim("bank", "list")
    assert result.exit_code == 0
    for name in ("self-reported", "unverified", "csam", "minor-self-generated", "sextortion"):
        assert name in result.output


def test_create_then_refuse_a_duplicate(reclaim: Invoke) -> None:
    assert reclaim("bank", "create", "hotline-x", "--description", "from X").exit_code == 0
    again = reclaim("bank", "create", "hotline-x")
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_import_local_file_is_idempotent(reclaim: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    lines = [f"pdq {v}" for v in pdq_values(500)] + [f"video_md5 {MD5}", f"sha256 {SHA}"]
    source.write_text("\n".join(lines) + "\n")
    reclaim("bank", "create", "imported")
    first = reclaim("bank", "import", str(source), "--bank", "imported")
    assert first.exit_code == 0, first.output
    assert "502 added" in first.output
    second = reclaim("bank", "import", str(source), "--bank", "imported")
    assert "0 added" in second.output and "502 already banked" in second.output
    stats = reclaim("bank", "stats", "imported").output
    assert "pdq 500" in stats and "md5 1" in stats and "sha256 1" in stats


def test_bad_lines_are_named_and_the_rest_imported(reclaim: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    good = pdq_values(3)
    source.write_text(
        f"pdq {good[0]}\npdq nothex\nfoo {good[1]}\n\npdq {good[2]}\npdq {good[2][:-1]}\n"
    )
    reclaim("bank", "create", "mixed")
    result = reclaim("bank", "import", str(source), "--bank", "mixed")
    assert result.exit_code == 1
    assert "line 2:" in result.output and "line 3:" in result.output and "line 6:" in result.output
    assert "unknown signal type 'foo'" in result.output
    assert "2 added" in result.output and "3 bad" in result.output


def test_strict_imports_nothing_when_a_line_is_bad(reclaim: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    source.write_text("\n".join(f"pdq {v}" for v in pdq_values(10)) + "\npdq bad\n")
    reclaim("bank", "create", "strict")
    result = reclaim("bank", "import", str(source), "--bank", "strict", "--strict")
    assert result.exit_code == 1
    assert "line 11:" in result.output and "nothing imported" in result.output
    assert "empty" in reclaim("bank", "stats", "strict").output


def test_csv_import_honours_quality_and_verified(reclaim: Invoke, tmp_path: Path) -> None:
    values = pdq_values(4)
    source = tmp_path / "list.csv"
    source.write_text(
        "signal_type,value,quality,verified,added_at\n"
        f"pdq,{values[0]},90,true,2026-01-01T00:00:00Z\n"
        f"pdq,{values[1]},20,true,\n"
        f"md5,{MD5},,,\n"
        f"pdq,{values[2]},101,true,\n"
        f"pdq,{values[3]},90,false,\n"
    )
    # A list whose source vouches that a person saw every picture, all of one kind.
    created = reclaim("bank", "create", "csvbank", "--verified", "--category", "csam")
    assert created.exit_code == 0, created.output
    result = reclaim("bank", "import", str(source), "--bank", "csvbank")
    assert "line 5: quality must be 0–100" in result.output
    assert "below the banking threshold 50" in result.output
    # A line that says nobody saw it has no place in a verified bank.
    assert "holds only verified hashes" in result.output
    stats = reclaim("bank", "stats", "csvbank").output
    assert "pdq 1" in stats and "md5 1" in stats and "verified 2" in stats


def test_a_verified_bank_refuses_another_category(reclaim: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    source.write_text(f"signal_type,value,category\nmd5,{MD5},adult_ncii\nsha256,{SHA},\n")
    reclaim("bank", "create", "kr-csam", "--verified", "--category", "csam")
    result = reclaim("bank", "import", str(source), "--bank", "kr-csam")
    assert "holds csam only, not adult_ncii" in result.output
    assert "1 added" in result.output


def test_export_round_trips_in_all_three_formats(reclaim: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "list.jsonl"
    values = pdq_values(20)
    source.write_text(
        "".join(
            json.dumps(
                {
                    "signal_type": "pdq",
                    "value": v,
                    "quality": 80,
                    "category": "csam" if i % 2 == 0 else "unknown",
                }
            )
            + "\n"
            for i, v in enumerate(values)
        )
    )
    reclaim("bank", "create", "origin")
    assert reclaim("bank", "import", str(source), "--bank", "origin").exit_code == 0

    local = tmp_path / "out.txt"
    reclaim("bank", "export", "--bank", "origin", "--format", "local_file", "-o", str(local))
    assert local.read_text().splitlines() == [f"pdq {v}" for v in values]

    table = tmp_path / "out.csv"
    reclaim("bank", "export", "--bank", "origin", "--format", "csv", "-o", str(table))
    with table.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["value"] for r in rows] == values
    assert [r["category"] for r in rows[:2]] == ["csam", "unknown"]
    assert {r["verified"] for r in rows} == {"false"}
    assert rows[0]["quality"] == "80" and rows[0]["added_at"].endswith("Z")

    lines = tmp_path / "out.jsonl"
    reclaim("bank", "export", "--bank", "origin", "--format", "jsonl", "-o", str(lines))
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["value"] for r in records] == values

    # Each export imports back into a new bank unchanged.
    for name, path in (("copy-local", local), ("copy-csv", table), ("copy-jsonl", lines)):
        reclaim("bank", "create", name)
        assert "20 added" in reclaim("bank", "import", str(path), "--bank", name).output


def test_local_file_export_uses_threatexchange_type_names(reclaim: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    source.write_text(f"md5 {MD5}\nsha256 {SHA}\n")
    reclaim("bank", "create", "names")
    reclaim("bank", "import", str(source), "--bank", "names")
    output = reclaim("bank", "export", "--bank", "names").output.splitlines()
    assert output == [f"video_md5 {MD5}", f"video_sha256 {SHA}"]


def test_import_into_an_unknown_bank_is_refused(reclaim: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "list.txt"
    source.write_text(f"pdq {PDQ_A}\n")
    result = reclaim("bank", "import", str(source), "--bank", "missing")
    assert result.exit_code == 1
    assert "no bank named 'missing'" in result.output


def test_vpdq_imports_and_exports_in_both_video_formats(reclaim: Invoke, tmp_path: Path) -> None:
    """python-threatexchange's vPDQ signal strings in, Reclaim JSON lines out, and back."""
    frames = [f"{v},{90 - i},{float(i):.3f}" for i, v in enumerate(pdq_values(5))]
    source = tmp_path / "videos.txt"
    source.write_text(f"vpdq {json.dumps(frames)}\nvpdq []\n")
    reclaim("bank", "create", "videos")
    imported = reclaim("bank", "import", str(source), "--bank", "videos")
    assert "1 added" in imported.output and "line 2" in imported.output
    assert "vpdq 1" in reclaim("bank", "stats", "videos").output

    lines = tmp_path / "out.jsonl"
    reclaim("bank", "export", "--bank", "videos", "--format", "jsonl", "-o", str(lines))
    (record,) = [json.loads(line) for line in lines.read_text().splitlines()]
    assert record["signal_type"] == "vpdq" and record["quality"] == 90
    assert record["frames"][1] == f"1,89,{pdq_values(5)[1]},1.000"
    local = reclaim("bank", "export", "--bank", "videos").output.splitlines()
    assert local == [f"vpdq {json.dumps(frames)}"]

    reclaim("bank", "create", "videos-copy")
    assert "1 added" in reclaim("bank", "import", str(lines), "--bank", "videos-copy").output
    tampered = tmp_path / "tampered.jsonl"
    record["frames"][0] = record["frames"][0].replace(",90,", ",91,")
    tampered.write_text(json.dumps(record) + "\n")
    refused = reclaim("bank", "import", str(tampered), "--bank", "videos-copy")
    assert "not the fingerprint of its frames" in refused.output
