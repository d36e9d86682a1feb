"""softmax, logsumexp and norm (spec 9.5): where their indices go, and every
misuse as a located diagnostic (golden: compared as whole strings)."""

from __future__ import annotations

import pytest
from support import codes, notation_of, rendered, run

HEADER = "dim n = 4, c = 3\ninput Z[n, c], x[c], T[n, c]\nparam W[c, c]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # softmax keeps its index: it follows the ordinary rules outside the call.
        ("out[i, k] = softmax[k](Z[i, k])", "softmax[k](Z[i,k])"),
        ("out = softmax[k](x[k])", "Σ_k softmax[k](x[k])"),
        ("out = softmax[k](x[k]) x[k]", "Σ_k softmax[k](x[k]) x[k]"),
        ("out[i] = softmax[k](Z[i, k]) x[k]", "Σ_k softmax[k](Z[i,k]) x[k]"),
        # inside the argument, other indices follow rule 3 as inside any function
        ("out[i, k] = softmax[k](Z[i, j] W[j, k])", "softmax[k](Σ_j Z[i,j] W[j,k])"),
        ("out[k] = softmax[k](Z[i, k])", "Σ_i softmax[k](Z[i,k])"),
        ("out[i, k] = softmax[i, k](Z[i, k])", "softmax[i,k](Z[i,k])"),
        # logsumexp and norm reduce, with sum[j]'s scoping
        ("out[i] = logsumexp[k](Z[i, k])", "logsumexp[k](Z[i,k])"),
        # an index only inside a reduction's argument is summed there (its scope)
        ("out = logsumexp[k](Z[i, k])", "logsumexp[k](Σ_i Z[i,k])"),
        ("out = norm[i, k](Z[i, k])", "norm[i,k](Z[i,k])"),
        ("out[i] = norm[k](Z[i, j] W[j, k])", "norm[k](Σ_j Z[i,j] W[j,k])"),
        ("out = norm[k](x[k]) + logsumexp[k](x[k])", "norm[k](x[k]) + logsumexp[k](x[k])"),
    ],
)
def test_where_the_indices_go(text: str, expected: str) -> None:
    assert notation_of(HEADER + text + "\n") == expected


def test_without_brackets_is_located_and_shows_the_fix() -> None:
    assert rendered(run(HEADER + "P[i, k] = softmax(Z[i, k])\n")) == (
        "test.idx:4:11: error[E130]: `softmax` needs the indices it runs over in brackets\n"
        "  4 | P[i, k] = softmax(Z[i, k])\n"
        "    |           ^^^^^^^\n"
        "  = help: write `softmax[k](Z[i, k])`"
    )
    assert codes(HEADER + "m = logsumexp(x[k])\n") == ["E130"]
    assert codes(HEADER + "r = norm(x[k])\n") == ["E130"]


def test_softmax_index_missing_from_its_argument() -> None:
    assert rendered(run(HEADER + "P[i, j] = softmax[j](Z[i, k])\n")) == (
        "test.idx:4:19: error[E230]: `softmax[j]` runs over `j`, but its argument "
        "`Z[i, k]` has no `j`\n"
        "  4 | P[i, j] = softmax[j](Z[i, k])\n"
        "    |                   ^\n"
        "  = help: the argument's indices are `i`, `k`; softmax runs over some of them"
    )


def test_reduction_index_missing_from_its_argument() -> None:
    assert rendered(run(HEADER + "r = norm[j](W[1, 2])\n")) == (
        "test.idx:4:10: error[E230]: `norm[j]` runs over `j`, but its argument "
        "`W[1, 2]` has no `j`\n"
        "  4 | r = norm[j](W[1, 2])\n"
        "    |          ^\n"
        "  = help: the argument is a scalar: norm needs an index of it to run over"
    )
    # An inner sum over the same name binds it there: the outer one has no j.
    assert codes(HEADER + "m = logsumexp[k](sum[k](x[k]))\n") == ["E230", "E206"]


def test_reduction_index_used_elsewhere() -> None:
    assert rendered(run(HEADER + "y[k] = logsumexp[k](x[k]) x[k]\n")) == (
        "test.idx:4:29: error[E231]: `k` is bound by `logsumexp[k]` and may not occur "
        "anywhere else in the statement\n"
        "  4 | y[k] = logsumexp[k](x[k]) x[k]\n"
        "    |                  ^          ^\n"
        "    |                  bound here\n"
        "  = help: rename one of the two"
    )
    assert codes(HEADER + "y[k] = norm[k](x[k])\n") == ["E231"]
    assert rendered(run(HEADER + "y = sum[k](norm[k](x[k]))\n")) == (
        "test.idx:4:17: error[E231]: `k` is already bound by an enclosing `sum[k]`\n"
        "  4 | y = sum[k](norm[k](x[k]))\n"
        "    |         ^       ^\n"
        "    |         bound here\n"
        "  = help: rename the inner index"
    )


def test_index_listed_twice() -> None:
    assert rendered(run(HEADER + "P[i, k] = softmax[k, k](Z[i, k])\n")) == (
        "test.idx:4:22: error[E232]: `k` is listed twice in `softmax[...]`\n"
        "  4 | P[i, k] = softmax[k, k](Z[i, k])\n"
        "    |                      ^\n"
        "  = help: list each index once"
    )


def test_loop_variable_in_the_brackets() -> None:
    text = HEADER + "for t in 1..2:\n    y{t} = logsumexp[t](x[t])\n"
    assert rendered(run(text)) == (
        "test.idx:5:22: error[E232]: `t` is the loop variable here; `logsumexp` cannot "
        "run over it\n"
        "  5 |     y{t} = logsumexp[t](x[t])\n"
        "    |                      ^\n"
        "  = note: unrolled with t = 1\n\n"
        "test.idx:5:22: error[E232]: `t` is the loop variable here; `logsumexp` cannot "
        "run over it\n"
        "  5 |     y{t} = logsumexp[t](x[t])\n"
        "    |                      ^\n"
        "  = note: unrolled with t = 2"
    )


@pytest.mark.parametrize("keyword", ["softmax", "logsumexp", "norm"])
def test_keywords_cannot_name_arrays(keyword: str) -> None:
    instead = {"softmax": "P", "logsumexp": "lse", "norm": "nrm"}[keyword]
    assert rendered(run(f"input {keyword}[3]\n")) == (
        f"test.idx:1:7: error[E008]: `{keyword}` is a keyword since the second edition of the "
        "language and cannot be used as a name\n"
        f"  1 | input {keyword}[3]\n"
        f"    |       {'^' * len(keyword)}\n"
        f"  = help: rename it everywhere in the file, e.g. to `{keyword}_` or `{instead}`"
    )
    # Names that only begin with one are names.
    assert codes(f"input {keyword}s[3]\ny = {keyword}s[i]\n") == []
