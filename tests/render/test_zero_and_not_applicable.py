"""A relative error of 0/0 is not applicable (text and JSON agree), and `-0`
is never printed: formulas, LaTeX, numpy code, values and JSON numbers."""

from __future__ import annotations

import json

import numpy as np

from shapecheck.numeric.codegen import numpy_code
from shapecheck.numeric.comparison import Comparison
from shapecheck.numeric.report import _where
from shapecheck.numeric.verdicts import Check, Mode, Settings, Verdict, Worst
from shapecheck.render import json as json_format
from shapecheck.render.derivatives import check_words
from shapecheck.render.math import number
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.formula import formula


def _zero_against_round_off() -> Check:
    comparison = Comparison(Settings(rtol=1e-5, atol=1e-8))
    comparison.add(
        np.zeros(3), np.array([1e-17, -2e-17, 0.0]), 0.0, lambda k: Worst((k + 1,), None, 0.0, 0.0)
    )
    return comparison.result(Mode.FULL)


def test_zero_against_round_off_passes_with_no_relative_error() -> None:
    check = _zero_against_round_off()
    assert check.verdict is Verdict.OK
    assert check.max_rel_error is None
    assert check_words(check) == "✓ abs 2.0e-17"
    assert json_format._check(check)["max_rel_error"] is None


def test_a_value_away_from_zero_still_has_its_relative_error() -> None:
    comparison = Comparison(Settings(rtol=1e-5, atol=1e-8))
    # The zero entry does not make the relative error 1.
    comparison.add(
        np.array([0.0, 2.0]), np.array([1e-17, 2.0 + 2e-6]), 0.0, lambda k: Worst(None, k, 0.0, 0.0)
    )
    check = comparison.result(Mode.FULL)
    assert check.verdict is Verdict.OK
    assert check.max_rel_error is not None and abs(check.max_rel_error - 1e-6) < 1e-9
    assert check_words(check) == "✓ rel 1.0e-06"


def test_negative_zero_is_printed_as_zero() -> None:
    assert formula(t.Const(-0.0)) == "0"
    assert number(-0.0) == "0"
    assert numpy_code(t.Const(-0.0), ()) == "0.0"
    assert _where("dL/dx", Worst((1,), None, -0.0, -0.0)) == (
        "worst at dL/dx[1]: derived 0, finite differences 0"
    )
    assert json.dumps(json_format._number(-0.0)) == "0.0"
