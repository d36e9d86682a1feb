"""Stage 3, symbolic: checked program -> tensor terms -> derivations, simplification and
claim matches.
"""
