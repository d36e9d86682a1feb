"""Foreign notation for the syntax stage: numpy, LaTeX and matrix notation -> the `.idx` way.

`errors.py` asks `foreign_notation` about every rejected line before wording
a plain syntax error, and `parse.py` asks `unknown_call` about every parsed
definition (`transpose(W)` parses as a product of two arrays): where the
line holds something a student brings from numpy (`X @ W`, `W.T`,
`np.exp(x)`, `a[:, 1:h]`), from LaTeX (`\\sum_j`, `\\frac`) or from paper
(`W'`, `Wᵀ`, `sum(Y)`, `maximum(a, b)`), the error shows how `.idx` writes
it, with the file's own names and ranks (`FileNames`) where it can (spec
9.7). No message here ever tells the user to declare an array: the thing
is missing from the language, not from the file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ELEMENTWISE = ["exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "sqrt", "abs", "sign"]
# What the language offers for what numpy writes as functions, in words.
_FUNCTIONS_IN_WORDS = (
    "the element-wise functions exp log tanh sigmoid relu sin cos sqrt abs step sign, "
    "`max(a, b)`, `min(a, b)`, comparisons `(a > b)`, and the reductions `sum[j](...)`, "
    "`mean[j]`, `max[j]`, `min[j]`, `logsumexp[j]`, `norm[j]` and `softmax[j]`"
)
# The derivative of each built-in function, as `.idx` writes it (spec 9.5:
# `relu'(x)` is an error that shows `step(x)`).
_DERIVATIVES = {
    "exp": "exp(x)",
    "log": "1 / x",
    "tanh": "1 - tanh(x)^2",
    "sigmoid": "sigmoid(x) (1 - sigmoid(x))",
    "relu": "step(x)",
    "sin": "cos(x)",
    "cos": "-sin(x)",
    "sqrt": "1 / (2 sqrt(x))",
    "abs": "sign(x)",
    "step": "0",
    "sign": "0",
}
# Index letters for suggestions, in the order a textbook takes them.
_LETTERS = ["i", "j", "k", "l", "m", "p", "q", "r", "s", "u", "v", "w"]


@dataclass(frozen=True)
class FileNames:
    """What the file's parsed statements tell about its names, to word errors with them."""

    # Declared or defined arrays and their ranks.
    ranks: Mapping[str, int] = field(default_factory=dict)
    # The index names each array is first written with (a definition's left
    # side, or its first use), so a suggestion reads like the rest of the file.
    written: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Every name the file gives a meaning (arrays, dims, loop variables, what
    # broken lines seem to define), and patterns of `x{t}` template names.
    known: frozenset[str] = frozenset()
    templates: tuple[re.Pattern[str], ...] = ()
    # The opaque functions the file declares with `fn` (spec 9.5).
    functions: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, statements: Iterable[ast.LineStatement | ast.ForHeader], unparsed: Iterable[str]
    ) -> FileNames:
        ranks: dict[str, int] = {}
        written: dict[str, tuple[str, ...]] = {}
        known = set(unparsed)
        functions: set[str] = set()
        for statement in statements:
            known.update(_names_given(statement, ranks, written))
            if isinstance(statement, ast.FnStmt):
                functions.update(name.name for name in statement.names)
            if isinstance(statement, ast.Definition | ast.Claim):
                _note_uses(statement.rhs, written)
        templates = tuple(
            re.compile(re.sub(r"\\\{[^{}]*\\\}", r"-?[0-9]+", re.escape(name)))
            for name in known
            if "{" in name
        )
        return cls(ranks, written, frozenset(known), templates, frozenset(functions))

    def is_known(self, name: str) -> bool:
        return name in self.known or any(t.fullmatch(name) for t in self.templates)

    def rank(self, name: str) -> int | None:
        return self.ranks.get(name)


def _names_given(
    statement: ast.LineStatement | ast.ForHeader,
    ranks: dict[str, int],
    written: dict[str, tuple[str, ...]],
) -> list[str]:
    match statement:
        case ast.DimStmt():
            return [entry.name for entry in statement.entries]
        case ast.DeclStmt():
            for entry in statement.entries:
                ranks[entry.name] = len(entry.shape)
            return [entry.name for entry in statement.entries]
        case ast.Definition():
            ranks[statement.name] = len(statement.indices)
            names = _index_names(statement.indices)
            if names is not None:
                written.setdefault(statement.name, names)
            return [statement.name]
        case ast.ForHeader():
            return [statement.var]
        case ast.FnStmt():
            return [name.name for name in statement.names]
        case ast.Claim() | ast.DeriveStmt() | ast.LayoutStmt():
            return []


