"""Explain one derivative of one file: the steps the derivation engine took.

`shapecheck explain FILE dA/dB` runs the stages as `pipeline` does (read,
parse, unroll, check, sizes for the numeric checks) and then derives dA/dB
alone, with a `Trace` recording each step as the engine works (see
`symbolic/trace.py`): the definitions on the path, for each adjoint the chain
rule, the local rules, the local derivatives put in and every rewrite, and at
the end the derivative exactly as `derive` prints it (in adjoint form: an
explanation is of the derivation, so `--expand` has no part in it).

What can go wrong, and who words it:

- a file with errors: the `FileReport` with its diagnostics is returned, as
  `analyze_path` would give it (the command then exits 1);
- a derivative too large to derive: that report with E303 at the request;
- a request that is not `dA/dB`, or names an array the file does not have:
  `UnknownDerivative`, a problem with the command (exit 2). Any two arrays
  of the file can be explained, not only the file's `derive` requests.

Like the pipeline, this module never prints and never exits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from shapecheck.check.program import CheckedProgram, DeriveRequest
from shapecheck.diagnostics import Diagnostic
from shapecheck.pipeline import (
    FileReport,
    Options,
    decode,
    front_end,
    in_order,
    internal_error_report,
    not_derived,
    not_prepared,
    through_loss,
)
from shapecheck.source import Source
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import (
    Derivation,
    DerivationTooLarge,
    Deriver,
    SecondDerivativeOfLoss,
)
from shapecheck.symbolic.fold import Folder, folder_of
from shapecheck.symbolic.simplify import SimplifyLimit
from shapecheck.symbolic.trace import DEFAULT_LIMIT, Step, Trace
from shapecheck.syntax.ast import derivative_label

_REQUEST = re.compile(r"\s*d\s*(\S+?)\s*/\s*d\s*(\S+)\s*")
_SECOND = re.compile(r"\s*[d∂][2²]([A-Za-z_]\w*)/[d∂]([A-Za-z_]\w*?)[2²]\s*")


class UnknownDerivative(ValueError):
    """The requested derivative is not `dA/dB` over two arrays of the file."""


@dataclass(frozen=True)
class Explanation:
    """A derivative and the steps that derived it, in the order they were taken."""

    source: Source
    derivation: Derivation
    steps: tuple[Step, ...]
    omitted: int  # steps past the trace's limit, counted but not kept
    ranks: tuple[tuple[str, int], ...]  # each array's rank, to show ∂C[c]/∂Y[y]
    diagnostics: tuple[Diagnostic, ...] = field(default=())  # the file's warnings

    @property
    def label(self) -> str:
        return self.derivation.label


def parse_request(text: str) -> tuple[str, str]:
    """`dL/dW` -> ("L", "W"); UnknownDerivative for anything else."""
    match = _REQUEST.fullmatch(text)
    if match is None:
        raise UnknownDerivative(f"expected a derivative such as dL/dW, not {text!r}")
    return match.group(1), match.group(2)


def parse_target(text: str) -> tuple[str, str, int]:
    """`dL/dW` -> ("L", "W", 1); `d2L/dw2` (or `∂²L/∂w²`) -> ("L", "w", 2), spec 9.6."""
    second = _SECOND.fullmatch(text)
    if second is not None:
        return second.group(1), second.group(2), 2
    return (*parse_request(text), 1)


def _source(file: Path | Source | str) -> tuple[Source, list[Diagnostic]]:
    """A path is read (OSError when it cannot be), a string is the text itself."""
    if isinstance(file, Source):
        return file, []
    if isinstance(file, Path):
        return decode(str(file), file.read_bytes())
    return Source("<text>", file), []


def _request(checked: CheckedProgram, of: str, wrt: str, order: int = 1) -> DeriveRequest:
    """The file's own request for dOF/dWRT if it has one (for its place in the
    file), else a request without a place."""
    for request in checked.requests:
        if (request.of, request.wrt, request.order) == (of, wrt, order):
            return request
    names = {a.name for a in checked.arrays}
    unknown = [n for n in (of, wrt) if n not in names]
    if unknown:
        asked = ", ".join(r.label for r in checked.requests) or "none"
        raise UnknownDerivative(
            f"{derivative_label(of, wrt, order)}: the file has no array `{unknown[0]}` "
            f"(its arrays: {', '.join(sorted(names)) or 'none'}; it derives: {asked})"
        )
    return DeriveRequest(of, wrt, None, order=order)


def explain(
    file: Path | Source | str,
    of: str,
    wrt: str,
    options: Options | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    order: int = 1,
) -> Explanation | FileReport:
    """The recorded derivation of dOF/dWRT in `file` (a path, a Source, or .idx
    text), keeping at most `limit` steps besides the result; or the file's
    report when it has errors or the derivative is too large to derive.

    Raises OSError when a path cannot be read, UnknownDerivative when OF or
    WRT is not an array of the file.
    """
    options = options or Options()
    source, problems = _source(file)
    if problems:
        return FileReport(source, None, tuple(problems))
    try:
        return _explain(source, (of, wrt, order), options, limit)
    except UnknownDerivative:
        raise
    except Exception as error:  # a bug of ours: reported as E999, never a traceback
        return internal_error_report(source.name, source.text.encode(), error)


def _explain(
    source: Source, target: tuple[str, str, int], options: Options, limit: int
) -> Explanation | FileReport:
    # The same program `derive` derives from, so the formulas are the same.
    checked, problems, _ = front_end(source, options)
    if any(p.is_error for p in problems):
        return FileReport(source, checked, in_order(problems))
    request = _request(checked, *target)
    trace = Trace(limit)
    deriver: Deriver | None = None
    try:
        deriver = Deriver(checked, trace)
        folder = folder_of(deriver)
        derivation = _in_the_files_names(deriver.derive(*target), folder, trace)
    except (DerivationTooLarge, SimplifyLimit) as error:
        # Preparing fails at a definition, as `derive` says it; deriving at the request.
        if deriver is None:
            problems.append(not_prepared(checked, error))
        else:
            problems.append(not_derived(request, error))
        return FileReport(source, checked, in_order(problems))
    except SecondDerivativeOfLoss as error:
        problems.append(through_loss(request.label, error, request.span, request.loop))
        return FileReport(source, checked, in_order(problems))
    ranks = tuple((a.name, a.rank) for a in checked.arrays)
    steps = tuple(_binders_named(step, folder) for step in trace.steps)
    return Explanation(source, derivation, steps, trace.omitted, ranks, in_order(problems))


def _binders_named(step: Step, folder: Folder) -> Step:
    """The step with a bound index that took a dim's name (a substitution
    deep in a rewrite sees only its term: `argmax[p:2]` with a dim p) named
    as the result names it, so that each line reads back."""
    before = None if step.before is None else folder.binders_named(step.before)
    after = folder.binders_named(step.after)
    if before is step.before and after is step.after:
        return step
    return replace(step, before=before, after=after)


def _in_the_files_names(derivation: Derivation, folder: Folder, trace: Trace) -> Derivation:
    """The derivation as `derive` prints it, each line the fold changed
    recorded as a last step of the explanation."""
    folded = folder.derivation(derivation)
    for before, after in zip(derivation.adjoints, folded.adjoints, strict=True):
        if after.formula is not before.formula:
            line = t.Tensor(before.label, before.indices, t.ADJOINT)
            trace.folded(line, before.formula, after.formula, final=False)
    if folded.formula is not derivation.formula:
        line = t.Tensor(derivation.label, derivation.indices, t.ADJOINT)
        trace.folded(line, derivation.formula, folded.formula, final=True)
    return folded


__all__ = ["Explanation", "UnknownDerivative", "explain", "parse_request", "parse_target"]
