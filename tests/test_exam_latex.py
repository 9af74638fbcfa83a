"""The LaTeX export compiled for real: exam.tex and answers.tex through pdflatex (and lualatex
where installed), with TeX Live's smallest LaTeX set (Debian's texlive-latex-base; `.ci/run`
installs it). The PDFs' text, read back with pypdf, must show every choice under its letter and
every key in the answer key, and TeX must report no overfull line and no missing glyph.

Skipped, with the reason, where no TeX is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from cnncalc.exam.export import latex
from cnncalc.exam.export.common import LETTERS, key_text
from cnncalc.exam.generate import generate
from cnncalc.exam.model import Exam, ExamConfig
from cnncalc.exam.templates import TEMPLATES

pypdf = pytest.importorskip("pypdf")
ENGINES = [e for e in ("pdflatex", "lualatex") if shutil.which(e)]
pytestmark = pytest.mark.skipif(not ENGINES, reason="no TeX installed (apt-get install texlive-latex-base)")


QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normal(text: str) -> str:
    """Text compared without the spaces, hyphens and line breaks that typesetting moves, with
    typeset quotes as typed ones, and without underscores (OT1 draws `\\_` as a rule, which has
    no text)."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES)
    return re.sub(r"[\s_\-\u2010\u2212]", "", text)


def compile_pdf(tex: bytes, name: str, engine: str, folder: Path) -> tuple[str, str]:
    """(the PDF's text, TeX's log) of one document."""
    (folder / name).write_bytes(tex)
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", name], cwd=folder,
                         capture_output=True, text=True, timeout=120)
    log = (folder / name).with_suffix(".log").read_text(errors="replace")
    assert run.returncode == 0, f"{engine} {name} failed:\n{run.stdout[-3000:]}"
    reader = pypdf.PdfReader(folder / name.replace(".tex", ".pdf"))
    return "".join(page.extract_text() for page in reader.pages), log


@pytest.fixture(scope="module", params=[("pytorch", 4), ("keras", 1), ("pytorch", 2), ("keras", 3)],
                ids=lambda p: f"{p[0]}-d{p[1]}")
def exam(request: pytest.FixtureRequest) -> Exam:
    convention, difficulty = request.param
    config = ExamConfig(seed=11, count=2 * len(TEMPLATES), templates=(), difficulty=difficulty,
                        convention=convention)
    return generate(config, "off")


@pytest.mark.parametrize("engine", ENGINES)
def test_latex_compiles_and_shows_every_choice_and_key(exam: Exam, engine: str, tmp_path: Path) -> None:
    files = latex.render(exam)
    question_text, question_log = compile_pdf(files["exam.tex"], "exam.tex", engine, tmp_path)
    key_pdf, key_log = compile_pdf(files["answers.tex"], "answers.tex", engine, tmp_path)
    for log in (question_log, key_log):
        assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)[:3]
        assert "Missing character" not in log
    questions, keys = normal(question_text), normal(key_pdf)
    for item in exam.items:
        assert normal(item.title) in questions and normal(item.title) in keys
        for part in item.parts:
            assert normal(key_text(part)) in keys, (item.id, key_text(part))
            if part.kind == "choice":  # each option under its own letter (a text opening with `[`
                for letter, option in zip(LETTERS, part.options):  # once became the label)
                    assert normal(f"{letter}.{option.text}") in questions, (item.id, letter, option.text)