def _note_uses(expr: ast.Expr, written: dict[str, tuple[str, ...]]) -> None:
    for node in ast.walk(expr):
        if isinstance(node, ast.ArrayRef) and node.indices:
            names = _index_names(node.indices)
            if names is not None:
                written.setdefault(node.name, names)


def _index_names(indices: tuple[ast.Index, ...]) -> tuple[str, ...] | None:
    names = tuple(i.name for i in indices if isinstance(i, ast.IndexName))
    return names if len(names) == len(indices) else None


# ---- index letters and the `.idx` forms of products, transposes, reductions


def fresh_letters(count: int, avoid: Iterable[str]) -> list[str]:
    """`count` index names, the textbook's first, none of them in `avoid`."""
    taken = set(avoid)
    pool = _LETTERS + [f"i{k}" for k in range(1, 100)]
    return [letter for letter in pool if letter not in taken][:count]


def matrix_product(
    operands: Sequence[tuple[str, int]], lhs: Sequence[str] = (), avoid: Iterable[str] = ()
) -> str | None:
    """`X[i, j] W[j, k]`: numpy's `X @ W` for arrays of the given ranks (`None` if a
    scalar or an array of rank above 2 takes part).

    The last index of the left contracts with the first of the right, as
    `@` does for vectors and matrices; the result's free indices take the
    left-hand side's names when there are as many.
    """
    if not operands or any(rank not in (1, 2) for _, rank in operands):
        return None
    counter = iter(range(1_000))
    placed: list[list[int]] = [[next(counter) for _ in range(operands[0][1])]]
    free = list(placed[0])
    for _, rank in operands[1:]:
        if not free:
            return None
        shared = free.pop()
        indices = [shared] + [next(counter) for _ in range(rank - 1)]
        placed.append(indices)
        free.extend(indices[1:])
    names = _name_placeholders(placed, free, list(lhs), set(avoid))
    return " ".join(
        f"{name}[{', '.join(names[p] for p in indices)}]"
        for (name, _), indices in zip(operands, placed, strict=True)
    )


def _name_placeholders(
    placed: list[list[int]], free: list[int], lhs: list[str], avoid: set[str]
) -> dict[int, str]:
    names: dict[int, str] = {}
    if len(lhs) == len(free):
        names.update(zip(free, lhs, strict=True))
    order = [p for indices in placed for p in indices if p not in names]
    unique = list(dict.fromkeys(order))
    letters = fresh_letters(len(unique), avoid | set(lhs) | set(names.values()))
    names.update(zip(unique, letters, strict=True))
    return names


def array_indices(name: str, rank: int, names: FileNames, avoid: Iterable[str] = ()) -> list[str]:
    """The index names to show `name` with: as the file writes it, else fresh letters."""
    written = names.written.get(name)
    if written is not None and len(written) == rank:
        return list(written)
    return fresh_letters(rank, set(avoid) | names.known)


def indexed(name: str, names: FileNames, fallback_rank: int = 1) -> str:
    """`x[i]`: an array with its indices, for a suggestion."""
    rank = names.rank(name)
    rank = fallback_rank if rank is None else rank
    indices = array_indices(name, rank, names)
    return f"{name}[{', '.join(indices)}]" if indices else name


def reduction(word: str, argument: str, names: FileNames, axis: int | None = None) -> str:
    """`sum[i, k](Y[i, k])`: a reduction of `argument` over all its indices, or one axis."""
    argument = argument.strip()
    if _IDENTIFIER.fullmatch(argument) and names.rank(argument) != 0:
        rank = names.rank(argument) or 1
        indices = array_indices(argument, rank, names)
        over = indices if axis is None or not 0 <= axis < rank else [indices[axis]]
        return f"{word}[{', '.join(over)}]({argument}[{', '.join(indices)}])"
    written = _written_indices(argument, names)
    over = written or fresh_letters(1, names.known)
    return f"{word}[{', '.join(over)}]({argument or '...'})"


