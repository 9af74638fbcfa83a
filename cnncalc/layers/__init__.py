"""The layer registry. Importing this package registers every built-in kind."""

from cnncalc.layers import conv  # noqa: F401  (registers)
from cnncalc.layers import io  # noqa: F401
from cnncalc.layers.base import REGISTRY, LayerKind, lookup

__all__ = ["REGISTRY", "LayerKind", "lookup"]
