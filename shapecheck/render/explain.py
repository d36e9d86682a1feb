"""`shapecheck explain` output: a derivation's recorded steps, numbered.

Three formats of one `Explanation` (`shapecheck/explain.py`): plain text
(numbered lines grouped by the line they belong to: a definition, an
adjoint, the derivative), JSON (the steps as objects with their formulas
printed by `symbolic.formula`), and Markdown (the same lines with `$…$` math
from `render.math`). A file with errors comes as its `FileReport` and is
shown as diagnostics in the same format.

Formulas are shown without broadcast wrappers (`trace.shown`), and an
unevaluated local derivative of the chain rule as `∂Y[i,r]/∂W[j,k]`; the last
step, the derivative itself, is printed exactly as `derive` prints it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from shapecheck.explain import Explanation
from shapecheck.pipeline import FileReport, internal_error_report
from shapecheck.render import markdown as md
from shapecheck.render import math
from shapecheck.render.diagnostics import render_plain
from shapecheck.render.escape import visible
from shapecheck.render.json import escape_unsafe
from shapecheck.symbolic import terms as t
from shapecheck.symbolic import trace as tr
from shapecheck.symbolic.formula import formula, indices

Format = Literal["text", "json", "markdown"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown")
_ARROW = (tr.SUBSTITUTE, tr.REWRITE)  # identities on a subterm; the other kinds are equations


def render(result: Explanation | FileReport, output: Format) -> str:
    """The whole output of `explain`, ending in a newline."""
    if isinstance(result, FileReport):
        return _report(result, output)
    try:
        if output == "json":
            return json_text(result)
        if output == "markdown":
            return markdown(result)
        return text(result)
    except Exception as error:  # a renderer bug: an E999 report, never a traceback
        source = result.source
        return _report(internal_error_report(source.name, source.text.encode(), error), output)


def _report(report: FileReport, output: Format) -> str:
    """A file that could not be explained: its diagnostics."""
    if output == "json":
        from shapecheck.render import json as json_format

        return json_format.render([report], strict=False, exit_status=1) + "\n"
    if output == "markdown":
        return md.render([report], strict=False)
    return "\n\n".join(render_plain(report.source, d) for d in report.diagnostics) + "\n"


# ---------------------------------------------------------------------------
# Terms as steps show them


def _ranks(explanation: Explanation) -> dict[str, int]:
    return dict(explanation.ranks)


def _split(
    tensor: t.Tensor, ranks: dict[str, int]
) -> tuple[str, str, tuple[t.Index, ...], tuple[t.Index, ...]]:
    """A PARTIAL tensor `∂C/∂Y` at C's indices then Y's: (C, Y, c, y)."""
    consumer, _, wrt = tensor.name[1:].partition("/∂")
    rank = ranks.get(consumer, 0)
    return consumer, wrt, tensor.indices[:rank], tensor.indices[rank:]


def _partials(term: t.Term, ranks: dict[str, int], latex: bool) -> t.Term:
    """Each unevaluated ∂C/∂Y made printable: `∂Y[i,r]/∂W` at W's indices for
    the notes' notation, a reference `dY/dW` that render.math shows as a
    fraction of partials for LaTeX."""
    if isinstance(term, t.Tensor) and term.kind == tr.PARTIAL:
        consumer, wrt, of_at, wrt_at = _split(term, ranks)
        if latex:
            return t.Tensor(f"d{consumer}/d{wrt}", term.indices, t.REFERENCE)
        return t.Tensor(f"∂{consumer}{indices(of_at)}/∂{wrt}", wrt_at)
    kids = t.children(term)
    if not kids:
        return term
    return t.with_children(term, tuple(_partials(k, ranks, latex) for k in kids))


def _plain(term: t.Term, ranks: dict[str, int]) -> str:
    return formula(_partials(tr.shown(term), ranks, latex=False))


def _latex(term: t.Term, ranks: dict[str, int]) -> str:
    return math.term(_partials(tr.shown(term), ranks, latex=True), math.Ranks(ranks))


def _local_plain(step: tr.Step, ranks: dict[str, int]) -> str:
    """`∂W[s,r]/∂W[j,k]`, `∂(Σ_s W[s,r] X[i,s])/∂W[j,k]`."""
    assert step.before is not None and step.wrt is not None
    shown = _plain(step.before, ranks)
    top = shown if isinstance(tr.shown(step.before), t.Tensor) else f"({shown})"
    return f"∂{top}/∂{formula(step.wrt)}"


def _local_latex(step: tr.Step, ranks: dict[str, int]) -> str:
    assert step.before is not None and step.wrt is not None
    body, wrt = _latex(step.before, ranks), math.term(step.wrt)
    if isinstance(tr.shown(step.before), t.Tensor):
        return r"\frac{\partial " + body + r"}{\partial " + wrt + "}"
    return r"\frac{\partial}{\partial " + wrt + r"} \left(" + body + r"\right)"


def _before(step: tr.Step, ranks: dict[str, int], latex: bool) -> str | None:
    if step.before is None:
        return None
    if step.kind == tr.LOCAL:
        return _local_latex(step, ranks) if latex else _local_plain(step, ranks)
    if latex and step.kind in (tr.CHAIN, tr.RESULT):
        # The line being defined is a total derivative (dL/dY), its chain
        # rule's terms partial ones (∂Y/∂W): `d` sets it apart, as in text.
        return _latex(step.before, ranks).replace(r"\partial ", r"\mathrm{d} ")
    return _latex(step.before, ranks) if latex else _plain(step.before, ranks)


def _after(step: tr.Step, ranks: dict[str, int], latex: bool) -> str:
    if step.kind == tr.RESULT and not latex:
        return formula(step.after)  # exactly as `derive` prints it
    return _latex(step.after, ranks) if latex else _plain(step.after, ranks)


def _relation(step: tr.Step, latex: bool) -> str:
    if step.kind in _ARROW:
        return r" \to " if latex else " → "
    return " = "


def _statement(step: tr.Step, ranks: dict[str, int], latex: bool) -> str:
    before = _before(step, ranks, latex)
    after = _after(step, ranks, latex)
    return after if before is None else before + _relation(step, latex) + after


# ---------------------------------------------------------------------------
# Groups: consecutive steps of one line


def _groups(explanation: Explanation) -> Iterator[tuple[str, str, list[tuple[int, tr.Step]]]]:
    """(label, what the line is, its numbered steps), in the order recorded."""
    final = explanation.steps[-1].adjoint if explanation.steps else ""
    current: list[tuple[int, tr.Step]] = []
    for number, step in enumerate(explanation.steps, 1):
        if current and step.adjoint != current[0][1].adjoint:
            yield _group(current, final)
            current = []
        current.append((number, step))
    if current:
        yield _group(current, final)


def _group(
    steps: list[tuple[int, tr.Step]], final: str
) -> tuple[str, str, list[tuple[int, tr.Step]]]:
    label = steps[0][1].adjoint
    if any(s.kind == tr.DEFINITION for _, s in steps):
        return label, "definition", steps
    return label, "the derivative" if label == final else "adjoint", steps


def _more(explanation: Explanation) -> str:
    count = explanation.omitted
    return f"… {count} more step{'' if count == 1 else 's'}, not shown"


def _cut_before(explanation: Explanation, steps: list[tuple[int, tr.Step]]) -> bool:
    """Whether the steps left out (all before the last) go before this group:
    when the group is the last step alone."""
    last = len(explanation.steps)
    return bool(explanation.omitted) and steps[0][0] == last


def _cut_at(explanation: Explanation, steps: list[tuple[int, tr.Step]], number: int) -> bool:
    """Whether the steps left out go just before step `number`, in its group."""
    last = len(explanation.steps)
    return bool(explanation.omitted) and number == last and steps[0][0] != last


# ---------------------------------------------------------------------------
# The three formats


def text(explanation: Explanation) -> str:
    ranks = _ranks(explanation)
    name = visible(explanation.source.name, keep="")
    lines = [f"{explanation.label} in {name}: {_count(explanation)}", ""]
    for label, what, steps in _groups(explanation):
        if _cut_before(explanation, steps):
            lines += [_more(explanation), ""]
        lines.append(f"{label} ({what})")
        for number, step in steps:
            if _cut_at(explanation, steps, number):
                lines.append(f"   {_more(explanation)}")
            lines.append(f"{number:>4}. {step.words}: {_statement(step, ranks, False)}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _count(explanation: Explanation) -> str:
    shown = len(explanation.steps)
    total = shown + explanation.omitted
    return f"{total} step{'' if total == 1 else 's'}" + (
        f" ({shown} shown)" if explanation.omitted else ""
    )


def steps_json(explanation: Explanation) -> list[dict[str, Any]]:
    ranks = _ranks(explanation)
    return [
        {
            "number": number,
            "kind": step.kind,
            "rule": step.words,
            "rule_id": step.rule,
            "adjoint": step.adjoint,
            "before": _before(step, ranks, False),
            "after": _after(step, ranks, False),
        }
        for number, step in enumerate(explanation.steps, 1)
    ]


def json_text(explanation: Explanation) -> str:
    document = {
        "file": explanation.source.name,
        "derivative": explanation.label,
        "formula": formula(explanation.derivation.formula),
        "steps": steps_json(explanation),
        "omitted": explanation.omitted,
    }
    return escape_unsafe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def markdown(explanation: Explanation) -> str:
    ranks = _ranks(explanation)
    derivation = explanation.derivation
    title = md.inline_math(math.partial(derivation.of, derivation.wrt))
    lines = [
        f"### Explanation of {title} in {md.code(explanation.source.name)}",
        "",
        md.text(_count(explanation)),
        "",
    ]
    for label, what, steps in _groups(explanation):
        if _cut_before(explanation, steps):
            lines += [md.text(_more(explanation)), ""]
        lines += [f"**{md.code(label)}** ({what})", ""]
        for number, step in steps:
            if _cut_at(explanation, steps, number):
                lines += [md.text(_more(explanation)), ""]
            statement = md.inline_math(_statement(step, ranks, True))
            lines.append(f"{number}. {md.text(step.words)}: {statement}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