def _written_indices(text: str, names: FileNames) -> list[str]:
    """The index names written inside brackets in `text`, in order, without repeats."""
    found: list[str] = []
    for inside in re.findall(r"\[([^\[\]]*)\]", text):
        for item in inside.split(","):
            item = item.strip()
            if _IDENTIFIER.fullmatch(item) and item not in found and not names.is_known(item):
                found.append(item)
    return found


def transposed(name: str, names: FileNames) -> tuple[str, str] | None:
    """(`W[j, k]`, `W[k, j]`): a matrix as the file writes it, and its transpose."""
    if names.rank(name) not in (None, 2):
        return None
    first, second = array_indices(name, 2, names)
    return f"{name}[{first}, {second}]", f"{name}[{second}, {first}]"


# ---- what numpy functions are in `.idx`


def _argument(text: str, names: FileNames) -> str:
    text = text.strip()
    if text.endswith(".T") and _IDENTIFIER.fullmatch(text[:-2]):
        pair = transposed(text[:-2], names)
        if pair is not None:
            return pair[1]
    if _IDENTIFIER.fullmatch(text) and names.rank(text) is not None:
        return indexed(text, names)
    return text


def _axis(arguments: Sequence[str]) -> int | None:
    for argument in arguments[1:]:
        found = re.fullmatch(r"\s*(?:axis\s*=\s*)?(-?\d+)\s*", argument)
        if found:
            return int(found.group(1))
    return None


def _product(arguments: Sequence[str], names: FileNames) -> str | None:
    if not arguments or not all(_IDENTIFIER.fullmatch(a.strip()) for a in arguments):
        return None
    operands = [(a.strip(), names.rank(a.strip()) or 2) for a in arguments]
    return matrix_product(operands, avoid=names.known)


# A translation: the `.idx` text and why it is written so.
Translation = tuple[str, str]
_Translator = Callable[[Sequence[str], FileNames], Translation | None]


def _elementwise(function: str) -> _Translator:
    def translate(arguments: Sequence[str], names: FileNames) -> Translation | None:
        if len(arguments) != 1:
            return None
        text = f"{function}({_argument(arguments[0], names)})"
        return text, "a function applies entry by entry to an array written with its indices"

    return translate


def _two_way(word: str) -> _Translator:
    def translate(arguments: Sequence[str], names: FileNames) -> Translation | None:
        if len(arguments) != 2:
            return None
        first, second = (_argument(a, names) for a in arguments)
        return f"{word}({first}, {second})", f"`{word}(a, b)` compares entry by entry"

    return translate


def _reducing(word: str) -> _Translator:
    def translate(arguments: Sequence[str], names: FileNames) -> Translation | None:
        if not arguments:
            return None
        text = reduction(word, arguments[0], names, _axis(arguments))
        return text, f"`{word}` names the indices it runs over"

    return translate


def _multiplying(arguments: Sequence[str], names: FileNames) -> Translation | None:
    product = _product(arguments, names)
    if product is None:
        return None
    return product, "a product is written with indices; a repeated index is summed"


def _outer(arguments: Sequence[str], names: FileNames) -> Translation | None:
    if len(arguments) != 2 or not all(_IDENTIFIER.fullmatch(a.strip()) for a in arguments):
        return None
    i, j = fresh_letters(2, names.known)
    first, second = (a.strip() for a in arguments)
    return f"{first}[{i}] {second}[{j}]", "an outer product takes one index per array"


def _transposing(arguments: Sequence[str], names: FileNames) -> Translation | None:
    if len(arguments) != 1 or not _IDENTIFIER.fullmatch(arguments[0].strip()):
        return None
    pair = transposed(arguments[0].strip(), names)
    if pair is None:
        return None
    return pair[1], f"a transpose swaps the indices of `{pair[0]}`"


def _identity(arguments: Sequence[str], names: FileNames) -> Translation | None:
    i, j = fresh_letters(2, names.known)
    return f"delta[{i}, {j}]", "the identity matrix is the Kronecker delta"


