"""The extra rewrite rules of the canonical form claims are compared in.

A claim is confirmed symbolically when its canonical form and the derivation's
are one term (claims.py). The canonical form is the normal form of
simplify.py (a sum of simplified products) with these rules added. They may
grow a term or lose the shape a reader wants, so they are never used for
what is printed; each one is exact wherever the term it rewrites is defined
(a cancellation `x^-1 x = 1` needs x nonzero, where the term itself is). The
comparison rules follow the language's kink semantics (spec 12.2): `x <= 0`
is `1 - (x > 0)` everywhere, `step(x)` is `(x > 0)`, while `(x >= 0)` stays
apart from `step(x)`, since the two differ at 0.
"""

from __future__ import annotations

from fractions import Fraction

from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import key
from shapecheck.symbolic.rules import NORMAL_FORM_RULES, RULES, Rule, rewrites

# Constants that are these fractions to within rounding are made exactly
# these fractions' floats, so that `2/3 x / 6` and `x / 9` are one term: the
# largest denominator, and how close (relative) a constant must be.
_DENOMINATOR = 10_000
_CLOSE = 1e-12
# Powers of a sum multiplied out, at most this exponent (a larger one stays).
MAX_EXPANDED_POWER = 8


def exact(value: float) -> float:
    """`value` as the float of the nearby fraction of small denominator, if there is one."""
    if value == 0.0 or value != value or value in (float("inf"), float("-inf")):
        return value
    near = Fraction(value).limit_denominator(_DENOMINATOR)
    snapped = near.numerator / near.denominator
    return snapped if abs(snapped - value) <= _CLOSE * abs(value) else value


@rewrites(t.Product, t.Add)
def exact_constants(term: t.Term) -> t.Term | None:
    """c = p/q when c is p/q up to rounding (a product's constant, a sum's
    constant term). Terminates: a snapped constant snaps to itself."""
    if isinstance(term, t.Product):
        first = term.factors[0] if term.factors else None
        if isinstance(first, t.Const) and exact(first.value) != first.value:
            return t.Product((t.Const(exact(first.value)), *term.factors[1:]), term.summed)
        return None
    if isinstance(term, t.Add) and any(
        isinstance(x, t.Const) and exact(x.value) != x.value for x in term.terms
    ):
        snapped = (t.Const(exact(x.value)) if isinstance(x, t.Const) else x for x in term.terms)
        return t.Add(tuple(snapped), term.free)
    return None


@rewrites(t.Pow)
def split_power_of_product(term: t.Term) -> t.Term | None:
    """(a b)^k = a^k b^k for a whole k (a product without sums). Terminates:
    the power moves onto smaller bases."""
    if not (
        isinstance(term, t.Pow)
        and isinstance(term.base, t.Product)
        and not term.base.summed
        and isinstance(term.exponent, t.Const)
        and term.exponent.value.is_integer()
    ):
        return None
    return t.Product(tuple(t.Pow(f, term.exponent) for f in term.base.factors))


@rewrites(t.Pow)
def indicator_power(term: t.Term) -> t.Term | None:
    """[c]^k = [c] for a comparison c and k > 0: it is 0 or 1. Terminates: the power goes."""
    if (
        isinstance(term, t.Pow)
        and isinstance(term.base, t.Compare)
        and isinstance(term.exponent, t.Const)
        and term.exponent.value > 0
    ):
        return term.base
    return None


def _as_power(factor: t.Term) -> tuple[t.Term, float] | None:
    """A factor as base^exponent for a constant exponent, sums included."""
    if isinstance(factor, t.Pow) and isinstance(factor.exponent, t.Const):
        return factor.base, factor.exponent.value
    if isinstance(factor, t.Const | t.Product | t.Compare | t.Delta | t.Zero | t.IndexValue):
        return None
    return factor, 1.0


