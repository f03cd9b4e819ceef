"""Package hygiene: no pickle anywhere, light imports, no global NumPy randomness."""

import re
import subprocess
import sys
from pathlib import Path

import backprop as bp

SRC = Path(bp.__file__).parent


def _sources():
    return [(p, p.read_text()) for p in SRC.rglob("*.py")]


def test_no_module_imports_pickle_or_allows_pickle():
    for path, text in _sources():
        assert not re.search(r"^\s*(import pickle|from pickle|import cPickle)", text, re.M), path
        assert not re.search(r"allow_pickle\s*=\s*True", text), path


def test_no_global_numpy_random_state():
    pattern = r"np\.random\.(seed|rand|randn|randint|shuffle|permutation|normal|uniform|choice)\("
    for path, text in _sources():
        assert not re.search(pattern, text), f"{path} uses the global np.random state"


def test_import_backprop_stays_light():
    code = (
        "import sys, backprop; "
        "heavy = [m for m in ('matplotlib', 'sklearn', 'tqdm', 'safetensors', 'torch', 'mpi4py', "
        "'numba') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_set_num_threads_round_trip():
    before = bp.get_num_threads()
    bp.set_num_threads(1)
    assert bp.get_num_threads() == 1
    bp.set_num_threads(before)
    assert bp.get_num_threads() == before
