"""The derivation recorder: passive (a traced derivation is the same
derivation), complete in its words, and bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from shapecheck.check.program import Size
from shapecheck.pipeline import Options, analyze_path
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Deriver
from shapecheck.symbolic.formula import formula
from shapecheck.symbolic.rules import NORMAL_FORM_RULES, RULES
from shapecheck.symbolic.simplify import simplify
from shapecheck.symbolic.trace import REWRITE, RULE_WORDS, SILENT, Trace

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.idx"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_a_traced_derivation_is_the_same_derivation(path: Path) -> None:
    checked = analyze_path(path, Options()).checked
    assert checked is not None
    for request in checked.requests:
        plain = Deriver(checked).derive(request.of, request.wrt)
        traced = Deriver(checked, Trace()).derive(request.of, request.wrt)
        assert formula(traced.formula) == formula(plain.formula)
        assert [(a.label, formula(a.formula)) for a in traced.adjoints] == [
            (a.label, formula(a.formula)) for a in plain.adjoints
        ]
        assert traced.indices == plain.indices


def test_every_rule_has_words() -> None:
    assert {rule.__name__ for rule in (*RULES, *NORMAL_FORM_RULES)} <= RULE_WORDS.keys()


def test_the_simplifier_records_each_rule_on_its_subterm() -> None:
    i, j = t.Idx("i", Size("n", 3)), t.Idx("j", Size("n", 3))
    x = t.Tensor("x", (j,))
    term = t.Product((t.Delta((i, j)), t.Const(2.0), x, t.Const(3.0)), (j,))
    trace = Trace()
    result = simplify(term, trace=trace)
    assert formula(result) == "6 x[i]"
    rules = [step.rule for step in trace.steps]
    assert rules[0] == "eat_deltas" and "fold_constants" in rules
    assert all(step.kind == REWRITE and step.rule not in SILENT for step in trace.steps)
    first = trace.steps[0]
    assert first.before == term and first.words == "a delta eats the summed index j"


def test_a_trace_keeps_at_most_its_limit_and_counts_the_rest() -> None:
    n = Size("n", 2)
    terms = [
        t.Product((t.Const(2.0), t.Tensor(f"a{k}", (t.Idx("i", n),)), t.Const(3.0)))
        for k in range(5)
    ]
    trace = Trace(limit=2)
    simplify(t.add(terms), trace=trace)
    assert len(trace.steps) == 2 and trace.omitted > 0