@rewrites(t.Product)
def merge_all_powers(term: t.Term) -> t.Term | None:
    """x^a x^b = x^(a+b) for any base, sums included: `(1 - s) / (1 - s) = 1`.

    Terminates: the number of factors drops.
    """
    if not isinstance(term, t.Product) or len(term.factors) < 2:
        return None
    exponents: dict[str, float] = {}
    bases: dict[str, t.Term] = {}
    others: list[t.Term] = []
    sign = 1.0
    for factor in term.factors:
        power = _as_power(factor)
        if power is None:
            others.append(factor)
            continue
        base, flipped = _sign_normal(*power)
        sign *= flipped
        k = key(base)
        bases.setdefault(k, base)
        exponents[k] = exponents.get(k, 0.0) + power[1]
    if len(bases) + len(others) == len(term.factors):
        return None
    new = list(others) if sign == 1.0 else [t.Const(sign), *others]
    for k, exponent in exponents.items():
        if exponent != 0.0:
            new.append(bases[k] if exponent == 1.0 else t.Pow(bases[k], t.Const(exponent)))
    return t.Product(tuple(new), term.summed)


def _sign_normal(base: t.Term, exponent: float) -> tuple[t.Term, float]:
    """A sum base and its negation as one base: `(s - 1)` and `(1 - s)^-1`
    merge to -1 (textbook printing turns `-(1 - s)` into `s - 1`). Of `B` and
    `-B` the one with the smaller key is the base, and `(-B)^k = (-1)^k B^k`
    gives the sign, for a whole exponent k only (else the base is kept)."""
    if not isinstance(base, t.Add) or len(base.terms) < 2 or exponent != int(exponent):
        return base, 1.0
    negated = t.add([_negated(x) for x in base.terms], base.free)
    if key(negated) >= key(base):
        return base, 1.0
    return negated, -1.0 if int(exponent) % 2 else 1.0


def _negated(term: t.Term) -> t.Term:
    """-term, written as the normal form writes it: `x` for `-1 x`, `-2 x` for `2 x`."""
    value, rest = _coefficient(term)
    if isinstance(term, t.Const):
        return t.Const(-value)
    if value == -1.0:
        return rest
    factors = rest.factors if isinstance(rest, t.Product) else (rest,)
    summed = rest.summed if isinstance(rest, t.Product) else ()
    return t.Product((t.Const(-value), *factors), summed)


def _linear_divisor(factor: t.Term) -> tuple[t.Add, float, t.Term, float, t.Term] | None:
    """A factor `(c f + r)^e` with e < 0, f one term that reads arrays (not a
    product, sum or constant) and r free of arrays: (the sum, e, f, c, r)."""
    if not (
        isinstance(factor, t.Pow)
        and isinstance(factor.base, t.Add)
        and isinstance(factor.exponent, t.Const)
        and factor.exponent.value < 0
    ):
        return None
    base = factor.base
    varying = [x for x in base.terms if t.arrays_read(x)]
    if len(varying) != 1 or len(base.terms) < 2:
        return None
    c, f = _coefficient(varying[0])
    if c == 0.0 or isinstance(f, t.Product | t.Add | t.Const):
        return None
    rest = t.add([x for x in base.terms if x is not varying[0]], base.free)
    return base, factor.exponent.value, f, c, rest


def _without_one(factor: t.Term, f: t.Term) -> tuple[t.Term, ...] | None:
    """`factor` with one f divided out (`f` itself leaves nothing, `f^m`
    leaves `f^(m-1)` for a whole m >= 2), or None if it is no such power."""
    if key(factor) == key(f):
        return ()
    if (
        isinstance(factor, t.Pow)
        and isinstance(factor.exponent, t.Const)
        and factor.exponent.value.is_integer()
        and factor.exponent.value >= 2
        and key(factor.base) == key(f)
    ):
        m = factor.exponent.value
        return (f,) if m == 2 else (t.Pow(f, t.Const(m - 1)),)
    return None


