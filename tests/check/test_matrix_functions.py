"""det, inv and trace (spec 9.5, docs/language.md 12.12): where their indices
go, and every misuse as a located diagnostic (golden: whole strings)."""

from __future__ import annotations

import pytest
from support import codes, notation_of, rendered, run

HEADER = "dim n = 3, d = 2\ninput X[n, d], x[n]\nparam A[n, n], B[2, 2], C[n, 2]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("out = det(A)", "det(A)"),
        ("out = trace(A) + det(B)", "trace(A) + det(B)"),
        ("out[i, j] = inv(A)[i, j]", "inv(A)[i,j]"),
        ("out[j, i] = inv(A)[i, j]", "inv(A)[i,j]"),
        # the inverse's indices follow the ordinary rules: j is contracted
        ("out[i] = inv(A)[i, j] x[j]", "Σ_j inv(A)[i,j] x[j]"),
        ("out = x[i] inv(A)[i, j] x[j]", "Σ_{i,j} x[i] inv(A)[i,j] x[j]"),
        ("out = inv(A)[i, i]", "Σ_i inv(A)[i,i]"),
        ("out = inv(B)[1, 2]", "inv(B)[1,2]"),
        # of a defined matrix, and inside functions and products
        ("K[a, b] = X[a, k] X[b, k]\nout = log(det(K)) / n", "log(det(K)) / n"),
    ],
)
def test_where_the_indices_go(text: str, expected: str) -> None:
    assert notation_of(HEADER + text + "\n") == expected


def test_an_expression_as_the_argument_shows_the_definition_to_write() -> None:
    assert rendered(run(HEADER + "s = det(X[i, k] X[j, k])\n")) == (
        "test.idx:4:9: error[E055]: `det` takes the name of a matrix, not an expression\n"
        "  4 | s = det(X[i, k] X[j, k])\n"
        "    |         ^^^^^^^^^^^^^^^\n"
        "  = help: define the matrix on a line above, `K[i, j] = X[i, k] X[j, k]`, then write "
        "`det(K)` (any new name will do)"
    )
    assert rendered(run(HEADER + "s = trace(A + A)\n")) == (
        "test.idx:4:11: error[E055]: `trace` takes the name of a matrix, not an expression\n"
        "  4 | s = trace(A + A)\n"
        "    |           ^^^^^\n"
        "  = help: define the matrix on a line above, with its two indices, `K[a, b] = …`, "
        "then write `trace(K)` (any new name will do)"
    )


def test_an_entry_as_the_argument_shows_the_name() -> None:
    assert rendered(run(HEADER + "Y[i, j] = inv(A[i, j])\n")) == (
        "test.idx:4:15: error[E055]: `inv` takes the name of a matrix, not an entry of it\n"
        "  4 | Y[i, j] = inv(A[i, j])\n"
        "    |               ^^^^^^^\n"
        "  = help: write `inv(A)[i, j]`: the function is of the whole matrix"
    )


def test_the_inverse_without_its_two_indices() -> None:
    assert rendered(run(HEADER + "Y[i, j] = inv(A)\n")) == (
        "test.idx:4:11: error[E056]: `inv(A)` is a matrix and needs its two indices\n"
        "  4 | Y[i, j] = inv(A)\n"
        "    |           ^^^^^^\n"
        "  = help: write `inv(A)[i, j]`; `i` runs over the second size of A and `j` over its "
        "first"
    )
    assert rendered(run(HEADER + "y[i] = inv(A)[i]\n")) == (
        "test.idx:4:8: error[E056]: `inv(A)` takes two indices, not 1\n"
        "  4 | y[i] = inv(A)[i]\n"
        "    |        ^^^^^^^^^\n"
        "  = help: write `inv(A)[i, j]`; `i` runs over the second size of A and `j` over its "
        "first"
    )


def test_a_scalar_with_indices() -> None:
    assert rendered(run(HEADER + "s = det(A)[i]\n")) == (
        "test.idx:4:5: error[E057]: `det(A)` is a scalar (the determinant of A): it takes no "
        "indices\n"
        "  4 | s = det(A)[i]\n"
        "    |     ^^^^^^^^^\n"
        "  = help: write `det(A)`"
    )
    assert codes(HEADER + "s = trace(A)[i, j]\n") == ["E057"]


def test_not_a_matrix() -> None:
    assert rendered(run(HEADER + "s = det(x)\n")) == (
        "test.idx:4:9: error[E160]: `det` takes a matrix (2 indices); `x` has 1 index\n"
        "  2 | input X[n, d], x[n]\n"
        "    |                ^^^^ `x` is declared here\n"
        "  4 | s = det(x)\n"
        "    |         ^\n"
        "  = help: it is declared as x[n]; the determinant is defined for a square 2-D array"
    )
    assert codes("param a\ns = trace(a)\n") == ["E160"]


def test_not_square() -> None:
    assert rendered(run(HEADER + "s = det(X)\n")) == (
        "test.idx:4:9: error[E161]: `det` takes a square matrix; `X` is n (3) × d (2)\n"
        "  2 | input X[n, d], x[n]\n"
        "    |       ^^^^^^^ `X` is declared here\n"
        "  4 | s = det(X)\n"
        "    |         ^\n"
        "  = help: it is declared as X[n, d]; the determinant needs both sizes equal (the same "
        "dim, or two equal numbers)"
    )
    # Rule 1's equality: the same dim, or both valued and equal.
    assert codes(HEADER + "s = trace(C)\n") == ["E161"]
    assert codes("dim n = 2\nparam M[n, 2]\ns = det(M)\n") == []
    assert codes("dim n, m\nparam M[n, m]\ns = det(M)\n") == ["E161"]
    # A defined matrix that is not square.
    assert codes(HEADER + "K[a, b] = X[a, k] X[k, b]\ns = det(K)\n") == ["E201"]
    assert codes(HEADER + "K[a, b] = X[a, b]\ns = det(K)\n") == ["E161"]


def test_the_inverse_gives_its_indices_sizes() -> None:
    # inv(B)[i, j]: i and j run over B's sizes (2), not A's (n = 3).
    assert codes(HEADER + "s = inv(B)[i, j] A[j, i]\n") == ["E201", "E201"]
    assert rendered(run(HEADER + "s = inv(B)[1, 3]\n")) == (
        "test.idx:4:15: error[E203]: literal index 3 is out of range: the second index of "
        "inv(B) runs over 1..2\n"
        "  4 | s = inv(B)[1, 3]\n"
        "    |               ^\n"
        "  = help: its size is 2"
    )


def test_names_follow_the_ordinary_rules() -> None:
    assert codes(HEADER + "s = det(n)\n") == ["E101"]
    assert codes(HEADER + "s = det(Q)\n") == ["E101"]
    assert "E103" in codes(HEADER + "s = det(G)\nG[a, b] = A[a, b]\n")
    # A matrix used only through det is used (no W101 for it).
    assert "W101" not in [d.code for d in run("dim n = 2\nparam A[n, n]\ns = det(A)\n").diagnostics]
