"""The exam manifest (JSON) and regeneration.

The manifest records what made the exam (tool and template versions, the config, each item's
seed and parameters) and what it contains (keys, tolerances, options with their misconception
tags, worked solutions, snippets), plus the SHA-256 of every exported file. `regenerate` reads
it back, generates the exam again from the config alone, and checks that every file comes out
byte-identical.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from cnncalc import __version__
from cnncalc.errors import CheckFailed, UsageError
from cnncalc.exam.generate import Check, generate
from cnncalc.exam.model import Exam, ExamConfig, Item, Part, Value
from cnncalc.exam.templates import TEMPLATES

SCHEMA = "cnncalc.exam/1"
MANIFEST = "manifest.json"


def exporters() -> dict[str, Callable[[Exam], dict[str, bytes]]]:
    """Format name -> renderer (imported here so that `--help` stays light)."""
    from cnncalc.exam.export import gift, latex, markdown, moodle, qti12, qti21

    return {"markdown": markdown.render, "latex": latex.render, "moodle": moodle.render,
            "gift": gift.render, "canvas": qti12.render, "qti21": qti21.render}


FORMATS = ("markdown", "latex", "moodle", "gift", "canvas", "qti21")


def jsonable(value: Value | Any) -> Any:
    """Exact values in JSON: Fractions as "p/q" strings, tuples as lists."""
    if isinstance(value, Fraction):
        return str(value) if value.denominator != 1 else value.numerator
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def _part(part: Part) -> dict[str, Any]:
    return {
        "name": part.name, "label": part.label, "kind": part.kind, "key": jsonable(part.key),
        "tolerance": jsonable(part.tolerance), "scale": part.scale, "unit": part.unit,
        "options": [{"text": o.text, "value": jsonable(o.value), "tag": o.tag, "correct": o.correct,
                     "feedback": o.feedback} for o in part.options],
    }


def _item(item: Item) -> dict[str, Any]:
    return {
        "id": item.id, "idnumber": item.idnumber, "index": item.index, "template": item.template,
        "template_number": item.template_number, "template_version": item.template_version,
        "category": item.category, "seed": item.seed, "difficulty": item.difficulty,
        "convention": item.convention, "params": jsonable(dict(item.draft.params)), "title": item.title,
        "stem": item.draft.stem, "figures": [{"label": f.label, "matrix": jsonable(f.matrix)}
                                             for f in item.draft.figures],
        "parts": [_part(p) for p in item.parts], "solution": item.draft.solution,
        "snippet": list(item.draft.snippet), "expect": jsonable(item.draft.expect),
    }


def manifest(exam: Exam, formats: Sequence[str], files: dict[str, bytes]) -> dict[str, Any]:
    c = exam.config
    return {
        "schema": SCHEMA,
        "tool": {"name": "cnncalc", "version": __version__},
        "config": {"seed": c.seed, "count": c.count, "templates": list(c.templates),
                   "difficulty": c.difficulty, "convention": c.convention, "title": c.title,
                   "formats": list(formats)},
        "template_versions": {t: TEMPLATES[t].version for t in sorted({i.template for i in exam.items})},
        "torch_check": exam.torch_check,
        "items": [_item(item) for item in exam.items],
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }


def render(exam: Exam, formats: Sequence[str]) -> dict[str, bytes]:
    """Every file of the exam in `formats`, plus the manifest."""
    renderers = exporters()
    files: dict[str, bytes] = {}
    for name in formats:
        files.update(renderers[name](exam))
    data = manifest(exam, formats, files)
    files[MANIFEST] = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    return files


def config_of(data: Any) -> tuple[ExamConfig, list[str]]:
    """The config and formats a manifest records (UsageError if it is not a cnncalc manifest)."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(f"not a cnncalc exam manifest (expected \"schema\": \"{SCHEMA}\")")
    try:
        c = data["config"]
        config = ExamConfig(seed=int(c["seed"]), count=int(c["count"]), templates=tuple(c["templates"]),
                            difficulty=int(c["difficulty"]), convention=str(c["convention"]),
                            title=str(c["title"]))
        formats = [str(f) for f in c["formats"]]
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"the manifest's config is incomplete ({error})") from None
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"the manifest names unknown formats: {', '.join(unknown)}")
    return config, formats


def regenerate(data: Any, check: Check = "auto") -> tuple[dict[str, bytes], list[str]]:
    """The exam's files made again from the manifest's config, and the names of those that
    differ from the manifest's hashes (CheckFailed if a template changed version)."""
    config, formats = config_of(data)
    for name, version in (data.get("template_versions") or {}).items():
        current = TEMPLATES.get(name)
        if current is None or current.version != version:
            now = "is gone" if current is None else f"is now version {current.version}"
            raise CheckFailed(f"template `{name}` was version {version} when the exam was made and {now}",
                              hint=f"regenerate with the cnncalc version that made it ({data['tool']['version']})")
    files = render(generate(config, check), formats)
    recorded = data.get("files") or {}
    differ = sorted(name for name, data_ in files.items() if name != MANIFEST
                    and recorded.get(name) != hashlib.sha256(data_).hexdigest())
    differ += sorted(name for name in recorded if name not in files)
    return files, differ
