"""Dataclasses whose generated methods are built when the class is first used.

Sits below every stage, beside `exhaustive.py`: the modules a `check` run
imports (`syntax/ast.py`, `check/`, `run/`) take `dataclass` from here at run
time and from `dataclasses` under type checking, so mypy sees ordinary
dataclasses and the classes behave as ordinary dataclasses.

Why: Python 3.11 compiles the generated `__init__`, `__repr__`, `__eq__`,
`__hash__`, `__setattr__` and `__delattr__` of every dataclass with `exec` at
import, about a millisecond a class; the syntax tree alone has more than fifty
node classes, and a small file builds a dozen of them. So the decorator only
records its options, and `dataclasses.dataclass` runs on the class the first
time one is made (`__init__`, or `__setstate__` when a worker process's
result is unpickled), or when the class is subclassed, or asked for its fields
(`build_all`). A class built this way is the very class `dataclasses` would
have built: same methods, same fields, same identity.

And of the methods it generates, only `__init__` is compiled when the class is
built: a small `check` calls `__init__` on every class it builds and hardly
anything else (one `__hash__` of the 226 methods its 41 classes had), so
`__repr__`, `__eq__`, `__hash__`, the comparisons and the frozen
`__setattr__`/`__delattr__` are stand-ins that compile the method
`dataclasses` generates on their first call and put it in their place (on
Python 3.10 to 3.12, whose `dataclasses._create_fn` makes one method at a
time; Python 3.13 compiles a class's methods together and is left alone).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

_Class = TypeVar("_Class", bound=type)

# The options each class not built yet was declared with.
_PENDING: dict[type, dict[str, Any]] = {}
_LOCK = threading.RLock()
# `dataclasses.dataclass` itself, called with options known only at run time.
_dataclass: Callable[..., Any] = dataclasses.dataclass
# What compiles each generated method (Python 3.10 to 3.12), else None.
_create_fn: Callable[..., Any] | None = getattr(dataclasses, "_create_fn", None)


_HOOKS = ("__init__", "__setstate__", "__init_subclass__")


def dataclass(cls: _Class | None = None, /, **options: Any) -> Any:
    """`dataclasses.dataclass` with the same options, applied on first use."""
    if options.get("slots"):
        # A slotted dataclass is a new class object: it cannot be built later.
        return _build_now(cls, options)

    def defer(cls: _Class) -> _Class:
        if any(hook in cls.__dict__ for hook in _HOOKS):
            # Its own `__init__` (or hook) would be lost under ours.
            built: _Class = _build_now(cls, options)
            return built
        _PENDING[cls] = options
        # Hooks on `__init__`, not `__new__`: a `__new__` set on a class
        # leaves CPython calling it through a slower slot even once deleted.
        type.__setattr__(cls, "__init__", _build_then_init)
        type.__setattr__(cls, "__setstate__", _build_then_setstate)
        type.__setattr__(cls, "__init_subclass__", classmethod(_build_before_subclass))
        return cls

    return defer if cls is None else defer(cls)


def build(cls: type) -> None:
    """Run `dataclasses.dataclass` on `cls` and its bases if they wait for it."""
    with _LOCK:
        for klass in reversed(cls.__mro__):
            options = _PENDING.pop(klass, None)
            if options is not None:
                # The hooks go first: `dataclasses` adds no `__init__` to a
                # class that has one.
                for hook in _HOOKS:
                    type.__delattr__(klass, hook)
                _build_now(klass, options)


def _build_now(cls: Any, options: dict[str, Any]) -> Any:
    with _LOCK, _methods_compiled_on_first_call():
        return _dataclass(cls, **options)


@contextmanager
def _methods_compiled_on_first_call() -> Iterator[None]:
    # Under `_LOCK`, so builds do not interleave; a plain dataclass another
    # thread builds meanwhile gets stand-ins too, which behave the same.
    create = _create_fn
    if create is None:
        yield
        return

    def create_on_first_call(name: str, *args: Any, **how: Any) -> Any:
        if name == "__init__":  # every instance needs it at once
            return create(name, *args, **how)
        return _on_first_call(name, lambda: create(name, *args, **how))

    dataclasses._create_fn = create_on_first_call  # type: ignore[attr-defined]
    try:
        yield
    finally:
        dataclasses._create_fn = create  # type: ignore[attr-defined]


def _on_first_call(name: str, compile_method: Callable[[], Any]) -> Any:
    """A stand-in for a generated method: compiles it when first called."""
    compiled: Any = None

    def stand_in(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        nonlocal compiled
        if compiled is None:
            compiled = compile_method()
            # The name `dataclasses` gave the stand-in, if it gave one.
            compiled.__qualname__ = stand_in.__qualname__
            # In its place on the class from now on; `__repr__` stays wrapped
            # by dataclasses' guard against recursion and keeps calling us.
            for klass in type(self).__mro__:
                if vars(klass).get(stand_in.__name__) is stand_in:
                    type.__setattr__(klass, stand_in.__name__, compiled)
        return compiled(self, *args, **kwargs)

    stand_in.__name__ = name
    stand_in.__qualname__ = f"__create_fn__.<locals>.{name}"  # as compiled
    return stand_in


def build_all() -> None:
    """Build every class still waiting (for code that inspects classes, not instances)."""
    with _LOCK:
        for klass in list(_PENDING):
            build(klass)


def _build_then_init(self: object, /, *args: Any, **kwargs: Any) -> None:
    build(type(self))
    type(self).__init__(self, *args, **kwargs)


def _build_then_setstate(self: object, state: Any, /) -> None:
    # Unpickling (a report from a worker process) makes instances without
    # `__init__`; pickle's own default follows, once the class is built.
    build(type(self))
    if isinstance(state, tuple) and len(state) == 2:
        state, slot_state = state
    else:
        slot_state = None
    if state:
        self.__dict__.update(state)
    for name, value in (slot_state or {}).items():
        object.__setattr__(self, name, value)


def _build_before_subclass(cls: Any, /, **kwargs: Any) -> None:
    # `cls` is the new subclass: its dataclass bases must have their fields
    # before a `@dataclass` on the subclass reads them.
    build(cls)
    # No hook is left above `cls` now: carry on with the ordinary chain.
    super(cls, cls).__init_subclass__(**kwargs)
