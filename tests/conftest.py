"""Shared fixtures and the hypothesis profiles.

Hypothesis profiles (property and fuzz tests):

- ``dev`` (the default): 60 examples per test, random each run; a failure is saved in the local
  ``.hypothesis`` database and replayed first next time.
- ``ci``: the same 60 examples, derandomized (the same examples on every run, so a CI failure is
  reproducible and a green run stays green), no example database. Chosen automatically when the
  environment has ``CI=true`` (``.ci/run`` sets it; so do GitHub Actions and most CI services).
- ``thorough``: 2,000 examples per test, on demand: ``HYPOTHESIS_PROFILE=thorough make test``.

``HYPOTHESIS_PROFILE`` names the profile explicitly and wins over ``CI``; the older
``BACKPROP_HYPOTHESIS`` is still read when it is not set.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest
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


def _hypothesis_profile(env=os.environ) -> str:
    """The profile to load: HYPOTHESIS_PROFILE, else BACKPROP_HYPOTHESIS, else ci under CI."""
    name = env.get("HYPOTHESIS_PROFILE") or env.get("BACKPROP_HYPOTHESIS")
    if name:
        return "dev" if name == "default" else name
    return "ci" if env.get("CI", "").strip().lower() in ("true", "1", "yes") else "dev"


settings.load_profile(_hypothesis_profile())

# The op table modules (optable*.py) are imported by name from the tests folder.
sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    import backprop

    backprop.manual_seed(0)


@pytest.fixture
def mnist_dir():
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found at {MNIST_DIR} (present in CI beside the checkout)")
    return MNIST_DIR
