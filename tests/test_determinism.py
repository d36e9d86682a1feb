"""Output is the same byte for byte whatever PYTHONHASHSEED is.

Fresh index names and the order of printed terms must not follow the order of
a set of strings, which Python randomises per process. Each program is run as
a real subprocess under several hash seeds (0, 1, 42 and one drawn at
random; 1 showed the bug of issue 14), in json and text, and every output
must be identical. One process per seed runs every case, the processes run in
parallel, and most cases skip numeric verification (which has its own seeded
generator): a few seconds of CPU per seed.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = (
    sorted((ROOT / "samples").glob("*.idx"))
    + sorted((ROOT / "samples" / "mistakes").glob("*.idx"))
    + sorted((ROOT / "samples" / "course").glob("*.idx"))
)
VERIFIED = {"ridge.idx", "rnn.idx", "softmax.idx"}
SEEDS = ("0", "1", "42", str(random.randrange(43, 2**32 - 1)))

EXTRA = {
    # The reproducer: Σ_p vs Σ_q depended on the seed.
    "ridge.idx": (
        "dim n, d\n"
        "input X[n, d], y[n]\n"
        "param w[d]\n"
        "input lam\n"
        "L = (X[i, j] w[j] - y[i])^2 + lam * w[j]^2\n"
        "derive dL/dw, dL/dX\n"
    ),
    "softmax.idx": (
        "dim n, c\n"
        "input X[n, c], Y[n, c]\n"
        "param b[c]\n"
        "Z[i, k] = X[i, k] + b[k]\n"
        "E[i, k] = exp(Z[i, k])\n"
        "S[i] = E[i, m]\n"
        "P[i, k] = E[i, k] / S[i]\n"
        "L = -Y[i, k] log(P[i, k])\n"
        "derive dL/db, dL/dZ\n"
    ),
    "rnn.idx": (
        "dim h = 4, d = 3\n"
        "param W[d, h], U[h, h], b[h]\n"
        "input s0[h]\n"
        "for t in 1..6:\n"
        "    input x{t}[d]\n"
        "    s{t}[i] = tanh(x{t}[j] W[j, i] + s{t-1}[k] U[k, i] + b[i])\n"
        "L = s6[i] s6[i]\n"
        "derive dL/dU, dL/dW\n"
    ),
    "product.idx": (
        "dim k = 2\nparam a[k]\nL = " + " ".join(f"a[i{n}]" for n in range(40)) + "\nderive dL/da\n"
    ),
}


# Runs every case through the CLI (typer's runner) in one process per seed:
# a process per case would spend minutes starting Python.
_RUNNER = """
import json, sys
from typer.testing import CliRunner
from shapecheck.cli import app
runner = CliRunner()
for args in json.loads(sys.argv[1]):
    result = runner.invoke(app, args)
    print("=" * 20, args, result.exit_code)
    print(result.output)
"""


def _run_all(cases: list[list[str]], seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "120", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", _RUNNER, json.dumps(cases)]
    done = subprocess.run(command, capture_output=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().split("=" * 20)[1:]


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("determinism")
    extra = []
    for name, text in EXTRA.items():
        (folder / name).write_text(text)
        extra.append(folder / name)
    return [*SAMPLES, *extra]


def test_output_does_not_depend_on_the_hash_seed(programs: list[Path]) -> None:
    cases = [
        ["derive", str(path), "--format", fmt, "--no-verify"]
        for path in programs
        for fmt in ("json", "text")
    ]
    # Verification too, for a few: its report names indices and terms as well.
    cases += [["derive", str(p), "--format", "json"] for p in programs if p.name in VERIFIED]
    with ThreadPoolExecutor(max_workers=len(SEEDS)) as pool:
        runs = list(pool.map(lambda seed: _run_all(cases, seed), SEEDS))
    assert all(len(run) == len(cases) for run in runs)
    differing = [
        " ".join(case[1:]) for k, case in enumerate(cases) if len({run[k] for run in runs}) > 1
    ]
    assert differing == [], f"output depends on PYTHONHASHSEED ({SEEDS}): {differing}"
