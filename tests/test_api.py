"""The public API of `import shapecheck`: small, documented and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import ROOT, SAMPLES

import shapecheck


def _modules_after(statement: str) -> set[str]:
    """The modules loaded by `statement` in a fresh interpreter."""
    probe = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_importing_shapecheck_does_not_import_numpy_or_the_pipeline() -> None:
    loaded = _modules_after("import shapecheck")
    assert "numpy" not in loaded
    assert "shapecheck.pipeline" not in loaded


def test_cli_start_up_does_not_import_numpy() -> None:
    assert "numpy" not in _modules_after("import shapecheck.cli")


def test_analyze_path_on_a_sample() -> None:
    report = shapecheck.analyze_path(SAMPLES / "affine.idx", shapecheck.Options())
    assert isinstance(report, shapecheck.FileReport)
    assert report.errors == 0 and report.warnings == 0
    assert [r.derivation.label for r in report.derivatives] == ["dY/dX", "dL/dW"]
    assert all(r.check is not None and r.check.verdict == "ok" for r in report.derivatives)


def test_analyze_text_names_the_text_in_its_diagnostics() -> None:
    report = shapecheck.analyze_text("inline.idx", "y = a\n", shapecheck.Options())
    assert report.source.name == "inline.idx"
    assert [d.code for d in report.diagnostics] == ["E101"]  # `a` is not declared


def test_every_public_name_resolves_and_no_other() -> None:
    for name in shapecheck.__all__:
        assert getattr(shapecheck, name) is not None
    assert set(shapecheck.__all__) <= set(dir(shapecheck))
    with pytest.raises(AttributeError):
        _ = shapecheck.no_such_name  # type: ignore[attr-defined]


def test_version_is_a_string() -> None:
    assert isinstance(shapecheck.__version__, str) and shapecheck.__version__


def test_docstring_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = shapecheck.__doc__ or ""
    # The example is the docstring's only indented block.
    code = "\n".join(line[4:] for line in doc.splitlines() if line.startswith("    "))
    monkeypatch.chdir(ROOT)
    scope: dict[str, object] = {}
    exec(code, scope)
    assert isinstance(scope["report"], shapecheck.FileReport)
    assert isinstance(scope["quick"], shapecheck.FileReport)
