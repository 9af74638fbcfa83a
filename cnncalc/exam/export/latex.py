"""PDF-ready LaTeX: the exam (exam.tex) and a separate answer key (answers.tex).

The output is pure ASCII (every symbol the questions use is mapped to a LaTeX command), needs
only the packages of TeX Live's smallest LaTeX set (amsmath, amssymb, geometry, fancyhdr: Debian's
texlive-latex-base) and compiles with pdflatex, xelatex or lualatex. The footer carries the seed and the tool version.
"""

from __future__ import annotations

import re

from cnncalc import __version__
from cnncalc.exam.export.common import LETTERS, blocks, key_text, part_label, provenance, snippet_text
from cnncalc.exam.model import Exam, Figure, Item
from cnncalc.exam.text import entry

SYMBOLS = {
    "×": r"$\times$", "·": r"$\cdot$", "−": "-", "⌊": r"$\lfloor$", "⌋": r"$\rfloor$", "⌈": r"$\lceil$",
    "⌉": r"$\rceil$", "→": r"$\to$", "←": r"$\leftarrow$", "≥": r"$\geq$", "≤": r"$\leq$", "±": r"$\pm$",
    "≈": r"$\approx$", "⋆": r"$\star$", "ᵀ": r"$^{T}$", "²": r"$^{2}$", "³": r"$^{3}$", "⁰": r"$^{0}$",
    "⁶": r"$^{6}$", "⁹": r"$^{9}$", "₀": r"$_{0}$", "∞": r"$\infty$", "Σ": r"$\Sigma$", "Π": r"$\Pi$",
    "…": r"\ldots{}", "“": "``", "”": "''", "‘": "`", "’": "'", "—": "---", "–": "--", "̂": "",
    "K̂": r"$\hat{K}$",
}
SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
           "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def tex(text: str, prose: bool = True) -> str:
    """Plain Unicode text as ASCII LaTeX; a symbol with no mapping is a bug (AssertionError).
    In prose an ASCII quote that opens a word becomes TeX's opening quote (TeX would print
    'same' with two closing quotes); code keeps its quotes as typed."""
    text = text.replace("K̂", "\x00")  # the combining hat belongs to its K
    if prose:
        text = re.sub(r"(?<!\w)'(?=\w)", "`", re.sub(r'(?<![\w])"(?=\S)', "``", text)).replace('"', "''")
    out = []
    for char in text:
        if char == "\x00":
            out.append(SYMBOLS["K̂"])
        elif char in SPECIAL:
            out.append(SPECIAL[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            assert char in SYMBOLS, f"no LaTeX for {char!r} (U+{ord(char):04X})"
            out.append(SYMBOLS[char])
    return "".join(out)


def preamble(exam: Exam, what: str) -> list[str]:
    c = exam.config
    footer = tex(f"cnncalc {__version__} - seed {c.seed} - difficulty {c.difficulty} - {c.convention}")
    return [
        r"\documentclass[11pt]{article}",
        r"\usepackage[margin=2.2cm]{geometry}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{fancyhdr}",
        r"\pagestyle{fancy}\fancyhf{}",
        rf"\cfoot{{\small {footer} --- page \thepage}}",
        r"\setlength{\parindent}{0pt}\setlength{\parskip}{0.5em}",
        r"\renewcommand{\theenumii}{\Alph{enumii}}\renewcommand{\labelenumii}{\theenumii.}",
        r"\begin{document}",
        r"\raggedright",  # monospace ids and code have no stretchable spaces to justify with
        rf"\section*{{{tex(c.title + what)}}}",
    ]


def list_item(text: str) -> str:
    r"""A list entry; `\item{}` so that a text opening with `[` is not read as a custom label."""
    return rf"\item{{}} {text}"


def code(snippet: str) -> list[str]:
    """A code block that wraps long lines with a hanging indent instead of running off the page
    (verbatim cannot break a line); line breaks are allowed after a comma, a semicolon or an
    opening parenthesis."""
    lines = [r"\par{\footnotesize\ttfamily\parskip 0pt\advance\leftskip 3em"]  # \hangindent loses to a list's \parshape
    for line in snippet.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        text = tex(line.lstrip(" "), prose=False)
        for char in ",;(":
            text = text.replace(char, char + r"\allowbreak{}")
        lines.append(rf"\par\noindent\hspace*{{-3em}}\hspace*{{{indent}ex}}{text}")
    lines.append(r"\par}")
    return lines


def figure(f: Figure) -> str:
    columns = "r" * len(f.matrix[0])
    rows = r" \\ ".join(" & ".join(entry(v).replace("-", "$-$") for v in row) for row in f.matrix)
    return rf"${tex(f.label)} = $ \begin{{tabular}}{{|{columns}|}}\hline {rows} \\ \hline\end{{tabular}}"


def stem(item: Item) -> list[str]:
    lines = []
    for block in blocks(item.draft.stem):
        if block.kind == "list":
            lines += [r"\begin{itemize}\setlength{\itemsep}{0pt}", *(list_item(tex(line)) for line in block.lines), r"\end{itemize}"]
        else:
            lines += [tex(block.lines[0]), ""]
    lines += [figure(f) + r"\quad" for f in item.draft.figures]
    return lines


def exam_tex(exam: Exam) -> str:
    lines = preamble(exam, "")
    lines.append(r"\begin{enumerate}")
    for item in exam.items:
        lines += [rf"\item \textbf{{{tex(item.title)}}}\par", *stem(item)]
        for index, part in enumerate(item.parts):
            label = tex(part_label(item, index))
            if part.kind == "numeric":
                unit = f" {tex(part.unit)}" if part.unit else ""
                lines.append(rf"\par {label}: \rule{{4cm}}{{0.4pt}}{unit}")
            else:
                lines += [rf"\par {label}:", r"\begin{enumerate}\setlength{\itemsep}{0pt}",
                          *(list_item(tex(o.text)) for o in part.options), r"\end{enumerate}"]
        lines += [rf"\par{{\footnotesize\texttt{{{tex(item.id)}}}}}", r"\medskip"]
    lines += [r"\end{enumerate}", r"\end{document}", ""]
    return "\n".join(lines)


def answers_tex(exam: Exam) -> str:
    lines = preamble(exam, " - answer key")
    lines += [tex(f"Torch check: {exam.torch_check}."), "", r"\begin{enumerate}"]
    for item in exam.items:
        lines += [rf"\item \textbf{{{tex(item.title)}}} {{\footnotesize\texttt{{{tex(provenance(item))}}}}}\par"]
        for index, part in enumerate(item.parts):
            lines.append(rf"\par\textbf{{{tex(part_label(item, index))}:}} {tex(key_text(part))}")
            wrong = [(i, o) for i, o in enumerate(part.options) if not o.correct]
            if wrong:
                lines.append(r"\begin{itemize}\setlength{\itemsep}{0pt}")
                for i, option in wrong:
                    name = f"{LETTERS[i]}. " if part.kind == "choice" else ""
                    lines.append(list_item(rf"{tex(name + option.text)} (\texttt{{{tex(option.tag)}}}): {tex(option.feedback)}"))
                lines.append(r"\end{itemize}")
        lines += [rf"\par\textit{{Worked solution.}} {tex(item.draft.solution)}", *code(snippet_text(item))]
    lines += [r"\end{enumerate}", r"\end{document}", ""]
    return "\n".join(lines)


def render(exam: Exam) -> dict[str, bytes]:
    return {"exam.tex": exam_tex(exam).encode("ascii"), "answers.tex": answers_tex(exam).encode("ascii")}
