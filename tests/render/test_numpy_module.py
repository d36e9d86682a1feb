"""The emitted module, imported and run: its backward pass gives the values
the tool derived (saved with --save), and agrees with finite differences of
its own forward pass; sizes come from the arrays passed in."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from support import load_module

from shapecheck.numeric.codegen import python_name
from shapecheck.numeric.values import draw_values
from shapecheck.pipeline import FileReport, Options, analyze_path, analyze_source
from shapecheck.render import numpy_module
from shapecheck.source import Source

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = (
    sorted((ROOT / "samples").glob("*.idx"))
    + sorted((ROOT / "samples/course").glob("*.idx"))
    + sorted((ROOT / "samples/cookbook").glob("*.idx"))
)


def _arguments(report: FileReport) -> dict[str, np.ndarray]:
    """The verifier's values, upstream gradients under their Python names."""
    assert report.checked is not None
    values = draw_values(report.checked, 0)
    # The coefficients of an `fn f`'s stand-in (`fn f`) are the module's own, not arguments.
    return {
        python_name(k) if k.startswith("dloss/") else k: v
        for k, v in values.items()
        if not k.startswith("fn ")
    }


def _jacobian(module: ModuleType, arguments: dict, of: str, wrt: str) -> np.ndarray:
    """d forward()[of] / d arguments[wrt] by central differences, numerator order;
    an `of` that is a first derivative `dA/dB` (of d2A/dB2, spec 9.6) is taken
    from backward() instead."""
    step_of = module.backward if "/" in of else module.forward
    base = np.asarray(arguments[wrt], dtype=float)
    shape_of = np.shape(step_of(**arguments)[of])
    out = np.zeros(shape_of + base.shape)
    step = 1e-6
    for index in itertools.product(*(range(n) for n in base.shape)):
        values = []
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved[index] += sign * step
            values.append(np.asarray(step_of(**{**arguments, wrt: moved})[of]))
        out[(..., *index)] = (values[0] - values[1]) / (2 * step)
    return out


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_backward_gives_the_derived_values(path: Path, tmp_path: Path) -> None:
    saved = tmp_path / "values.npz"
    report = analyze_path(path, Options(save=saved))
    assert report.errors == 0
    module = load_module(numpy_module.render([report]), tmp_path)
    arguments = _arguments(report)
    results = module.backward(**arguments)
    assert list(results) == [r.derivation.label for r in report.derivatives]
    with np.load(saved) as archive:
        for label, value in results.items():
            np.testing.assert_allclose(value, archive[label], rtol=1e-10, atol=1e-12)
    for result in report.derivatives:
        derivation = result.derivation
        if derivation.wrt not in arguments:
            continue
        numeric = _jacobian(module, arguments, derivation.of, derivation.wrt)
        value = np.asarray(results[derivation.label])
        arrays = {a.name for a in report.checked.arrays} if report.checked else set()
        if derivation.of not in arrays and derivation.of not in results:
            continue  # d2A/dB2 without dA/dB asked for: compared with the saved values above
        if derivation.layout == "denominator" and derivation.of_indices:
            rank = len(derivation.of_indices)
            numeric = np.moveaxis(numeric, tuple(range(rank)), tuple(range(-rank, 0)))
        np.testing.assert_allclose(value, numeric, rtol=1e-5, atol=1e-6)


def test_forward_matches_the_definitions_in_order(tmp_path: Path) -> None:
    report = analyze_path(ROOT / "samples" / "affine.idx", Options(verify=False))
    module = load_module(numpy_module.render([report]), tmp_path)
    arguments = _arguments(analyze_path(ROOT / "samples" / "affine.idx", Options()))
    values = module.forward(**arguments)
    assert list(values) == ["Y", "L"]
    expected = arguments["X"] @ arguments["W"] + arguments["b"]
    np.testing.assert_allclose(values["Y"], expected)
    np.testing.assert_allclose(values["L"], np.sum(expected**2))


def test_sizes_come_from_the_arrays(tmp_path: Path) -> None:
    report = analyze_path(ROOT / "samples" / "affine.idx", Options(verify=False))
    source = numpy_module.render([report])
    assert "np.eye(n)" in source and "np.eye(8)" not in source
    module = load_module(source, tmp_path)
    rng = np.random.default_rng(1)
    X, W, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 7)), rng.standard_normal(7)
    gradients = module.backward(X=X, W=W, b=b)
    assert gradients["dY/dX"].shape == (2, 7, 2, 3)
    np.testing.assert_allclose(gradients["dL/dW"], 2 * X.T @ (X @ W + b))
    with pytest.raises(ValueError, match="W has shape"):
        module.forward(X=X, W=W[:2], b=b)
    with pytest.raises(TypeError, match="unknown arrays"):
        module.forward(X=X, W=W, b=b, Q=b)
    with pytest.raises(TypeError, match="missing array"):
        module.forward(X=X, W=W)


