"""Results in the file's names (symbolic/fold.py, spec 10): a subexpression
equal to a definition's right-hand side is written as the defined array.

Every fold is checked against numbers: the formula before and after is
evaluated with each defined array at its own definition's value (computed
here from the drawn values), and a definition that only looks alike (another
size, a diagonal, a broadcast) is never folded. The property test draws
random right-hand sides with the generator of the rewrite rules' property
tests and evaluates with its loop-based reference evaluator.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SAMPLES, forward_values, run
from symbolic.test_rewrite_properties import IDX, VALUES, table, terms

from shapecheck.check.program import Size
from shapecheck.numeric.evaluate import Evaluator, align
from shapecheck.numeric.verdicts import Verdict
from shapecheck.render.derivatives import adjoint_line, unique_adjoints
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import key
from shapecheck.symbolic.derive import Deriver, expand
from shapecheck.symbolic.fold import Folder, _same_tree, first_fresh_names, folder_of
from shapecheck.symbolic.formula import formula
from shapecheck.symbolic.simplify import simplify


def _values(program: Any) -> dict[str, np.ndarray]:
    """Seeded values of the declared arrays, then every definition's own."""
    rng = np.random.default_rng(3)
    values: dict[str, np.ndarray] = {}
    for array in program.arrays:
        shape = tuple(size.value for size in array.shape)
        values[array.name] = rng.uniform(0.5, 1.5, shape)
    forward_values(values, program, lambda rhs: None)
    return values


def _same_value(before: t.Term, after: t.Term, values: dict[str, np.ndarray]) -> None:
    free = before.free
    assert {i.name for i in after.free} == {i.name for i in free}
    np.testing.assert_allclose(
        align(Evaluator(values).value(after), t.names(after.free), free),
        align(Evaluator(values).value(before), t.names(before.free), free),
        rtol=1e-10,
        atol=1e-12,
    )


def _folded_derivatives(text: str) -> list[tuple[str, str]]:
    """Each derivative (and adjoint) of `text`, unfolded and folded, checked
    to have one value; returns the folded formulas as printed."""
    report = run(text, verify=False)
    assert report.errors == 0 and report.checked is not None
    deriver = Deriver(report.checked)
    folder = folder_of(deriver)
    values = _values(report.checked)
    shown = []
    for request in report.checked.requests:
        derivation = deriver.derive(request.of, request.wrt)
        whole = expand(derivation, deriver.taken)
        _same_value(whole, folder.fold(whole), values)
        for adjoint in derivation.adjoints:
            _same_value(adjoint.formula, folder.fold(adjoint.formula), values)
        shown.append((derivation.label, formula(folder.fold(derivation.formula))))
    return shown


def test_a_tanh_layer_folds_into_its_array() -> None:
    text = (
        "dim n = 3, d = 4, h = 2\ninput X[n, d]\nparam W[d, h]\n"
        "H[i, k] = tanh(X[i, j] W[j, k])\nL = H[i, k] H[i, k]\nderive dL/dW, dH/dW\n"
    )
    assert _folded_derivatives(text) == [
        ("dL/dW", "Σ_i X[i,j] dL/dH[i,k] (1 - H[i,k]^2)"),
        ("dH/dW", "X[i,p] (1 - H[i,k]^2) δ[k,q]"),
    ]


def test_a_sigmoid_folds_as_s_times_one_minus_s() -> None:
    text = (
        "dim n = 3, d = 4\ninput X[n, d]\nparam w[d]\n"
        "s[i] = sigmoid(X[i, j] w[j])\nL = s[i]^2\nderive dL/dw\n"
    )
    assert _folded_derivatives(text) == [("dL/dw", "Σ_i X[i,j] dL/ds[i] s[i] (1 - s[i])")]


def test_a_sum_inside_is_matched_whatever_its_index_is_called() -> None:
    # The definition sums over j; the derivative's copy sums over a fresh name
    # (j is the gradient's own index) and reads the array transposed.
    text = (
        "dim n = 3\ninput X[n, n]\nparam W[n, n]\n"
        "Z[i, k] = exp(X[i, j] W[j, k])\nL = Z[i, k] W[i, k]\nderive dL/dW\n"
    )
    ((_, shown),) = _folded_derivatives(text)
    assert "exp" not in shown and "Z[i,k]" in shown


