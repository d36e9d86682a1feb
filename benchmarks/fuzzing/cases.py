"""The fuzz inputs: one `Case` per run index, a pure function of (seed, index).

Each case is drawn from its own generator seeded by the string
"seed:index", so the same `--seed` gives the same inputs whatever `--jobs`
is and in whatever order the workers finish.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
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
    verify: bool = True  # False: as with --no-verify (no numeric checks)


def load_corpus(folder: Path = SAMPLES) -> list[bytes]:
    files = sorted(folder.glob("*.idx")) + sorted(folder.glob("mistakes/*.idx"))
    files += sorted(folder.glob("course/*.idx"))  # the second edition as a course writes it
    if not files:
        raise FileNotFoundError(f"no samples under {folder}")
    return [f.read_bytes() for f in files]


def _long_product(rng: random.Random) -> bytes:
    """A product over many distinct indices: past numpy's 52 einsum letters."""
    count = rng.choice((30, 53, 60, 100))
    product = " ".join(f"a[i{n}]" for n in range(count))
    return f"dim k = 2\nparam a[k]\nL = {product}\nderive dL/da\n".encode()


def _with_options(case: Case, rng: random.Random) -> Case:
    """Command-line variations, drawn apart so that the inputs of a seed stay the same."""
    if not case.valid and rng.random() < 0.03:
        case = replace(case, data=_long_product(rng), recipe=case.recipe + "+long-product")
    return replace(case, verify=case.valid or rng.random() < 0.75)


def make_case(seed: int, index: int, corpus: list[bytes]) -> Case:
    case = _make_input(seed, index, corpus)
    return _with_options(case, random.Random(f"{seed}:{index}:options"))


def _make_input(seed: int, index: int, corpus: list[bytes]) -> Case:
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
