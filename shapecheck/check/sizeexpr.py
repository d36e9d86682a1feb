"""Check, sizes as expressions: exact polynomials over the free dims (spec 9.4).

A `dim` may be computed from earlier ones (`dim m = n - k + 1`); the checker
reads every size as a `Poly`, a polynomial with exact rational coefficients
over the dims that have no value (the free dims), with the valued dims
substituted. Two sizes are equal when their polynomials are (spec 9.4: "equal
when their expressions agree after substituting valued dims"); the range
proof of index expressions compares polynomials; `numeric/sizes.py` chooses
the free dims so that every computed one is a positive whole number. Plain
data and `fractions` only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

from shapecheck.syntax import ast

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

# A monomial: (dim, power) pairs sorted by name, powers >= 1; () is the constant 1.
Monomial = tuple[tuple[str, int], ...]


def _monomial_product(left: Monomial, right: Monomial) -> Monomial:
    powers = dict(left)
    for name, power in right:
        powers[name] = powers.get(name, 0) + power
    return tuple(sorted(powers.items()))


@dataclass(frozen=True)
class Poly:
    """A polynomial over free dims: sorted (monomial, nonzero coefficient) pairs."""

    terms: tuple[tuple[Monomial, Fraction], ...] = ()

    @staticmethod
    def of(pairs: Iterable[tuple[Monomial, Fraction]]) -> Poly:
        summed: dict[Monomial, Fraction] = {}
        for monomial, coefficient in pairs:
            summed[monomial] = summed.get(monomial, Fraction(0)) + coefficient
        return Poly(tuple(sorted((m, c) for m, c in summed.items() if c != 0)))

    @staticmethod
    def constant(value: int | Fraction) -> Poly:
        return Poly.of([((), Fraction(value))])

    @staticmethod
    def dim(name: str) -> Poly:
        monomial: Monomial = ((name, 1),)
        return Poly(((monomial, Fraction(1)),))

    def __add__(self, other: Poly) -> Poly:
        return Poly.of(self.terms + other.terms)

    def __neg__(self) -> Poly:
        return Poly(tuple((m, -c) for m, c in self.terms))

    def __sub__(self, other: Poly) -> Poly:
        return self + -other

    def __mul__(self, other: Poly) -> Poly:
        return Poly.of(
            (_monomial_product(m1, m2), c1 * c2) for m1, c1 in self.terms for m2, c2 in other.terms
        )

    def scaled(self, factor: Fraction) -> Poly:
        return Poly.of((m, c * factor) for m, c in self.terms)

    @property
    def value(self) -> Fraction | None:
        """The number, where the polynomial names no dim."""
        if not self.terms:
            return Fraction(0)
        if len(self.terms) == 1 and self.terms[0][0] == ():
            return self.terms[0][1]
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({name for m, _ in self.terms for name, _ in m}))

    def at(self, values: Mapping[str, int]) -> Fraction:
        """The value with every named dim given a number."""
        total = Fraction(0)
        for monomial, coefficient in self.terms:
            product = coefficient
            for name, power in monomial:
                product *= values[name] ** power
            total += product
        return total

    def substituted(self, values: Mapping[str, Poly]) -> Poly:
        """Each dim that `values` names replaced by its polynomial."""
        result = Poly()
        for monomial, coefficient in self.terms:
            product = Poly.constant(coefficient)
            for name, power in monomial:
                base = values.get(name, Poly.dim(name))
                for _ in range(power):
                    product = product * base
            result = result + product
        return result

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        # Added dims first, then subtracted ones, the constant last: `n - k + 1`.
        ordered = sorted(self.terms, key=lambda t: (t[0] == (), t[1] < 0, t[0]))
        text = ""
        for monomial, coefficient in ordered:
            sign = "-" if coefficient < 0 else "+"
            body = _term_text(monomial, abs(coefficient))
            text = (f"-{body}" if sign == "-" else body) if not text else f"{text} {sign} {body}"
        return text


def _term_text(monomial: Monomial, coefficient: Fraction) -> str:
    names = " ".join(name if power == 1 else f"{name}^{power}" for name, power in monomial)
    if not names:
        return _number_text(coefficient)
    if coefficient == 1:
        return names
    if coefficient.denominator == 1:
        return f"{coefficient.numerator} {names}"
    return (
        f"{names} / {coefficient.denominator}"
        if coefficient.numerator == 1
        else (f"{coefficient.numerator} {names} / {coefficient.denominator}")
    )


def _number_text(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


class SizeProblem(Exception):
    """A size expression that cannot be read: the span and the words of the error."""

    def __init__(self, span: object, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


def read(expr: ast.SizeExpr, dim: Callable[[ast.SizeDim], Poly]) -> Poly:
    """The polynomial of a written size expression; `dim` gives each named dim's.

    Raises `SizeProblem` for a division by zero, by a size with no value, or an
    exponent that is not a small whole number.
    """

    def leaf(node: ast.SizeNumber | ast.SizeDim) -> Poly:
        if isinstance(node, ast.SizeDim):
            return dim(node)
        if not math.isfinite(node.value):
            # `31e400` reads as infinity: no fraction, and no size.
            raise SizeProblem(node.span, "this number is too large for a size")
        return Poly.constant(Fraction(node.value).limit_denominator(10**12))

    def arith(node: ast.SizeArith, left: Poly, right: Poly) -> Poly:
        match node.op:
            case "+":
                return left + right
            case "-":
                return left - right
            case "*":
                product = left * right
                _bounded(node, product)
                return product
            case "/":
                return _quotient(node, left, right)
            case _:
                return _power(node, left, right)

    def negate(node: ast.SizeNeg, operand: Poly) -> Poly:
        return -operand

    return ast.fold_size(expr, leaf, arith, negate)


def _quotient(node: ast.SizeArith, left: Poly, right: Poly) -> Poly:
    divisor = right.value
    if divisor is None:
        raise SizeProblem(
            node.right.span,
            f"`{node.right}` has no value, and a size divides only by a number",
        )
    if divisor == 0:
        raise SizeProblem(node.right.span, f"`{node}` divides by zero")
    return left.scaled(1 / divisor)


def _power(node: ast.SizeArith, left: Poly, right: Poly) -> Poly:
    exponent = right.value
    if exponent is None or exponent.denominator != 1 or not 0 <= exponent <= 64:
        raise SizeProblem(node.right.span, "a size's exponent is a whole number in 0..64")
    result = Poly.constant(1)
    for _ in range(int(exponent)):
        result = result * left
        _bounded(node, result)
    return result


def _bounded(node: ast.SizeArith, poly: Poly) -> None:
    # A tower of powers would build numbers of millions of digits: sizes
    # never need more than a few hundred bits, nor a degree above 64.
    for monomial, coefficient in poly.terms:
        too_big = max(coefficient.numerator.bit_length(), coefficient.denominator.bit_length())
        if too_big > 256 or sum(power for _, power in monomial) > 64:
            raise SizeProblem(node.span, f"`{node}` is too large for a size")
