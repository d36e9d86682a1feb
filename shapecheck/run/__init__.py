"""Running `check` over many files: which files, read how, analysed in what order.

Between the command line and the pipeline: `cli` parses options and decides
exit statuses; this package finds and reads the files and hands each to
`pipeline`. Configuration and a parallel runner will live here too.
"""
