"""The layer registry. Importing this package registers every built-in kind."""

from cnncalc.layers import (
    activation,  # noqa: F401  (registers)
    conv,  # noqa: F401  (registers)
    io,  # noqa: F401  (registers)
    linear,  # noqa: F401  (registers)
    merge,  # noqa: F401  (registers)
    norm,  # noqa: F401  (registers)
    pool,  # noqa: F401  (registers)
    upsample,  # noqa: F401  (registers)
)
from cnncalc.layers.base import REGISTRY, LayerKind, lookup

__all__ = ["REGISTRY", "LayerKind", "lookup"]
