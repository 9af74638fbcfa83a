"""Moodle GIFT (exam.gift): numerical and multiple-choice questions.

Rules followed (Moodle's question/format/gift/format.php, EXAM.md §2.1): questions separated by
blank lines and never containing one; `\\ ~ = # { } :` escaped in every text field, feedback
included; numerical answers `=value:tolerance#feedback`, misconception answers with weight
`%0%`, a catch-all `~#feedback`, the worked solution as general feedback (`####`). GIFT has no
multi-part questions, so each blank of a multi-part item becomes its own question, named
`<item>_<part>`.
"""

from __future__ import annotations

import html

from cnncalc import __version__
from cnncalc.exam.export.common import html_stem, part_label, snippet_text
from cnncalc.exam.model import Exam, Item, Part
from cnncalc.exam.text import answer

SPECIAL = "~=#{}:"
CATCH_ALL = "Recheck the formula step by step; the worked solution shows each step."


def escape(text: str) -> str:
    """GIFT's escaping (format.php's repchar): backslash first, then the specials, newlines."""
    text = text.replace("\\", "\\\\")
    for char in SPECIAL:
        text = text.replace(char, "\\" + char)
    return text.replace("\r", "").replace("\n", "\\n")


def general_feedback(item: Item) -> str:
    return (f"<p>Worked solution: {html.escape(item.draft.solution)}</p>"
            f"<pre>{html.escape(snippet_text(item))}</pre>")


def answers(part: Part) -> list[str]:
    if part.kind == "numeric":
        tolerance = answer(part.tolerance)
        lines = [f"\t={answer(part.key, part.scale)}:{tolerance}#{escape(part.key_option.feedback)}"]  # type: ignore[arg-type]
        lines += [f"\t=%0%{o.text}:{tolerance}#{escape(o.feedback)}" for o in part.wrong]
        lines.append(f"\t~#{escape(CATCH_ALL)}")
        return lines
    return [f"\t{'=' if o.correct else '~'}{escape(o.text)}#{escape(o.feedback)}" for o in part.options]


def question(item: Item, index: int) -> str:
    part = item.parts[index]
    name = item.id if len(item.parts) == 1 else f"{item.id}_{part.name}"
    text = html_stem(item)
    if len(item.parts) > 1:
        text += f"\n<p><b>{html.escape(part_label(item, index))}</b>{html.escape(' (' + part.unit + ')') if part.unit else ''}</p>"
    opening = "{#" if part.kind == "numeric" else "{"
    body = [f"::{escape(name)}::[html]{escape(text)}{opening}", *answers(part),
            f"\t####{escape(general_feedback(item))}", "}"]
    return "\n".join(body)


def render_gift(exam: Exam) -> str:
    blocks = [f"// cnncalc {__version__} exam  seed={exam.config.seed}  difficulty={exam.config.difficulty}  "
              f"convention={exam.config.convention}"]
    for item in exam.items:
        header = (f"// item {item.index + 1}  template={item.template} v{item.template_version}  "
                  f"seed={item.seed}  idnumber={item.idnumber}\n$CATEGORY: $course$/cnncalc/{item.template}")
        blocks.append(header)
        blocks += [question(item, i) for i in range(len(item.parts))]
    return "\n\n".join(blocks) + "\n"


def render(exam: Exam) -> dict[str, bytes]:
    return {"exam.gift": render_gift(exam).encode()}
