import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from reclaim.documents.spreadsheet import BOM, csv_for_people, formula_safe


def test_excel_sees_utf8_and_no_formulas() -> None:
    body = csv_for_people(
        ["網址", "=平臺"],
        [
            ["https://例子.tw/=1", '=HYPERLINK("http://x")'],
            ["+886", "@SUM(A1)"],
            ["-1", 3.5],
            ["\tTAB", None],
            ["普通", -2],
        ],
    )
    assert body.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel looks for
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        ["網址", "'=平臺"],
        ["https://例子.tw/=1", '\'=HYPERLINK("http://x")'],
        ["'+886", "'@SUM(A1)"],
        ["'-1", "3.5"],
        ["'\tTAB", ""],
        ["普通", "-2"],  # numbers stay numbers, even negative ones
    ]
    assert BOM not in body.decode("utf-8")[1:]


@given(st.text())
def test_no_cell_text_starts_a_formula(text: str) -> None:
    safe = formula_safe(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe in (text, "'" + text)