def _power(arguments: Sequence[str], names: FileNames) -> Translation | None:
    if len(arguments) == 1:
        return f"{_argument(arguments[0], names)}^2", "a power is written with `^`"
    if len(arguments) == 2:
        base, exponent = arguments
        return f"{_argument(base, names)}^{exponent.strip()}", "a power is written with `^`"
    return None


def _matrix_function(word: str) -> _Translator:
    """`np.linalg.det(X)` is `det(X)`, `np.linalg.inv(X)` is `inv(X)[i, j]`
    (read at indices, as the file writes X's), `np.trace(X)` is `trace(X)`
    (docs/language.md, 12.12); a matrix written as an expression is defined
    first, as `.idx` takes only a matrix's name."""

    def translate(arguments: Sequence[str], names: FileNames) -> Translation | None:
        if not arguments:
            return None
        argument = arguments[0].strip()
        if not _IDENTIFIER.fullmatch(argument):
            return (
                f"{word}(K)" + ("[i, j]" if word == "inv" else ""),
                f"`{word}` takes the name of a matrix: define it on a line above first, "
                "`K[a, b] = …` (docs/language.md, 12.12)",
            )
        if word != "inv":
            what = "determinant" if word == "det" else "trace"
            return f"{word}({argument})", f"the {what} of the matrix named {argument}"
        first, second = array_indices(argument, 2, names)
        return (
            f"inv({argument})[{first}, {second}]",
            f"the inverse is a matrix, read at two indices (the first runs over the second "
            f"size of {argument}, the second over its first)",
        )

    return translate


def _einsum(arguments: Sequence[str], names: FileNames) -> Translation | None:
    if len(arguments) < 2:
        return None
    spec = arguments[0].strip().strip("'\"").replace(" ", "")
    inputs = spec.split("->")[0].split(",")
    operands = [a.strip() for a in arguments[1:]]
    if len(inputs) != len(operands) or not all(s.isalpha() for s in inputs):
        return None
    text = " ".join(f"{o}[{', '.join(s)}]" for o, s in zip(operands, inputs, strict=True))
    return text, "`.idx` is index notation already: an index on no left-hand side is summed"


_NUMPY: dict[str, _Translator] = {
    **{name: _elementwise(name) for name in _ELEMENTWISE},
    "absolute": _elementwise("abs"),
    "fabs": _elementwise("abs"),
    "maximum": _two_way("max"),
    "fmax": _two_way("max"),
    "minimum": _two_way("min"),
    "fmin": _two_way("min"),
    "sum": _reducing("sum"),
    "mean": _reducing("mean"),
    "max": _reducing("max"),
    "amax": _reducing("max"),
    "min": _reducing("min"),
    "amin": _reducing("min"),
    "argmax": _reducing("argmax"),
    "argmin": _reducing("argmin"),
    "logsumexp": _reducing("logsumexp"),
    "norm": _reducing("norm"),
    "softmax": _reducing("softmax"),
    "dot": _multiplying,
    "matmul": _multiplying,
    "inner": _multiplying,
    "mm": _multiplying,
    "outer": _outer,
    "transpose": _transposing,
    "eye": _identity,
    "identity": _identity,
    "square": _power,
    "power": _power,
    "pow": _power,
    "det": _matrix_function("det"),
    "inv": _matrix_function("inv"),
    "trace": _matrix_function("trace"),
    "einsum": _einsum,
}
# Names a module of numpy and its kin goes by in student code.
_MODULES = frozenset(
    {"np", "numpy", "jnp", "jax", "torch", "tf", "math", "F", "scipy", "special", "sp"}
    | {"la", "linalg", "nn"}
)
GENERIC_HINT = "write arrays with their indices (`X[i, j] W[j, k]`), " + _FUNCTIONS_IN_WORDS


def numpy_function(name: str) -> bool:
    """Whether `name` is a numpy function `.idx` has its own way to write."""
    return name in _NUMPY


def translate_call(function: str, arguments: Sequence[str], names: FileNames) -> Translation | None:
    """The `.idx` form of the numpy call `function(arguments)`, where there is one."""
    translator = _NUMPY.get(function)
    return translator(arguments, names) if translator is not None else None


