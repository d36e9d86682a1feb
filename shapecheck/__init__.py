"""shapecheck: index-notation shape checking, derivatives and gradient verification.

The pipeline, one module per stage (see docs/architecture.md):
parse -> unroll -> check -> lower -> derive/simplify -> evaluate/verify -> render.
"""

__version__ = "0.1.0"
