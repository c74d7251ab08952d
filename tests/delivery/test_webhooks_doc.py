"""docs/webhooks.md: its verification example agrees with Reclaim's own verify."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reclaim.delivery.signing import SignatureError, sign, verify

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = "whsec_doc_example_secret"
BODY = '{"notice": "N-7", "title": "移除通知"}'.encode()
T = 1_741_944_413

Verifier = Callable[..., int]


@pytest.fixture(scope="module")
def documented() -> Verifier:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    [example] = [block for block in blocks if "def verify_reclaim_signature" in block]
    namespace: dict[str, object] = {}
    exec(compile(example, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    function = namespace["verify_reclaim_signature"]
    assert callable(function)
    return function


def header_cases() -> list[tuple[str, bytes, str | None, float]]:
    good = sign(SECRET, BODY, T)
    signature = good.split("v1=")[1]
    return [
        (SECRET, BODY, good, T),
        (SECRET, BODY, good, T + 300),
        (SECRET, BODY, good, T + 301),
        (SECRET, BODY, good, T - 301),
        ("other", BODY, good, T),
        (SECRET, BODY + b" ", good, T),
        (SECRET, BODY, None, T),
        (SECRET, BODY, "nonsense", T),
        (SECRET, BODY, f"v1={signature}", T),
        (SECRET, BODY, f"t={T},t={T},v1={signature}", T),
        (SECRET, BODY, f"t={T + 1},v1={signature}", T),
        (SECRET, BODY, f"t={T},v1={'0' * 64},v1={signature.upper()}", T),
    ]


@pytest.mark.parametrize(("secret", "body", "header", "now"), header_cases())
def test_the_documented_check_agrees_with_verify(
    documented: Verifier, secret: str, body: bytes, header: str | None, now: float
) -> None:
    try:
        ours: int | None = verify(secret, body, header, now=now).timestamp
    except SignatureError:
        ours = None
    try:
        theirs: int | None = documented(secret, body, header, now=now)
    except ValueError:
        theirs = None
    assert theirs == ours


def test_the_documented_signing_snippet_makes_a_valid_header(
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    [snippet] = [block for block in blocks if "your test secret" in block]
    exec(compile(snippet, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
    header = capsys.readouterr().out.strip().removeprefix("Reclaim-Signature: ")
    verify("your test secret", b'{"example": true}', header, now=time.time())
