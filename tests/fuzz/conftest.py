"""One hypothesis profile for the fuzz tests: reproducible in CI, deeper on demand with KULAK_FUZZ_EXAMPLES."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# derandomize: the same examples on every run, so a red CI run is red again on a developer's machine;
# database=None: nothing is written under .hypothesis/ (a derandomized run has nothing to replay anyway).
# deadline=None: the machine is shared and a slow example is not a failure; hangs are caught by explicit timing.
settings.register_profile(
    "kulak-fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(os.environ.get("KULAK_FUZZ_EXAMPLES") or 100),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("kulak-fuzz")
