"""How a wrong claim is wrong, each explanation from its own arrays."""

from __future__ import annotations

import numpy as np
import pytest
from support import run

from shapecheck.check.program import CheckedProgram
from shapecheck.numeric.diagnose import diagnose


@pytest.fixture(scope="module")
def program() -> CheckedProgram:
    report = run("dim n = 6, d = 4\nparam W[d, n]\nL = W[i, j] W[i, j]\n", verify=False)
    assert report.checked is not None
    return report.checked


TRUTH = np.arange(1.0, 25.0).reshape(4, 6) ** 1.5


def test_transpose_names_the_right_reading(program: CheckedProgram) -> None:
    square = TRUTH[:, :4]
    words = diagnose(square.T.copy(), square, ("j", "k"), program)
    assert words is not None and words.startswith("it is the transpose")
    assert "the claim's [j,k] should be read as [k,j]" in words


def test_minus_the_truth_is_the_wrong_sign(program: CheckedProgram) -> None:
    words = diagnose(-TRUTH, TRUTH, ("j", "k"), program)
    assert words == "it has the wrong sign: it is minus the true derivative"


def test_a_dims_size_is_a_missing_or_extra_sum(program: CheckedProgram) -> None:
    missing = diagnose(TRUTH / 6, TRUTH, ("j", "k"), program)
    assert missing is not None and "divided by 6 (= n): is a sum over an index of size n" in missing
    extra = diagnose(TRUTH * 4, TRUTH, ("j", "k"), program)
    assert extra is not None and "times 4 (= d): is there a sum over an index of size d" in extra


def test_another_factor_is_named(program: CheckedProgram) -> None:
    assert diagnose(2.5 * TRUTH, TRUTH, ("j", "k"), program) == (
        "it is the true derivative times a constant, 2.5"
    )


def test_agreement_only_after_a_sum_is_a_broadcast(program: CheckedProgram) -> None:
    claimed = np.broadcast_to(TRUTH.mean(axis=0), TRUTH.shape)
    words = diagnose(claimed, TRUTH, ("j", "k"), program)
    assert words is not None and "only once summed over `j`" in words


def test_an_unexplained_difference_has_no_words(program: CheckedProgram) -> None:
    claimed = TRUTH + np.sin(np.arange(24.0)).reshape(4, 6)
    assert diagnose(claimed, TRUTH, ("j", "k"), program) is None
