import importlib.util

import pytest

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_FVCORE = importlib.util.find_spec("fvcore") is not None

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
needs_fvcore = pytest.mark.skipif(not (HAS_TORCH and HAS_FVCORE), reason="fvcore is not installed")
