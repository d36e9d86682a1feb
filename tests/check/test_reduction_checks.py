"""`max[j]`, `min[j]`, `argmax[j]`, `argmin[j]` (spec 9.2): scoping like `sum[j]`,
selections in array positions, and the golden wording of every misuse
(E032, E033, E138, E232, E237, E238, E239, E113)."""

from __future__ import annotations

from support import codes, rendered, run

HEADER = "dim n = 3, d = 4, c = 2\nparam X[n, d], P[n, c], x[d]\n"


def test_reductions_and_selections_check_clean() -> None:
    for line in (
        "m[i] = max[j](X[i, j])",
        "m = min[i, j](X[i, j])",
        "z[i] = X[i, argmax[j](X[i, j])]",
        "a[i] = argmin[j](X[i, j]) + 1",
        "s[i] = max[j](X[i, j] - max[k](X[i, k]))",
        "o[i, k] = delta[k, argmax[j](X[i, j])]",
    ):
        assert codes(HEADER + line + "\n") == [], line


def test_max_over_an_index_missing_from_its_body_is_e238() -> None:
    assert rendered(run(HEADER + "m[i] = max[j](X[i, k])\n")) == (
        "test.idx:3:12: error[E238]: `max[j]` runs over `j`, "
        "but its argument `X[i, k]` has no `j`\n"
        "  3 | m[i] = max[j](X[i, k])\n"
        "    |            ^\n"
        "  = help: the argument's indices are `i`, `k`; max runs over some of them"
    )


def test_bound_index_used_elsewhere_is_e237() -> None:
    assert rendered(run(HEADER + "m[i] = X[i, j] + min[j](X[i, j])\n")) == (
        "test.idx:3:13: error[E237]: `j` is bound by `min[j]` and may not occur anywhere else "
        "in the statement\n"
        "  3 | m[i] = X[i, j] + min[j](X[i, j])\n"
        "    |             ^        ^ bound here\n"
        "  = help: rename one of the two"
    )
    assert codes(HEADER + "m[j] = max[j](X[i, j])\n") == ["E237"]
    assert codes(HEADER + "m[j] = X[i, argmax[j](X[i, j])] x[j]\n") == ["E237"]


def test_argmax_without_brackets_is_e138() -> None:
    assert rendered(run(HEADER + "a[i] = argmax(X[i, j])\n")) == (
        "test.idx:3:8: error[E138]: `argmax` needs the index it runs over in brackets\n"
        "  3 | a[i] = argmax(X[i, j])\n"
        "    |        ^^^^^^\n"
        "  = help: write `argmax[j](X[i, j])`"
    )


def test_argmax_in_a_position_of_another_size_is_e239() -> None:
    assert rendered(run(HEADER + "z[i] = P[i, argmax[j](X[i, j])]\n")) == (
        "test.idx:3:13: error[E239]: `argmax[j](...)` takes values in 1..d (4), "
        "but the second index of P runs over 1..c (2)\n"
        "  3 | z[i] = P[i, argmax[j](X[i, j])]\n"
        "    |             ^^^^^^^^^^^^^^^^^^^ `j` is d (4) here\n"
        "  = help: the second index of P must have the size of `j`"
    )


def test_argmax_in_a_delta_gives_it_its_size() -> None:
    assert codes(HEADER + "o[i, k] = delta[k, argmax[j](X[i, j])] P[i, k]\n") == ["E205"]


def test_argmax_over_several_indices_is_e032() -> None:
    assert rendered(run(HEADER + "a = argmax[i, j](X[i, j])\n")) == (
        "test.idx:3:15: error[E032]: `argmax` runs over one index, not 2\n"
        "  3 | a = argmax[i, j](X[i, j])\n"
        "    |               ^\n"
        "  = help: a position is one index; for the first row that holds the maximum, "
        "nest it: `argmax[i](max[j](X[i, j]))`"
    )


def test_another_function_in_a_position_is_e033() -> None:
    assert rendered(run(HEADER + "z[i] = P[i, softmax[k](P[i, k])]\n")) == (
        "test.idx:3:13: error[E033]: `softmax[...](...)` cannot stand in an index position\n"
        "  3 | z[i] = P[i, softmax[k](P[i, k])]\n"
        "    |             ^^^^^^^^^^^^^^^^^^^\n"
        "  = help: an index position takes an index name, a number, an integer array or "
        "`argmax[j](...)`/`argmin[j](...)`"
    )


def test_argmax_on_the_left_is_e113() -> None:
    assert codes(HEADER + "m[i, argmax[k](X[i, k])] = 1\n") == ["E113"]


def test_max_over_a_loop_variable_is_e232() -> None:
    text = HEADER + "for t in 1..2:\n    m{t} = max[t](x[t])\n"
    assert rendered(run(text)).split("\n\n")[0] == (
        "test.idx:4:16: error[E232]: `t` is the loop variable here; `max` cannot run over it\n"
        "  4 |     m{t} = max[t](x[t])\n"
        "    |                ^\n"
        "  = note: unrolled with t = 1"
    )


def test_max_listing_an_index_twice_is_e232() -> None:
    assert codes(HEADER + "m = max[j, j](x[j])\n") == ["E232"]
