"""`cnncalc convert SPEC --to yaml|notation`: one spec form written in the other."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from cnncalc.cli.summary import NOTATION_HELP, SPEC_HELP


class Target(str, Enum):
    yaml = "yaml"
    notation = "notation"


def register(app: typer.Typer) -> None:
    @app.command()
    def convert(
        spec: Optional[str] = typer.Argument(None, help=SPEC_HELP),
        to: Target = typer.Option(..., "--to", help="The form to write: yaml, or notation (one chain)."),
        notation: Optional[str] = typer.Option(None, "--notation", help=NOTATION_HELP),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape, e.g. 3x512x512."),
        batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, help="Batch size."),
        dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, ..."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
    ) -> None:
        """Write a spec in the compact notation (the expanded layers as one chain, repeats folded
        into [...]*N) or as YAML (vars, groups and `?` switches kept). Exit 3, naming the first
        layer, when the notation cannot express the spec (a branch, a skip connection, ...)."""
        from cnncalc.cli.common import emit
        from cnncalc.cli.summary import check_source, load

        check_source(spec, notation)
        if to is Target.notation:
            from cnncalc.spec.convert import to_notation

            emit(to_notation(load(spec, input, batch, dtype, sets, notation)), output)
        else:
            emit(_yaml(spec, notation, input, batch, dtype, sets), output)


def _yaml(spec: str | None, notation: str | None, inputs: list[str] | None, batch: int | None,
          dtype: str | None, sets: list[str] | None) -> str:
    """The spec tree as YAML, with the command line's overrides written into it; the spec is
    expanded first, so an invalid one is reported rather than converted."""
    from cnncalc.cli.common import parse_dtype, parse_inputs, parse_vars
    from cnncalc.spec import Overrides, load_tree, notation_tree
    from cnncalc.spec.convert import to_yaml
    from cnncalc.spec.expand import expand
    from cnncalc.spec.model import parse_model

    overrides = Overrides(inputs=parse_inputs(inputs), batch=batch, dtype=parse_dtype(dtype),
                          vars=parse_vars(sets))
    if notation is not None:
        root, name = notation_tree(notation, overrides), "notation"
    else:
        assert spec is not None
        root, name = load_tree(spec, overrides)
    model = parse_model(root, default_name=name)
    graph = expand(model, overrides)
    values: dict[str, Any] = {f"vars.{key}": value for key, value in overrides.vars.items()}
    for key in overrides.inputs:
        node = graph.inputs[0] if key == "" else graph.nodes[key]
        target = "input" if "input" in model.root.value else f"inputs.{node.name}"
        values[target] = list(node.attrs["shape"])
    if batch is not None:
        values["batch"] = batch
    if overrides.dtype is not None:
        values["dtype"] = graph.dtype
    return to_yaml(model.root, name, values)