@rewrites(t.Product)
def divide_by_linear_sum(term: t.Term) -> t.Term | None:
    """f (c f + r)^e = (1/c) (c f + r)^(e+1) - (r/c) (c f + r)^e, for e < 0
    and r free of arrays: `x / (x - 1)^2` is `1 / (x - 1) + 1 / (x - 1)^2`,
    so that quotients over one such sum have one form however the numerator
    was written. Exact wherever the term is defined ((c f + r)^(e+1) is
    (c f + r) (c f + r)^e).

    Terminates: each application takes one factor f (which reads arrays) out
    of the product and puts back none: r reads no arrays, and the sum's
    power is no such factor; a power above -1 is no divisor any more.
    """
    if not isinstance(term, t.Product):
        return None
    for p, factor in enumerate(term.factors):
        divisor = _linear_divisor(factor)
        if divisor is None:
            continue
        base, e, f, c, r = divisor
        for q, other in enumerate(term.factors):
            left = None if q == p else _without_one(other, f)
            if left is None:
                continue
            factors = list(term.factors)
            factors[q : q + 1] = left
            at = factors.index(factor)
            raised = () if e == -1.0 else (t.Pow(base, t.Const(e + 1.0)),)
            whole = [t.Const(exact(1.0 / c)), *factors[:at], *raised, *factors[at + 1 :]]
            part = [t.Const(exact(-1.0 / c)), r, *factors]
            return t.add(
                [t.Product(tuple(whole), term.summed), t.Product(tuple(part), term.summed)],
                term.free,
            )
    return None


def _expandable(factor: t.Term) -> tuple[t.Add, int] | None:
    """A factor that is a sum to a small whole positive power (1 included)."""
    if isinstance(factor, t.Add) and len(factor.terms) > 1:
        return factor, 1
    if (
        isinstance(factor, t.Pow)
        and isinstance(factor.base, t.Add)
        and len(factor.base.terms) > 1
        and isinstance(factor.exponent, t.Const)
        and factor.exponent.value.is_integer()
        and 1 <= factor.exponent.value <= MAX_EXPANDED_POWER
    ):
        return factor.base, int(factor.exponent.value)
    return None


def _divides(term: t.Term) -> bool:
    """Whether a negative power stands anywhere in the term (remembered on it)."""
    cache = term.__dict__
    found: bool | None = cache.get("_divides")
    if found is None:
        found = (
            isinstance(term, t.Pow)
            and isinstance(term.exponent, t.Const)
            and term.exponent.value < 0
        ) or any(_divides(c) for c in t.children(term))
        cache["_divides"] = found
    return found


@rewrites(t.Product)
def distribute_first_quotients(term: t.Term) -> t.Term | None:
    """Σ_i a (b + c)^k = Σ_i a b (b + c)^(k-1) + Σ_i a c (b + c)^(k-1).

    A sum holding a quotient is multiplied out first, so that its quotients
    meet the other factors and cancel (`s (1 - s) (t / s - 1 / (1 - s))`)
    before those factors are multiplied out in turn. Terminates: the total
    whole power of sums in products drops with each application.
    """
    if not isinstance(term, t.Product):
        return None
    candidates = [(n, e) for n, f in enumerate(term.factors) if (e := _expandable(f)) is not None]
    if not candidates:
        return None
    position, (base, power) = next(((n, e) for n, e in candidates if _divides(e[0])), candidates[0])
    rest: tuple[t.Term, ...] = ()
    if power > 1:
        rest = (base if power == 2 else t.Pow(base, t.Const(float(power - 1))),)
    parts: list[t.Term] = []
    for part in base.terms:
        factors = list(term.factors)
        factors[position : position + 1] = (part, *rest)
        parts.append(t.Product(tuple(factors), term.summed))
    return t.add(parts, term.free)


# ---------------------------------------------------------------------------
# Comparisons: every one becomes `d > 0`, `d >= 0` or `d == 0` (or one minus
# such), with `d` a difference whose first term has coefficient 1.

_COMPLEMENT = {"<": ">=", "<=": ">", "!=": "=="}
_ZERO = t.Const(0.0)