def test_only_exact_matches_fold() -> None:
    term_d = t.Idx("d", _size("d", 3))
    i, k = t.Idx("i", _size("n", 2)), t.Idx("k", _size("n", 2))
    x = t.Tensor("X", (i, k))
    folder = Folder(
        [
            ("A", (i, k), t.Func("tanh", x)),  # folds tanh(X[a,b]) at any a, b of size n
            ("B", (i, k), t.add([t.Func("exp", t.Tensor("v", (k,)))], (i, k))),  # broadcast
            ("c", (), t.Const(2.0)),  # a leaf: never folded
        ]
    )
    p, q = t.Idx("p", _size("n", 2)), t.Idx("q", _size("n", 2))
    assert folder.fold(t.Func("tanh", t.Tensor("X", (q, p)))) == t.Tensor("A", (q, p))
    diagonal = t.Func("tanh", t.Tensor("X", (p, p)))
    assert folder.fold(diagonal) is diagonal
    literal = t.Func("tanh", t.Tensor("X", (t.Fixed(1), p)))
    assert folder.fold(literal) is literal
    exp = t.Func("exp", t.Tensor("v", (k,)))
    assert folder.fold(exp) is exp  # B's `i` cannot be read from it
    other_size = t.Func("tanh", t.Tensor("X", (p, term_d)))
    assert folder.fold(other_size) is other_size
    two = t.Product((t.Const(2.0), x))
    assert folder.fold(two) is two


def _size(name: str, value: int) -> Size:
    return Size(name, value)


def _permuted(term: t.Term) -> dict[str, t.Index]:
    """A renaming of the term's free indices among names of the same size."""
    same = {2: ["i", "k", "p"], 3: ["j"]}
    names = [i.name for i in term.free]
    mapping: dict[str, t.Index] = {}
    for size, pool in same.items():
        mine = [n for n in names if IDX[n].size.value == size]
        rotated = [n for n in pool if n in mine]
        rotated = rotated[1:] + rotated[:1]
        mapping.update({a: IDX[b] for a, b in zip(mine, rotated, strict=True)})
    return mapping


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms, st.sampled_from(["tanh", "exp", "square", "bare"]))
def test_folding_never_changes_a_value(body: t.Term, wrap: str) -> None:
    """A random definition D = body; a formula holding body (its free indices
    renamed, inside a function) keeps its value when D is folded in, D being
    its own value."""
    rhs = simplify(body)
    lhs = rhs.free
    values = dict(VALUES)
    values["D"] = table(rhs, lhs, VALUES)
    inner = simplify(t.substitute(rhs, _permuted(rhs)))
    around = {
        "tanh": lambda x: t.Func("tanh", x),
        "exp": lambda x: t.Func("exp", t.Product((t.Const(0.1), x))),
        "square": lambda x: t.Pow(x, t.Const(2.0)),
        "bare": lambda x: x,
    }[wrap](inner)
    formula_term = t.add([around, t.Tensor("v", (IDX["i"],))])
    folded = Folder([("D", lhs, rhs)]).fold(formula_term)
    free = formula_term.free
    np.testing.assert_allclose(
        table(folded, free, values), table(formula_term, free, values), rtol=1e-9, atol=1e-12
    )


# Index names a printed formula may hold beyond the file's own (spec 10).
FRESH = re.compile(r"[pqrstu]|p[1-9][0-9]*")


def test_printed_formulas_use_the_files_index_names_or_p_q_r_s_t_u() -> None:
    checked = 0
    for path in sorted(SAMPLES.rglob("*.idx")):
        text = path.read_text(encoding="utf-8")
        report = run(text, verify=False, expand=True)
        if report.checked is None:
            continue
        own = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
        for result in report.derivatives:
            shown = [result.derivation.formula, *(a.formula for a in result.derivation.adjoints)]
            if result.expanded is not None:
                shown.append(result.expanded)
            for term in shown:
                names = t.index_names(term)
                invented = {n for n in names if n not in own and not FRESH.fullmatch(n)}
                assert not invented, (path.name, result.derivation.label, formula(term))
                checked += 1
    assert checked > 100


