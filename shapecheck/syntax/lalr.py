"""The parser of the syntax stage: one logical line -> the AST node `build.AstBuilder` makes.

An LALR(1) driver over the tables `tables.py` computed from `grammar/idx.lark`
with Lark and committed as `_tables.py`: a run reads them as Python literals,
never builds them and never unpickles a cache. The tokens come from `lexer.py`;
each reduction calls the builder method named after the rule (or its `->`
alias), with Lark's tree shaping: `?rule` with one child is that child, and the
children of Lark's helper rules (`__x_star_0`, from `(...)*`) are spliced into
their parent, so the builder sees exactly the children Lark would give it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from shapecheck.syntax import _tables
from shapecheck.syntax.lexer import IGNORE, SCAN, NoTerminal, Token

# A reduction: the nonterminal it makes, how many values it pops, and what
# makes the new value from them; None for a pass-through rule, whose one
# value is the new value (see `_passes_through`).
_Reducer = tuple[str, int, Callable[[list[Any]], Any] | None]


class Rejected(Exception):
    """The grammar allows none of `expected` (terminal names) where `token` stands."""

    def __init__(self, token: Token, expected: frozenset[str]) -> None:
        super().__init__(f"unexpected {token.type} at {token.start_pos}")
        self.token = token
        self.expected = expected


# What follows the name of an opaque function where it is called: `f(`, `f'(`.
_CALLED = re.compile(r"[ \t\f\r\n]*['(]").match


class LineParser:
    """Parses one statement at a time, calling the methods of `builder` as rules reduce.

    `functions` holds the names the file declares with `fn` (spec 9.5): such a
    NAME directly before `(` or a prime is the token FN_NAME, a call, as a
    C parser knows a typedef name; any other NAME before `(` is juxtaposition.
    """

    def __init__(self, builder: object) -> None:
        self._reducers = tuple(_reducer(row, builder) for row in _tables.RULES)
        self.functions: frozenset[str] = frozenset()

    def parse(self, text: str) -> Any:
        """The builder's value for the statement `text`; raises `Rejected` or `NoTerminal`."""
        # The lexer is inlined: this loop runs for every token of every file,
        # and a generator per line costs more than the table lookups.
        actions, gotos, reducers = _tables.ACTIONS, _tables.GOTOS, self._reducers
        scan, ignore, end_state = SCAN, IGNORE, _tables.END_STATE
        functions = self.functions
        state = _tables.START_STATE
        states = [state]
        values: list[Any] = []
        position, length = 0, len(text)
        while True:
            if position < length:
                found = scan(text, position)
                if found is None:
                    raise NoTerminal(position)
                kind = found.lastgroup or ""
                if kind in ignore:
                    position = found.end()
                    continue
                if functions and kind == "NAME":
                    kind = _name_kind(text, found, functions)
                token = _new_token(Token, (kind, found.group(), position, found.end()))
                position = token.end_pos
            else:
                kind = "$END"
                token = Token(kind, "", length, length)
            action = actions[state].get(kind)
            while action is not None and action < 0:
                origin, size, build = reducers[~action]
                if build is None:
                    # A chain step (`?expr: term` with one child): the value stays, and
                    # only the state on top changes.
                    state = gotos[states[-2]][origin]
                    if state == end_state:
                        return values[-1]
                    states[-1] = state
                    action = actions[state].get(kind)
                    continue
                # Every rule pops at least one symbol: the grammar has no empty rules.
                value = build(values[-size:])
                del values[-size:]
                del states[-size:]
                state = gotos[states[-1]][origin]
                if state == end_state:
                    return value
                states.append(state)
                values.append(value)
                action = actions[state].get(kind)
            if action is None:
                raise Rejected(token, frozenset(actions[state]))
            state = action
            states.append(state)
            values.append(token)


def _name_kind(text: str, found: re.Match[str], functions: frozenset[str]) -> str:
    """FN_NAME for a function the file declares, called here; else NAME."""
    called = found.group() in functions and _CALLED(text, found.end())
    return "FN_NAME" if called else "NAME"


# `Token(...)` runs a Python-level `__new__`; this builds the same tuple in C.
_new_token = tuple.__new__


def _reducer(row: tuple[str, int, str, bool, tuple[int, ...]], builder: object) -> _Reducer:
    origin, size, name, expand1, splice = row
    if size == 0:
        raise ValueError(f"rule {origin} is empty; the parser assumes no empty rules")
    if _passes_through(row, builder):
        return origin, size, None
    build: Callable[[list[Any]], Any]
    if not name:
        # A helper rule's value is its children, spliced into its parent later.
        # Helpers recurse on the left: extend the first child's list in place.
        return origin, size, _extend_first if splice == (0,) else list
    if hasattr(builder, name):
        build = getattr(builder, name)
    elif expand1 and size == 1:
        build = _only_child  # `?rule: other`, always one child
    else:
        raise ValueError(f"the builder has no method for rule {name}")
    # Lark's order: splice first, then `?rule` keeps a lone child.
    if expand1:
        build = _expand_single(build)
    if splice:
        build = _spliced(build, frozenset(splice))
    return origin, size, build


def _passes_through(row: tuple[str, int, str, bool, tuple[int, ...]], builder: object) -> bool:
    """Whether the rule's value is its one child as it is, so that no call is needed:
    a `?rule` with one child (Lark's tree shaping), or a rule of one child the
    builder names in `pass_through_when_single`. A spliced child is a helper's
    list, never passed through."""
    _, size, name, expand1, splice = row
    if size != 1 or splice or not name:
        return False
    return expand1 or name in getattr(type(builder), "pass_through_when_single", frozenset())


def _extend_first(children: list[Any]) -> list[Any]:
    first: list[Any] = children[0]
    first.extend(children[1:])
    return first


def _only_child(children: list[Any]) -> Any:
    return children[0]


def _expand_single(build: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    def expand(children: list[Any]) -> Any:
        return children[0] if len(children) == 1 else build(children)

    return expand


def _spliced(
    build: Callable[[list[Any]], Any], splice: frozenset[int]
) -> Callable[[list[Any]], Any]:
    # From the right, so that the positions to its left stay where they were.
    positions = sorted(splice, reverse=True)

    def splice_children(children: list[Any]) -> Any:
        # `children` is the driver's fresh slice of its values: spliced in place.
        for k in positions:
            children[k : k + 1] = children[k]
        return build(children)

    return splice_children
