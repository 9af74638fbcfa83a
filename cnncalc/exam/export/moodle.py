"""Moodle XML (moodle.xml): numerical, multichoice and cloze ("embedded answers") questions.

One numeric blank is a `numerical` question (the key first, then each misconception value at
fraction 0 with its feedback, then a `*` catch-all: Moodle grades by the first answer whose
interval holds the response); one choice is `multichoice`; several blanks are one `cloze`
question with `{1:NUMERICAL:=…}` / `{1:MULTICHOICE_S:=…}` parts. A category question precedes
each template's items; `<idnumber>` is `cnncalc-<seed>-<template>-<n>`. HTML goes in CDATA.
"""

from __future__ import annotations

import html
from xml.sax.saxutils import escape

from cnncalc import __version__
from cnncalc.exam.export.common import html_stem, part_label, snippet_text
from cnncalc.exam.export.gift import CATCH_ALL
from cnncalc.exam.model import Exam, Item, Part
from cnncalc.exam.text import answer

PENALTY = "0.3333333"


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def feedback_html(item: Item) -> str:
    return (f"<p>{html.escape(item.draft.solution)}</p>"
            f"<p>Reproduce it with PyTorch:</p><pre>{html.escape(snippet_text(item))}</pre>")


def head(item: Item, kind: str, text: str) -> list[str]:
    return [
        f'  <question type="{kind}">',
        f"    <name><text>{escape(item.id)}</text></name>",
        f'    <questiontext format="html">\n      <text>{cdata(text)}</text>\n    </questiontext>',
        f'    <generalfeedback format="html">\n      <text>{cdata(feedback_html(item))}</text>\n    </generalfeedback>',
    ]


def tail(item: Item) -> list[str]:
    tags = ["cnncalc", item.template, f"difficulty-{item.difficulty}", item.convention]
    return ["    <tags>" + "".join(f"<tag><text>{escape(t)}</text></tag>" for t in tags) + "</tags>",
            "  </question>"]


def fb(text: str) -> str:
    return f'<feedback format="html"><text>{escape(text)}</text></feedback>'


def numerical(item: Item, part: Part) -> list[str]:
    tolerance = answer(part.tolerance)
    lines = [*head(item, "numerical", html_stem(item)),
             "    <defaultgrade>1</defaultgrade>", f"    <penalty>{PENALTY}</penalty>", "    <hidden>0</hidden>",
             f"    <idnumber>{escape(item.idnumber)}</idnumber>"]
    for option in part.options:
        fraction = "100" if option.correct else "0"
        lines.append(f'    <answer fraction="{fraction}" format="plain_text"><text>{escape(option.text)}</text>'
                     f"{fb(option.feedback)}<tolerance>{tolerance}</tolerance></answer>")
    lines.append(f'    <answer fraction="0" format="plain_text"><text>*</text>{fb(CATCH_ALL)}'
                 "<tolerance>0</tolerance></answer>")
    return lines + tail(item)


def multichoice(item: Item, part: Part) -> list[str]:
    lines = [*head(item, "multichoice", html_stem(item)),
             "    <defaultgrade>1</defaultgrade>", f"    <penalty>{PENALTY}</penalty>", "    <hidden>0</hidden>",
             f"    <idnumber>{escape(item.idnumber)}</idnumber>",
             "    <single>true</single>", "    <shuffleanswers>true</shuffleanswers>",
             "    <answernumbering>abc</answernumbering>",
             f'    <correctfeedback format="html"><text>{escape("Your answer is correct.")}</text></correctfeedback>',
             '    <partiallycorrectfeedback format="html"><text>Your answer is partially correct.</text>'
             "</partiallycorrectfeedback>",
             '    <incorrectfeedback format="html"><text>Your answer is incorrect.</text></incorrectfeedback>']
    for option in part.options:
        fraction = "100" if option.correct else "0"
        lines.append(f'    <answer fraction="{fraction}" format="plain_text"><text>{escape(option.text)}</text>'
                     f"{fb(option.feedback)}</answer>")
    return lines + tail(item)


def cloze_escape(text: str) -> str:
    """Inside a Cloze answer or feedback (HTML), an unescaped `}`, `#` or `~` ends it."""
    text = html.escape(text, quote=False)
    for char in "\\}#~":
        text = text.replace(char, "\\" + char)
    return text


def cloze_part(part: Part) -> str:
    if part.kind == "numeric":
        tolerance = answer(part.tolerance)
        alternatives = [f"={answer(part.key, part.scale)}:{tolerance}#{cloze_escape(part.key_option.feedback)}"]  # type: ignore[arg-type]
        alternatives += [f"%0%{o.text}:{tolerance}#{cloze_escape(o.feedback)}" for o in part.wrong]
        return "{1:NUMERICAL:" + "~".join(alternatives) + "}"
    alternatives = [("=" if o.correct else "") + f"{cloze_escape(o.text)}#{cloze_escape(o.feedback)}"
                    for o in part.options]
    return "{1:MULTICHOICE_S:" + "~".join(alternatives) + "}"


def cloze(item: Item) -> list[str]:
    blanks = "\n".join(
        f"<p>{html.escape(part_label(item, i))}{html.escape(' (' + p.unit + ')') if p.unit else ''}: "
        f"{cloze_part(p)}</p>" for i, p in enumerate(item.parts)
    )
    return [*head(item, "cloze", html_stem(item) + "\n" + blanks),
            f"    <penalty>{PENALTY}</penalty>", "    <hidden>0</hidden>",
            f"    <idnumber>{escape(item.idnumber)}</idnumber>", *tail(item)]


def question(item: Item) -> list[str]:
    if len(item.parts) > 1:
        return cloze(item)
    part = item.parts[0]
    return numerical(item, part) if part.kind == "numeric" else multichoice(item, part)


def render_xml(exam: Exam) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f"<!-- cnncalc {__version__} exam seed={exam.config.seed} difficulty={exam.config.difficulty} "
             f"convention={exam.config.convention} -->", "<quiz>"]
    category = None
    for item in exam.items:
        if item.template != category:
            category = item.template
            lines.append(f'  <question type="category"><category><text>$course$/cnncalc/{escape(category)}'
                         "</text></category></question>")
        lines += question(item)
    lines.append("</quiz>")
    return "\n".join(lines) + "\n"


def render(exam: Exam) -> dict[str, bytes]:
    return {"moodle.xml": render_xml(exam).encode()}
