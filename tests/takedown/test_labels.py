"""Every status a person reads has a label, translated in both catalogs."""

import pytest

from reclaim.takedown.labels import LABELS
from reclaim.web.i18n import LANGUAGES, read_catalog


def test_every_member_of_every_labelled_enum_has_a_label() -> None:
    assert LABELS.unlabelled() == []
    assert {kind.__name__ for kind in LABELS} >= {
        "CaseStatus",
        "Classification",
        "NoticeStatus",
        "PageOutcome",
        "MediaOutcome",
        "NoticeKind",
        "VerificationOutcome",
        "DeliveryStatus",
    }


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_label_is_translated(language: str) -> None:
    catalog = read_catalog(language)
    for kind in LABELS:
        for member in kind:
            message = catalog.get(LABELS.message(member))
            assert message is not None and message.string, (language, member)
