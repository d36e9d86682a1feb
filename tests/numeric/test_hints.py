"""Why a check proves nothing: kinks, and where a NaN or an Inf came from."""

from __future__ import annotations

import numpy as np
from support import run

from shapecheck.numeric import hints
from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verify import Settings, Verifier
from shapecheck.symbolic.derive import Deriver


def _verifier(text: str, **given: object) -> Verifier:
    report = run(text, verify=False)
    assert report.checked is not None and report.errors == 0, report.diagnostics
    values = draw_values(report.checked, 0, {k: np.asarray(v) for k, v in given.items()})
    return Verifier(report.checked, Deriver(report.checked), values, Settings())


def test_relu_or_abs_at_zero_is_a_kink() -> None:
    verifier = _verifier("param x[3] = [0, 1, 2]\nL = relu(x[i]) + abs(x[i] - 1)\n")
    found = hints.kinks(verifier.deriver, verifier.forward, ["L"])
    assert found == (
        "relu of a value at 0 in `L`: check at another point (--seed, or other literal values)",
        "abs of a value at 0 in `L`: check at another point (--seed, or other literal values)",
    )


def test_away_from_zero_there_is_no_kink() -> None:
    verifier = _verifier("param x[3] = [0.5, 1, 2]\nL = relu(x[i]) + tanh(x[i])\n")
    assert hints.kinks(verifier.deriver, verifier.forward, ["L"]) == ()


def test_log_of_a_non_positive_array_asks_to_declare_it_positive() -> None:
    verifier = _verifier("param x[3] = [1, -1, 2]\ny[i] = log(x[i])\nL = y[i]\n")
    assert verifier.nonfinite_hints() == ("log of a non-positive value in `y`: declare x positive",)


def test_sqrt_of_a_defined_value_asks_to_keep_it_positive() -> None:
    verifier = _verifier("param x[2] = [1, 2]\nz[i] = x[i] - 3\ny[i] = sqrt(z[i])\nL = y[i]\n")
    assert verifier.nonfinite_hints() == (
        "sqrt of a non-positive value in `y`: keep its argument positive",
    )


def test_zero_to_a_negative_power_is_a_division_by_zero() -> None:
    verifier = _verifier("param x[2] = [0, 2]\ny[i] = x[i]^(-1)\nL = y[i]\n")
    assert verifier.nonfinite_hints() == ("division by zero (or 0 to a negative power) in `y`",)


def test_without_a_culprit_the_hint_says_overflow() -> None:
    verifier = _verifier("param x[2] = [800, 1]\ny[i] = exp(x[i])\nL = y[i]\n")
    assert verifier.nonfinite_hints() == ("the forward values overflow or divide by zero",)
