"""Shared test helpers: run the pipeline on text and look at what came out."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from shapecheck.numeric.codegen import python_name
from shapecheck.numeric.verdicts import Verdict
from shapecheck.pipeline import DerivativeResult, FileReport, Options, analyze_source
from shapecheck.render.derivatives import derivative_code
from shapecheck.render.diagnostics import render_plain
from shapecheck.render.notation import notation
from shapecheck.source import Source, Span
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.formula import formula
from shapecheck.syntax import ast

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
if str(ROOT) not in sys.path:
    # CI tests the installed package: the checkout goes last, so that it only
    # provides `benchmarks` and never shadows the installed `shapecheck`.
    sys.path.append(str(ROOT))

# The RNN of benchmarks/derive_rnn.py, for tests that unroll it.
from benchmarks.derive_rnn import rnn_source as rnn  # noqa: E402, F401


def sample_lines() -> list[str]:
    """Every logical line of every shipped sample (samples/ and below)."""
    from shapecheck.syntax.lines import split_lines

    lines = []
    for path in sorted(SAMPLES.rglob("*.idx")):
        text = path.read_text(encoding="utf-8")
        logical, _, _ = split_lines(Source(path.name, text))
        lines.extend(text[line.span.start : line.span.end] for line in logical)
    return lines


Array = Any
Forward = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def run(text: str, **options: object) -> FileReport:
    return analyze_source(Source("test.idx", text), Options(**options))  # type: ignore[arg-type]


def codes(text: str, **options: object) -> list[str]:
    """Diagnostic codes, leaving out W101 (unused declaration): test headers
    declare more than each test uses."""
    return [d.code for d in run(text, **options).diagnostics if d.code != "W101"]


def rendered(report: FileReport) -> str:
    shown = [d for d in report.diagnostics if d.code != "W101"]
    return "\n\n".join(render_plain(report.source, d) for d in shown)


def run_quiet(text: str) -> FileReport:
    """Run `text`, asserting it gives no diagnostics at all."""
    report = run(text)
    assert [d.code for d in report.diagnostics] == []
    return report


def rhs_of(report: FileReport, name: str) -> ast.Expr:
    """The right-hand side of the checked definition of `name`."""
    assert report.checked is not None
    definition = report.checked.definition(name)
    assert definition is not None
    return definition.rhs


def notation_of(text: str, name: str = "out") -> str:
    """How `name`'s right-hand side is shown, once `text` checks without errors."""
    report = run(text)
    assert [d.code for d in report.diagnostics if d.is_error] == [], rendered(report)
    return notation(rhs_of(report, name))


def formulas(report: FileReport) -> dict[str, str]:
    """Each derivative's printed formula, by its label."""
    return {r.derivation.label: formula(r.derivation.formula) for r in report.derivatives}


def forward_values(values: dict[str, Array], program: Any, draw: Callable[[t.Term], None]) -> None:
    """Put each definition's value into `values`, in file order, from the
    values there (`draw` adds any array a right-hand side reads and `values`
    lacks), where it can be evaluated (a `loss(y)` cannot): a formula written
    with the file's names holds only at the defined arrays' own values."""
    from shapecheck.numeric.evaluate import EvaluationError, Evaluator, align
    from shapecheck.symbolic.derive import Deriver

    lowered = Deriver(program).lowered
    for definition in program.definitions:
        lhs, rhs = lowered[definition.name]
        draw(rhs)
        try:
            value = Evaluator(values).value(rhs)
        except EvaluationError:
            continue
        values[definition.name] = align(value, t.names(rhs.free), lhs)


def load_module(source: str, folder: Path, name: str = "emitted") -> ModuleType:
    """Write `source` to `folder`/`name`.py and import it from there."""
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def saved(text: str, tmp_path: Path, **options: object) -> tuple[Any, dict[str, Array]]:
    """Run `text` saving values and derivatives; the report and the saved arrays."""
    path = tmp_path / "out.npz"
    report = run(text, save=path, **options)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    return report, arrays


def central(function: Any, values: Array, h: float = 1e-6) -> Array:
    """d function / d values by central differences, written here (numpy only)."""
    base = np.asarray(values, dtype=np.float64)
    out = np.asarray(function(base))
    gradient = np.zeros(out.shape + base.shape)
    for position in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[position] += h
        down[position] -= h
        gradient[(..., *position)] = (function(up) - function(down)) / (2 * h)
    return gradient


def assert_clean(report: Any) -> None:
    """No diagnostics but W101, and every derivative verified OK."""
    assert [d.code for d in report.diagnostics if d.code != "W101"] == [], report.diagnostics
    for result in report.derivatives:
        assert result.check is not None and result.check.verdict is Verdict.OK


def finite_jacobian(
    forward: Forward,
    values: dict[str, np.ndarray],
    of: str,
    wrt: str,
    layout: str = "numerator",
) -> np.ndarray:
    """Central differences of `of` with respect to every entry of `wrt`."""
    base = np.asarray(values[wrt], dtype=float)
    out_shape = np.shape(forward(values)[of])
    jacobian = np.zeros(out_shape + base.shape)
    step = 1e-6
    for position in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[position] += step
        minus[position] -= step
        up = forward({**values, wrt: plus})[of]
        down = forward({**values, wrt: minus})[of]
        jacobian[(..., *position)] = (up - down) / (2 * step)
    if layout == "denominator" and out_shape:
        rank_b = base.ndim
        order = list(range(len(out_shape), len(out_shape) + rank_b)) + list(range(len(out_shape)))
        jacobian = np.transpose(jacobian, order)
    return jacobian


def printed_value(result: DerivativeResult, namespace: dict[str, Any]) -> np.ndarray:
    """Run the numpy lines the tool prints for this derivative."""
    scope: dict[str, Any] = {"np": np, **{python_name(k): v for k, v in namespace.items()}}
    for line in derivative_code(result):
        exec(line, scope)
    return np.asarray(scope[python_name(result.derivation.label)], dtype=float)


def spanless(node: object) -> object:
    """An AST node as nested tuples without its spans, nor whether a sum was
    written or made explicit by the checker: two nodes that mean the same
    compare equal (`sum[j](e)` and `Σ_j e`, a printed definition and its source)."""
    if isinstance(node, tuple):
        return tuple(spanless(item) for item in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    kept = tuple(
        (field.name, spanless(getattr(node, field.name)))
        for field in dataclasses.fields(node)
        if field.name != "explicit" and not isinstance(getattr(node, field.name), Span)
    )
    return (type(node).__name__, *kept)
