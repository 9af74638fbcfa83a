"""Exam generator: seeded question templates on CNN shape arithmetic with verified keys,
misconception distractors, worked solutions, and LMS/print exports (docs/exam.md)."""
