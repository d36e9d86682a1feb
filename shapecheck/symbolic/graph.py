"""The definition graph of the symbolic stage: which definition uses which.

Reverse mode (`derive`) visits the definitions on the paths from a target to
the array it is differentiated by, and numeric verification recomputes the
same ones when that array moves; both ask this graph. It knows names only,
never terms.
"""

from __future__ import annotations

from shapecheck.check.program import CheckedProgram


class DefinitionGraph:
    """The file's definitions in order, and the consumers of every name."""

    def __init__(self, program: CheckedProgram) -> None:
        self.program = program
        self.order = [d.name for d in program.definitions]
        self.position = {name: k for k, name in enumerate(self.order)}
        self.consumers: dict[str, list[str]] = {}
        for definition in program.definitions:
            for used in definition.depends_on:
                self.consumers.setdefault(used, []).append(definition.name)

    def upstream_of(self, of: str) -> set[str]:
        """Every name `of` depends on, and `of` itself."""
        seen = {of}
        stack = [of]
        while stack:
            definition = self.program.definition(stack.pop())
            for used in definition.depends_on if definition else ():
                if used not in seen:
                    seen.add(used)
                    stack.append(used)
        return seen

    def downstream_of(self, wrt: str) -> set[str]:
        """Every definition that uses `wrt`, directly or not, and `wrt` itself."""
        seen = {wrt}
        stack = [wrt]
        while stack:
            for consumer in self.consumers.get(stack.pop(), ()):
                if consumer not in seen:
                    seen.add(consumer)
                    stack.append(consumer)
        return seen

    def on_path(self, of: str, wrt: str) -> list[str]:
        """Definitions that depend on `wrt` and that `of` depends on (or is), in
        file order: what reverse mode visits, and what moving `wrt` recomputes."""
        upstream = self.upstream_of(of)
        downstream = self.downstream_of(wrt)
        return [n for n in self.order if n in upstream and n in downstream and n != wrt]
