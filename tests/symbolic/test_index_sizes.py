"""`terms.index_sizes` gives every name the size `size_of_index` finds, in one
walk: random terms from the rewrite rules' generator, and every formula the
samples derive (renaming takes fresh names in this order, so printed results
depend on it)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from support import run
from symbolic.test_rewrite_properties import terms

from shapecheck.symbolic import terms as t

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _agrees(term: t.Term) -> None:
    sizes = t.index_sizes(term)
    assert set(sizes) >= set(t.names_in_order(term))
    for name, size in sizes.items():
        assert t.size_of_index(term, name) == size, name


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_random_terms_agree(term: t.Term) -> None:
    _agrees(term)


def test_every_derived_formula_of_the_samples_agrees() -> None:
    for path in sorted(SAMPLES.glob("*.idx")):
        report = run(path.read_text(encoding="utf-8"), verify=False)
        for result in report.derivatives:
            derivation = result.derivation
            _agrees(derivation.formula)
            for adjoint in derivation.adjoints:
                _agrees(adjoint.formula)