def test_literal_values_are_defaults(tmp_path: Path) -> None:
    report = analyze_path(ROOT / "samples" / "dot.idx", Options(verify=False))
    module = load_module(numpy_module.render([report]), tmp_path)
    assert module.forward()["f"] == pytest.approx(5 + 16 - 3)
    np.testing.assert_allclose(module.backward()["df/dx"], [1, 2, 3])
    np.testing.assert_allclose(module.backward(a=[1, 1, 1])["df/dx"], [1, 1, 1])


def test_names_python_reserves_are_renamed(tmp_path: Path) -> None:
    text = "dim n = 3\nparam np[n], lambda[n]\nforward = np[i] lambda[i]\nderive dforward/dnp\n"
    report = analyze_source(Source("odd.idx", text), Options(verify=False))
    assert report.errors == 0, report.diagnostics
    module = load_module(numpy_module.render([report]), tmp_path)
    a, b = np.arange(3.0), np.ones(3)
    assert module.forward(**{"np": a, "lambda": b})["forward"] == pytest.approx(3.0)
    np.testing.assert_allclose(module.backward(**{"np": a, "lambda": b})["dforward/dnp"], b)


def test_a_file_with_errors_gives_a_module_that_refuses(tmp_path: Path) -> None:
    report = analyze_path(ROOT / "samples" / "mistakes" / "size_mismatch.idx", Options())
    source = numpy_module.render([report])
    assert "# " in source and "E201" in source
    with pytest.raises(ImportError, match="1 error"):
        load_module(source, tmp_path)


def test_the_same_input_gives_the_same_bytes() -> None:
    path = ROOT / "samples" / "rnn.idx"
    first = numpy_module.render([analyze_path(path, Options(verify=False))])
    assert first == numpy_module.render([analyze_path(path, Options(verify=False))])
    compile(first, "rnn.py", "exec")


# A valid and a strided convolution: sizes computed from n and k.
CONVOLUTIONS = (
    "dim n, k, m = n - k + 1, p = (n - k) / 2 + 1\ninput x[n]\nparam w[k]\n"
    "y[a:m] = x[a + u - 1] w[u]\nz[c:p] = x[2 c + v - 2] w[v]\n"
)


def test_a_computed_size_is_computed_from_the_shapes(tmp_path: Path) -> None:
    # `m` is chosen for the checks; the module must compute it for any shapes
    # (found in review: it baked in the chosen 3), strided too.
    text = CONVOLUTIONS + "L = y[a] y[a] + z[c]\nderive dL/dw\n"
    path = tmp_path / "conv.idx"
    path.write_text(text, encoding="utf-8")
    report = analyze_path(path, Options())
    assert report.errors == 0
    source = numpy_module.render([report])
    assert "m = (1 - k + n)" in source and "p = (2 - k + n) // 2" in source
    module = load_module(source, tmp_path)
    x, w = np.arange(1.0, 9.0), np.array([1.0, -1.0])
    values = module.forward(x=x, w=w)
    np.testing.assert_allclose(values["y"], np.correlate(x, w, mode="valid"))
    np.testing.assert_allclose(
        values["z"], [x[2 * c] * w[0] + x[2 * c + 1] * w[1] for c in range(4)]
    )


def test_shapes_that_break_a_size_relation_are_refused(tmp_path: Path) -> None:
    # `m` is read from the upstream's shape, so the module checks m = n - k + 1
    # (and a strided p = (n - k) / 2 + 1 exactly, not by floor division).
    text = CONVOLUTIONS + "L = loss(y) + loss(z)\nderive dL/dw\n"
    path = tmp_path / "conv.idx"
    path.write_text(text, encoding="utf-8")
    report = analyze_path(path, Options())
    assert report.errors == 0
    module = load_module(numpy_module.render([report]), tmp_path)
    x, w = np.arange(1.0, 9.0), np.array([1.0, -1.0])
    right = module.backward(x=x, w=w, dloss_dy=np.ones(7), dloss_dz=np.ones(4))
    expected = np.correlate(np.ones(7), x, mode="valid")[::-1] + [
        sum(x[2 * c + v] for c in range(4)) for v in range(2)
    ]
    np.testing.assert_allclose(right["dL/dw"], expected)
    with pytest.raises(ValueError, match="m is 6 by the shapes"):
        module.backward(x=x, w=w, dloss_dy=np.ones(6), dloss_dz=np.ones(4))
    with pytest.raises(ValueError, match="p is 3 by the shapes"):
        module.backward(x=x, w=w, dloss_dy=np.ones(7), dloss_dz=np.ones(3))
