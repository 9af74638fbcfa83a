"""`cnncalc calc KIND ...` (one layer, worked formulas; numeric mode; --chain) and
`cnncalc solve` (which windows map one size to another)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

CALC_EPILOG = (
    "Layer attributes are options named as in a spec (`cnncalc layers KIND` lists them): "
    "--kernel 5, --padding same, --kernel [1,3] (or kernel=5, or -a kernel=5); --ceil-mode alone "
    "means true, --no-bias false. Examples: "
    "cnncalc calc conv2d --input 3x32x32 --out 10 --kernel 5 --stride 1 --padding 2;  "
    "cnncalc calc conv2d --matrix \"1 2 3; 4 5 6; 7 8 9\" --weights \"1 0; 0 -1\" --toeplitz;  "
    "cnncalc calc --chain \"conv(10,k=5,p=2) -> relu -> maxpool(2)\" --input 3x32x32. "
    "See docs/calc.md."
)


class CalcFormat(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command(
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        epilog=CALC_EPILOG,
    )
    def calc(
        ctx: typer.Context,
        kind: Optional[str] = typer.Argument(None, help="Layer kind, e.g. conv2d (see `cnncalc layers`)."),
        input: Optional[list[str]] = typer.Option(
            None, "--input", "-i", help="Input shape per sample, channels first: 3x32x32 (repeat for a merge)."),
        batch: int = typer.Option(1, "--batch", "-b", min=1, help="Batch size."),
        dtype: str = typer.Option("float32", "--dtype", help="float32, float16, bfloat16, ... (output memory)."),
        chain: Optional[str] = typer.Option(
            None, "--chain", help='A layer list in the compact notation: "conv(10,k=5,p=2) -> relu -> maxpool(2)".'),
        matrix: Optional[str] = typer.Option(
            None, "--matrix", "-m", help='Numeric mode: the input, "1 2 3; 4 5 6" (channels split by |) or @FILE.'),
        weights: Optional[list[str]] = typer.Option(
            None, "--weights", "-w", help="Numeric mode: one filter (repeat for more filters), same syntax."),
        toeplitz: bool = typer.Option(False, "--toeplitz", help="Numeric mode: print the convolution as a matrix."),
        format: CalcFormat = typer.Option(CalcFormat.table, "--format", "-f", help="Output format."),
    ) -> None:
        """One layer: output shape, params, MACs, output memory and receptive field, each with its
        formula and the numbers substituted; or a matrix through it (--matrix); or a chain (--chain)."""
        from cnncalc.calc import render
        from cnncalc.cli.common import emit, parse_dtype, parse_shape
        from cnncalc.errors import UsageError

        shapes = [parse_shape(text) for text in input or []]
        size_dtype = parse_dtype(dtype) or "float32"
        as_json = format is CalcFormat.json
        if chain is not None:
            if kind is not None or ctx.args or matrix is not None:
                raise UsageError("--chain takes the whole layer list; leave out KIND and attribute options",
                                 hint='e.g. cnncalc calc --chain "conv(10,k=5,p=2) -> relu" --input 3x32x32')
            from cnncalc.calc.chain import trace

            traced = trace(chain, shapes, batch, size_dtype)
            emit(render.to_json(render.chain_dict(traced)) if as_json else render.chain_text(traced), None)
            return
        if kind is None:
            raise UsageError("name a layer kind, or give --chain",
                             hint="e.g. cnncalc calc conv2d --input 3x32x32 --out 10 --kernel 5")
        from cnncalc.calc.layer import calculate, kind_for, kind_span, make_attrs, parse_attribute_args

        layer = kind_for(kind)
        attributes = parse_attribute_args(kind, list(ctx.args))
        if matrix is not None:
            from cnncalc.calc.apply import Request, apply

            if input:
                raise UsageError("--matrix gives the input; leave out --input")
            request = Request(layer, attributes, matrix, list(weights or []), toeplitz, kind_span(kind, list(ctx.args)))
            numeric = apply(request)
            emit(render.to_json(render.numeric_dict(numeric)) if as_json else render.numeric_text(numeric), None)
            return
        if weights or toeplitz:
            raise UsageError("--weights and --toeplitz need --matrix (numeric mode)")
        if not shapes:
            raise UsageError(f"{layer.name} needs --input, the input shape per sample",
                             hint="channels first, e.g. --input 3x32x32")
        attrs = make_attrs(layer, attributes, where=kind_span(kind, list(ctx.args)))
        result = calculate(layer, attrs, [(batch, *shape) for shape in shapes], size_dtype)
        emit(render.to_json(render.calculation_dict(result)) if as_json else render.calculation_text(result), None)

    @app.command()
    def solve(
        input: int = typer.Option(..., "--input", "-i", help="Input size along one axis."),
        output: int = typer.Option(..., "--output", "-o", help="Wanted output size along that axis."),
        kernel: Optional[int] = typer.Option(None, "--kernel", "-k", min=1, help="Fixed kernel size."),
        stride: Optional[int] = typer.Option(None, "--stride", "-s", min=1, help="Fixed stride."),
        padding: Optional[int] = typer.Option(None, "--padding", "-p", min=0, help="Fixed padding (per side)."),
        dilation: Optional[int] = typer.Option(None, "--dilation", "-d", min=1, help="Fixed dilation."),
        output_padding: Optional[int] = typer.Option(
            None, "--output-padding", min=0, help="Fixed output_padding (with --transposed)."),
        max_kernel: int = typer.Option(11, "--max-kernel", help="Largest kernel searched."),
        max_stride: int = typer.Option(4, "--max-stride", help="Largest stride searched."),
        max_dilation: int = typer.Option(1, "--max-dilation", help="Largest dilation searched."),
        max_padding: Optional[int] = typer.Option(
            None, "--max-padding", help="Largest padding searched (always at most half the effective kernel)."),
        transposed: bool = typer.Option(False, "--transposed", help="Solve for a transposed convolution."),
        ceil_mode: bool = typer.Option(False, "--ceil-mode", help="Round up (pooling's ceil_mode)."),
        format: CalcFormat = typer.Option(CalcFormat.table, "--format", "-f", help="Output format."),
    ) -> None:
        """Every (kernel, stride, padding, dilation) mapping an input size to an output size, within
        bounds, each checked by the forward formula; says when the answer is unique."""
        from cnncalc.calc import render
        from cnncalc.calc.solve import Bounds, Fixed, Problem
        from cnncalc.calc.solve import solve as solve_problem
        from cnncalc.cli.common import emit
        from cnncalc.errors import UsageError

        if output_padding is not None and not transposed:
            raise UsageError("--output-padding needs --transposed")
        problem = Problem(
            input, output, transposed, ceil_mode,
            Fixed(kernel, stride, padding, dilation, output_padding),
            Bounds(max_kernel, max_stride, max_dilation, max_padding),
        )
        solutions = solve_problem(problem)
        data = render.solve_dict(problem, solutions)
        emit(render.to_json(data) if format is CalcFormat.json else render.solve_text(problem, solutions), None)
