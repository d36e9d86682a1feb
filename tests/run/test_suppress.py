"""`# shapecheck: ignore[CODE]`: silences a line's warnings, never an error or a verdict."""

from __future__ import annotations

from support import run

from shapecheck.run.suppress import apply_ignores

UNUSED = "param b  # shapecheck: ignore[W101]\nparam a\ny = a\n"


def _codes(text: str, allow_ignore: bool = True) -> list[str]:
    return [d.code for d in apply_ignores(run(text), allow_ignore=allow_ignore).diagnostics]


def test_an_ignore_silences_its_warning_on_its_line() -> None:
    assert [d.code for d in run(UNUSED).diagnostics] == ["W101"]
    assert _codes(UNUSED) == []


def test_several_codes_and_an_unused_one() -> None:
    text = "param b  # shapecheck: ignore[W101, W102]\nparam a\ny = a\n"
    report = apply_ignores(run(text))
    assert [d.code for d in report.diagnostics] == ["W901"]
    assert report.diagnostics[0].message == "unused suppression: no W102 on this line"
    assert report.source.position(report.diagnostics[0].span.start)[0] == 1  # type: ignore[union-attr]


def test_an_ignore_on_another_line_silences_nothing() -> None:
    text = "param b\nparam a  # shapecheck: ignore[W101]\ny = a\n"
    assert sorted(_codes(text)) == ["W101", "W901"]


def test_an_error_is_never_silenced() -> None:
    # Silencing an error would leave a file that looks clean, its claims never judged.
    text = "param a\ny = b  # shapecheck: ignore[E101]\n"
    codes = _codes(text)
    assert "E101" in codes
    assert "W903" in codes


def test_a_silenced_error_cannot_hide_a_wrong_claim() -> None:
    text = (
        "dim n = 3, m = 4\nparam x[n]\ninput A[m, n]\n"
        "y[i] = A[i, j] x[i]   # shapecheck: ignore[E201]\n"
        "f = x[i] x[i]\ndf/dx[i] = 3 * x[i]\n"
    )
    report = apply_ignores(run(text))
    assert report.errors > 0


def test_a_claims_verdict_is_never_silenced() -> None:
    text = "dim n = 3\nparam a[n]\ny = a[i] a[i]\ndy/da[i] = 3 a[i]  # shapecheck: ignore[E402]\n"
    codes = _codes(text)
    assert "E402" in codes
    assert "W903" in codes


def test_an_unknown_code_is_reported() -> None:
    assert _codes("param a\ny = a  # shapecheck: ignore[X999]\n") == ["W903"]


def test_allow_ignore_false_honours_nothing_and_says_so() -> None:
    assert _codes(UNUSED, allow_ignore=False) == ["W101", "W902"]


def test_a_file_without_ignores_is_unchanged() -> None:
    report = run("param a\ny = a\n")
    assert apply_ignores(report) is report