def call_arguments(text: str, opening: int) -> list[str] | None:
    """The top-level arguments of the call whose `(` is at `opening` (None if unclosed)."""
    depth, start = 0, opening + 1
    arguments: list[str] = []
    quote = ""
    for position in range(opening, len(text)):
        char = text[position]
        if quote or char in "'\"":  # an einsum subscript string: its commas are its own
            quote = "" if char == quote else quote or char
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0:
                last = text[start:position]
                return [*arguments, last] if last.strip() or arguments else []
        elif char == "," and depth == 1:
            arguments.append(text[start:position])
            start = position + 1
    return None


# ---- the detectors: a rejected line, where it was rejected -> a worded error


@dataclass(frozen=True)
class Rejection:
    """A rejected line as the detectors see it."""

    text: str  # the statement
    at: int  # where the lexer or the parser stopped, in `text`
    offset: int  # where `text` starts in the file
    names: FileNames
    lhs: tuple[str, ...]  # the left-hand indices, if the line starts `Y[i, k] =`

    @classmethod
    def of(cls, text: str, at: int, offset: int, names: FileNames) -> Rejection:
        head = re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*\[([^\[\]=]*)\]\s*=", text)
        lhs = tuple(s.strip() for s in head.group(1).split(",")) if head else ()
        return cls(text, at, offset, names, lhs)

    def span(self, start: int, end: int) -> Span:
        return Span(self.offset + start, self.offset + max(end, start + 1))

    def name_before(self, position: int) -> re.Match[str] | None:
        # From a word's start only: see functions._WORD_START.
        return re.search(
            r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)(\[[^\[\]]*\])?\s*$", self.text[:position]
        )


def foreign_notation(rejection: Rejection) -> Diagnostic | None:
    """A specific error for numpy, LaTeX or matrix notation at the rejected place."""
    for detect in _DETECTORS:
        problem = detect(rejection)
        if problem is not None:
            return problem
    return None


def _matmul_operator(seen: Rejection) -> Diagnostic | None:
    if seen.text[seen.at : seen.at + 1] != "@":
        return None
    chain = _operator_chain(seen.text, seen.at)
    hint = "write the product with indices, e.g. `X[i, j] W[j, k]`; the repeated `j` is summed"
    if chain is not None:
        operands = [(name, seen.names.rank(name) or 2) for name in chain]
        product = matrix_product(operands, seen.lhs, seen.names.known)
        if product is not None:
            hint = f"write the product with indices: `{product}` (a repeated index is summed)"
    return diagnostic(
        Code.E021, seen.span(seen.at, seen.at + 1), "`@` is not an operator of `.idx`", hints=[hint]
    )


def _operator_chain(text: str, at: int) -> list[str] | None:
    before = re.search(r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)\s*$", text[:at])
    after = re.match(r"(\s*@\s*[A-Za-z_][A-Za-z0-9_]*)+", text[at:])
    if before is None or after is None:
        return None
    return [before.group(1), *_IDENTIFIER.findall(after.group(0))]


def _dot(seen: Rejection) -> Diagnostic | None:
    """`W.T`, `np.exp(x)`, `X.dot(W)`: a `.` after a name."""
    if seen.text[seen.at : seen.at + 1] != ".":
        return None
    owner = seen.name_before(seen.at)
    member = re.match(
        r"\.((?:[A-Za-z_][A-Za-z0-9_]*\.)*)([A-Za-z_][A-Za-z0-9_]*)", seen.text[seen.at :]
    )
    if owner is None or member is None:
        return None
    end = seen.at + member.end()
    if member.group(2) == "T" and not member.group(1):
        return _transpose(seen, owner, seen.at, end, "`.T`")
    if owner.group(1) in _MODULES and not owner.group(2):
        return _module_call(
            seen, owner.start(1), owner.group(1) + member.group(0), member.group(2), end, ()
        )
    subject = owner.group(0).strip()
    return _module_call(
        seen, owner.start(1), subject + member.group(0), member.group(2), end, (subject,)
    )


def _module_call(
    seen: Rejection, start: int, written: str, function: str, end: int, leading: tuple[str, ...]
) -> Diagnostic:
    arguments = call_arguments(seen.text, end) if seen.text[end : end + 1] == "(" else None
    shown = written + ("(...)" if arguments is not None else "")
    translation = translate_call(function, [*leading, *(arguments or [])], seen.names)
    hint = f"write `{translation[0]}`: {translation[1]}" if translation else GENERIC_HINT
    return diagnostic(
        Code.E022, seen.span(start, end), f"`{shown}` is numpy, not `.idx`", hints=[hint]
    )


