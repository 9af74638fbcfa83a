"""Question templates (EXAM.md §3); importing this package registers them all."""

from cnncalc.exam.templates import (
    cost,  # noqa: F401  (registers)
    design,  # noqa: F401  (registers)
    errors,  # noqa: F401  (registers)
    fields,  # noqa: F401  (registers)
    memory,  # noqa: F401  (registers)
    numeric,  # noqa: F401  (registers)
    params,  # noqa: F401  (registers)
    sizes,  # noqa: F401  (registers)
    trace,  # noqa: F401  (registers)
)
from cnncalc.exam.templates.base import TEMPLATES, Template

__all__ = ["TEMPLATES", "Template"]
