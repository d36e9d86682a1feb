"""Writing a derivative out (`derive.expand`) is bounded before it is built.

An unrolled loop's dL/db copies each adjoint line once per step that reads
it, so written out it is quadratic in the steps. Past the limit it is not
built: `--expand` shows the derivative with its lines and says why (W107);
a second derivative, or a definition reading the derivative, is E303 at
once and located (each took 45-55 s at 100 steps before failing). The
proof that nothing is built is `_inline` patched to raise. Below the limit,
and where nothing is copied over however large, writing out is unchanged.
"""

from __future__ import annotations

import pytest
from support import rnn, run

from shapecheck.explain import explain
from shapecheck.pipeline import FileReport
from shapecheck.symbolic import derive
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import MAX_WRITTEN_OUT_NODES, Deriver, NotWrittenOut, expand


def _never_inlined(*_: object) -> t.Term:
    raise AssertionError("the derivative was written out")


def test_expand_past_the_limit_shows_the_lines_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(derive, "_inline", _never_inlined)
    report = run(rnn(100, "relu", "derive dL/db"), expand=True, verify=False)
    (result,) = report.derivatives
    assert result.expanded is None
    assert len(result.derivation.adjoints) == 100  # shown as without --expand
    (warning,) = [d for d in report.diagnostics if d.code == "W107"]
    assert warning.message.startswith("dL/db is not written out with --expand: written out")
    assert "55,651 terms and factors" in warning.message
    assert f"the limit is {MAX_WRITTEN_OUT_NODES:,}" in warning.message
    assert report.errors == 0


def test_expand_below_the_limit_writes_it_out() -> None:
    report = run(rnn(3, "relu", "derive dL/db"), expand=True)
    (result,) = report.derivatives
    assert result.expanded is not None
    assert not any(t.mentions(result.expanded, f"dL/ds{step}") for step in range(1, 4))
    assert [d.code for d in report.diagnostics] == []


def test_a_second_derivative_past_the_limit_is_e303_before_it_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(derive, "_inline", _never_inlined)
    report = run(rnn(100, "tanh", "derive d2L/db2"), verify=False)
    (problem,) = [d for d in report.diagnostics if d.code == "E303"]
    assert problem.message.startswith("d2L/db2 could not be derived: dL/db written out")
    assert report.derivatives == ()


def test_a_second_derivative_too_large_to_print_whole_says_so_in_the_files_words() -> None:
    # The first derivative (946 terms and factors at 10 tanh steps) is
    # written out; the second, printed whole, would pass the limit: said of
    # d2L/db2 (not of its internal lines, `ddL/db/db`).
    report = run(rnn(10, "tanh", "derive d2L/db2"), verify=False)
    (problem,) = [d for d in report.diagnostics if d.code == "E303"]
    assert problem.message == (
        "d2L/db2 could not be derived: written out whole it would have about 44,702 "
        f"terms and factors; the limit is {MAX_WRITTEN_OUT_NODES:,}"
    )
    # At 20 steps the first (3,591) is not even written out for it.
    report = run(rnn(20, "tanh", "derive d2L/db2"), verify=False)
    (problem,) = [d for d in report.diagnostics if d.code == "E303"]
    assert problem.message.startswith("d2L/db2 could not be derived: dL/db written out")
    assert problem.message.endswith(f"the limit is {derive.MAX_SECOND_ORDER_BASE:,}")


def test_a_definition_reading_a_derivative_past_the_limit_is_e303_at_that_definition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(derive, "_inline", _never_inlined)
    text = rnn(100, "relu", "g[i] = dL/db[i]\nG = g[i] g[i]\nderive dG/dU")
    report = run(text, verify=False)
    (problem,) = [d for d in report.diagnostics if d.code == "E303"]
    assert problem.message.startswith("`g` reads a derivative that is too large: dL/db written")
    assert problem.span is not None
    assert text[problem.span.start : problem.span.end] == "g[i] = dL/db[i]"


def test_explain_says_it_where_derive_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derive, "_inline", _never_inlined)
    text = rnn(100, "relu", "g[i] = dL/db[i]\nG = g[i] g[i]\nderive dG/dU")
    explained = explain(text, "G", "U")
    assert isinstance(explained, FileReport)
    (problem,) = [d for d in explained.diagnostics if d.code == "E303"]
    assert problem.span is not None
    assert text[problem.span.start : problem.span.end] == "g[i] = dL/db[i]"
    second = explain(rnn(100, "tanh", "derive d2L/db2"), "L", "b", order=2)
    assert isinstance(second, FileReport)
    (problem,) = [d for d in second.diagnostics if d.code == "E303"]
    assert problem.message.startswith("d2L/db2 could not be derived: dL/db written out")


def test_a_large_derivative_that_is_not_copied_over_is_written_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 300 terms, each read once: written out it is the size of its lines,
    # however far past the limit (the claim of canonical_growth.py); the
    # limit is lowered under it, and the same limit refuses a copied one.
    monkeypatch.setattr(derive, "MAX_WRITTEN_OUT_NODES", 200)
    terms = " + ".join(f"a{k}[i] x[i]" for k in range(1, 301))
    text = f"dim n = 3\ninput x[n]\nparam {', '.join(f'a{k}[n]' for k in range(1, 301))}\n"
    text += f"y[i] = {terms}\nz[i] = tanh(y[i])\nL = z[i] z[i]\nderive dL/dx\n"
    report = run(text, verify=False)
    assert report.checked is not None and report.errors == 0
    deriver = Deriver(report.checked)
    derivation = deriver.derive("L", "x")
    assert derive.written_out_size(derivation) > 200
    assert expand(derivation, deriver.taken) is not None
    copied = run(rnn(8, "relu", "derive dL/db"), verify=False)
    assert copied.checked is not None
    deriver = Deriver(copied.checked)
    with pytest.raises(NotWrittenOut):
        expand(deriver.derive("L", "b"), deriver.taken)


def test_a_size_that_doubles_per_layer_is_counted_up_to_a_cap() -> None:
    # A residual step reads the line after it twice: 2^1100 terms written
    # out, past any float (the ratio was an OverflowError, E999).
    text = (
        "dim h = 3\ninput h0[h]\nfor t in 1..1100:\n    param W{t}[h, h], b{t}[h]\n"
        "    h{t}[i] = tanh(W{t}[j, i] h{t-1}[j] + b{t}[i]) + h{t-1}[i] sigmoid(b{t}[i])\n"
        "L = h1100[i] h1100[i]\nderive dL/dh0\n"
    )
    report = run(text, expand=True, verify=False)
    (warning,) = [d for d in report.diagnostics if d.code == "W107"]
    assert "would have more than 1 × 10^15 terms and factors;" in warning.message
    assert derive.written_out_words(10**15 - 1, 10) == (
        "about 999,999,999,999,999 terms and factors, 99,999,999,999,999 times as many as its lines"
    )


def test_the_limit_counts_what_is_copied_not_what_is_large() -> None:
    assert derive.copied_over(20_001, 10_000, MAX_WRITTEN_OUT_NODES)
    assert not derive.copied_over(20_001, 10_001, MAX_WRITTEN_OUT_NODES)
    assert not derive.copied_over(20_000, 100, MAX_WRITTEN_OUT_NODES)
    error = NotWrittenOut("dL/db", "(its adjoint lines inlined) would have about 3 terms")
    assert str(error) == "dL/db written out (its adjoint lines inlined) would have about 3 terms"
