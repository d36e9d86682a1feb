"""Stage 4, numeric: everything that imports numpy (values, evaluation, verification, code
printing).
"""