def _one_minus(compare: t.Compare, free: tuple[t.Idx, ...]) -> t.Term:
    return t.add([t.Const(1.0), t.Product((t.Const(-1.0), compare))], free)


@rewrites(t.Compare)
def compare_with_zero(term: t.Term) -> t.Term | None:
    """a op b = (a - b) op 0; a < b = 1 - (a - b >= 0); a != b = 1 - (a == b).

    Exact in the reals for every operator (spec 12.2: 1 where it holds, 0
    elsewhere). Terminates: afterwards the right side is 0 and the operator
    one of >, >=, ==.
    """
    if not isinstance(term, t.Compare):
        return None
    if term.op in _COMPLEMENT:
        return _one_minus(t.Compare(_COMPLEMENT[term.op], term.left, term.right), term.free)
    if _is_zero(term.right):
        return None
    negated = t.Product((t.Const(-1.0), term.right))
    difference = negated if _is_zero(term.left) else t.add([term.left, negated])
    return t.Compare(term.op, difference, _ZERO)


def _coefficient(term: t.Term) -> tuple[float, t.Term]:
    """A term's constant factor and the rest; the rest of `c x` is `x` itself,
    as `x` alone is, so that both have one key."""
    if isinstance(term, t.Const):
        return term.value, t.Const(1.0)
    if isinstance(term, t.Product) and term.factors and isinstance(term.factors[0], t.Const):
        rest = term.factors[1:]
        if len(rest) == 1 and not term.summed:
            return term.factors[0].value, rest[0]
        return term.factors[0].value, t.Product(rest, term.summed)
    return 1.0, term


def _divided(term: t.Term, by: float) -> t.Term:
    value, rest = _coefficient(term)
    if isinstance(term, t.Const):
        return t.Const(exact(value / by))
    if isinstance(rest, t.Product):
        return t.Product((t.Const(exact(value / by)), *rest.factors), rest.summed)
    return t.Product((t.Const(exact(value / by)), rest))


@rewrites(t.Compare)
def unit_leading_coefficient(term: t.Term) -> t.Term | None:
    """c d > 0 = d > 0 for c > 0, and c d > 0 = 1 - (d >= 0) for c < 0; alike
    for >= (with >) and == (either sign). The first term of the left side (by
    canonical key) gets coefficient 1.

    Exact in the reals. Terminates: afterwards that coefficient is 1.
    """
    if not isinstance(term, t.Compare) or not _is_zero(term.right):
        return None
    if term.op not in (">", ">=", "=="):
        return None
    parts = term.left.terms if isinstance(term.left, t.Add) else (term.left,)
    parts = tuple(p for p in parts if not _is_zero(p))
    if not parts:
        return None
    leading, _ = min((_coefficient(p) for p in parts), key=lambda c: key(c[1]))
    if leading in (1.0, 0.0):
        return None
    left = t.add([_divided(p, leading) for p in parts], term.left.free)
    if leading > 0 or term.op == "==":
        return t.Compare(term.op, left, _ZERO)
    opposite = ">=" if term.op == ">" else ">"
    return _one_minus(t.Compare(opposite, left, _ZERO), term.free)


def _is_zero(term: t.Term) -> bool:
    return isinstance(term, t.Zero) or term == _ZERO


def _indicator(term: t.Term) -> bool:
    """Whether the term is 0 or 1 everywhere: a comparison, a delta, or one minus either."""
    if isinstance(term, t.Compare | t.Delta):
        return True
    if not (isinstance(term, t.Add) and len(term.terms) == 2):
        return False
    one, minus = term.terms
    return (
        one == t.Const(1.0)
        and isinstance(minus, t.Product)
        and not minus.summed
        and len(minus.factors) == 2
        and minus.factors[0] == t.Const(-1.0)
        and isinstance(minus.factors[1], t.Compare | t.Delta)
    )


def _strict_against_zero(term: t.Term) -> t.Term | None:
    """The left side of `x > 0`, or None for any other term."""
    if isinstance(term, t.Compare) and term.op == ">" and _is_zero(term.right):
        return term.left
    return None


