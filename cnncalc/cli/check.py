"""`cnncalc check SPEC...`: budgets, lints and regression gates over many spec files, for CI."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from cnncalc.cli.memory import Amp, Optimizer
from cnncalc.errors import ExitCode


class CheckFormat(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    github = "github"
    sarif = "sarif"


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        specs: list[str] = typer.Argument(..., help="Spec files, globs (quoted ones too) or bundled spec names."),
        format: CheckFormat = typer.Option(CheckFormat.table, "--format", "-f", help="Output format."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
        strict: bool = typer.Option(False, "--strict", help="Lint warnings fail the check too."),
        lints: bool = typer.Option(True, "--lints/--no-lints", help="Run the lints."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="List passed checks too (table format)."),
        max_params: Optional[str] = typer.Option(None, "--max-params", help="Budget: parameters, e.g. 26M."),
        max_macs: Optional[str] = typer.Option(None, "--max-macs", help="Budget: MACs, e.g. 4.2G."),
        max_flops: Optional[str] = typer.Option(None, "--max-flops", help="Budget: FLOPs, e.g. 9G."),
        max_inference_memory: Optional[str] = typer.Option(
            None, "--max-inference-memory", help="Budget: inference peak, e.g. 2GiB."),
        max_training_memory: Optional[str] = typer.Option(
            None, "--max-training-memory", help="Budget: training-step peak, e.g. 24GiB."),
        memory_batch: Optional[int] = typer.Option(None, "--memory-batch", min=1, help="Batch size the memory budgets are measured at."),
        optimizer: Optional[Optimizer] = typer.Option(None, "--optimizer", help="Optimizer for the training-memory budget."),
        amp: Optional[Amp] = typer.Option(None, "--amp", help="Mixed precision for the training-memory budget."),
        input_sizes: Optional[str] = typer.Option(
            None, "--input-sizes", help="Sizes the spec must accept: FROM:TO[:STEP] or a list, e.g. 224:640:32."),
        baseline: Optional[Path] = typer.Option(
            None, "--baseline", help="A summary or check JSON to gate growth against."),
        max_growth: Optional[list[str]] = typer.Option(
            None, "--max-growth", help="Allowed growth over the baseline: TOTAL=5% or TOTAL=AMOUNT (repeatable)."),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape for every spec, e.g. 3x512x512."),
        batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, help="Batch size for every spec."),
        dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, ..."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
    ) -> int:
        """Check specs against their budgets and lints (exit 0 all pass, 4 a check failed,
        3 a spec is invalid; every file is checked either way)."""
        from cnncalc.check import CheckOptions, check_file, expand_paths
        from cnncalc.check.baseline import load_baseline, parse_growth
        from cnncalc.check.budgets import parse_sizes_option
        from cnncalc.cli.common import emit, parse_dtype, parse_inputs, parse_vars
        from cnncalc.errors import UsageError

        sizes = None
        if input_sizes is not None:
            try:
                sizes = parse_sizes_option(input_sizes)
            except ValueError as error:
                raise UsageError(f"--input-sizes {input_sizes!r}: {error}",
                                 hint="e.g. --input-sizes 224:640:32 or --input-sizes 224,256,320") from None
        growth = parse_growth(max_growth or [])
        if growth and baseline is None:
            raise UsageError("--max-growth needs --baseline", hint="e.g. --baseline base.json --max-growth macs=5%")
        if baseline is not None and not growth:
            raise UsageError("--baseline needs at least one --max-growth", hint="e.g. --max-growth macs=5%")
        limits = {key: value for key, value in (
            ("params", max_params), ("macs", max_macs), ("flops", max_flops),
            ("inference_memory", max_inference_memory), ("training_memory", max_training_memory),
        ) if value is not None}
        options = CheckOptions(
            inputs=parse_inputs(input), batch=batch, dtype=parse_dtype(dtype), vars=parse_vars(sets),
            limits=limits,
            budget_options={"batch": memory_batch, "optimizer": optimizer.value if optimizer else None,
                            "amp": amp.value if amp else None},
            input_sizes=sizes, lints=lints,
            baseline=load_baseline(baseline) if baseline is not None else None, growth=growth,
        )
        files = [check_file(path, options) for path in expand_paths(specs)]
        emit(_render(files, format, strict, verbose), output)
        if any(f.status(strict) == "invalid" for f in files):
            return int(ExitCode.INVALID_SPEC)
        if any(f.status(strict) == "fail" for f in files):
            return int(ExitCode.CHECK_FAILED)
        return int(ExitCode.OK)


def _render(files: list, format: CheckFormat, strict: bool, verbose: bool) -> str:  # type: ignore[type-arg]
    from cnncalc.check import render

    if format is CheckFormat.json:
        return render.render_json(files, strict)
    if format is CheckFormat.junit:
        return render.render_junit(files, strict)
    if format is CheckFormat.github:
        return render.render_github(files, strict)
    if format is CheckFormat.sarif:
        return render.render_sarif(files, strict)
    return render.render_text(files, strict, verbose)