def _later_names(term: t.Term) -> t.Term:
    """The term with its summed `p` renamed `s` and summed `i` renamed `u`
    (where nothing free is called so): binders with late fresh names."""
    free = {i.name for i in term.free}
    mapping: dict[str, t.Index] = {}
    for old, new in (("p", "s"), ("i", "u")):
        if old not in free and new not in t.used_names(term):
            mapping[old] = t.Idx(new, IDX[old].size)
    return t.rename(term, mapping) if mapping else term


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_renumbering_fresh_names_never_changes_a_value(body: t.Term) -> None:
    term = _later_names(body)
    tidy = first_fresh_names(term, frozenset({"j", "k"}))
    assert {i.name for i in tidy.free} == {i.name for i in term.free}
    free = term.free
    np.testing.assert_allclose(table(tidy, free, VALUES), table(term, free, VALUES), rtol=1e-12)


def test_a_gap_left_by_an_eaten_index_is_closed() -> None:
    i, q, u = IDX["i"], t.Idx("q", IDX["p"].size), t.Idx("u", IDX["j"].size)
    inner = t.Product((t.Tensor("A", (q, u)), t.Tensor("w", (u,))), (u,))
    outer = t.Product((t.Tensor("v", (q,)), inner, t.Tensor("v", (i,))), (q,))
    # p is free nowhere, so q becomes p; u (of another size) then takes r,
    # not q: one statement gives a name one size (rule 1), and the sizes a
    # name stood for are kept for the whole formula, so a sum elsewhere that
    # still reads q at its old size can never clash with u.
    assert formula(first_fresh_names(outer, frozenset({"i", "A", "v", "w"}))) == (
        "Σ_p v[p] (Σ_r A[p,r] w[r]) v[i]"
    )
    # A name of the file is never taken, and a name bound outside is not reused.
    assert "Σ_p" not in formula(first_fresh_names(outer, frozenset({"p", "i"})))
    softmax = t.IndexedFunc("softmax", (q,), t.Tensor("v", (q,)), (q,))
    assert first_fresh_names(softmax, frozenset()) is softmax  # read at its own q: free


def test_a_binder_named_like_a_dim_or_an_array_is_renamed() -> None:
    # `p` bound by a sum, where the file has a dim `p`: a substitution that
    # saw only its own term took it. Renamed to the first name free of the
    # file's names and of those around (i is free here).
    p, i = t.Idx("p", IDX["p"].size), IDX["i"]
    term = t.Product((t.Tensor("A", (i, p)), t.Tensor("w", (p,))), (p,))
    names = frozenset({"p", "i", "A", "w"})
    assert formula(first_fresh_names(term, names, frozenset({"p", "A", "w"}))) == (
        "Σ_q A[i,q] w[q]"
    )
    # The file's own index `p` (not reserved) is kept, as before.
    assert formula(first_fresh_names(term, names)) == "Σ_p A[i,p] w[p]"


def _binders(term: t.Term) -> set[str]:
    found: set[str] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Product):
            found.update(t.names(node.summed))
        if isinstance(node, t.IndexedFunc) and not node.at:
            found.update(t.names(node.over))
        if isinstance(node, t.Tensor | t.Delta):
            stack.extend(select.choice for select in t.selections(node.indices))
        stack.extend(t.children(node))
    return found


@pytest.mark.parametrize(
    "text",
    [
        # Max pooling: the inner argmax was `argmax[p]`, p the output size.
        (SAMPLES / "course" / "max_pool.idx").read_text(encoding="utf-8"),
        # A softmax's weights summed over `Σ_p`, p a dim.
        "dim n = 3, p = 4, d = 2\nparam S[n, d], W[d, p]\n"
        "A[i, j] = softmax[j](S[i, k] W[k, j] + S[i, k]^2)\nL = loss(A)\nderive dL/dS\n",
    ],
    ids=["max_pool", "softmax"],
)
def test_no_binder_of_a_result_is_a_dim(text: str) -> None:
    report = run(text)
    assert report.errors == 0 and report.checked is not None
    dims = {d.name for d in report.checked.dims} | {a.name for a in report.checked.arrays}
    for result in report.derivatives:
        assert result.check is not None and result.check.verdict is Verdict.OK
        for term in (result.derivation.formula, *(a.formula for a in result.derivation.adjoints)):
            assert not _binders(term) & dims, formula(term)