@rewrites(t.Compare)
def positive_part(term: t.Term) -> t.Term | None:
    """(max(0, x) > 0) = (x > 0), and (max(x, 0) > 0) alike.

    Exact: max(0, x) is positive exactly where x is. Terminates: a max goes.
    """
    left = _strict_against_zero(term)
    if not (isinstance(left, t.Extremum) and left.name == "max"):
        return None
    if _is_zero(left.first):
        return t.add([t.Compare(">", left.second, _ZERO)], term.free)
    if _is_zero(left.second):
        return t.add([t.Compare(">", left.first, _ZERO)], term.free)
    return None


@rewrites(t.Compare)
def mask_out_of_compare(term: t.Term) -> t.Term | None:
    """(b x > 0) = b (x > 0) for b a comparison, a delta, or one minus either.

    Exact: b is 0 or 1, and where it is 0 both sides are 0 (not so for >=,
    where the left would be 1). Terminates: the comparison's left side loses
    its masks.
    """
    left = _strict_against_zero(term)
    if not isinstance(left, t.Product) or left.summed:
        return None
    masks = [f for f in left.factors if _indicator(f)]
    if not masks:
        return None
    rest = [f for f in left.factors if not _indicator(f)]
    inner = rest[0] if len(rest) == 1 else t.Product(tuple(rest)) if rest else t.Const(1.0)
    return t.add([t.Product((*masks, t.Compare(">", inner, _ZERO)))], term.free)


@rewrites(t.Func)
def piecewise_as_comparisons(term: t.Term) -> t.Term | None:
    """step(x) = (x > 0); sign(x) = (x > 0) - (x < 0); relu(x) = max(x, 0);
    abs(x) = x sign(x) (spec 12.2); sqrt(x) = x^(1/2), so that `sqrt(x)^3 = x^(3/2)` (for x >= 0,
    where both are defined; (x^2)^(1/2) is |x| and is never folded).

    Terminates: the function goes; abs makes a sign, which makes none.
    """
    if not isinstance(term, t.Func):
        return None
    x = term.arg
    if term.name == "step":
        return t.Compare(">", x, _ZERO)
    if term.name == "sign":
        below = t.Product((t.Const(-1.0), t.Compare("<", x, _ZERO)))
        return t.add([t.Compare(">", x, _ZERO), below], x.free)
    if term.name == "relu":
        return t.Extremum("max", x, _ZERO)
    if term.name == "abs":
        # So that `d sign(d) / abs(d)` is 1 (log-determinants).
        return t.Product((x, t.Func("sign", x)))
    if term.name == "sqrt":
        # NaN below 0 either way (numpy's x ** 0.5 of a negative float).
        return t.Pow(x, t.Const(0.5))
    return None


_COMPARISON_RULES: tuple[Rule, ...] = (
    piecewise_as_comparisons,
    compare_with_zero,
    unit_leading_coefficient,
    positive_part,
    mask_out_of_compare,
)
# First pass: comparisons and functions in their canonical shape, with the
# simplifier's own rules and the power rules only (no product multiplied out
# yet, so a mask `(k != y[i])` is still a factor a comparison can give up, and
# `d sign(d) / (d sign(d))` still cancels as a whole).
COMPARISON_RULES: tuple[Rule, ...] = (
    *_COMPARISON_RULES,
    split_power_of_product,
    indicator_power,
    *RULES,
    merge_all_powers,
)
# Second pass: powers merge before any product is multiplied out, and the
# plain `distribute` is replaced by the quotient-first one.
CANONICAL_RULES: tuple[Rule, ...] = (
    *_COMPARISON_RULES,
    split_power_of_product,
    indicator_power,
    *(r for r in NORMAL_FORM_RULES if r.__name__ != "distribute"),
    exact_constants,
    merge_all_powers,
    divide_by_linear_sum,
    distribute_first_quotients,
)
