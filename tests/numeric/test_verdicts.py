"""Verdicts and modes are enums that read, format and hash as their old words."""

from __future__ import annotations

import json

import pytest

from shapecheck.numeric import verify
from shapecheck.numeric.verdicts import ClaimVerdict, Mode, Verdict


@pytest.mark.parametrize(
    ("member", "word"),
    [
        (Verdict.OK, "ok"),
        (Verdict.FAILED, "failed"),
        (Verdict.INCONCLUSIVE, "inconclusive"),
        (Verdict.NOT_VERIFIED, "not verified"),
        (ClaimVerdict.OK, "ok"),
        (ClaimVerdict.WRONG, "wrong"),
        (ClaimVerdict.INCONCLUSIVE, "inconclusive"),
        (Mode.FULL, "full"),
        (Mode.DIRECTIONS, "directions"),
        (Mode.NONE, "none"),
    ],
)
def test_members_read_as_their_words(member: Verdict | ClaimVerdict | Mode, word: str) -> None:
    assert member == word
    assert str(member) == word
    assert f"{member}" == word
    assert f"({member:>14})" == f"({word:>14})"
    assert "%s" % member == word  # noqa: UP031 - the old formatting must read the same
    assert json.dumps({"verdict": member}) == json.dumps({"verdict": word})
    assert hash(member) == hash(word)
    assert member in {word} and word in {member}
    assert type(member)(word) is member


def test_old_constant_names_are_the_enum_members() -> None:
    assert verify.OK is Verdict.OK
    assert verify.FAILED is Verdict.FAILED
    assert verify.INCONCLUSIVE is Verdict.INCONCLUSIVE
    assert verify.NOT_VERIFIED is Verdict.NOT_VERIFIED
    assert verify.WRONG is ClaimVerdict.WRONG
