"""What every exporter shares: the stem's blocks, part and option labels, HTML rendering.

A stem is plain Unicode text: paragraphs separated by a blank line, and a paragraph whose lines
all start with "- " is a list. Exporters never compute: they render the Exam's values.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from cnncalc.exam.model import Figure, Item, Part
from cnncalc.exam.text import answer, entry, matrix_text

LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class Block:
    kind: str  # "p" or "list"
    lines: tuple[str, ...]


def blocks(text: str) -> list[Block]:
    result = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        if all(line.startswith("- ") for line in lines):
            result.append(Block("list", tuple(line[2:] for line in lines)))
        else:
            result.append(Block("p", (" ".join(lines),)))
    return result


def part_label(item: Item, index: int) -> str:
    """"(a) Output height" for multi-part items, "Output height" otherwise."""
    part = item.parts[index]
    return f"({'abcdefghijklmnopqrstuvwxyz'[index]}) {part.label}" if len(item.parts) > 1 else part.label


def key_text(part: Part) -> str:
    """The key as an answer key prints it, with its tolerance."""
    if part.kind == "choice":
        index = next(i for i, o in enumerate(part.options) if o.correct)
        return f"{LETTERS[index]}. {part.options[index].text}"
    text = answer(part.key, part.scale)  # type: ignore[arg-type]
    if part.tolerance:
        text += f" (± {answer(part.tolerance)})"
    return text + (f" {part.unit}" if part.unit else "")


def tolerance_text(part: Part) -> str:
    return answer(part.tolerance)


def html_stem(item: Item, xhtml: bool = False) -> str:
    """The stem and figures as HTML (Moodle, Canvas, QTI 2.1 bodies use the same markup); `xhtml`:
    QTI 2.1's XHTML subset (tables need a tbody; no presentational attributes)."""
    out = []
    for block in blocks(item.draft.stem):
        if block.kind == "list":
            out.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in block.lines) + "</ul>")
        else:
            out.append(f"<p>{html.escape(block.lines[0])}</p>")
    out += [html_figure(figure, xhtml) for figure in item.draft.figures]
    return "\n".join(out)


def html_figure(figure: Figure, xhtml: bool = False) -> str:
    rows = "".join("<tr>" + "".join(f"<td>{entry(v)}</td>" for v in row) + "</tr>" for row in figure.matrix)
    table = f"<table><tbody>{rows}</tbody></table>" if xhtml else f"<table border=\"1\">{rows}</table>"
    return f"<p>{html.escape(figure.label)} =</p>{table}"


def plain_figures(item: Item) -> str:
    """Figures on one line each, for formats without tables (GIFT)."""
    return " ".join(f"{f.label} = {matrix_text(f.matrix)}." for f in item.draft.figures)


def snippet_text(item: Item) -> str:
    """The snippet as a student runs it: the last line printed."""
    lines = list(item.draft.snippet)
    code, _, comment = lines[-1].partition("  #")
    lines[-1] = f"print({code.strip()})" + (f"  #{comment}" if comment else "")
    return "\n".join(lines)


def provenance(item: Item) -> str:
    return (f"{item.id} · {item.template_number} {item.template} v{item.template_version} · "
            f"seed {item.seed}")
