"""Keep what failed: each failing input saved with its findings, counts, the summary.

Failures are deduplicated by cause (see `classify`): every cause is listed
once with how many inputs hit it and the smallest of them, and at most
`KEEP_PER_CAUSE` inputs per cause are saved, so a campaign of 100,000 inputs
cannot fill the disk with copies of one bug.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.fuzzing.classify import CRASH, FALSE, HANG, INVALID, KINDS
from benchmarks.fuzzing.pool import Result

KEEP_PER_CAUSE = 20
# The slowest inputs are listed (run index, seconds): how close the campaign
# came to the hang limit, and where to look for the next superlinear stage.
SLOWEST_KEPT = 5


@dataclass
class Cause:
    kind: str
    cause: str
    count: int = 0
    smallest: bytes = b""
    smallest_index: int = -1
    detail: str = ""


@dataclass
class Tally:
    out: Path
    runs: int = 0
    seconds: float = 0.0
    failed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    causes: dict[tuple[str, str], Cause] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    # (seconds, run index) of the slowest inputs, as a heap of at most SLOWEST_KEPT.
    slowest: list[tuple[float, int]] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.runs += 1
        self.seconds += result.seconds
        timed = (result.seconds, result.case.index)
        if len(self.slowest) < SLOWEST_KEPT:
            heapq.heappush(self.slowest, timed)
        else:
            heapq.heappushpop(self.slowest, timed)
        for note in result.notes:
            self.notes[note] = self.notes.get(note, 0) + 1
        for kind in {f.kind for f in result.findings}:
            self.failed[kind] += 1
        for finding in result.findings:
            key = (finding.kind, finding.cause)
            cause = self.causes.setdefault(key, Cause(finding.kind, finding.cause))
            cause.count += 1
            data = result.case.data
            if cause.smallest_index < 0 or len(data) < len(cause.smallest):
                cause.smallest, cause.smallest_index = data, result.case.index
                cause.detail = finding.detail
            if cause.count <= KEEP_PER_CAUSE:
                self._save(result, finding.kind, finding.cause, finding.detail)

    def _save(self, result: Result, kind: str, cause: str, detail: str) -> None:
        folder = self.out / kind.replace(" ", "-") / _slug(cause)
        folder.mkdir(parents=True, exist_ok=True)
        case = result.case
        (folder / f"{case.index}.idx").write_bytes(case.data)
        (folder / f"{case.index}.txt").write_text(
            f"class: {kind}\ncause: {cause}\ninput: {case.origin} ({case.recipe}), "
            f"run index {case.index}, command {case.command}\n\n{detail}\n",
            encoding="utf-8",
            errors="backslashreplace",
        )

    def failures(self) -> int:
        return sum(self.failed.values())

    def summary_lines(self) -> list[str]:
        f = self.failed
        lines = [
            f"runs {self.runs}, crashes {f[CRASH]}, hangs {f[HANG]}, "
            f"invalid outputs {f[INVALID]}, false verdicts {f[FALSE]}"
        ]
        for (kind, name), cause in sorted(self.causes.items()):
            lines.append(
                f"  {kind}: {name}  [{cause.count} inputs; smallest: run {cause.smallest_index}, "
                f"{len(cause.smallest)} bytes]"
            )
        lines += [f"  note: {note}: {count}" for note, count in sorted(self.notes.items())]
        if self.slowest:
            runs = ", ".join(f"run {index} {seconds:.1f} s" for seconds, index in self._slowest())
            lines.append(f"  slowest: {runs}")
        return lines

    def _slowest(self) -> list[tuple[float, int]]:
        return sorted(self.slowest, reverse=True)

    def write(self, seed: int, wall: float) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        document = {
            "seed": seed,
            "runs": self.runs,
            "wall_seconds": round(wall, 1),
            "failed_inputs": self.failed,
            "notes": self.notes,
            "slowest": [
                {"run": index, "seconds": round(seconds, 2)} for seconds, index in self._slowest()
            ],
            "causes": [
                {
                    "class": c.kind,
                    "cause": c.cause,
                    "inputs": c.count,
                    "smallest_run": c.smallest_index,
                    "smallest_input": c.smallest.decode("utf-8", errors="backslashreplace"),
                    "detail": c.detail[-3000:],
                }
                for c in self.causes.values()
            ],
        }
        (self.out / "summary.json").write_text(json.dumps(document, indent=2), encoding="utf-8")


def _slug(cause: str) -> str:
    digest = hashlib.sha1(cause.encode()).hexdigest()[:8]
    words = "".join(c if c.isalnum() else "-" for c in cause)[:48].strip("-")
    return f"{words}-{digest}"
