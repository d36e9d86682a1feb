"""Hostile input: every case gets a diagnostic and a defined outcome, quickly,
and no input whatever makes the pipeline raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import codes, run

from shapecheck.pipeline import Options, analyze_bytes


def test_empty_file_is_a_warning_only() -> None:
    report = run("")
    assert [d.code for d in report.diagnostics] == ["W105"]
    assert report.errors == 0


def test_binary_and_invalid_utf8() -> None:
    binary = analyze_bytes("b.idx", b"\x00\x01\x02", Options())
    assert [d.code for d in binary.diagnostics] == ["E001"]
    invalid = analyze_bytes("u.idx", b"dim n\nparam x\xff[n]\n", Options())
    assert [d.code for d in invalid.diagnostics] == ["E001"]
    assert "line 2, column 8" in invalid.diagnostics[0].message


def test_byte_order_mark_is_ignored() -> None:
    report = analyze_bytes("bom.idx", "\ufeffparam a\ny = a\n".encode(), Options())
    assert report.diagnostics == ()


def test_one_megabyte_line() -> None:
    assert codes("y = " + "a + " * 262_144 + "a\n") == ["E012"]


def test_five_thousand_nested_parentheses() -> None:
    assert codes("param a\ny = " + "(" * 5000 + "a" + ")" * 5000 + "\n") == ["E011"]


def test_deep_unary_and_power_chains() -> None:
    assert codes("param a\ny = " + "-" * 5000 + "a\n") == ["E011"]
    assert codes("param a\ny = a" + "^a" * 5000 + "\n") == ["E011"]


def test_unroll_range_over_the_limit() -> None:
    assert codes("for t in 1..1000000:\n    y{t} = 1\n") == ["E111"]


def test_nested_unrolls_are_bounded() -> None:
    text = "for t in 1..10000:\n    for u in 1..10000:\n        y{t}_{u} = 1\n"
    assert "E111" in codes(text)


def test_huge_dim() -> None:
    report = run("dim n = 10^9\nparam x[n]\ny = x[i] x[i]\n")
    assert [d.code for d in report.diagnostics] == ["W104"]
    assert report.diagnostics[0].hints == ("check it at a smaller size: --size n=3906250",)
    assert codes("dim n = 10^99\nparam x[n]\ny = x[i]\n") == ["E105"]
    assert codes("dim n = 10^400\nparam x[n]\ny = x[i]\n") == ["E105"]


# ---- properties: nothing raises, whatever the input

_VOCABULARY = [
    "dim",
    "input",
    "param",
    "derive",
    "for",
    "in",
    "layout",
    "positive",
    "sum",
    "delta",
    "loss",
    "exp",
    "tanh",
    "X",
    "W",
    "b",
    "i",
    "j",
    "k",
    "n",
    "dL/dW",
    "dY/dX",
    "1",
    "2.5",
    "1..3",
    "[",
    "]",
    "(",
    ")",
    ",",
    "=",
    "+",
    "-",
    "*",
    "/",
    "^",
    "**",
    ":",
    "δ",
    "Σ",
    "∂L/∂W",
    "·",
    "{t}",
    "x{t-1}",
    "#",
    "\n",
    "\n    ",
    " ",
    "\t",
    "numerator",
    ".",
    "1.",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    run(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    analyze_bytes("fuzz.idx", data, Options())


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_VOCABULARY), max_size=60))
def test_arbitrary_token_sequences_never_raise(tokens: list[str]) -> None:
    run(" ".join(tokens))


_HEADER = "dim n = 4, d = 3\ninput X[n, d], x[d]\nparam W[d, n], a\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_VOCABULARY), max_size=30))
def test_token_sequences_after_a_valid_header_never_raise(tokens: list[str]) -> None:
    run(_HEADER + "y = " + " ".join(tokens) + "\n")
