"""Build-time step of the syntax stage: `grammar/idx.lark` -> the parse tables in `_tables.py`.

The parser (`lalr.py`) reads its LALR tables from `_tables.py`, plain Python
literals committed with the code, so no run ever builds tables (~0.15 s) or
loads a cache a user could plant (a pickled cache runs code when loaded).
Lark is used here only, to compute the tables; a run never imports it.

    python -m shapecheck.syntax.tables --write   # after editing the grammar
    python -m shapecheck.syntax.tables --check   # exit 1 if _tables.py is stale

`tests/syntax/test_tables.py` regenerates the tables and compares them with
the committed module, so the grammar and the tables cannot drift apart.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shapecheck.syntax.grammar import grammar_text

TABLES_MODULE = Path(__file__).with_name("_tables.py")

# One rule as `_tables.py` stores it: the nonterminal it makes, how many
# symbols it pops, the builder method it calls ("" for Lark's helper rules
# `__x_star_0`, whose children are spliced into their parent), whether a lone
# child stands for the rule (`?rule`), and which children to splice.
RuleRow = tuple[str, int, str, bool, tuple[int, ...]]


def generate(grammar: str | None = None) -> str:
    """The text of `_tables.py` for `grammar` (by default the shipped one)."""
    grammar = grammar_text() if grammar is None else grammar
    # Imported here so that only building the tables needs Lark.
    from lark import Lark

    lark = Lark(grammar, parser="lalr", lexer="basic", maybe_placeholders=False)
    parse_table = lark.parser.parser.parser.parse_table
    rules = _rule_rows(lark.rules)
    rule_index = {id(rule): k for k, rule in enumerate(lark.rules)}
    order = _canonical_states(parse_table.states, parse_table.start_states["start"])
    actions: list[dict[str, int]] = []
    gotos: list[dict[str, int]] = []
    for state in order:
        shifts: dict[str, int] = {}
        jumps: dict[str, int] = {}
        for symbol, (action, target) in sorted(parse_table.states[state].items()):
            if action.name == "Shift":
                (shifts if symbol.isupper() else jumps)[str(symbol)] = order[target]
            else:
                # A reduce is stored as the complement of the rule's number.
                shifts[str(symbol)] = ~rule_index[id(target)]
        actions.append(shifts)
        gotos.append(jumps)
    return _render(
        grammar,
        _token_pattern(lark.terminals),
        tuple(sorted(str(name) for name in lark.ignore_tokens)),
        order[parse_table.end_states["start"]],
        rules,
        actions,
        gotos,
    )


def _rule_rows(rules: list[Any]) -> list[RuleRow]:
    rows = []
    for rule in rules:
        _refuse_unsupported(rule)
        helper = rule.origin.name.startswith("_")
        splice = tuple(
            k
            for k, symbol in enumerate(rule.expansion)
            if not symbol.is_term and symbol.name.startswith("_")
        )
        callback = "" if helper else str(rule.alias or rule.origin.name)
        expand1 = bool(rule.options.expand1 and not rule.alias)
        rows.append((str(rule.origin.name), len(rule.expansion), callback, expand1, splice))
    return rows


def _refuse_unsupported(rule: Any) -> None:
    """Stop at any Lark feature whose tree shaping `lalr.py` does not reproduce."""
    options = rule.options
    if options.keep_all_tokens or options.template_source or options.empty_indices:
        raise ValueError(f"rule {rule} uses a Lark feature the parser does not implement")
    if any(symbol.is_term and symbol.filter_out for symbol in rule.expansion):
        raise ValueError(f"rule {rule} has an anonymous terminal; name every terminal")
    if rule.origin.name.startswith("_") and (rule.alias or options.expand1):
        raise ValueError(f"helper rule {rule} cannot be inlined or aliased")


def _canonical_states(states: dict[Any, dict[str, Any]], start: Any) -> dict[Any, int]:
    """Number the states breadth-first from the start, symbols in sorted order.

    Lark's own numbering may follow set order; this one depends only on the
    automaton, so regenerating the tables always gives the same text.
    """
    order = {start: 0}
    queue = [start]
    for state in queue:
        for _, (action, target) in sorted(states[state].items()):
            if action.name == "Shift" and target not in order:
                order[target] = len(order)
                queue.append(target)
    if len(order) != len(states):
        raise ValueError("some parser states cannot be reached from the start")
    return order


def _token_pattern(terminals: Iterable[Any]) -> str:
    """One regular expression with a named group per terminal, in Lark's order of precedence.

    Lark's basic lexer tries terminals by priority, then longest possible
    match, then longest pattern; a regex alternation takes the first that
    matches, so the groups go in that order.
    """
    ordered = sorted(
        terminals,
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )
    return "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in ordered)


def _render(
    grammar: str,
    pattern: str,
    ignore: tuple[str, ...],
    end_state: int,
    rules: list[RuleRow],
    actions: list[dict[str, int]],
    gotos: list[dict[str, int]],
) -> str:
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()
    lines = [
        '"""LALR tables of `grammar/idx.lark`, made by `shapecheck.syntax.tables`; do not edit.',
        "",
        "Regenerate with `python -m shapecheck.syntax.tables --write`. Actions map a",
        "terminal to the next state, or to `~rule` (a negative number) to reduce by",
        "`RULES[rule]`; gotos map a nonterminal to the next state.",
        '"""',
        "",
        "# ruff: noqa: E501",
        "# fmt: off",
        f"GRAMMAR_SHA256 = {digest!r}",
        f"TOKEN_PATTERN = {pattern!r}",
        f"IGNORE = {ignore!r}",
        "START_STATE = 0",
        f"END_STATE = {end_state!r}",
        "RULES: tuple[tuple[str, int, str, bool, tuple[int, ...]], ...] = (",
        *(f"    {row!r}," for row in rules),
        ")",
        "ACTIONS: tuple[dict[str, int], ...] = (",
        *(f"    {row!r}," for row in actions),
        ")",
        "GOTOS: tuple[dict[str, int], ...] = (",
        *(f"    {row!r}," for row in gotos),
        ")",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = generate()
    if argv == ["--write"]:
        TABLES_MODULE.write_text(text, encoding="utf-8")
        return 0
    if argv == ["--check"]:
        current = TABLES_MODULE.read_text(encoding="utf-8") if TABLES_MODULE.exists() else ""
        if current != text:
            print(f"{TABLES_MODULE} is stale: run python -m shapecheck.syntax.tables --write")
            return 1
        return 0
    print("usage: python -m shapecheck.syntax.tables --write | --check")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
