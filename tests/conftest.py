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

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# The op table modules (optable*.py) and the profiles are imported by name from the tests folder.
sys.path.insert(0, str(Path(__file__).parent))

from hypothesis_profiles import choose_profile  # noqa: E402

settings.load_profile(choose_profile())


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
