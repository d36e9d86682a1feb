"""Second-edition constructs for the grammar-aware generator (language.md section 12).

`grammar._Statement` asks `Course` for one factor now and then, for a gather
where an array position has the size of a label range, and for a delta that
reads a label. Every construct stays valid by construction:

- a `dim` name stands as a number (`/ n`): positive, a constant;
- `mean[i](e)`, `logsumexp[i](e)` and `norm[i](e)` bind fresh names, one or
  two, each used in the body and nowhere else (`sum[j]`'s scoping); `norm` is
  positive only of a positive body;
- `softmax[j](e)` keeps `j`, a name of the statement that is not bound by
  any reduction, and `e` holds `j` in an array position outside any inner
  reduction;
- `max(a, b)` and `min(a, b)` take two expressions or numbers; `max` is
  positive where one argument is, `min` where both are;
- a comparison is parenthesised as a factor (`(a > b)`), and unparenthesised
  only as a whole function argument, `max`/`min` argument, reduction body or
  right-hand side; it is never positive (it may be 0), nor are `step`/`sign`;
- an index value (`i`, `0.9^i`, `(j <= i)`) names an index that stands in an
  array position of the statement (or is a left-hand index, which `finish`
  puts in one), never a name bound by a reduction outside that reduction;
- a label `input y5[n] in m` stands only in positions of size `m`
  (`W1[y5[i], k]`, nested `W1[y5[z6[i]], k]`) and in deltas beside an index of
  size `m` (`delta[k, y5[i]]`), where `k` may be an index of that delta alone;
  it may also stand as a value (labels are at least 1: positive), and it is
  never a derivative target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.fuzzing.grammar import _Statement

COMPARISONS = (">", ">=", "<", "<=", "==", "!=", "≥", "≤", "≠")
DISCOUNTS = ("0.9", "0.5", "2")


@dataclass(frozen=True)
class Label:
    """`input name[dims] in classes`: integers in 1..size of `classes`."""

    name: str
    dims: tuple[str, ...]
    classes: str  # a dim name


class Course:
    """The second-edition factors of one statement (a helper of `_Statement`)."""

    def __init__(self, statement: _Statement) -> None:
        self.s = statement
        self.rng = statement.rng
        self.gather_depth = 0

    # -- factors -----------------------------------------------------------

    def factor(self, positive: bool) -> str:
        roll = self.rng.random()
        if roll < 0.1:
            return self.size()
        if roll < 0.22:
            return self.index_value(positive)
        if roll < 0.34:
            return self.reduction("mean", positive)
        if roll < 0.46:
            return self.extremum(positive)
        if roll < 0.56 and not positive:
            return "(" + self.comparison() + ")"
        if roll < 0.62 and not positive:
            return f"{self.rng.choice(('step', 'sign'))}({self.argument()})"
        if roll < 0.74:
            return self.softmax()
        if roll < 0.82 and not positive:
            return self.reduction("logsumexp", False)
        if roll < 0.9:
            return self.reduction("norm", positive)
        if roll < 0.95 and self.s.program.labels:
            return self.label_value()
        return self.reduction("sum", positive)

    def size(self) -> str:
        return self.rng.choice(sorted(self.s.program.dims))

    def _values(self) -> list[str]:
        """Index names that may stand as values here."""
        s = self.s
        return [
            name
            for name in s.sizes
            if (name in s.sized or name in s.lhs) and (name not in s.bound or name in s.open_sums)
        ]

    def index_value(self, positive: bool) -> str:
        names = self._values()
        if not names:
            return self.size()
        name = self.rng.choice(names)
        roll = self.rng.random()
        if roll < 0.35:
            return name
        if roll < 0.7 or positive:
            return f"{self.rng.choice(DISCOUNTS)}^{name}"
        other = self.rng.choice([*names, "1", "2"])
        return f"({name} {self.rng.choice(COMPARISONS)} {other})"

    def comparison(self) -> str:
        """`a op b`, unparenthesised: the caller decides where it may stand."""
        left = self.s.expr(False)
        roll = self.rng.random()
        if roll < 0.3:
            right = self.rng.choice(("0", "0.5", "1", "-1"))
        elif roll < 0.45 and self._values():
            right = self.rng.choice(self._values())
        else:
            right = self.s.expr(False)
        return f"{left} {self.rng.choice(COMPARISONS)} {right}"

    def argument(self) -> str:
        """A whole function argument: now and then a bare comparison."""
        return self.comparison() if self.rng.random() < 0.2 else self.s.expr(False)

    def extremum(self, positive: bool) -> str:
        name = self.rng.choice(("max", "min"))
        if positive and name == "min":
            first, second = self.s.expr(True), self._operand(True)
        elif positive:
            first, second = self.s.expr(True), self._operand(False)
        else:
            first, second = self._operand(False), self._operand(False)
        if self.rng.random() < 0.5:
            first, second = second, first
        return f"{name}({first}, {second})"

    def _operand(self, positive: bool) -> str:
        roll = self.rng.random()
        if roll < 0.25:
            return self.rng.choice(("1", "0.5") if positive else ("0", "1", "-1", "0.5"))
        if roll < 0.35 and not positive:
            return self.comparison()
        return self.s.expr(positive)

    def _bind(self, count: int) -> list[str]:
        s = self.s
        dims = sorted({d for a in s.program.arrays for d in a.dims})
        names = []
        for _ in range(count):
            free = [n for n in s.names() if n not in s.sizes]
            if not dims or not free:
                break
            name = self.rng.choice(free)
            s.sizes[name] = self.rng.choice(dims)
            s.bound.add(name)
            names.append(name)
        return names

    def reduction(self, keyword: str, positive: bool) -> str:
        """`sum`, `mean`, `logsumexp` or `norm` over one or two fresh names."""
        names = self._bind(1 if self.rng.random() < 0.8 else 2)
        if not names:
            return self.s.atom(positive)
        s = self.s
        body_positive = positive and keyword != "logsumexp"
        s.open_sums.extend(names)
        try:
            body = self._holding(names, body_positive)
            roll = self.rng.random()
            if roll < 0.15 and keyword in ("sum", "mean") and not positive:
                # A whole body may be a bare comparison; comparisons do not chain.
                right = self.rng.choice(("0", "1")) if roll < 0.07 else s.expr(False)
                body += f" {self.rng.choice(COMPARISONS)} {right}"
            elif roll < 0.6:
                body += " " + s.factor(body_positive)
        finally:
            del s.open_sums[-len(names) :]
        return f"{keyword}[{', '.join(names)}]({body})"

    def _holding(self, names: list[str], positive: bool) -> str:
        """A product that holds every one of `names` in an array position."""
        body = self.s.atom(positive, require=names[0])
        for name in names:
            if not re.search(rf"\b{name}\b", body):
                body += " " + self.s.atom(positive, require=name)
        return body

    def softmax(self) -> str:
        s = self.s
        dims = sorted({d for a in s.program.arrays for d in a.dims})
        # A name some array can hold: a label's own dims may index no array.
        names = [n for n, d in s.sizes.items() if n not in s.bound and d in dims]
        chosen: list[str] = []
        if names and self.rng.random() < 0.6:
            chosen.append(self.rng.choice(names))
        free = [n for n in s.names() if n not in s.sizes]
        if dims and free and (not chosen or self.rng.random() < 0.2):
            fresh = self.rng.choice(free)
            s.sizes[fresh] = self.rng.choice(dims)
            chosen.append(fresh)
        if not chosen:
            return s.atom(True)
        body = self._holding(chosen, False)
        if self.rng.random() < 0.3:
            body += self.rng.choice((" + ", " - ")) + s.term(False)
        return f"softmax[{', '.join(chosen)}]({body})"

    # -- labels ------------------------------------------------------------

    def label_value(self) -> str:
        label = self.rng.choice(self.s.program.labels)
        return self._read(label)

    def _read(self, label: Label) -> str:
        self.gather_depth += 1
        try:
            indices = [self.s.index_for(d) for d in label.dims]
        finally:
            self.gather_depth -= 1
        self.s.sized.update(i for i in indices if i.isidentifier())
        return f"{label.name}[{', '.join(indices)}]"

    def gather(self, dim: str) -> str | None:
        """Now and then a label for a position of size `dim`."""
        labels = [x for x in self.s.program.labels if x.classes == dim]
        if not labels or self.gather_depth >= 2 or self.rng.random() >= 0.3:
            return None
        return self._read(self.rng.choice(labels))

    def delta(self) -> str | None:
        """`delta[k, y5[i]]`, with `k` of the label's range, perhaps fresh."""
        s = self.s
        labels = s.program.labels
        if not labels or self.rng.random() >= 0.5:
            return None
        label = self.rng.choice(labels)
        names = [
            n
            for n, d in sorted(s.sizes.items())
            if d == label.classes
            and (n in s.sized or n in s.only_in_deltas)
            and (n not in s.bound or n in s.open_sums)
        ]
        free = [n for n in s.names() if n not in s.sizes]
        if names and (not free or self.rng.random() < 0.6):
            name = self.rng.choice(names)
        elif free:
            name = self.rng.choice(free)
            s.sizes[name] = label.classes
            s.only_in_deltas.add(name)
        else:
            return None
        pair = [name, self._read(label)]
        self.rng.shuffle(pair)
        keyword = "δ" if self.rng.random() < 0.15 else "delta"
        return f"{keyword}[{pair[0]}, {pair[1]}]"
