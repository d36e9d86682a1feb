"""Opaque functions in the checker (spec 9.5): names in the one namespace, calls
below their `fn` statement, rule 3 inside a call, and every misuse as a
located diagnostic (golden: compared as whole strings)."""

from __future__ import annotations

import pytest
from support import codes, notation_of, rendered, run

from shapecheck.render.diagnostics import render_plain

HEADER = "dim n = 3, m = 4\nparam A[n, m], x[m], v[n]\nfn f, g\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # rule 3 applies inside a call as inside any function
        ("out[i] = f(A[i, j] x[j])", "f(Σ_j A[i,j] x[j])"),
        ("out = f(v[i])", "Σ_i f(v[i])"),
        ("out = f(v[i] v[i])", "f(Σ_i v[i] v[i])"),
        ("out[i] = f'(A[i, j]) x[j]", "Σ_j f'(A[i,j]) x[j]"),
        ("out[i] = g''(f(v[i]))", "g''(f(v[i]))"),
    ],
)
def test_where_the_indices_go(text: str, expected: str) -> None:
    assert notation_of(HEADER + text + "\n") == expected


def test_a_function_standing_as_an_array() -> None:
    assert rendered(run(HEADER + "out[i] = f[i] v[i]\n")) == (
        "test.idx:4:10: error[E165]: `f` is a function (`fn`), not an array\n"
        "  4 | out[i] = f[i] v[i]\n"
        "    |          ^^^^\n"
        "  = help: a function applies entry by entry to one argument, e.g. `f(x[i])`; "
        "its derivative is `f'(x[i])`"
    )
    assert codes(HEADER + "out = g\n") == ["E165"]


def test_a_derivative_of_or_by_a_function() -> None:
    assert rendered(run(HEADER + "out = f(v[i])\nderive df/dv\n")) == (
        "test.idx:5:8: error[E165]: `f` is a function (`fn`), not an array: "
        "`df/dv` is not a derivative\n"
        "  5 | derive df/dv\n"
        "    |        ^^^^^\n"
        "  = help: derive an array that applies it: `y[i] = f(x[i])`, then `dy/dx`; "
        "its derivative is written `f'(x[i])`"
    )
    assert codes(HEADER + "out = f(v[i])\ndout/dg = 1\n") == ["E165"]


def test_a_call_above_its_fn_statement() -> None:
    text = "dim n = 3\nparam v[n]\nout = h(v[i])\nfn h\n"
    assert rendered(run(text)) == (
        "test.idx:3:7: error[E103]: the function `h` is used before its declaration\n"
        "  3 | out = h(v[i])\n"
        "    |       ^\n"
        "  4 | fn h\n"
        "    |    ^ `fn h` is declared here\n"
        "  = help: move the `fn` statement above its first use"
    )


def test_one_namespace_for_functions_arrays_and_dims() -> None:
    assert rendered(run(HEADER + "param g\n")) == (
        "test.idx:4:7: error[E102]: `g` is defined twice\n"
        "  3 | fn f, g\n"
        "    |       ^ `g` is first defined here\n"
        "  4 | param g\n"
        "    |       ^\n"
        "  = help: each name is declared or defined once"
    )
    assert codes(HEADER + "fn m\n") == ["E102"]
    assert codes(HEADER + "fn x\n") == ["E102"]
    assert codes(HEADER + "fn q, q\n") == ["E102"]
    assert codes(HEADER + "out[i] = f(v[i])\nfn out\n") == ["E102"]


def test_an_fn_nothing_calls_is_an_unused_declaration() -> None:
    report = run(HEADER + "out = f(v[i] x[1])\nderive dout/dA\n")
    (unused,) = [d for d in report.diagnostics if d.code == "W101"]
    assert render_plain(report.source, unused) == (
        "test.idx:3:7: warning[W101]: fn `g` is never used\n  3 | fn f, g\n    |       ^"
    )


LOOP = (
    "dim n = 3\nparam w[n]\nfor t in 1..2:\n    fn f{t}\n    h{t}[i] = f{t}(w[i])\n"
    "L = h1[i] h2[i]\n"
)


def test_a_template_function_is_called_by_its_step_name_below_its_loop() -> None:
    # `f1'` is what the tool prints for a step of `fn f{t}`: it pastes back
    # (it was E060, "`f1` is an array or a size"), and a swap of the steps is wrong.
    assert codes(LOOP + "dL/dw[i] = f1'(w[i]) h2[i] + h1[i] f2'(w[i])\n") == []
    assert codes(LOOP + "dL/dw[i] = f2'(w[i]) h2[i] + h1[i] f1'(w[i])\n") == ["E402"]


def test_a_step_no_loop_declares_is_an_unknown_function() -> None:
    assert rendered(run(LOOP + "dL/dw[i] = f1'(w[i]) h2[i] + h1[i] f7'(w[i])\n")) == (
        "test.idx:7:36: error[E101]: unknown function `f7`: no `fn` statement declares it\n"
        "  7 | dL/dw[i] = f1'(w[i]) h2[i] + h1[i] f7'(w[i])\n"
        "    |                                    ^^^\n"
        "  = help: the functions this file declares are `f1`, `f2`"
    )
