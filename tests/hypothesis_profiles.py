"""The hypothesis profiles (see tests/conftest.py's docstring), in a module of their own so that
a test can import them (``conftest`` is ambiguous: tests/data has one too)."""

import os

from hypothesis import HealthCheck, settings

# Each profile derives from hypothesis' own defaults, not from whatever profile is loaded at import
# (hypothesis loads its built-in "ci" profile itself when it sees CI, and every profile would
# then inherit derandomize=True from it).
_BASE = settings.get_profile("default")
settings.register_profile("dev", _BASE, max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    _BASE,
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,  # a failure prints the @reproduce_failure blob
    suppress_health_check=[HealthCheck.too_slow],  # shared CI machines are slow
)
settings.register_profile("thorough", _BASE, max_examples=2000, deadline=None)


def choose_profile(env=os.environ) -> str:
    """The profile to load: HYPOTHESIS_PROFILE, else BACKPROP_HYPOTHESIS, else ci under CI."""
    name = env.get("HYPOTHESIS_PROFILE") or env.get("BACKPROP_HYPOTHESIS")
    if name:
        return "dev" if name == "default" else name
    return "ci" if env.get("CI", "").strip().lower() in ("true", "1", "yes") else "dev"
