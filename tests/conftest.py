import importlib.util
import os

import pytest

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_FVCORE = importlib.util.find_spec("fvcore") is not None

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
needs_fvcore = pytest.mark.skipif(not (HAS_TORCH and HAS_FVCORE), reason="fvcore is not installed")

# The suite runs under `pytest -n 2` on two cores: each worker's torch gets one thread, or the
# workers' thread pools fight over the cores (a float64 conv then takes milliseconds, not µs).
os.environ.setdefault("OMP_NUM_THREADS", "1")
