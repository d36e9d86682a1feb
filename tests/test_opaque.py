"""Opaque functions end to end (spec 9.5): samples/cookbook/elementwise.idx and the
seeded stand-ins, checked against numbers computed here, independently of the
tool's derivative rules and of its verifier.

The stand-in of `fn f` is documented (docs/language.md, 12.13) as
a sin(b x + c) + d x with a, b, c, d drawn from the stream `[seed, crc32("fn f")]`;
this module writes that recipe and the closed-form derivatives itself, and
compares the tool's saved derivatives with them and with central differences
of a numpy re-implementation of the sample's forward pass.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from support import ROOT, assert_clean, central, load_module, printed_value, run, saved

from shapecheck.numeric import standins
from shapecheck.numeric.verdicts import ClaimVerdict
from shapecheck.render.derivatives import shown_formula

SAMPLE = ROOT / "samples" / "cookbook" / "elementwise.idx"
Function = Callable[[np.ndarray], np.ndarray]


def _coefficients(seed: int, name: str) -> tuple[float, float, float, float]:
    """The documented recipe, written here."""
    stream = np.random.default_rng([seed, zlib.crc32(f"fn {name}".encode())])
    u = stream.random(4)
    return (
        0.5 + u[0],
        0.5 + u[1],
        2 * math.pi * u[2],
        -1.0 + 2.0 * u[3],
    )


def _stand_in(seed: int, name: str) -> tuple[Function, Function, Function]:
    """The stand-in, its first and its second derivative, in closed form."""
    a, b, c, d = _coefficients(seed, name)
    return (
        lambda x: a * np.sin(b * x + c) + d * x,
        lambda x: a * b * np.cos(b * x + c) + d,
        lambda x: -a * b * b * np.sin(b * x + c),
    )


@pytest.mark.parametrize("seed", [0, 7])
def test_the_sample_derivatives_equal_closed_forms_and_differences(
    tmp_path: Path, seed: int
) -> None:
    report, values = saved(SAMPLE.read_text(), tmp_path, seed=seed)
    assert_clean(report)
    assert all(c.check is not None and c.check.verdict is ClaimVerdict.OK for c in report.claims)
    f, df, ddf = _stand_in(seed, "f")
    g, dg, _ = _stand_in(seed, "g")
    A, x, w = values["A"], values["x"], values["w"]
    z = A @ x
    expected = {
        "dy/dx": df(z)[:, None] * A,
        "dL/dx": A.T @ (df(z) * w),
        "ds/dx": df(x),
        "dc/dx": np.diag(df(g(x)) * dg(x)),
        "du/dx": df(x) * g(x) + f(x) * dg(x),
        "dt/dx": np.diag(ddf(x)),
    }
    forward: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "dy/dx": lambda v: f(A @ v),
        "dL/dx": lambda v: w @ f(A @ v),
        "ds/dx": lambda v: f(v).sum(),
        "dc/dx": lambda v: f(g(v)),
        "du/dx": lambda v: (f(v) * g(v)).sum(),
        "dt/dx": lambda v: df(v),
    }
    for label, value in expected.items():
        np.testing.assert_allclose(values[label], value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(central(forward[label], x), value, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("order", [1, 2, 3, 6])
def test_each_order_of_a_stand_in_is_the_derivative_of_the_one_before(order: int) -> None:
    coefficients = standins.coefficients(3, "h")
    x = np.linspace(-7.0, 7.0, 29)
    below = central(lambda v: standins.apply(coefficients, order - 1, v), x)
    np.testing.assert_allclose(
        standins.apply(coefficients, order, x), np.diag(below), rtol=1e-6, atol=1e-6
    )


def test_stand_ins_follow_the_documented_recipe_and_differ_by_name_and_seed() -> None:
    for seed, name in [(0, "f"), (0, "g"), (5, "f")]:
        np.testing.assert_array_equal(
            standins.coefficients(seed, name), np.array(_coefficients(seed, name))
        )
    assert not np.array_equal(standins.coefficients(0, "f"), standins.coefficients(0, "g"))
    assert not np.array_equal(standins.coefficients(0, "f"), standins.coefficients(1, "f"))
    # Finite everywhere a float is: the stand-in never overflows where x does not.
    wide = np.array([-1e300, -1e6, -1.0, 0.0, 1.0, 1e6, 1e300])
    for order in range(4):
        assert np.all(np.isfinite(standins.apply(standins.coefficients(0, "f"), order, wide)))


def test_the_printed_numpy_lines_compute_the_derivatives(tmp_path: Path) -> None:
    """The lines call `f(x, order)` as the emitted module defines it."""
    report, values = saved(SAMPLE.read_text(), tmp_path)
    stand_ins = {name: _stand_in(0, name) for name in ("f", "g")}

    def function(name: str) -> Callable[..., np.ndarray]:
        return lambda x, order=0: stand_ins[name][order](x)

    f = stand_ins["f"][0]
    namespace = {
        **values,
        "f": function("f"),
        "g": function("g"),
        "y": f(values["A"] @ values["x"]),
        # du/dx prints f'(x[p]) as the file's t[p] (t[k] = f'(x[k])).
        "t": stand_ins["f"][1](values["x"]),
    }
    for result in report.derivatives:
        np.testing.assert_allclose(
            printed_value(result, namespace), values[result.derivation.label], rtol=1e-12
        )


def test_the_emitted_module_defines_the_stand_ins(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shapecheck.cli import app

    result = CliRunner().invoke(app, ["derive", str(SAMPLE), "--emit", "numpy", "--seed", "4"])
    assert result.exit_code == 0, result.output
    module = load_module(result.output, tmp_path)
    f, df, _ = _stand_in(4, "f")
    rng = np.random.default_rng(1)
    A, x, w = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    np.testing.assert_allclose(module.f(x), f(x), rtol=1e-14)
    gradients = module.backward(A=A, x=x, w=w)
    np.testing.assert_allclose(gradients["dL/dx"], A.T @ (df(A @ x) * w), rtol=1e-12)
    # The function meant replaces the stand-in: tanh, whose derivative is known.
    module.f = lambda v, order=0: np.tanh(v) if order == 0 else 1 - np.tanh(v) ** 2
    np.testing.assert_allclose(
        module.backward(A=A, x=x, w=w)["dL/dx"], A.T @ ((1 - np.tanh(A @ x) ** 2) * w)
    )


HEADER = "fn f, g\ndim n = 3\nparam x[n], v[n]\n"


def test_a_right_claim_in_another_form_is_confirmed_numerically() -> None:
    # sin² + cos² = 1 is no rewrite rule: the claim is judged by its numbers.
    claim_text = "dL/dx[p] = f'(x[p]) v[p] (sin(x[p])^2 + cos(x[p])^2) / 2\n"
    report = run(HEADER + "L = sum[k](f(x[k]) v[k]) / 2\n" + claim_text)
    (claim,) = report.claims
    assert not claim.symbolic.matches
    assert claim.check is not None and claim.check.verdict is ClaimVerdict.OK
    assert [d.code for d in report.diagnostics if d.code != "W101"] == []


def test_a_wrong_claim_with_primes_is_wrong() -> None:
    report = run(HEADER + "L = f(x[k]) v[k]\ndL/dx[p] = f(x[p]) v[p]\n")
    assert "E402" in [d.code for d in report.diagnostics]
    report = run(HEADER + "L = f(x[k]) v[k]\ndL/dx[p] = f''(x[p]) v[p]\n")
    assert "E402" in [d.code for d in report.diagnostics]


def test_printed_formulas_round_trip_as_claims() -> None:
    text = HEADER + "y[i] = f(g(x[i]) v[i])\nL = y[i] v[i]\nderive dL/dx, dL/dv\n"
    report = run(text)
    claims = "".join(
        f"{r.derivation.label}[{', '.join(i.name for i in r.derivation.signature)}] = "
        f"{shown_formula(r)}\n"
        for r in report.derivatives
    )
    assert "f'(" in claims
    again = run(text + claims)
    assert [c.symbolic.matches for c in again.claims] == [True, True]


def test_output_does_not_depend_on_the_hash_seed() -> None:
    outputs = set()
    for hash_seed in ("0", "1", "77"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        completed = subprocess.run(
            [sys.executable, "-m", "shapecheck", "derive", str(SAMPLE), "--format", "json"],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        outputs.add(completed.stdout)
    assert len(outputs) == 1
