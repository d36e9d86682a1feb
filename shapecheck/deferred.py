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
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_Class = TypeVar("_Class", bound=type)

# The options each class not built yet was declared with.
_PENDING: dict[type, dict[str, Any]] = {}
_LOCK = threading.RLock()
# `dataclasses.dataclass` itself, called with options known only at run time.
_build_now: Callable[..., Any] = dataclasses.dataclass


_HOOKS = ("__init__", "__setstate__", "__init_subclass__")


def dataclass(cls: _Class | None = None, /, **options: Any) -> Any:
    """`dataclasses.dataclass` with the same options, applied on first use."""
    if options.get("slots"):
        # A slotted dataclass is a new class object: it cannot be built later.
        return _build_now(cls, **options)

    def defer(cls: _Class) -> _Class:
        if any(hook in cls.__dict__ for hook in _HOOKS):
            # Its own `__init__` (or hook) would be lost under ours.
            built: _Class = _build_now(cls, **options)
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
                _build_now(klass, **options)


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
