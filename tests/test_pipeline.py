"""The pipeline threads each stage once: sizes for numeric checks are chosen
from what the checker recorded, never by checking the file a second time."""

from __future__ import annotations

from support import codes, run


def test_literal_index_in_a_claim_is_met_by_the_chosen_size() -> None:
    # A literal index in a derivative reference along a dim without a value
    # used to pass the check and then fail a second check run with n = 2.
    text = "dim n\nparam x[n]\nL = x[i] x[i]\ndL/dx[k] = 2 x[k] + 0 * dL/dx[5]\n"
    assert codes(text) == []
    report = run(text)
    assert report.verification is not None
    sizes = {name: value for name, value, _ in report.verification.sizes}
    assert sizes["n"] >= 5


def test_literal_index_in_a_delta_is_met_by_the_chosen_size() -> None:
    text = "dim n\nparam x[n]\nY[i] = x[i] delta[i, 4]\nL = Y[i] Y[i]\nderive dL/dx\n"
    assert codes(text) == []
