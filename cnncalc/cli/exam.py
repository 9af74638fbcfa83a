"""`cnncalc exam`: generate a seeded exam with verified keys; `exam regenerate`, `exam templates`."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

FORMAT_HELP = ("Comma-separated: markdown, latex, moodle, gift, canvas, qti21, or all "
               "(the JSON manifest is always written with --output).")


class Convention(str, Enum):
    pytorch = "pytorch"
    keras = "keras"


class TorchCheck(str, Enum):
    auto = "auto"
    on = "on"
    off = "off"


def parse_formats(text: str) -> list[str]:
    from cnncalc.errors import UsageError
    from cnncalc.exam.manifest import FORMATS
    from cnncalc.layers.base import suggest

    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if names == ["all"]:
        return list(FORMATS)
    for name in names:
        if name not in FORMATS:
            raise UsageError(f"--format {name!r}: unknown format",
                             hint=suggest(name, [*FORMATS, "all"]) or f"formats: {', '.join(FORMATS)}, all")
    if not names:
        raise UsageError("--format: name at least one format", hint=f"formats: {', '.join(FORMATS)}, all")
    return [name for name in FORMATS if name in names]  # a fixed order: the same files, the same manifest


def write_directory(files: dict[str, bytes], output: Path, force: bool) -> None:
    """Write `files` into `output` whole or not at all: a temporary directory beside it, renamed
    into place (an existing non-empty directory is replaced only with --force)."""
    from cnncalc.errors import UsageError

    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output}: exists and is not a directory")
    if output.is_dir() and any(output.iterdir()) and not force:
        raise UsageError(f"--output {output}: the directory is not empty",
                         hint="choose a new directory, or pass --force to replace it")
    parent = output.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{output.name}.", suffix=".tmp"))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if output.is_dir():
            retired = Path(tempfile.mkdtemp(dir=parent, prefix=f".{output.name}.", suffix=".old"))
            os.replace(output, retired / "old")
            os.replace(staging, output)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def register(app: typer.Typer) -> None:
    exam_app = typer.Typer(
        help="Generate exam questions on CNN shape arithmetic, with keys checked against torch.",
        rich_markup_mode=None,
    )

    @exam_app.callback(invoke_without_command=True)
    def exam(
        ctx: typer.Context,
        seed: int = typer.Option(0, "--seed", "-s", help="Master seed: the same seed gives the same exam anywhere."),
        count: int = typer.Option(10, "--count", "-n", help="Number of questions (1 to 1000)."),
        templates: Optional[str] = typer.Option(None, "--templates", "-t",
                                                help="Comma-separated template ids (see `cnncalc exam templates`)."),
        difficulty: int = typer.Option(2, "--difficulty", "-d", help="1 recall, 2 apply, 3 analyse, 4 edge cases."),
        convention: Convention = typer.Option(Convention.pytorch, "--convention",
                                              help="Layout, padding and BatchNorm counting of PyTorch or Keras."),
        format: str = typer.Option("markdown", "--format", "-f", help=FORMAT_HELP),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="Directory for the files (written whole or not at all)."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty --output directory."),
        title: str = typer.Option("CNN shape arithmetic", "--title", help="Exam title."),
        torch_check: TorchCheck = typer.Option(TorchCheck.auto, "--torch-check",
                                               help="Recompute every key with torch: auto (when installed), on, off."),
    ) -> None:
        """Generate an exam (Markdown on stdout, or every format into --output DIR)."""
        if ctx.invoked_subcommand is not None:
            return
        from cnncalc.errors import UsageError
        from cnncalc.exam.generate import generate
        from cnncalc.exam.manifest import render
        from cnncalc.exam.model import ExamConfig

        formats = parse_formats(format)
        chosen = tuple(t.strip() for t in templates.split(",") if t.strip()) if templates else ()
        config = ExamConfig(seed=seed, count=count, templates=chosen, difficulty=difficulty,
                            convention=convention.value, title=title)
        if output is None and formats != ["markdown"]:
            raise UsageError(f"--format {','.join(formats)}: only markdown prints to stdout; the other "
                             "formats need --output DIR", hint="e.g. --output exam42/")
        files = render(generate(config, torch_check.value), formats)
        if output is None:
            sys.stdout.write(files["exam.md"].decode() + "\n---\n\n" + files["answers.md"].decode())
            return
        write_directory(files, output, force)
        print(f"wrote {len(files)} files to {output}/: {', '.join(sorted(files))}")

    @exam_app.command("regenerate")
    def regenerate(
        manifest: Path = typer.Argument(..., help="The manifest.json of an exam."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the regenerated files here."),
        force: bool = typer.Option(False, "--force", help="Replace a non-empty --output directory."),
        torch_check: TorchCheck = typer.Option(TorchCheck.auto, "--torch-check"),
    ) -> None:
        """Generate an exam again from its manifest and check every file is byte-identical."""
        from cnncalc.errors import CheckFailed, UsageError
        from cnncalc.exam.manifest import MANIFEST
        from cnncalc.exam.manifest import regenerate as again

        try:
            data: Any = json.loads(manifest.read_text(encoding="utf-8"))
        except OSError as error:
            raise UsageError(f"{manifest}: cannot read ({error.strerror})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise UsageError(f"{manifest}: not JSON ({error})", hint="pass the manifest.json an exam wrote") from None
        files, differ = again(data, torch_check.value)
        if output is not None:
            write_directory(files, output, force)
        if differ:
            raise CheckFailed(f"{len(differ)} file(s) differ from the manifest: {', '.join(differ)}",
                              hint="the manifest was made by another cnncalc version, or a file was edited")
        same = [name for name in files if name != MANIFEST]
        print(f"{len(same)} files reproduced byte-identically: {', '.join(sorted(same))}")

    @exam_app.command("templates")
    def list_templates() -> None:
        """List the question templates: catalogue number, id, levels, category and title."""
        from cnncalc.exam.templates import TEMPLATES

        for t in sorted(TEMPLATES.values(), key=lambda t: (t.number, t.id)):
            levels = ",".join(map(str, t.levels))
            print(f"{t.number:4s} {t.id:26s} levels {levels:8s} {t.category:16s} {t.title}")

    app.add_typer(exam_app, name="exam")
