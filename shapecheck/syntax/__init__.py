"""Stage 1, syntax: source text -> `ast.Program` (lines, lexer, tree builder, syntax-error
wording, unrolling of `for` blocks).
"""
