"""A deferred dataclass is the very class `dataclasses` builds, built on first use."""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys

import pytest
from support import ROOT

from shapecheck import deferred
from shapecheck.syntax import ast


def _pair_class() -> type:
    @deferred.dataclass(frozen=True)
    class Pair:
        left: int
        right: tuple[int, ...] = ()

    return Pair


def test_a_class_is_built_when_its_first_instance_is_made() -> None:
    pair = _pair_class()
    assert pair in deferred._PENDING
    made = pair(1, (2,))
    assert pair not in deferred._PENDING
    assert made == pair(1, (2,))
    assert hash(made) == hash(pair(1, (2,)))
    assert made != pair(1)
    assert repr(made) == "_pair_class.<locals>.Pair(left=1, right=(2,))"
    assert pair.__match_args__ == ("left", "right")
    assert [f.name for f in dataclasses.fields(made)] == ["left", "right"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.left = 3  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        pair()


def test_the_built_methods_are_the_ones_dataclasses_generates() -> None:
    pair = _pair_class()
    pair(0)
    names = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
    assert all(name in vars(pair) for name in names)
    assert "__setstate__" not in vars(pair)
    assert "__init_subclass__" not in vars(pair)


@pytest.mark.skipif(deferred._create_fn is None, reason="Python 3.13 has no `_create_fn`")
def test_generated_methods_are_compiled_on_first_call_as_dataclasses_makes_them() -> None:
    # Only `__init__` is compiled when the class is built; every other method
    # is compiled on its first call and then stands on the class itself.
    @deferred.dataclass(frozen=True, order=True)
    class Lazy:
        left: int
        right: tuple[int, ...] = ()

    @dataclasses.dataclass(frozen=True, order=True)
    class Plain:
        left: int
        right: tuple[int, ...] = ()

    made = Lazy(1)
    names = ("__eq__", "__hash__", "__lt__", "__ge__", "__setattr__", "__delattr__")
    stand_ins = {name: vars(Lazy)[name] for name in names}
    assert made == Lazy(1) and hash(made) == hash(Lazy(1, ()))
    assert made < Lazy(2) and Lazy(1, (2,)) >= made
    assert repr(made).endswith("Lazy(left=1, right=())")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.left = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del made.left  # type: ignore[misc]
    for name in names:
        compiled, plain = vars(Lazy)[name], vars(Plain)[name]
        assert compiled is not stand_ins[name]
        assert compiled.__qualname__ == f"{Lazy.__qualname__}.{name}"
        assert compiled.__code__.co_code == plain.__code__.co_code
        assert compiled.__code__.co_consts == plain.__code__.co_consts
    assert dataclasses._create_fn is deferred._create_fn  # type: ignore[attr-defined]  # restored


def test_a_subclass_finds_its_bases_fields() -> None:
    base = _pair_class()

    @dataclasses.dataclass(frozen=True)
    class Triple(base):  # type: ignore[valid-type,misc]
        third: int = 0

    assert base not in deferred._PENDING
    assert Triple(1, (2,), 3).third == 3
    assert [f.name for f in dataclasses.fields(Triple)] == ["left", "right", "third"]


def test_a_class_with_its_own_init_is_built_at_once() -> None:
    @deferred.dataclass(frozen=True)
    class Named:
        name: str

        def __init__(self, text: str) -> None:
            object.__setattr__(self, "name", text.upper())

    assert Named not in deferred._PENDING
    assert Named("a").name == "A"


def test_build_all_leaves_nothing_waiting() -> None:
    _pair_class()
    deferred.build_all()
    assert not deferred._PENDING


def test_syntax_nodes_round_trip_through_pickle() -> None:
    node = ast.FnName("f", None)  # type: ignore[arg-type]
    again = pickle.loads(pickle.dumps(node))
    assert again == node
    assert hash(again) == hash(node)


# A fresh interpreter unpickles a node whose class it has never built, as the
# parent of worker processes does with their reports.
_UNPICKLE = """
import pickle, sys
from shapecheck import deferred
from shapecheck.syntax import ast
assert ast.FnName in deferred._PENDING
node = pickle.loads(bytes.fromhex(sys.argv[1]))
assert ast.FnName not in deferred._PENDING
assert node == ast.FnName("f", None) and hash(node) == hash(ast.FnName("f", None))
print(repr(node))
"""


def test_an_instance_unpickled_before_its_class_is_built_is_whole() -> None:
    payload = pickle.dumps(ast.FnName("f", None)).hex()  # type: ignore[arg-type]
    result = subprocess.run(
        [sys.executable, "-c", _UNPICKLE, payload],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FnName(name='f', span=None)"
