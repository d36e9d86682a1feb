"""Stage 1, syntax: source text -> `ast.Program`.

In pipeline order: `lines` (logical lines), `grammar` with `lexer` and `build`
(each line parsed into AST nodes), `errors` (syntax-error wording), `blocks`
(`for` bodies by indentation), all driven by `parse.parse`; then `unroll`
expands `for` blocks once sizes are known.
"""