# What `derive` prints for four samples, each line in the file's names; the
# pipeline checks each derivative as printed against central differences.
GOLDEN = {
    "course/rnn.idx": [
        "dL/dWh[m,k] = dL/dh1[k] h0[m] (1 - h1[k]^2) + dL/dh2[k] h1[m] (1 - h2[k]^2)"
        " + dL/dh3[k] h2[m] (1 - h3[k]^2) + dL/dh4[k] h3[m] (1 - h4[k]^2)",
        "dL/dWx[j,k] = dL/dh1[k] x1[j] (1 - h1[k]^2) + dL/dh2[k] x2[j] (1 - h2[k]^2)"
        " + dL/dh3[k] x3[j] (1 - h3[k]^2) + dL/dh4[k] x4[j] (1 - h4[k]^2)",
        "dL/db[k] = dL/dh1[k] (1 - h1[k]^2) + dL/dh2[k] (1 - h2[k]^2)"
        " + dL/dh3[k] (1 - h3[k]^2) + dL/dh4[k] (1 - h4[k]^2)",
        "dL/dh4[k] = 2 (h4[k] - target[k]) / h",
        "dL/dh3[k] = Σ_p Wh[k,p] dL/dh4[p] (1 - h4[p]^2)",
        "dL/dh2[k] = Σ_p Wh[k,p] dL/dh3[p] (1 - h3[p]^2)",
        "dL/dh1[k] = Σ_p Wh[k,p] dL/dh2[p] (1 - h2[p]^2)",
    ],
    "course/sigmoid.idx": [
        "dL/dx[i,j] = dL/ds[i,j] s[i,j] (1 - s[i,j])",
        "dL/ds[i,j] = dloss/ds[i,j]",
    ],
    "mlp.idx": [  # a tanh layer
        "dL/dW1[j,k] = Σ_i X[i,j] dL/dH[i,k] (1 - H[i,k]^2)",
        "dL/db1[k] = Σ_i dL/dH[i,k] (1 - H[i,k]^2)",
        "dL/dW2[k,m] = Σ_i H[i,k] dL/dP[i,m]",
        "dL/db2[m] = Σ_i dL/dP[i,m]",
        "dL/dP[i,m] = P[i,m] - T[i,m]",
        "dL/dH[i,k] = Σ_m W2[k,m] dL/dP[i,m]",
    ],
    "course/two_layer_net.idx": [
        "dL/dW1[j,k] = Σ_i X[i,j] dL/dH[i,k] (0 < Σ_p W1[p,k] X[i,p] + b1[k]) + W1[j,k] reg",
        "dL/db1[k] = Σ_i dL/dH[i,k] (0 < Σ_j W1[j,k] X[i,j] + b1[k])",
        "dL/dW2[k,m] = Σ_i H[i,k] dL/dS[i,m] + W2[k,m] reg",
        "dL/db2[m] = Σ_i dL/dS[i,m]",
        "dL/dS[i,m] = (P[i,m] - δ[m,y[i]]) / n",
        "dL/dH[i,k] = Σ_m W2[k,m] dL/dS[i,m]",
    ],
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_samples_print_in_the_files_names(name: str) -> None:
    report = run((SAMPLES / name).read_text(encoding="utf-8"))
    lines: list[str] = []
    for result in report.derivatives:
        derivation = result.derivation
        signature = ",".join(i.name for i in derivation.signature)
        lines.append(f"{derivation.label}[{signature}] = {formula(derivation.formula)}")
        assert result.check is not None and result.check.verdict is Verdict.OK
    for adjoint in unique_adjoints(report.derivatives):
        lines.append(adjoint_line(adjoint))
    assert lines == GOLDEN[name]


def _rebound(term: t.Term, taken: list[int]) -> t.Term:
    """`term` with every summed index renamed to a new name (`z1`, `z2`, ...)."""
    kids = t.children(term)
    if kids:
        term = t.with_children(term, tuple(_rebound(k, taken) for k in kids))
    if not isinstance(term, t.Product) or not term.summed:
        return term
    fresh: dict[str, t.Index] = {}
    for index in term.summed:
        taken.append(len(taken) + 1)
        fresh[index.name] = t.Idx(f"z{taken[-1]}", index.size)
    return t.rename(term, fresh)


def _plain(term: t.Term) -> bool:
    """Only the kinds `_same_tree` compares, arrays at plain indices."""
    if isinstance(term, t.Tensor):
        return all(isinstance(i, t.Idx) for i in term.indices)
    if isinstance(term, t.Add):
        return all(isinstance(i, t.Idx) for i in term.free) and all(map(_plain, term.terms))
    kinds = (t.Const, t.Func, t.Pow, t.Product)
    return isinstance(term, kinds) and all(_plain(k) for k in t.children(term))


def _summed(factors: list[t.Term], chosen: list[bool]) -> t.Term:
    free = list(dict.fromkeys(i for f in factors for i in f.free))
    return t.Product(tuple(factors), tuple(i for i, c in zip(free, chosen, strict=False) if c))


_PLAIN_LEAVES = st.sampled_from(
    [
        t.Tensor("A", (IDX["i"], IDX["j"])),
        t.Tensor("B", (IDX["j"], IDX["k"])),
        t.Tensor("v", (IDX["i"],)),
        t.Tensor("w", (IDX["j"],)),
        t.Const(2.0),
    ]
)
# Sums nested in functions, powers and other sums, as a definition reads.
plain_terms = st.recursive(
    _PLAIN_LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda x: t.Func("tanh", x), inner),
        st.builds(lambda x: t.Pow(x, t.Const(2.0)), inner),
        st.builds(
            _summed, st.lists(inner, min_size=1, max_size=3), st.lists(st.booleans(), min_size=3)
        ),
        st.builds(t.add, st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(terms, plain_terms))
def test_the_same_tree_but_for_summed_names_has_the_same_key(term: t.Term) -> None:
    # Folding takes a node as a definition without keying it where the
    # trees are the same but for summed names: the keys must agree then.
    names = {i.name: i.name for i in term.free}
    renamed = _rebound(term, [])
    same = _same_tree(term, renamed, names)
    assert same == _plain(term)
    if same:
        assert key(term) == key(renamed)


def test_a_summed_index_hides_the_outer_name_it_takes() -> None:
    i, j, x = (t.Idx(n, Size("h", 4)) for n in ("i", "j", "x"))
    # Σ_x A[x,i] with i read as j is not Σ_j A[j,j] (the sum takes j).
    mine = t.Product((t.Tensor("A", (x, i)),), (x,))
    assert not _same_tree(mine, t.Product((t.Tensor("A", (j, j)),), (j,)), {"i": "j"})
    assert _same_tree(mine, t.Product((t.Tensor("A", (i, j)),), (i,)), {"i": "j"})
    assert not _same_tree(t.Const(0.0), t.Const(-0.0), {})


def test_renumbering_a_sum_leaves_an_inner_sum_that_takes_its_name_again_alone() -> None:
    # Σ_r a[r] (Σ_r b[r]): the inner r, of another size, shadows the outer one.
    # Renumbering the outer r to p renamed the inner one too, with the outer's
    # size (an E999 in evaluation, fuzz run 96285 of seed 2053).
    outer, inner = t.Idx("r", Size("m", 2)), t.Idx("r", Size("n", 3))
    term = t.Product(
        (
            t.Tensor("a", (outer,)),
            t.Product((t.Tensor("b", (inner,)),), (inner,)),
        ),
        (outer,),
    )
    renumbered = first_fresh_names(term, frozenset({"a", "b", "m", "n"}))
    values = {"a": np.array([1.0, 2.0]), "b": np.array([1.0, 10.0, 100.0])}
    assert float(Evaluator(values).value(renumbered)) == 333.0
    # Each array is read, and each sum runs, at its own size.
    assert isinstance(renumbered, t.Product)
    (read_a, inner_sum) = renumbered.factors
    assert isinstance(read_a, t.Tensor) and isinstance(inner_sum, t.Product)
    assert [i.size.name for i in (*renumbered.summed, *read_a.indices)] == ["m", "m"]
    (read_b,) = inner_sum.factors
    assert isinstance(read_b, t.Tensor)
    assert [i.size.name for i in (*inner_sum.summed, *read_b.indices)] == ["n", "n"]
