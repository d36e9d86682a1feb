"""Wrong verdicts found in review, each now a test: a decisive disagreement is
never left out as undecidable, and a derived value whose evaluation overflowed
or underflowed on the way is never trusted (inconclusive, not E401)."""

from __future__ import annotations

from support import codes


def test_a_claim_wrong_beyond_its_rounding_bound_is_wrong() -> None:
    text = (
        "param x[2] = [10000000001, 3]\n"
        "input c[2] = [10000000000, 0]\n"
        "L = (x[i] - c[i])^2\n"
        "derive dL/dx\n"
        "dL/dx[i] = 2*(x[i] - c[i]) + delta[i, 1]\n"
    )
    assert "E402" in codes(text)


def test_the_same_claim_without_the_error_is_not_wrong() -> None:
    text = (
        "param x[2] = [10000000001, 3]\n"
        "input c[2] = [10000000000, 0]\n"
        "L = (x[i] - c[i])^2\n"
        "derive dL/dx\n"
        "dL/dx[i] = 2*(x[i] - c[i])\n"
    )
    assert not {"E401", "E402"} & set(codes(text))


def test_a_softmax_whose_derivative_underflows_is_inconclusive_not_a_bug() -> None:
    text = (
        "input z[3] = [400, 0, 1]\n"
        "S = exp(z[e])\n"
        "P[k] = exp(z[k]) / S\n"
        "L = -log(P[2])\n"
        "derive dL/dz\n"
        "dL/dz[k] = P[k] - delta[k, 2]\n"
    )
    found = codes(text)
    assert "E401" not in found
    assert "E402" not in found
    assert "E403" in found


def test_an_ordinary_softmax_still_verifies() -> None:
    text = (
        "input z[3] = [4, 0, 1]\n"
        "S = exp(z[e])\n"
        "P[k] = exp(z[k]) / S\n"
        "L = -log(P[2])\n"
        "derive dL/dz\n"
        "dL/dz[k] = P[k] - delta[k, 2]\n"
    )
    assert codes(text) == []
