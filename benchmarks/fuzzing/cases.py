"""The fuzz inputs: one `Case` per run index, a pure function of (seed, index).

Each case is drawn from its own generator seeded by the string
"seed:index", so the same `--seed` gives the same inputs whatever `--jobs`
is and in whatever order the workers finish.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fuzzing.grammar import generate
from benchmarks.fuzzing.mutate import mutate_bytes, mutate_tokens

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@dataclass(frozen=True)
class Case:
    index: int
    origin: str  # "bytes", "grammar" or "tokens"
    recipe: str  # the mutations applied, for the saved report
    data: bytes
    command: str  # "check" or "derive": `derive` renders more (numpy code, adjoints)
    valid: bool  # correct by construction: errors in it are the tool's


def load_corpus(folder: Path = SAMPLES) -> list[bytes]:
    files = sorted(folder.glob("*.idx")) + sorted(folder.glob("mistakes/*.idx"))
    if not files:
        raise FileNotFoundError(f"no samples under {folder}")
    return [f.read_bytes() for f in files]


def make_case(seed: int, index: int, corpus: list[bytes]) -> Case:
    rng = random.Random(f"{seed}:{index}")
    command = rng.choice(("check", "derive"))
    roll = rng.random()
    if roll < 0.4:
        data, recipe = mutate_bytes(rng, rng.choice(corpus), corpus)
        return Case(index, "bytes", recipe, data, command, valid=False)
    text = generate(rng)
    if roll < 0.7:
        return Case(index, "grammar", "valid", text.encode(), command, valid=True)
    mutated, recipe = mutate_tokens(rng, text)
    return Case(index, "tokens", recipe, mutated.encode(), command, valid=False)
