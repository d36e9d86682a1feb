"""Grammar-aware generation of `.idx` programs that are valid by construction.

A generated program declares a few dims and leaf arrays, defines some
intermediate arrays and a scalar loss from a small expression grammar
(products, sums, powers, functions, explicit `sum[j](...)`, deltas, literal
indices; and, for three compound factors in ten, the second edition's constructs of
`course.py`: sizes as numbers, `mean`, `max`/`min`, comparisons, `step`/`sign`,
index values, labels `input y5[n] in m` and their gathers and deltas,
`softmax`, `logsumexp`, `norm`), and asks for derivatives of the loss.
"Valid by construction" means:

- every index has one size in its statement (rule 1), ranks match (rule 2),
  literal indices are in range, every left-hand index occurs on the right;
- a `sum[j]` (`mean`, `logsumexp`, `norm`) binds a fresh name used only in its body;
- `log`, `sqrt`, division and non-integer powers only see expressions that
  are positive for any values (positive arrays, `exp`, `sigmoid`, `1 + e^2`,
  sums and products of those), so the numeric check meets no NaN.

So a tool that works must accept such a program, and its derivatives must
agree with finite differences. The generator tracks which arrays each
definition depends on, so that every `derive` request has a real dependence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from benchmarks.fuzzing.course import Course, Label

# Index names avoid dim names (n, m, h, d), array names (upper case) and
# keywords; `t` is left for loops.
INDEX_NAMES = ("i", "j", "k", "p", "q", "r", "u", "v", "a", "b", "c", "e", "g", "w")
DIM_NAMES = ("n", "m", "h", "d")
FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "sin", "cos")
# How often a factor is one of the second edition's constructs (course.py).
COURSE_SHARE = 0.3
# Constants exact in six significant digits, so printed formulas round-trip.
CONSTANTS = ("2", "3", "0.5", "1.5", "0.25")
# How often a factor is an expression computed with catastrophic cancellation,
# `sqrt((e + 1e14)^2) - 1e14` (e, off by up to 0.7, which the simplifier
# cannot cancel): values whose rounding dwarfs them, for every node above.
CANCELLED_SHARE = 0.02
OFFSETS = ("1e8", "1e12", "1e14", "1e15")


@dataclass(frozen=True)
class Array:
    name: str
    dims: tuple[str, ...]
    positive: bool
    deps: frozenset[str]  # every array this one is computed from, itself included


@dataclass
class Program:
    """The program as it is being generated: declarations, then statements."""

    dims: dict[str, int | None] = field(default_factory=dict)
    arrays: list[Array] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)  # `input y5[n] in m`

    def array(self, name: str) -> Array:
        return next(a for a in self.arrays if a.name == name)


class _Statement:
    """Generates one right-hand side with consistent index sizes."""

    def __init__(self, rng: random.Random, program: Program, lhs: dict[str, str]) -> None:
        self.rng = rng
        self.program = program
        self.lhs = lhs  # left-hand index -> dim
        self.sizes: dict[str, str] = dict(lhs)  # every index of the statement -> dim
        self.sized: set[str] = set()  # indices that index an array (not only deltas)
        self.bound: set[str] = set()  # names bound by some sum[j]: never reused outside
        self.open_sums: list[str] = []
        self.used: set[str] = set()  # arrays referenced
        self.only_in_deltas: set[str] = set()  # sized by a label in a delta (`delta[k, y5[i]]`)
        self.course = Course(self)  # second-edition factors
        # Mostly shallow: deep programs cost seconds to verify and find little more.
        self.depth_left = rng.choice((1, 1, 2))

    def names(self) -> tuple[str, ...]:
        return INDEX_NAMES

    def index_for(self, dim: str) -> str:
        """An index of size `dim`: a left-hand one, a summed one, a literal or a label."""
        gathered = self.course.gather(dim)
        if gathered is not None:
            return gathered
        size = self.program.dims[dim]
        roll = self.rng.random()
        if size is not None and roll < 0.1:
            return str(self.rng.randint(1, size))
        usable = [
            name
            for name, d in self.sizes.items()
            if d == dim and (name not in self.bound or name in self.open_sums)
        ]
        if usable and roll < 0.75:
            return self.rng.choice(usable)
        return self._fresh(dim)

    def _fresh(self, dim: str) -> str:
        free = [n for n in INDEX_NAMES if n not in self.sizes]
        if not free:
            return str(1)  # out of names: a literal is always valid (sizes start at 1)
        name = self.rng.choice(free)
        self.sizes[name] = dim
        return name

    def atom(self, positive: bool, require: str | None = None) -> str:
        """An array reference; with `require`, one that uses that index."""
        choices = [a for a in self.program.arrays if a.positive or not positive]
        if require is not None:
            choices = [a for a in choices if self.sizes[require] in a.dims]
        if not choices and positive and require is not None:
            # No positive array has this index's size: exp of one is positive.
            return f"exp(0.5 * {self.atom(False, require)})"
        if not choices:
            return "2" if positive else "1"
        array = self.rng.choice(choices)
        self.used.add(array.name)
        indices = self._indices(array, require)
        return array.name + (f"[{', '.join(indices)}]" if indices else "")

    def _indices(self, array: Array, require: str | None) -> list[str]:
        forced = array.dims.index(self.sizes[require]) if require is not None else -1
        indices = [
            require if position == forced and require is not None else self.index_for(dim)
            for position, dim in enumerate(array.dims)
        ]
        self.sized.update(i for i in indices if i.isidentifier())  # not literals, not gathers
        return indices

    def expr(self, positive: bool) -> str:
        count = self.rng.choice((1, 1, 1, 2))
        terms = [self.term(positive) for _ in range(count)]
        out = terms[0]
        for term in terms[1:]:
            out += " + " + term if positive or self.rng.random() < 0.6 else " - " + term
        return out

    def term(self, positive: bool) -> str:
        count = self.rng.choice((1, 1, 2, 2, 3))
        factors = [self.factor(positive) for _ in range(count)]
        if not positive and self.rng.random() < 0.2:
            factors[0] = "-" + factors[0]
        out = factors[0]
        for factor in factors[1:]:
            # `C2 (x)` or `2 0.5` would not read as products: spell the `*` there.
            explicit = factor[0] in "(0123456789" or self.rng.random() < 0.5
            out += self.rng.choice((" * ", " · ", " × ")) if explicit else " " + factor
            out += factor if explicit else ""
        if self.rng.random() < 0.1:
            out += " / " + self.factor(True)  # only a positive divisor
        return out

    def factor(self, positive: bool) -> str:
        if self.depth_left <= 0:
            return self.atom(positive)
        self.depth_left -= 1
        try:
            return self._compound(positive)
        finally:
            self.depth_left += 1

    def _compound(self, positive: bool) -> str:
        if self.rng.random() < COURSE_SHARE:
            return self.course.factor(positive)
        if not positive and self.rng.random() < CANCELLED_SHARE:
            offset = self.rng.choice(OFFSETS)
            return f"(sqrt(({self.expr(False)} + {offset})^2) - {offset})"
        roll = self.rng.random()
        if roll < 0.4:
            return self.atom(positive)
        if roll < 0.47:
            return self.rng.choice(CONSTANTS)
        if roll < 0.65:
            return self._function(positive)
        if roll < 0.77:
            return self._power(positive)
        if roll < 0.85:
            return self._sum(positive)
        if roll < 0.9 and not positive:
            return self._delta()
        return "(" + self.expr(positive) + ")"

    def _function(self, positive: bool) -> str:
        name = self.rng.choice(FUNCTIONS)
        if positive and name not in ("exp", "sigmoid", "sqrt"):
            name = self.rng.choice(("exp", "sigmoid", "sqrt"))
        if name in ("log", "sqrt"):
            return f"{name}({self.expr(True)})"
        if name == "exp":
            # A factor keeps exp's argument small: no overflow to inf.
            return f"exp(0.5 * ({self.expr(False)}))"
        if name == "abs" and not positive:
            return f"abs({self.expr(False)})"
        return f"{name}({self.course.argument()})"

    def _power(self, positive: bool) -> str:
        if positive or self.rng.random() < 0.5:
            # Generate only the base that is used: a discarded one would leave
            # its indices marked as used.
            if self.rng.random() < 0.5:
                base = f"(1 + ({self.expr(False)})^2)"
            else:
                base = f"({self.expr(True)})"
            exponent = self.rng.choice(("2", "0.5", "-1", "1.5", "-2", "3"))
            op = "**" if self.rng.random() < 0.2 else "^"
            return f"{base}{op}{exponent}"
        return f"({self.expr(False)})^{self.rng.choice(('2', '3'))}"

    def _sum(self, positive: bool) -> str:
        dims = sorted({d for a in self.program.arrays for d in a.dims})
        free = [n for n in INDEX_NAMES if n not in self.sizes]
        if not dims or not free:
            return self.atom(positive)
        name = self.rng.choice(free)
        self.sizes[name] = self.rng.choice(dims)
        self.bound.add(name)
        self.open_sums.append(name)
        try:
            body = self.atom(positive, require=name)
            if self.rng.random() < 0.6:
                body += " " + self.factor(positive)
        finally:
            self.open_sums.pop()
        keyword = "Σ" if self.rng.random() < 0.15 else "sum"
        return f"{keyword}[{name}]({body})"

    def _delta(self) -> str:
        with_label = self.course.delta()
        if with_label is not None:
            return with_label
        by_dim: dict[str, list[str]] = {}
        for name in sorted(self.sized):
            if name not in self.bound or name in self.open_sums:
                by_dim.setdefault(self.sizes[name], []).append(name)
        pairs = [names for names in by_dim.values() if len(names) >= 2]
        if not pairs:
            return self.atom(False)
        first, second = self.rng.sample(self.rng.choice(pairs), 2)
        keyword = "δ" if self.rng.random() < 0.15 else "delta"
        return f"{keyword}[{first}, {second}]"

    def finish(self, text: str, positive: bool) -> str:
        """Make every left-hand index occur on the right (rule 5)."""
        for index in self.lhs:
            if index not in self.sized and index not in self.only_in_deltas:
                extra = self.atom(positive, require=index)
                text = f"{text} + {extra}" if positive else f"({text}) + {extra}"
        return text


def _declare(rng: random.Random, program: Program) -> None:
    names = list(DIM_NAMES[: rng.randint(2, 3)])
    for name in names:
        program.dims[name] = None if rng.random() < 0.1 else rng.randint(2, 3)
    program.lines.append("dim " + ", ".join(_dim_text(n, program.dims[n]) for n in names))
    for number in range(rng.randint(2, 4)):
        kind = "input" if number == 0 or rng.random() < 0.3 else "param"
        rank = rng.choice((0, 1, 1, 2, 2))
        dims = tuple(rng.choice(names) for _ in range(rank))
        positive = rng.random() < 0.35
        name = "XWBCS"[number] + str(number)
        program.arrays.append(Array(name, dims, positive, frozenset({name})))
        program.leaves.append(name)
        shape = f"[{', '.join(dims)}]" if dims else ""
        program.lines.append(f"{kind} {name}{shape}" + (" positive" if positive else ""))
    if rng.random() < 0.5:
        _declare_labels(rng, program, names)


def _declare_labels(rng: random.Random, program: Program, names: list[str]) -> None:
    """`input y5[n] in m`: integer arrays whose range is a size some array has."""
    used = sorted({d for a in program.arrays for d in a.dims})
    for number in range(rng.choice((1, 1, 2)) if used else 0):
        classes = rng.choice(used)
        dims = tuple(rng.choice(names) for _ in range(rng.choice((1, 1, 2))))
        name = f"y{len(program.arrays) + number}"
        program.labels.append(Label(name, dims, classes))
        size = program.dims[classes]
        written = str(size) if size is not None and rng.random() < 0.15 else classes
        line = f"input {name}[{', '.join(dims)}] in {written}"
        shape = [program.dims[d] for d in dims]
        if all(shape) and rng.random() < 0.25:
            line += " = " + _label_literal(rng, [s for s in shape if s], size or 3)
        program.lines.append(line)


def _label_literal(rng: random.Random, shape: list[int], classes: int) -> str:
    if len(shape) == 1:
        return "[" + ", ".join(str(rng.randint(1, classes)) for _ in range(shape[0])) + "]"
    return "[" + ", ".join(_label_literal(rng, shape[1:], classes) for _ in range(shape[0])) + "]"


def _dim_text(name: str, size: int | None) -> str:
    return name if size is None else f"{name} = {size}"


def _define(rng: random.Random, program: Program, name: str, rank: int) -> Array:
    dims_in_use = sorted({d for a in program.arrays for d in a.dims})
    if not dims_in_use:
        rank = 0  # only scalars so far: nothing on the right could carry an index
    lhs = {INDEX_NAMES[n]: rng.choice(dims_in_use) for n in range(rank)}
    positive = rng.random() < 0.25
    statement = _Statement(rng, program, lhs)
    if not positive and name != "L" and rng.random() < 0.08:
        body = statement.course.comparison()  # a whole right-hand side: no parentheses
    else:
        body = statement.expr(positive)
    text = statement.finish(body, positive)
    deps = frozenset({name}).union(*(program.array(u).deps for u in statement.used))
    array = Array(name, tuple(lhs.values()), positive, deps)
    program.arrays.append(array)
    indices = f"[{', '.join(lhs)}]" if lhs else ""
    program.lines.append(f"{name}{indices} = {text}")
    return array


def generate(rng: random.Random) -> str:
    """A whole valid program, as text."""
    program = Program()
    _declare(rng, program)
    for number in range(rng.randint(0, 2)):
        _define(rng, program, f"Y{number}", rng.randint(0, 2))
    loss = _define(rng, program, "L", 0)
    targets = sorted(loss.deps - {"L"})
    if targets and rng.random() < 0.9:
        chosen = rng.sample(targets, min(len(targets), rng.randint(1, 2)))
        program.lines.append("derive " + ", ".join(f"dL/d{t}" for t in chosen))
    if rng.random() < 0.1:
        program.lines.append("layout denominator")
    return "\n".join(program.lines) + "\n"
