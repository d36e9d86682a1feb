"""Integer arrays (spec 9.3): declarations, gathers and their golden diagnostics."""

from __future__ import annotations

import pytest
from support import codes, notation_of, rendered, run

HEADER = "dim n = 4, c = 3, d = 2\ninput y[n] in c\nparam P[n, c] positive\ninput X[n, d]\n"

GOLDEN = {
    "rank": (
        "L = P[i, y[i, 1]]\n",
        "test.idx:5:10: error[E202]: `y` takes 1 index, not 2\n"
        "  2 | input y[n] in c\n"
        "    |       ^^^^^^^^^ `y` is declared here\n"
        "  5 | L = P[i, y[i, 1]]\n"
        "    |          ^^^^^^^\n"
        "  = help: it is declared as y[n]",
    ),
    "other_size": (
        "L = X[i, y[i]]\n",
        "test.idx:5:10: error[E235]: `y` takes values in 1..c (3), but the second index "
        "of X runs over 1..d (2)\n"
        "  2 | input y[n] in c\n"
        "    |       ^^^^^^^^^ `y` is declared `in c` here\n"
        "  5 | L = X[i, y[i]]\n"
        "    |          ^^^^\n"
        "  = help: the second index of X must have the size named after `in`",
    ),
    "not_integer": (
        "L = P[i, X[i, 1]]\n",
        "test.idx:5:10: error[E236]: `X` stands in an index position, but it is not an "
        "integer array\n"
        "  4 | input X[n, d]\n"
        "    |       ^^^^^^^ `X` is declared here\n"
        "  5 | L = P[i, X[i, 1]]\n"
        "    |          ^^^^^^^\n"
        "  = help: an array that picks positions is declared with its range: `input X[...] in c`",
    ),
    "derive": (
        "L = -log(P[i, y[i]])\nderive dL/dy\n",
        "test.idx:6:8: error[E139]: `dL/dy` is with respect to `y`, an integer array\n"
        "  2 | input y[n] in c\n"
        "    |       ^^^^^^^^^ `y` is declared `in c` here\n"
        "  6 | derive dL/dy\n"
        "    |        ^^^^^\n"
        "  = help: labels and token ids are constants to every derivative; differentiate "
        "with respect to the array they index",
    ),
    "claim": (
        "L = -log(P[i, y[i]])\ndL/dy[i] = 0\n",
        "test.idx:6:1: error[E139]: the claim `dL/dy` is with respect to `y`, an integer array\n"
        "  2 | input y[n] in c\n"
        "    |       ^^^^^^^^^ `y` is declared `in c` here\n"
        "  6 | dL/dy[i] = 0\n"
        "    | ^^^^^^^^\n"
        "  = help: labels and token ids are constants to every derivative; differentiate "
        "with respect to the array they index",
    ),
    "param": (
        "param z[n] in c\nL = P[i, z[i]]\n",
        "test.idx:5:12: error[E135]: `in` declares an integer array, which is an "
        "`input`, not a `param`\n"
        "  5 | param z[n] in c\n"
        "    |            ^^^^\n"
        "  = help: labels and token ids are data: nothing differentiates with respect to them\n"
        "  = help: write `input z...`",
    ),
    "positive": (
        "input z[n] in c positive\nL = P[i, z[i]]\n",
        "test.idx:5:12: error[E136]: `z` is declared both `in c` and `positive`\n"
        "  5 | input z[n] in c positive\n"
        "    |            ^^^^\n"
        "  = help: its values are 1 or more already: leave out `positive`",
    ),
    "zero_based": (
        "input z[4] in c = [0, 2, 1, 0]\nL = P[i, z[i]]\n",
        "test.idx:5:19: error[E137]: z[1] = 0 is outside 1..c (3)\n"
        "  5 | input z[4] in c = [0, 2, 1, 0]\n"
        "    |                   ^^^^^^^^^^^^\n"
        "  = help: these look 0-based: labels are 1-based, as in the notes; add 1 to each\n"
        "  = help: the values of `z` are whole numbers from 1 to c",
    ),
    "out_of_range": (
        "input z[4] in c = [1, 2, 4, 3]\nL = P[i, z[i]]\n",
        "test.idx:5:19: error[E137]: z[3] = 4 is outside 1..c (3)\n"
        "  5 | input z[4] in c = [1, 2, 4, 3]\n"
        "    |                   ^^^^^^^^^^^^\n"
        "  = help: the values of `z` are whole numbers from 1 to c",
    ),
    "after_value": (
        "input z[4] = [1, 2, 3, 3] in c\nL = P[i, z[i]]\n",
        "test.idx:5:27: error[E030]: `in` comes before the value, not after it\n"
        "  5 | input z[4] = [1, 2, 3, 3] in c\n"
        "    |                           ^^^^\n"
        "  = help: write it after the shape and before `=`",
    ),
    "twice": (
        "input z[4] in c in c\nL = P[i, z[i]]\n",
        "test.idx:5:17: error[E030]: `in` is written twice in one declaration\n"
        "  5 | input z[4] in c in c\n"
        "    |                 ^^^^",
    ),
    "lhs": (
        "L[y[i]] = P[i, y[i]]\n",
        "test.idx:5:3: error[E113]: the left-hand side takes index names, not `y[i]`\n"
        "  5 | L[y[i]] = P[i, y[i]]\n"
        "    |   ^^^^\n"
        "  = help: a definition defines every entry; an integer array picks on the right",
    ),
    "delta_size": (
        "L[i, k] = delta[k, y[i]] X[i, k]\n",
        "test.idx:5:20: error[E205]: the indices of this delta have different sizes: `k` "
        "is d (2), `y[i]` is c (3)\n"
        "  5 | L[i, k] = delta[k, y[i]] X[i, k]\n"
        "    |           ^^^^^^^^^^^^^^^^^^\n"
        "    |           in this delta",
    ),
}


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_diagnostics(case: str) -> None:
    text, *expected = GOLDEN[case]
    assert rendered(run(HEADER + text)) == "".join(expected)


