"""cnncalc: analytic shapes, parameters, FLOPs, memory and receptive fields of CNN specs."""

__version__ = "0.1.0"
