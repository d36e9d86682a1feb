"""Spec 9.1: dims standing as numbers, `mean[i](e)`, and their diagnostics (golden)."""

from __future__ import annotations

from support import codes, rendered, run

from shapecheck.render.notation import notation
from shapecheck.syntax import ast

HEADER = "dim n, d = 3\ninput X[n, d], x[n], y[d]\n"


def _rhs(text: str, name: str) -> ast.Expr:
    report = run(text, verify=False)
    assert report.checked is not None
    definition = report.checked.definition(name)
    assert definition is not None, rendered(report)
    return definition.rhs


def test_a_dim_in_an_expression_is_a_size_not_an_array() -> None:
    rhs = _rhs(HEADER + "L = x[i] x[i] / n + d\n", "L")
    sizes = [node for node in ast.walk(rhs) if isinstance(node, ast.SizeRef)]
    assert [(s.name, s.value) for s in sizes] == [("n", None), ("d", 3)]
    assert notation(rhs) == "Σ_i x[i] x[i] / n + d"
    assert codes(HEADER + "L = x[i] x[i] / n + d + y[k] X[1, k]\n") == []


def test_a_size_used_only_as_a_number_is_used() -> None:
    assert codes("dim n, c\ninput x[n]\nL = x[i] / c\n") == []


def test_mean_is_a_sum_divided_by_the_size_with_sums_scoping() -> None:
    rhs = _rhs(HEADER + "m[k] = mean[i](X[i, k] - y[k])\n", "m")
    assert notation(rhs) == "mean[i](X[i,k] - y[k])"
    rhs = _rhs(HEADER + "v = mean[i, k](X[i, k] y[k])\n", "v")
    assert str(rhs) == "mean[i, k](X[i, k] y[k])"
    # Inside the body, an index of the body alone is summed there (rule 3).
    rhs = _rhs(HEADER + "w[i] = mean[k](X[i, j] y[j] y[k])\n", "w")
    assert notation(rhs) == "mean[k](Σ_j X[i,j] y[j] y[k])"


def test_index_and_size_in_one_statement_is_an_error() -> None:
    report = run(HEADER + "L = X[i, n] / n\n")
    assert rendered(report) == (
        "test.idx:3:15: error[E115]: `n` is used both as an index and as the size `n`\n"
        "  3 | L = X[i, n] / n\n"
        "    |          ^    ^\n"
        "    |          `n` is an index here\n"
        "  = help: rename the index so that `n` means the size alone"
    )


def test_index_named_like_a_dim_shadows_it_with_a_warning() -> None:
    report = run(HEADER + "L = x[n]\n", verify=False)
    assert report.errors == 0
    assert rendered(report) == (
        "test.idx:3:7: warning[W106]: index `n` is named like the dim `n`; here it is an "
        "index, not the size\n"
        "  3 | L = x[n]\n"
        "    |       ^\n"
        "  = help: rename the index (e.g. `i`) to keep the two apart"
    )


def test_on_the_left_a_dim_stays_e107_without_a_warning() -> None:
    assert codes(HEADER + "out[n] = x[n]\n") == ["E107"]


def test_mean_over_an_index_its_body_lacks() -> None:
    report = run(HEADER + "L = mean[j](x[i])\n")
    assert rendered(report) == (
        "test.idx:3:10: error[E215]: `mean[j]` averages over `j`, but its body never uses `j`\n"
        "  3 | L = mean[j](x[i])\n"
        "    |          ^\n"
        "  = help: its size would be unknown; remove the mean or use the index"
    )


def test_mean_index_may_not_occur_elsewhere() -> None:
    report = run(HEADER + "out[i] = mean[i](x[i])\n")
    assert rendered(report) == (
        "test.idx:3:10: error[E216]: `i` is bound by `mean[i]` and may not occur anywhere "
        "else in the statement\n"
        "  3 | out[i] = mean[i](x[i])\n"
        "    |          ^^^^^^^^^^^^^^ bound here\n"
        "  = help: rename one of the two"
    )
    assert codes(HEADER + "L = mean[i](x[i]) x[i]\n") == ["E216"]
    assert codes(HEADER + "L = mean[i, i](x[i])\n") == ["E216"]
    assert codes(HEADER + "L = mean[i](sum[i](x[i]))\n") == ["E206"]
    assert codes(HEADER + "L = sum[i](mean[i](x[i]))\n") == ["E216"]


def test_mean_without_indices_is_e015() -> None:
    report = run("input x[3]\nL = mean(x[i])\n")
    assert rendered(report) == (
        "test.idx:2:9: error[E015]: `mean` needs the indices it averages over, in brackets\n"
        "  2 | L = mean(x[i])\n"
        "    |         ^\n"
        "  = help: write `mean[i](x[i])`; several indices: `mean[i, j](X[i, j])`"
    )


def test_mean_is_a_keyword() -> None:
    report = run("input mean[3]\n")
    assert rendered(report) == (
        "test.idx:1:7: error[E008]: `mean` is a keyword since the second edition of the "
        "language and cannot be used as a name\n"
        "  1 | input mean[3]\n"
        "    |       ^^^^\n"
        "  = help: rename it everywhere in the file, e.g. to `mean_` or `mu`"
    )
    assert codes("input x[3]\nL = mean[1](x[1])\n") == ["E003"]


def test_mean_cannot_bind_a_loop_variable() -> None:
    text = "input x[3], s0\nfor t in 1..2:\n    s{t} = s{t-1} + mean[t](x[t])\n"
    assert codes(text) == ["E216", "E216"]  # once per unrolled line


def test_size_in_a_claim() -> None:
    text = HEADER.replace("input X", "param X") + (
        "L = X[i, k] X[i, k] / n\ndL/dX[i, k] = 2 X[i, k] / n\n"
    )
    assert codes(text) == []
