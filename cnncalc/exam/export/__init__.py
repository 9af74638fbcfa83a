"""Exporters: one module per format; each renders an Exam to {file name: bytes}."""
