"""Claims the generator can state as the exact truth: the tool's own formulas, round-tripped.

`--expand` prints each derivative as one formula in the notes' notation,
where a bare `Σ_j` reaches as far right as its product (to the next `+`/`-`,
comparison, `,` or closing bracket of its level: `max(Σ_j a[j], b)`,
`step(Σ_j a[j] > 0)`). Rewritten with explicit `sum[j](...)`,
that formula is a claim that must be judged right. A formula that cannot be
written back (a rounded constant, a size printed as a dim name, a name bound
by two sums, notation the claim grammar refuses) is skipped, never judged.
"""

from __future__ import annotations

import json
import re

_TOKEN = re.compile(r"Σ_\w+|\w+/\w+|[A-Za-z_]\w*|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\s+|.")
_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:e[+-]?\d+)?$")
# Where a printed `Σ_j` stops besides `+`/`-`: a comparison (its first
# character) or a comma between arguments.
_STOPS = frozenset(",<>=!≥≤≠")


def _ends_operand(token: str | None) -> bool:
    return token is not None and (token[-1].isalnum() or token[-1] in "])_")


def _rounded(token: str) -> bool:
    """A number `.6g` may have rounded: six significant digits, or an exponent."""
    digits = token.split("e")[0].replace(".", "").lstrip("0")
    return "e" in token or len(digits) >= 6


def to_idx(formula: str) -> str | None:
    """Rewrite `Σ_i x[i] y[i] + b` as `sum[i](x[i] y[i]) + b`; None if it cannot."""
    out: list[str] = []
    open_sums = [0]  # per parenthesis level: sums to close at its end
    previous: str | None = None
    pending: list[str] = []
    bound: set[str] = set()
    for token in _TOKEN.findall(formula):
        if token.isspace():
            if not pending:  # the space after `Σ_j` goes with the `Σ`
                out.append(token)
            continue
        if _NUMBER.match(token) and _rounded(token):
            return None
        if token.startswith("Σ_"):
            if token[2:] in bound:
                # Printed sums may reuse a name at another size; written back,
                # rule 1 would give both one size and change the meaning.
                return None
            bound.add(token[2:])
            pending.append(token[2:])
            continue
        if pending:
            out.append(f"sum[{', '.join(pending)}](")
            open_sums[-1] += 1
            pending = []
        if token in "([":
            open_sums.append(0)
        elif token in ")]" and len(open_sums) > 1:
            out.append(")" * open_sums.pop())
        elif token in _STOPS or (token in "+-" and _ends_operand(previous)):
            out.append(")" * open_sums[-1])
            open_sums[-1] = 0
        out.append(token)
        previous = token
    if pending:
        return None
    return "".join(out) + ")" * sum(open_sums)


def exact_claims(json_text: str, through_lines: bool = False) -> list[str]:
    """Claim lines from the `expanded` formulas of a `--format json` report, or
    with `through_lines` from the formulas as derived, which read adjoint lines
    `dL/dH[i, k]`: a claim reads those as references to the derivatives of the
    same names, which the tool derives and evaluates on their own (their ties
    and rounding included)."""
    lines = []
    for file in json.loads(json_text)["files"]:
        for derivative in file["derivatives"][:3]:
            formula = derivative.get("formula")
            if not through_lines:
                formula = derivative.get("expanded") or formula
            body = to_idx(formula) if formula else None
            if body is None:
                continue
            signature = derivative["signature"]
            indices = f"[{', '.join(signature)}]" if signature else ""
            lines.append(f"{derivative['label']}{indices} = {body}")
    return lines
