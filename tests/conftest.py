import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests run a bounded number of examples in `make test`; the larger profile is on demand:
#   BACKPROP_HYPOTHESIS=thorough make test
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("BACKPROP_HYPOTHESIS", "default"))

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
