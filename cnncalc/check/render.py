"""`cnncalc check` output: a human table, JSON, JUnit XML, GitHub annotations and SARIF 2.1.0.

Every renderer takes the same list of FileResults and the `strict` flag (warnings count as
errors) and returns the whole text, so output is written at once or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree as ET

from cnncalc import __version__
from cnncalc.check.lints import LINTS
from cnncalc.check.results import FileResult, Result
from cnncalc.errors import CnncalcError, Span

SCHEMA = "cnncalc.check/1"
INFO_URI = "https://github.com/cnncalc/cnncalc/blob/main/docs/check.md"


def counts(files: list[FileResult], strict: bool) -> dict[str, int]:
    return {
        "files": len(files),
        "passed": sum(f.status(strict) == "pass" for f in files),
        "failed": sum(f.status(strict) == "fail" for f in files),
        "invalid": sum(f.status(strict) == "invalid" for f in files),
        "errors": sum(len(f.failures(strict)) for f in files),
        "warnings": sum(len(f.warnings(strict)) for f in files),
        "suppressed": sum(r.suppressed is not None for f in files for r in f.results),
    }


def _location(span: Span | None) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"path": span.source.path, "line": span.line, "col": span.col,
            "end_line": span.end_line, "end_col": span.end_col}


def _error_dict(error: CnncalcError) -> dict[str, Any]:
    return {"message": error.message, "location": _location(error.span), "hint": error.hint,
            "exit_code": int(error.exit_code), "text": error.render()}


def render_json(files: list[FileResult], strict: bool) -> str:
    data = {
        "schema": SCHEMA,
        "tool": f"cnncalc {__version__}",
        "strict": strict,
        "summary": counts(files, strict),
        "files": [
            {
                "path": f.path,
                "model": f.model,
                "status": f.status(strict),
                "error": _error_dict(f.error) if f.error else None,
                "results": [
                    {
                        "rule": r.rule, "passed": r.passed, "severity": f.effective_severity(r, strict),
                        "message": r.message, "layer": r.layer, "location": _location(r.span),
                        "hint": r.hint, "value": r.value, "limit": r.limit, "suppressed": r.suppressed,
                    }
                    for r in f.results
                ],
                "totals": f.totals,
            }
            for f in files
        ],
    }
    return json.dumps(data, indent=2, default=str) + "\n"


# -- GitHub workflow commands -------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(level: str, path: str, span: Span | None, title: str, message: str) -> str:
    props = [f"file={_escape_property(span.source.path if span else path)}"]
    if span is not None:
        props.append(f"line={span.line}")
        props.append(f"col={span.col}")
        if span.end_line == span.line:
            props.append(f"endColumn={span.end_col}")
    props.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


GITHUB_LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


def render_github(files: list[FileResult], strict: bool) -> str:
    """One `::error`/`::warning`/`::notice` line per problem, pointing at the spec line, then a
    plain summary line (shown in the job log)."""
    lines = []
    for f in files:
        if f.error is not None:
            lines.append(_annotation("error", f.path, f.error.span, "cnncalc: invalid spec",
                                     f.error.message + (f"\nhint: {f.error.hint}" if f.error.hint else "")))
            continue
        for r in f.results:
            if not r.counts:
                continue
            level = GITHUB_LEVELS[f.effective_severity(r, strict)]
            message = r.message + (f"\nhint: {r.hint}" if r.hint else "")
            lines.append(_annotation(level, f.path, r.span, f"cnncalc {r.rule}", message))
    lines.append(_summary_line(files, strict))
    return "\n".join(lines) + "\n"


def _summary_line(files: list[FileResult], strict: bool) -> str:
    c = counts(files, strict)
    parts = [f"{c['passed']} passed", f"{c['failed']} failed", f"{c['invalid']} invalid"]
    extra = f"; {c['errors']} errors, {c['warnings']} warnings" + (
        f", {c['suppressed']} silenced" if c["suppressed"] else "")
    return f"cnncalc check: {c['files']} file{'s' if c['files'] != 1 else ''}: {', '.join(parts)}{extra}"


# -- JUnit XML ----------------------------------------------------------------------------------


def _case_name(r: Result) -> str:
    return f"{r.rule} {r.layer}" if r.layer and r.rule.startswith("lint.") else r.rule


def render_junit(files: list[FileResult], strict: bool) -> str:
    """JUnit XML as Jenkins, GitLab and the GitHub test reporters read it: a suite per spec file,
    a test case per budget, lint finding and gate; warnings are failures only under --strict
    (otherwise they pass with the finding in system-out); silenced findings are skipped."""
    root = ET.Element("testsuites", name="cnncalc check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for f in files:
        suite = ET.SubElement(root, "testsuite", name=f.path)
        tally = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if f.error is not None:
            case = ET.SubElement(suite, "testcase", name="load spec", classname=f.path)
            ET.SubElement(case, "error", message=f.error.message, type=type(f.error).__name__).text = f.error.render()
            tally["tests"] += 1
            tally["errors"] += 1
        for r in f.results:
            case = ET.SubElement(suite, "testcase", name=_case_name(r), classname=f.model or f.path)
            tally["tests"] += 1
            severity = f.effective_severity(r, strict)
            if r.suppressed is not None:
                ET.SubElement(case, "skipped", message=f"silenced: {r.suppressed}")
                tally["skipped"] += 1
            elif not r.passed and severity == "error":
                where = f"{r.span.location}: " if r.span else ""
                ET.SubElement(case, "failure", message=r.message, type=r.rule).text = \
                    where + r.message + (f"\nhint: {r.hint}" if r.hint else "")
                tally["failures"] += 1
            elif not r.passed:
                ET.SubElement(case, "system-out").text = f"{severity}: {r.message}"
        for key, value in tally.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- SARIF 2.1.0 --------------------------------------------------------------------------------

SARIF_LEVELS = {"error": "error", "warning": "warning", "note": "note"}


def _rules() -> list[dict[str, Any]]:
    from cnncalc.check.baseline import GATED
    from cnncalc.check.budgets import BUDGET_KEYS

    rules = [{"id": "spec.invalid", "shortDescription": {"text": "The spec cannot be read or analyzed"},
              "defaultConfiguration": {"level": "error"}}]
    rules += [{"id": f"budget.{key}", "shortDescription": {"text": f"The {key.replace('_', ' ')} budget"},
               "defaultConfiguration": {"level": "error"}} for key in BUDGET_KEYS]
    rules += [{"id": f"lint.{lint.id}", "shortDescription": {"text": lint.rule},
               "defaultConfiguration": {"level": SARIF_LEVELS[lint.severity]},
               "helpUri": f"{INFO_URI}#{lint.id}"} for lint in LINTS.values()]
    rules += [{"id": "baseline", "shortDescription": {"text": "The baseline names this model"},
               "defaultConfiguration": {"level": "error"}}]
    rules += [{"id": f"baseline.{key}", "shortDescription": {"text": f"Growth of {key} over the baseline"},
               "defaultConfiguration": {"level": "error"}} for key in GATED]
    return rules


def _sarif_location(path: str, span: Span | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": (span.source.path if span else path)}}
    if span is not None:
        region = {"startLine": span.line, "startColumn": span.col}
        if span.end_line >= span.line:
            region.update({"endLine": span.end_line, "endColumn": max(span.end_col, 1)})
        location["region"] = region
    return {"physicalLocation": location}


def render_sarif(files: list[FileResult], strict: bool) -> str:
    rules = _rules()
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []

    def add(rule: str, level: str, message: str, path: str, span: Span | None,
            suppressed: str | None = None, properties: dict[str, Any] | None = None) -> None:
        result: dict[str, Any] = {
            "ruleId": rule, "ruleIndex": index[rule], "level": level,
            "message": {"text": message}, "locations": [_sarif_location(path, span)],
        }
        if suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": suppressed}]
        if properties:
            result["properties"] = properties
        results.append(result)

    for f in files:
        if f.error is not None:
            add("spec.invalid", "error", f.error.message + (f" (hint: {f.error.hint})" if f.error.hint else ""),
                f.path, f.error.span)
            continue
        for r in f.results:
            if r.passed:
                continue
            level = SARIF_LEVELS[f.effective_severity(r, strict)]
            props = {k: v for k, v in (("layer", r.layer), ("value", r.value), ("limit", r.limit)) if v is not None}
            add(r.rule, level, r.message + (f" (hint: {r.hint})" if r.hint else ""), f.path, r.span,
                r.suppressed, props)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cnncalc", "version": __version__, "informationUri": INFO_URI,
                                "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(json.loads(json.dumps(log, default=str)), indent=2) + "\n"


# -- the human table ----------------------------------------------------------------------------

MARKS = {"pass": "ok", "fail": "FAIL", "invalid": "INVALID"}


def render_text(files: list[FileResult], strict: bool, verbose: bool = False) -> str:
    """A table with a row per file, then each file's problems (every check with --verbose)."""
    from cnncalc.report.units import si

    header = ("status", "spec", "model", "params", "MACs", "budgets", "errors", "warnings", "silenced")
    rows = []
    for f in files:
        budgets = [r for r in f.results if not r.rule.startswith("lint.")]
        rows.append((
            MARKS[f.status(strict)], f.path, f.model or "-",
            si(f.totals["params"]) if "params" in f.totals else "-",
            si(f.totals["macs"]) if "macs" in f.totals else "-",
            f"{sum(r.passed for r in budgets)}/{len(budgets)}" if budgets else "-",
            str(len(f.failures(strict)) + (f.error is not None)), str(len(f.warnings(strict))),
            str(sum(r.suppressed is not None for r in f.results)),
        ))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    right = {3, 4, 5, 6, 7, 8}
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip()
             for line in (header, *rows)]
    for f in files:
        shown = [r for r in f.results if verbose or not r.passed]
        if f.error is None and not shown:
            continue
        lines.append("")
        lines.append(f"{f.path}:")
        if f.error is not None:
            lines.extend("    " + line for line in f.error.render().splitlines())
        for r in shown:
            lines.extend(_result_lines(r, f.effective_severity(r, strict)))
    lines.append("")
    lines.append(_summary_line(files, strict))
    return "\n".join(lines) + "\n"


def _result_lines(r: Result, severity: str) -> Iterable[str]:
    if r.passed:
        tag = "pass"
    elif r.suppressed is not None:
        tag = "silenced"
    else:
        tag = severity
    where = f"{r.span.location}: " if r.span else ""
    yield f"    {where}{tag}: {r.rule}: {r.message}"
    if r.suppressed is not None:
        yield f"        reason: {r.suppressed}"
    elif r.hint and not r.passed:
        yield f"        hint: {r.hint}"
