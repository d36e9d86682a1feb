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
        self.order: list[str] = []
        self.position: dict[str, int] = {}
        self.consumers: dict[str, list[str]] = {}
        self.uses: dict[str, tuple[str, ...]] = {}
        for definition in program.definitions:
            self.add(definition.name, definition.depends_on)

    def add(self, name: str, uses: tuple[str, ...]) -> None:
        """A definition after the others: the file's, or the first derivative
        `dA/dB` that the symbolic stage defines for d2A/dB2 (spec 9.6)."""
        self.position[name] = len(self.order)
        self.order.append(name)
        self.uses[name] = uses
        for used in dict.fromkeys(uses):  # once each: a consumer is one link
            self.consumers.setdefault(used, []).append(name)

    def upstream_of(self, of: str) -> set[str]:
        """Every name `of` depends on, and `of` itself."""
        seen = {of}
        stack = [of]
        while stack:
            for used in self.uses.get(stack.pop(), ()):
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
