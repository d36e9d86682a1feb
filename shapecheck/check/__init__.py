"""Stage 2, check: `ast.Program` -> `CheckedProgram`, one module per rule family of the
language reference.
"""
