"""Suite-wide test configuration: which examples the property tests draw.

By default hypothesis draws the same examples on every run and keeps no
example database, so a CI run never fails on a draw the previous one did not
make, and a failure found once is found again on the same commit. To explore
(fresh random draws on every run), run with
`HYPOTHESIS_PROFILE=explore`; a failure it finds is printed with the
`@reproduce_failure` blob to pin it.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
