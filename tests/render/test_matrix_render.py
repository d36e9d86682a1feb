"""det, inv and trace in every format (spec 9.5): the `.idx` text, LaTeX math,
numpy code, and the not-verified verdict of an ill-conditioned matrix."""

from __future__ import annotations

from support import run

from shapecheck.check.program import Size
from shapecheck.numeric.codegen import numpy_code
from shapecheck.render import junit, markdown
from shapecheck.render import math as latex_math
from shapecheck.render.derivatives import check_words
from shapecheck.symbolic import terms as t

N = Size("n", 3)
P, Q = t.Idx("p", N), t.Idx("q", N)


def test_terms_as_latex() -> None:
    assert latex_math.term(t.Matrix("det", "X")) == r"\det\left(X\right)"
    assert latex_math.term(t.Matrix("trace", "AX")) == r"\operatorname{tr}\left(\mathit{AX}\right)"
    assert latex_math.term(t.Matrix("inv", "X", (Q, P))) == r"\left(X^{-1}\right)_{q,p}"


def test_terms_as_numpy_code() -> None:
    assert numpy_code(t.Matrix("det", "X")) == "np.linalg.det(X)"
    assert numpy_code(t.Matrix("trace", "X")) == "np.trace(X)"
    assert numpy_code(t.Matrix("inv", "X", (P, Q))) == "np.linalg.inv(X)"
    assert numpy_code(t.Matrix("inv", "X", (P, P))) == 'np.einsum("aa->a", np.linalg.inv(X))'
    assert numpy_code(t.Matrix("inv", "X", (t.Fixed(1), Q))) == "np.linalg.inv(X)[0, :]"
    assert numpy_code(t.Matrix("inv", "X", (Q, P)), (P, Q)) == (
        'np.einsum("ab->ba", np.linalg.inv(X))'
    )


def test_definitions_in_markdown() -> None:
    report = run("dim n = 3\nparam X[n, n]\ns = trace(X) + inv(X)[1, 2]\n")
    text = markdown.render([report], strict=False)
    assert r"\operatorname{tr}\left(X\right) + \left(X^{-1}\right)_{1,2}" in text


SINGULAR = "dim n = 3, d = 2\nparam X[n, d]\nK[a, b] = X[a, k] X[b, k]\nL = det(K)\nderive dL/dX\n"


def test_an_ill_conditioned_matrix_is_not_verified_and_skipped() -> None:
    report = run(SINGULAR)
    (result,) = report.derivatives
    assert check_words(result.check) == "– not verified (ill-conditioned matrix)"
    xml = junit.render([report], strict=False)
    assert '<skipped message="– not verified (ill-conditioned matrix)" />' in xml
    assert 'failures="0"' in xml
    # --strict makes every warning count, W111 included.
    assert 'failures="1"' in junit.render([report], strict=True)
