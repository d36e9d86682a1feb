"""`# shapecheck: ignore[CODE]`: silences a line's diagnostics, never a verdict."""

from __future__ import annotations

from support import run

from shapecheck.run.suppress import apply_ignores

UNKNOWN = "param a\ny = b  # shapecheck: ignore[E101]\n"


def _codes(text: str, allow_ignore: bool = True) -> list[str]:
    return [d.code for d in apply_ignores(run(text), allow_ignore=allow_ignore).diagnostics]


def test_an_ignore_silences_its_code_on_its_line() -> None:
    assert [d.code for d in run(UNKNOWN).diagnostics] == ["W101", "E101"]
    assert _codes(UNKNOWN) == ["W101"]


def test_several_codes_and_an_unused_one() -> None:
    text = "param a\ny = b  # shapecheck: ignore[E101, E201]\n"
    report = apply_ignores(run(text))
    assert [d.code for d in report.diagnostics] == ["W101", "W901"]
    assert report.diagnostics[1].message == "unused suppression: no E201 on this line"
    assert report.source.position(report.diagnostics[1].span.start)[0] == 2  # type: ignore[union-attr]


def test_an_ignore_on_another_line_silences_nothing() -> None:
    text = "param a  # shapecheck: ignore[E101]\ny = b\n"
    assert _codes(text) == ["W101", "W901", "E101"]


def test_a_claims_verdict_is_never_silenced() -> None:
    text = "dim n = 3\nparam a[n]\ny = a[i] a[i]\ndy/da[i] = 3 a[i]  # shapecheck: ignore[E402]\n"
    codes = _codes(text)
    assert "E402" in codes
    assert "W903" in codes


def test_an_unknown_code_is_reported() -> None:
    assert _codes("param a\ny = a  # shapecheck: ignore[X999]\n") == ["W903"]


def test_allow_ignore_false_honours_nothing_and_says_so() -> None:
    assert _codes(UNKNOWN, allow_ignore=False) == ["W101", "E101", "W902"]


def test_a_file_without_ignores_is_unchanged() -> None:
    report = run("param a\ny = a\n")
    assert apply_ignores(report) is report