def _transpose(
    seen: Rejection, owner: re.Match[str], start: int, end: int, written: str
) -> Diagnostic:
    name = owner.group(1)
    if owner.group(2):  # `W[j, k].T`: swap what is written
        inside = [s.strip() for s in owner.group(2)[1:-1].split(",")]
        pair = (f"{name}[{', '.join(inside)}]", f"{name}[{', '.join(reversed(inside))}]")
    else:
        found = transposed(name, seen.names)
        pair = found if found is not None else (f"{name}[j, k]", f"{name}[k, j]")
    return diagnostic(
        Code.E021,
        seen.span(start, end),
        f"{written} (transpose) is not `.idx` notation",
        hints=[f"a transpose swaps the indices: `{pair[1]}` is the transpose of `{pair[0]}`"],
    )


def _prime_or_superscript(seen: Rejection) -> Diagnostic | None:
    char = seen.text[seen.at : seen.at + 1]
    if char not in ("'", "ᵀ", "⊤"):
        return None
    owner = seen.name_before(seen.at)
    if owner is None or owner.end() != seen.at:
        return None
    if char == "'" and owner.group(1) in _DERIVATIVES:
        return _function_prime(seen, owner)
    if char == "'" and seen.names.rank(owner.group(1)) not in (2, None):
        return None  # a prime on a vector or a scalar is not a transpose
    return _transpose(seen, owner, seen.at, seen.at + 1, f"`{owner.group(1)}{char}`")


def _function_prime(seen: Rejection, owner: re.Match[str]) -> Diagnostic:
    """`relu'(x)`: a built-in's derivative is written with built-ins (spec 9.5)."""
    name = owner.group(1)
    return diagnostic(
        Code.E025,
        seen.span(owner.start(1), seen.at + 1),
        f"`{name}'` is not a function of `.idx`",
        hints=[f"the derivative of `{name}(x)` is written `{_DERIVATIVES[name]}`"],
    )


def _reduction_without_indices(seen: Rejection) -> Diagnostic | None:
    word = re.search(r"(sum|Σ)\s*$", seen.text[: seen.at])
    if word is None or seen.text[seen.at : seen.at + 1] != "(":
        return None
    arguments = call_arguments(seen.text, seen.at)
    shown = reduction("sum", arguments[0] if arguments else "", seen.names, _axis(arguments or []))
    return diagnostic(
        Code.E026,
        seen.span(word.start(), seen.at + 1),
        f"`{word.group(1)}` needs the indices it sums over in brackets",
        hints=[f"write `{shown}`"],
    )


def _slice(seen: Rejection) -> Diagnostic | None:
    if seen.text[seen.at : seen.at + 1] != ":":
        return None
    opening = seen.text.rfind("[", 0, seen.at)
    closing = seen.text.find("]", seen.at)
    if opening < 0 or closing < 0 or "]" in seen.text[opening : seen.at]:
        return None
    owner = seen.name_before(opening)
    name = owner.group(1) if owner is not None else "a"
    positions = [p.strip() for p in seen.text[opening + 1 : closing].split(",")]
    letters = iter(fresh_letters(len(positions), {*seen.names.known, *positions}))
    shown, ranges = [], []
    for position in positions:
        index, note = _slice_position(position, letters)
        shown.append(index)
        ranges.extend([note] if note else [])
    hints = [f"write an index for every position: `{name}[{', '.join(shown)}]`"]
    hints.extend(ranges)
    if any("+" in index for index in shown):
        hints.append(
            "an offset index such as `j + 1` runs over a range its left-hand side names: "
            "`y[j:m] = x[j + 1]` (docs/language.md, 12.10)"
        )
    return diagnostic(
        Code.E023, seen.span(opening, closing + 1), "slices are not `.idx` notation", hints=hints
    )


