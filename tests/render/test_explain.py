"""`shapecheck explain`: every sample's every derivative, step by step.

Each explanation must end at the formula `derive` prints, and every step it
records must be true: a rewrite's two sides and the local derivatives put in
versus the simplified line are evaluated on seeded values of every array they
name (the rewrites are identities whatever the values), and a local rule's
result is compared with a directional finite difference of what it
differentiated. The three formats must parse: JSON, and Markdown with
dollarmath, every math span with pylatexenc.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import forward_values

from shapecheck.check.program import CheckedProgram
from shapecheck.explain import Explanation, UnknownDerivative, explain, parse_request
from shapecheck.numeric.evaluate import Evaluator, align
from shapecheck.pipeline import DerivativeResult, FileReport, Options, analyze_path
from shapecheck.render import explain as render
from shapecheck.render.derivatives import shown_formula
from shapecheck.source import Source
from shapecheck.symbolic import terms as t
from shapecheck.symbolic import trace as tr
from shapecheck.symbolic.formula import formula

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.idx"))


def _requests() -> list[tuple[Path, str, str]]:
    """Every derivative each sample asks for (its checked program's requests)."""
    found = []
    for path in SAMPLES:
        report = analyze_path(path, Options(verify=False))
        assert report.checked is not None
        found += [(path, r.of, r.wrt) for r in report.checked.requests]
    return found


REQUESTS = _requests()
IDS = [f"{p.name}:d{of}/d{wrt}" for p, of, wrt in REQUESTS]


@pytest.fixture(scope="module")
def derived() -> dict[Path, FileReport]:
    """What `derive` makes of each sample (default options, as the command)."""
    return {path: analyze_path(path, Options()) for path in SAMPLES}


@pytest.fixture(scope="module")
def explained() -> dict[tuple[Path, str, str], Explanation]:
    out = {}
    for path, of, wrt in REQUESTS:
        result = explain(path, of, wrt)
        assert isinstance(result, Explanation), result
        out[(path, of, wrt)] = result
    return out


def _derivative(report: FileReport, of: str, wrt: str) -> DerivativeResult:
    return next(r for r in report.derivatives if (r.request.of, r.request.wrt) == (of, wrt))


def test_every_sample_has_something_to_explain() -> None:
    assert len(REQUESTS) >= len(SAMPLES)


@pytest.mark.parametrize(("path", "of", "wrt"), REQUESTS, ids=IDS)
def test_it_ends_at_the_formula_derive_prints(
    path: Path, of: str, wrt: str, derived: dict, explained: dict
) -> None:
    explanation = explained[(path, of, wrt)]
    printed = shown_formula(_derivative(derived[path], of, wrt))
    last = explanation.steps[-1]
    assert last.kind == tr.RESULT
    assert formula(last.after) == printed
    assert render.text(explanation).rstrip("\n").endswith(f" = {printed}")
    document = json.loads(render.json_text(explanation))
    assert document["steps"][-1]["after"] == printed == document["formula"]


# ---------------------------------------------------------------------------
# Every step is true


def _shape(name: str, kind: str, program: CheckedProgram) -> tuple[int, ...]:
    if kind in (t.ADJOINT, t.UPSTREAM):
        of, wrt = name[1:].split("/d", 1)
        names = [wrt] if kind == t.UPSTREAM else [of, wrt]
        return tuple(int(s.value or 0) for n in names for s in program.array(n).shape)
    return tuple(int(s.value or 0) for s in program.array(name).shape)


def _values(terms: list[t.Term], program: CheckedProgram) -> dict[str, Any]:
    """Seeded positive values (logs and square roots stay real) for every
    array the terms name; a loss needs its upstream gradient too."""
    values: dict[str, Any] = {}
    stack = list(terms)
    while stack:
        node = stack.pop()
        stack.extend(t.children(node))
        wanted: list[tuple[str, str]] = []
        if isinstance(node, t.Tensor):
            wanted.append((node.name, node.kind))
        elif isinstance(node, t.Loss):
            wanted += [(node.array, t.ARRAY), (f"dloss/d{node.array}", t.UPSTREAM)]
        for name, kind in wanted:
            if name not in values:
                rng = np.random.default_rng(zlib.crc32(name.encode()))
                values[name] = rng.uniform(0.5, 2.0, _shape(name, kind, program))
    return values


def _evaluable(term: t.Term) -> t.Term:
    """An empty product (1, or the sizes of its sums) as the number it is:
    the engine makes them on the way (fold_constants), einsum has no call for them."""
    if isinstance(term, t.Product) and not term.factors:
        return t.Const(float(np.prod([int(i.size.value or 0) for i in term.summed])))
    kids = t.children(term)
    return t.with_children(term, tuple(_evaluable(k) for k in kids)) if kids else term


def _value(term: t.Term, values: dict[str, Any], target: tuple[t.Idx, ...]) -> Any:
    value = Evaluator(values).value(_evaluable(term))
    return align(value, t.names(term.free), target)


def _assert_same(
    before: t.Term, after: t.Term, program: CheckedProgram, *, forward: bool = False
) -> None:
    values = _values([before, after], program)
    if forward:

        def draw(rhs: t.Term) -> None:
            values.update(_values([rhs], program) | values)

        forward_values(values, program, draw)
    free = before.free
    assert {(i.name, i.size) for i in after.free} == {(i.name, i.size) for i in free}
    np.testing.assert_allclose(
        _value(after, values, free),
        _value(before, values, free),
        rtol=1e-9,
        atol=1e-12,
        equal_nan=True,
    )


def _assert_local(step: tr.Step, program: CheckedProgram) -> None:
    """∂before/∂wrt = after, against a central difference along a random direction."""
    assert step.before is not None and step.wrt is not None
    name, at = step.wrt.name, tuple(i for i in step.wrt.indices if isinstance(i, t.Idx))
    values = _values([step.before, step.after], program)
    values.setdefault(name, np.random.default_rng(1).uniform(0.5, 2.0, _shape(name, "", program)))
    direction = np.random.default_rng(2).standard_normal(np.shape(values[name]))
    h = 1e-6
    free = step.before.free

    def moved(sign: float) -> Any:
        return _value(step.before, {**values, name: values[name] + sign * h * direction}, free)

    numeric = (moved(1.0) - moved(-1.0)) / (2 * h)
    derivative = _value(step.after, values, free + at)
    axes = list(range(len(free), len(free) + len(at)))
    exact = np.tensordot(derivative, direction, axes=(axes, list(range(len(at)))))
    np.testing.assert_allclose(exact, numeric, rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize(("path", "of", "wrt"), REQUESTS, ids=IDS)
def test_every_step_is_true(path: Path, of: str, wrt: str, derived: dict, explained: dict) -> None:
    explanation = explained[(path, of, wrt)]
    program = derived[path].checked
    substituted: dict[str, t.Term] = {}
    checked = 0
    for step in explanation.steps:
        if step.kind == tr.REWRITE:
            assert step.before is not None
            _assert_same(step.before, step.after, program)
        elif step.kind == tr.LOCAL:
            _assert_local(step, program)
        elif step.kind == tr.SUBSTITUTE:
            substituted[step.adjoint] = step.after
            continue
        elif step.kind == tr.RESULT and step.adjoint in substituted:
            # A line written with the file's names holds at the defined arrays' values.
            folded = step.rule == "fold_names"
            _assert_same(substituted[step.adjoint], step.after, program, forward=folded)
        else:
            continue
        checked += 1
    assert checked > 0


# ---------------------------------------------------------------------------
# What an explanation says


def test_the_affine_explanation_introduces_and_eats_deltas() -> None:
    result = explain(ROOT / "samples" / "affine.idx", "Y", "X")
    assert isinstance(result, Explanation)
    text = render.text(result)
    assert "one Kronecker delta per index: ∂X[i,j]/∂X[p,q] = δ[i,p] δ[j,q]" in text
    assert "a delta eats the summed index j: Σ_j W[j,k] δ[i,p] δ[j,q] → W[q,k] δ[i,p]" in text
    assert text.rstrip().endswith("dY/dX[i,k,p,q] = W[q,k] δ[i,p]")


def test_no_step_binds_an_index_named_as_a_dim() -> None:
    # Eating Σ_u renamed argmax's own index to a fresh `p`, max_pool's dim:
    # `argmax[p:2]` in the steps, which does not read back. Each step names
    # it as the result does.
    result = explain(ROOT / "samples" / "course" / "max_pool.idx", "L", "X")
    assert isinstance(result, Explanation)
    text = render.text(result)
    assert "argmax[p" not in text and "Σ_p " not in text
    assert "argmax[s:2](X[2 a + argmax[u:2]" in text.splitlines()[-2]


def test_the_chain_rule_names_each_adjoint() -> None:
    result = explain(ROOT / "samples" / "affine.idx", "L", "W")
    assert isinstance(result, Explanation)
    text = render.text(result)
    assert "chain rule: dL/dY[i,k] = ∂L/∂Y[i,k]" in text
    assert "chain rule: dL/dW[j,k] = Σ_i Σ_p dL/dY[i,p] ∂Y[i,p]/∂W[j,k]" in text
    assert "adjoint found: dL/dY[i,k] = 2 Y[i,k]" in text
    assert text.index("dL/dY[i,k] (adjoint)") < text.index("dL/dW[j,k] (the derivative)")


def test_a_long_explanation_is_cut_but_ends_at_the_result(derived: dict) -> None:
    path = ROOT / "samples" / "rnn.idx"
    result = explain(path, "L", "U", limit=10)
    assert isinstance(result, Explanation)
    # Past the limit only the derivative is kept, then the same in the file's names.
    assert [s.rule for s in result.steps[10:]] == ["derivative", "fold_names"]
    assert result.omitted > 0
    text = render.text(result)
    assert f"… {result.omitted} more steps, not shown" in text
    assert text.rstrip().endswith(shown_formula(_derivative(derived[path], "L", "U")))
    assert json.loads(render.json_text(result))["omitted"] == result.omitted


def test_json_lists_the_steps() -> None:
    result = explain(ROOT / "samples" / "affine.idx", "L", "W")
    assert isinstance(result, Explanation)
    document = json.loads(render.render(result, "json"))
    steps = document["steps"]
    assert [s["number"] for s in steps] == list(range(1, len(steps) + 1))
    for step in steps:
        assert set(step) >= {"number", "kind", "rule", "adjoint", "before", "after"}
    assert steps[0] == {
        "number": 1,
        "kind": "definition",
        "rule": "definition",
        "rule_id": "definition",
        "adjoint": "Y[i,k]",
        "before": "Y[i,k]",
        "after": "Σ_j X[i,j] W[j,k] + b[k]",
    }


markdown_it = pytest.importorskip("markdown_it")
dollarmath = pytest.importorskip("mdit_py_plugins.dollarmath")
latexwalker = pytest.importorskip("pylatexenc.latexwalker")


@pytest.mark.parametrize(("path", "of", "wrt"), REQUESTS, ids=IDS)
def test_markdown_parses_and_so_does_its_math(
    path: Path, of: str, wrt: str, explained: dict
) -> None:
    document = render.markdown(explained[(path, of, wrt)])
    parser = markdown_it.MarkdownIt("commonmark").use(
        dollarmath.dollarmath_plugin, allow_space=False, allow_digits=False
    )
    tokens = []
    for token in parser.parse(document):
        tokens += [token, *(token.children or [])]
    math = [token.content for token in tokens if token.type == "math_inline"]
    assert len(math) >= len(explained[(path, of, wrt)].steps)
    for span in math:
        latexwalker.LatexWalker(span, tolerant_parsing=False).get_latex_nodes()
        assert "|" not in span
    assert not any("$" in token.content for token in tokens if token.type == "text")


# ---------------------------------------------------------------------------
# Requests and files that cannot be explained


def test_any_two_arrays_can_be_explained() -> None:
    result = explain(ROOT / "samples" / "affine.idx", "L", "X")
    assert isinstance(result, Explanation)
    assert formula(result.steps[-1].after) == "Σ_k W[j,k] dL/dY[i,k]"


def test_an_unconnected_pair_is_zero() -> None:
    result = explain("dim n = 2\nparam a[n], b[n]\ny[i] = 2 a[i]\n", "y", "b")
    assert isinstance(result, Explanation)
    assert [s.rule for s in result.steps] == ["no_path"]
    assert render.text(result).rstrip().endswith("dy/db[i,p] = 0")


@pytest.mark.parametrize("request_text", ["dL/dQ", "dQ/dW"])
def test_an_unknown_array_is_the_commands_problem(request_text: str) -> None:
    of, wrt = parse_request(request_text)
    with pytest.raises(UnknownDerivative, match=r"no array `Q`.*it derives: dY/dX, dL/dW"):
        explain(ROOT / "samples" / "affine.idx", of, wrt)


@pytest.mark.parametrize("text", ["L/W", "dL", "dL/", "d/dW", "dL/dW/dX x"])
def test_a_malformed_request_is_the_commands_problem(text: str) -> None:
    with pytest.raises(UnknownDerivative, match="expected a derivative such as dL/dW"):
        parse_request(text)


def test_a_file_with_errors_gives_its_diagnostics() -> None:
    path = ROOT / "samples" / "mistakes" / "size_mismatch.idx"
    result = explain(path, "Y", "X")
    assert isinstance(result, FileReport) and result.errors
    assert "error[E201]" in render.render(result, "text")
    assert json.loads(render.render(result, "json"))["files"][0]["errors"] == result.errors
    assert "error\\[E201\\]" in render.render(result, "markdown")


def test_the_documented_trace_is_the_real_one() -> None:
    docs = (ROOT / "docs" / "derivatives.md").read_text(encoding="utf-8")
    text = (ROOT / "samples" / "affine.idx").read_text(encoding="utf-8")
    result = explain(Source("samples/affine.idx", text), "L", "W")
    assert isinstance(result, Explanation)
    assert f"```text\n{render.text(result)}```" in docs


def test_a_bug_is_an_internal_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from shapecheck.symbolic import derive

    def broken(self: object, of: str, wrt: str, order: int = 1) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(derive.Deriver, "derive", broken)
    result = explain(ROOT / "samples" / "affine.idx", "L", "W")
    assert isinstance(result, FileReport)
    assert [d.code for d in result.diagnostics] == ["E999"]
    assert "RuntimeError: boom" in render.render(result, "text")


def test_a_renderer_bug_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    result = explain(ROOT / "samples" / "affine.idx", "L", "W")
    assert isinstance(result, Explanation)

    def broken(explanation: Explanation) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(render, "markdown", broken)
    assert "internal error" in render.render(result, "markdown")


def test_the_command_line_offers_every_explain_format() -> None:
    from shapecheck import cli
    from shapecheck.render import explain as explain_render

    assert [f.value for f in cli._ExplainFormat] == list(explain_render.FORMATS)


def test_explain_runs_from_the_command_line() -> None:
    from typer.testing import CliRunner

    from shapecheck.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["explain", "samples/affine.idx", "dL/dW"])
    assert done.exit_code == 0, done.output
    assert "δ" in done.output
    assert runner.invoke(app, ["explain", "samples/affine.idx", "dL/dQ"]).exit_code == 2
