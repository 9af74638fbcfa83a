"""Analysis passes over a LayerGraph; each asks the layer registry for the math."""

from cnncalc.analysis.report import Report, analyze

__all__ = ["Report", "analyze"]
