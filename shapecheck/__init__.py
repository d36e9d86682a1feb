"""shapecheck: index-notation shape checking, derivatives and gradient verification.

The pipeline, one package per stage (see docs/architecture.md): syntax ->
check -> symbolic -> numeric, threaded by `pipeline`; `render` turns reports
into text and `cli` is the command line. This module is the public API:

    from pathlib import Path
    import shapecheck

    report = shapecheck.analyze_path(Path("samples/affine.idx"), shapecheck.Options())
    print(report.errors, [d.code for d in report.diagnostics])
    quick = shapecheck.analyze_text("inline.idx", "param a\\ny = a\\n", shapecheck.Options())

Importing it stays cheap: the pipeline (and the parser with it) loads on
first use, and numpy only when numeric checks run.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Not `typing.TYPE_CHECKING`: importing typing would double the import time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from shapecheck.pipeline import FileReport, Options, analyze_path

__all__ = ["FileReport", "Options", "__version__", "analyze_path", "analyze_text"]

# Served from shapecheck.pipeline on first use, so that `shapecheck --version`
# and `import shapecheck` do not load the parser.
_FROM_PIPELINE = frozenset({"FileReport", "Options", "analyze_path"})


def __getattr__(name: str) -> Any:
    if name in _FROM_PIPELINE:
        from shapecheck import pipeline

        value = getattr(pipeline, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM_PIPELINE})


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext shapecheck`: registers the `%%shapecheck` cell magic (see shapecheck.notebook)."""
    from shapecheck.notebook import load_ipython_extension as load

    load(ipython)


def analyze_text(name: str, text: str, options: Options) -> FileReport:
    """Analyse `.idx` text as if read from a file called `name` (diagnostics
    point into it by that name); like `analyze_path`, it never raises for bad
    input, every problem is a diagnostic of the report."""
    from shapecheck.pipeline import analyze_source
    from shapecheck.source import Source

    return analyze_source(Source(name, text), options)
