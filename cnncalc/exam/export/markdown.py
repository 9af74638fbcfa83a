"""Markdown: the exam (exam.md) and a separate answer key with worked solutions (answers.md)."""

from __future__ import annotations

from cnncalc import __version__
from cnncalc.exam.export.common import LETTERS, blocks, key_text, part_label, provenance, snippet_text
from cnncalc.exam.model import Exam, Figure, Item
from cnncalc.exam.text import entry


def header(exam: Exam, what: str) -> list[str]:
    c = exam.config
    return [f"# {c.title}{what}", "",
            f"Seed {c.seed} · difficulty {c.difficulty} · {c.convention} conventions · {len(exam.items)} "
            f"questions · cnncalc {__version__}", ""]


def figure(f: Figure) -> list[str]:
    width = len(f.matrix[0])
    rows = [f"**{f.label}** =", "", "| " + " | ".join(" " for _ in range(width)) + " |",
            "|" + "---:|" * width]
    rows += ["| " + " | ".join(entry(v) for v in row) + " |" for row in f.matrix]
    return [*rows, ""]


def stem(item: Item) -> list[str]:
    lines = []
    for block in blocks(item.draft.stem):
        lines += [f"- {line}" for line in block.lines] if block.kind == "list" else [block.lines[0]]
        lines.append("")
    for f in item.draft.figures:
        lines += figure(f)
    return lines


def exam_md(exam: Exam) -> str:
    lines = header(exam, "")
    for number, item in enumerate(exam.items, 1):
        lines += [f"## {number}. {item.title}", "", *stem(item)]
        for index, part in enumerate(item.parts):
            label = part_label(item, index)
            if part.kind == "numeric":
                unit = f" {part.unit}" if part.unit else ""
                lines += [f"**{label}:** ________{unit}", ""]
            else:
                lines += [f"**{label}:**", ""]
                lines += [f"- {LETTERS[i]}. {option.text}" for i, option in enumerate(part.options)]
                lines.append("")
        lines += [f"<sub>{item.id}</sub>", ""]
    return "\n".join(lines)


def answers_md(exam: Exam) -> str:
    lines = header(exam, " — answer key")
    lines += [f"Torch check: {exam.torch_check}.", ""]
    for number, item in enumerate(exam.items, 1):
        lines += [f"## {number}. {item.title}", "", f"`{provenance(item)}`", ""]
        for index, part in enumerate(item.parts):
            lines += [f"**{part_label(item, index)}:** {key_text(part)}", ""]
            for i, option in enumerate(part.options):
                if option.correct:
                    continue
                name = f"{LETTERS[i]}. " if part.kind == "choice" else ""
                lines.append(f"- {name}{option.text} — `{option.tag}`: {option.feedback}")
            if part.wrong:
                lines.append("")
        lines += [f"**Worked solution.** {item.draft.solution}", "", "```python", snippet_text(item), "```", ""]
    return "\n".join(lines)


def render(exam: Exam) -> dict[str, bytes]:
    return {"exam.md": exam_md(exam).encode(), "answers.md": answers_md(exam).encode()}
