"""`cnncalc`: the typer application, and the one place errors become exit codes."""

from __future__ import annotations

import gc
import sys

import typer

from cnncalc import __version__
from cnncalc.cli import (
    calc,
    check,
    convert,
    diff,
    exam,
    explain,
    layers,
    memory,
    profile,
    rf,
    summary,
    verify,
    zoo,
)
from cnncalc.errors import CnncalcError, ExitCode

app = typer.Typer(
    name="cnncalc",
    help="Analyze CNN architecture specs: shapes, parameters, MACs/FLOPs, memory, receptive fields.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    traceback: bool = typer.Option(False, "--traceback", help="Show Python tracebacks (for bug reports)."),
) -> None:
    """cnncalc: analytic CNN calculator. Exit codes: 0 ok, 1 internal error, 2 usage error,
    3 invalid spec, 4 check failed, 5 backend unavailable."""


for module in (summary, rf, memory, layers, zoo, verify, profile, check, diff, calc, convert, exam, explain):
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    # A command is a short-lived process that builds many small objects and frees few: the
    # cyclic collector only costs time here (about a quarter of a 10,000-layer analysis).
    gc.disable()
    try:
        result = app(args=args, prog_name="cnncalc", standalone_mode=False)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.exit(130)
    except CnncalcError as error:
        if show_traceback:
            raise
        print(error.render(), file=sys.stderr)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if hasattr(error, "show") and isinstance(getattr(error, "exit_code", None), int):
            error.show()  # a usage error found by the option parser
            sys.exit(ExitCode.USAGE)
        if show_traceback:
            raise
        print(
            f"internal error: {type(error).__name__}: {error}\n"
            "hint: this is a bug in cnncalc; rerun with --traceback and report it",
            file=sys.stderr,
        )
        sys.exit(ExitCode.INTERNAL)
