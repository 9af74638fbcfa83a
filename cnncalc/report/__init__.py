"""Renderers: a Report as a rich table, JSON, CSV or Markdown."""