def test_a_gather_counts_as_an_occurrence_for_the_sums() -> None:
    # `i` stands in P and inside y's position: one factor, summed over the term.
    assert notation_of(HEADER + "out = -log(P[i, y[i]])") == "Σ_i -log(P[i,y[i]])"


def test_the_one_hot_matrix_is_sized_by_the_label_array() -> None:
    report = run(HEADER + "out[i, k] = delta[k, y[i]]\n")
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    assert report.checked.array("out").shape[1].describe() == "c (3)"


def test_an_index_only_in_a_delta_with_a_label_is_sized_by_it() -> None:
    report = run(HEADER + "out[i] = delta[k, y[i]] P[i, k]\n")
    assert report.errors == 0, rendered(report)


def test_nested_gathers_are_checked_position_by_position() -> None:
    text = "input z[n] in n\nout[i] = P[i, y[z[i]]]\n"
    assert codes(HEADER + text) == []
    assert codes(HEADER + "input z[n] in c\nout[i] = P[i, y[z[i]]]\n") == ["E235"]


def test_a_label_array_may_be_a_value() -> None:
    assert codes(HEADER + "out[i] = y[i] * 2\n") == []


def test_a_symbolic_range_is_chosen_no_smaller_than_the_largest_literal() -> None:
    report = run("dim n = 2, m\ninput z[2] in m = [1, 7]\nparam w[m]\nL = w[z[i]]\n")
    assert report.errors == 0, rendered(report)
    assert report.checked is not None
    assert [(d.name, d.value) for d in report.checked.dims] == [("n", 2), ("m", 7)]


def test_literal_labels_as_whole_numbers_only() -> None:
    assert codes(HEADER + "input z[2] in c = [1.5, 2]\nout[i] = P[i, z[i]]\n") == ["E137"]


def test_a_literal_range_and_gathers_in_a_loop() -> None:
    text = (
        "dim n = 3\ninput t1[n] in 2, t2[n] in 2\nparam W[2, n]\n"
        "for s in 1..2:\n    o{s}[i] = W[t{s}[i], i]\nL = o1[i] + o2[i]\n"
    )
    assert codes(text) == []