def _slice_position(position: str, letters: Iterable[str]) -> tuple[str, str | None]:
    """One position of `a[:, 1:h]` as an index, and what it then runs over."""
    if ":" not in position:
        return position, None
    letter = next(iter(letters))
    start, _, stop = (part.strip() for part in position.partition(":"))
    if start in ("", "0"):
        return letter, None if not stop else f"`{letter}` then runs over `1..{stop}`"
    if not stop:
        return (
            f"{letter} + {start}",
            f"an offset index: `{letter} + {start}` reads from position `{start} + 1` on",
        )
    return (
        f"{letter} + {start}",
        f"an offset index: numpy's `{start}:{stop}` (counted from 0) is `{letter} + {start}` "
        f"with `{letter}` running over `1..{stop} - {start}`",
    )


_LATEX = {
    "sum": ("sum[j](...)", "a sum names its indices in brackets, its body in parentheses"),
    "delta": ("delta[i, j]", "the Kronecker delta takes its indices in brackets"),
    "frac": ("a / b", "a fraction is written with `/`"),
    "cdot": ("*", "a product is `*` or a space"),
    "times": ("*", "a product is `*` or a space"),
    "partial": ("dL/dW", "a derivative is written `dA/dB` (or `∂A/∂B`), no spaces"),
    "sigma": ("sigmoid(x[i])", "the logistic function is `sigmoid`"),
    "top": ("W[k, j]", "a transpose swaps the indices"),
    "intercal": ("W[k, j]", "a transpose swaps the indices"),
    "left": ("(", "brackets are plain `(` and `)`"),
    "right": (")", "brackets are plain `(` and `)`"),
    "max": ("max(a, b)", "`max(a, b)` entry by entry, `max[j](...)` over an index"),
    "min": ("min(a, b)", "`min(a, b)` entry by entry, `min[j](...)` over an index"),
}


def _latex(seen: Rejection) -> Diagnostic | None:
    command = re.match(r"\\([A-Za-z]+)", seen.text[seen.at :])
    if command is None:
        return None
    word = command.group(1)
    end = seen.at + command.end()
    shown, why = _LATEX.get(word, (f"{word}(x[i])", "a function is written by its name"))
    if word == "sum" or word == "delta":
        sub = re.match(r"_(\{[^{}]*\}|[A-Za-z])", seen.text[end:])
        if sub is not None:
            indices = [s for s in re.split(r"[\s,]+", sub.group(1).strip("{}")) if s]
            indices = indices if len(indices) > 1 or word == "sum" else list(indices[0])
            shown = (
                f"sum[{', '.join(indices)}](...)"
                if word == "sum"
                else f"delta[{', '.join(indices)}]"
            )
            end += sub.end()
    elif word not in _LATEX and word not in _ELEMENTWISE:
        return diagnostic(
            Code.E024,
            seen.span(seen.at, end),
            f"`\\{word}` is LaTeX, not `.idx`",
            hints=["`.idx` is plain text: " + GENERIC_HINT],
        )
    return diagnostic(
        Code.E024,
        seen.span(seen.at, end),
        f"`{seen.text[seen.at : end]}` is LaTeX, not `.idx`",
        hints=[f"write `{shown}`: {why}"],
    )


_DETECTORS: tuple[Callable[[Rejection], Diagnostic | None], ...] = (
    _matmul_operator,
    _dot,
    _prime_or_superscript,
    _reduction_without_indices,
    _slice,
    _latex,
)


# ---- a name written like a function call


def unknown_call(seen: Rejection, tokens: Sequence[tuple[str, str, int, int]]) -> Diagnostic | None:
    """E025 for `maximum(a, b)` or `transpose(W)`: a name the file never gives a meaning,
    written directly before `(`, up to the rejected place (`seen.at`)."""
    for (kind, value, start, end), following in itertools.pairwise(tokens):
        if start > seen.at:
            break
        if kind != "NAME" or following[0] != "LPAR" or following[2] != end:
            continue
        if seen.names.is_known(value) or "{" in value:
            continue
        arguments = call_arguments(seen.text, end) or []
        translation = translate_call(value, arguments, seen.names)
        hint = (
            f"write `{translation[0]}`: {translation[1]}"
            if translation
            else f"`.idx` has {_FUNCTIONS_IN_WORDS}; "
            f"to multiply by an array `{value}`, write `{value} * (...)`"
        )
        return diagnostic(
            Code.E025, seen.span(start, end), f"`{value}` is not a function of `.idx`", hints=[hint]
        )
    return None
