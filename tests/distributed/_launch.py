"""What the multi-rank tests share: the ``mpiexec`` beside this interpreter (the mpich wheel's)
or on PATH, the skip marker where it or mpi4py is missing, and each rank's environment."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")

try:
    import mpi4py  # noqa: F401

    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False

requires_mpi = pytest.mark.skipif(
    MPIEXEC is None or not HAVE_MPI4PY,
    reason="mpiexec or mpi4py not installed (pip install 'backprop[distributed]')",
)

# One thread per rank, the NumPy kernels: ranks share the cores, and results are compared exactly.
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", BACKPROP_KERNELS="numpy")
