"""Every export re-parsed: GIFT and Cloze by small grammar checkers written from Moodle's rules
(EXAM.md §2.1, §2.3), Moodle XML and both QTI packages with xml.etree, the packages' manifests
checked complete, LaTeX checked ASCII and balanced; parsed keys compared with the manifest.
Golden files (tests/golden/exam/) pin the layout for a fixed seed; CNNCALC_UPDATE_GOLDEN=1
refreshes them. The QTI 2.1 package (items, test and manifest) is also validated against subset
schemas transcribed from the official IMS XSDs, in tests/test_exam_qti21_schema.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest

from cnncalc.exam.generate import generate
from cnncalc.exam.manifest import FORMATS, render
from cnncalc.exam.model import ExamConfig
from cnncalc.exam.templates import TEMPLATES
from tests.conftest import needs_torch

GOLDEN = Path(__file__).parent / "golden" / "exam"
UPDATE = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"
#: question_bank::fraction_options (EXAM.md §2.1)
MOODLE_FRACTIONS = {"100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333", "30",
                    "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0"}


def exam_files(convention: str = "pytorch", seed: int = 42) -> dict[str, bytes]:
    config = ExamConfig(seed=seed, count=len(TEMPLATES), templates=tuple(sorted(TEMPLATES)), difficulty=3,
                        convention=convention)
    return render(generate(config, "off"), FORMATS)


@pytest.fixture(scope="module", params=["pytorch", "keras"])
def files(request: pytest.FixtureRequest) -> dict[str, bytes]:
    return exam_files(request.param)


def manifest_parts(files: dict[str, bytes]) -> dict[str, dict]:  # type: ignore[type-arg]
    """name -> part as the GIFT/Canvas question of that part is named."""
    data = json.loads(files["manifest.json"])
    parts = {}
    for item in data["items"]:
        for part in item["parts"]:
            name = item["id"] if len(item["parts"]) == 1 else f"{item['id']}_{part['name']}"
            parts[name] = {**part, "item": item}
    return parts


# -- GIFT -----------------------------------------------------------------------------------------

SPECIALS = "~=#{}:"


def unescaped(text: str, chars: str) -> list[int]:
    """Positions of `chars` not preceded by a GIFT escape."""
    positions, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in chars:
            positions.append(i)
        i += 1
    return positions


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def parse_gift(text: str) -> dict[str, dict]:  # type: ignore[type-arg]
    """A port of the parts of Moodle's GIFT reader the exporter relies on."""
    questions = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if not line.lstrip().startswith("//")]
        body = "\n".join(lines).strip()
        if not body or body.startswith("$CATEGORY:"):
            assert "\n" not in body
            continue
        assert body.startswith("::"), body[:80]
        end = body.index("::", 2)
        name, rest = unescape(body[2:end]), body[end + 2:]
        opening = unescaped(rest, "{")[0]
        closing = next(p for p in unescaped(rest, "}") if p > opening)
        assert rest[closing + 1:] == "", "nothing may follow the answer block"
        assert not unescaped(rest[:opening], SPECIALS.replace("{", "")), "special characters escaped in the text"
        answers, general = rest[opening + 1:closing], None
        if "####" in answers:
            answers, general = answers.split("\t####")
        kind = "numerical" if answers.startswith("#") else "multichoice"
        assert kind == "numerical" or "~" in answers
        body_answers = answers[1:] if kind == "numerical" else answers
        starts = unescaped(body_answers, "=~")
        parsed = []
        for a, b in zip(starts, [*starts[1:], len(body_answers)]):
            chunk = body_answers[a:b].strip()
            mark, chunk = chunk[0], chunk[1:]
            weight = "100" if mark == "=" else "0"
            if chunk.startswith("%"):
                weight, chunk = chunk[1:].split("%", 1)
            hashes = unescaped(chunk, "#")
            answer, feedback = (chunk[:hashes[0]], chunk[hashes[0] + 1:]) if hashes else (chunk, "")
            assert weight in MOODLE_FRACTIONS
            parsed.append({"answer": unescape(answer), "weight": weight, "feedback": unescape(feedback)})
        questions[name] = {"kind": kind, "answers": parsed, "general": unescape(general or "")}
    return questions


def test_gift_parses_into_the_manifest_keys(files):
    questions = parse_gift(files["exam.gift"].decode())
    parts = manifest_parts(files)
    assert set(questions) == set(parts)
    for name, question in questions.items():
        part = parts[name]
        assert question["general"].startswith("<p>Worked solution:")
        right = [a for a in question["answers"] if a["weight"] == "100"]
        assert len(right) == 1
        key = next(o for o in part["options"] if o["correct"])
        if part["kind"] == "numeric":
            assert question["kind"] == "numerical"
            value, tolerance = right[0]["answer"].split(":")
            assert value == key["text"] and Fraction(tolerance) == Fraction(str(part["tolerance"]))
            wrong = [a["answer"].split(":")[0] for a in question["answers"] if a["weight"] == "0" and a["answer"]]
            assert wrong == [o["text"] for o in part["options"] if not o["correct"]]
            assert question["answers"][-1]["answer"] == ""  # the catch-all
        else:
            assert question["kind"] == "multichoice"
            assert right[0]["answer"] == key["text"]
            assert [a["feedback"] for a in question["answers"]] == [o["feedback"] for o in part["options"]]


def test_gift_escapes_feedback_with_equals_signs():
    from cnncalc.exam.export.gift import escape

    assert escape("⌊56/2⌋ + 1 = 29: {ok} #1 ~x \\") == "⌊56/2⌋ + 1 \\= 29\\: \\{ok\\} \\#1 \\~x \\\\"


# -- Moodle XML and Cloze -------------------------------------------------------------------------

CLOZE = re.compile(r"\{(\d*):(NUMERICAL|NM|MULTICHOICE_S|MCS|MULTICHOICE|MC):(.*?)(?<!\\)\}", re.S)
NUMBER = re.compile(r"^-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)$")


def split_unescaped(text: str, char: str) -> list[str]:
    return re.split(rf"(?<![\\&]){re.escape(char)}", text)


def parse_cloze(text: str) -> list[dict]:  # type: ignore[type-arg]
    """The subquestions of a Cloze text, as Moodle's multianswer regexes read them."""
    found = []
    for _, kind, body in CLOZE.findall(text):
        alternatives = []
        for alternative in split_unescaped(body, "~"):
            match = re.match(r"^(=|%(-?\d+(?:[.,]\d*)?)%)?(.*?)(?:(?<![\\&])#(.*))?$", alternative, re.S)
            assert match, alternative
            weight = "100" if match.group(1) == "=" else (match.group(2) or "0")
            answer = match.group(3)
            if kind.startswith("NUM") or kind == "NM":
                value, _, tolerance = answer.partition(":")
                assert NUMBER.match(value) and (not tolerance or NUMBER.match(tolerance)), answer
            assert weight in MOODLE_FRACTIONS
            alternatives.append({"weight": weight, "answer": answer.replace("\\", "")})
        found.append({"kind": kind, "alternatives": alternatives})
    return found


def test_moodle_xml_is_well_formed_and_holds_every_key(files):
    root = ET.fromstring(files["moodle.xml"])
    assert files["moodle.xml"].startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    data = json.loads(files["manifest.json"])
    questions = [q for q in root.iter("question") if q.get("type") != "category"]
    assert len(questions) == len(data["items"])
    for question, item in zip(questions, data["items"]):
        assert question.findtext("name/text") == item["id"]
        assert question.findtext("idnumber") == item["idnumber"]
        fractions = {a.get("fraction") for a in question.iter("answer")}
        assert fractions <= MOODLE_FRACTIONS
        if len(item["parts"]) > 1:
            assert question.get("type") == "cloze"
            subquestions = parse_cloze(question.findtext("questiontext/text") or "")
            assert len(subquestions) == len(item["parts"])
            for sub, part in zip(subquestions, item["parts"]):
                right = [a for a in sub["alternatives"] if a["weight"] == "100"]
                key = next(o for o in part["options"] if o["correct"])
                assert len(right) == 1 and right[0]["answer"].split(":")[0] == key["text"].replace("&", "&amp;")
            continue
        part = item["parts"][0]
        answers = question.findall("answer")
        if part["kind"] == "numeric":
            assert question.get("type") == "numerical"
            assert answers[0].get("fraction") == "100" and answers[0].findtext("text") == part["options"][0]["text"]
            assert answers[-1].findtext("text") == "*"
        else:
            assert question.get("type") == "multichoice"
            assert [a.findtext("text") for a in answers if a.get("fraction") == "100"] == [
                o["text"] for o in part["options"] if o["correct"]]


def test_the_cloze_example_of_exam_md_parses():
    text = ("<p>{1:NUMERICAL:=28:0#Correct~%0%32:0#That would need padding 2~%0%27:0#You forgot the +1}</p>"
            "<p>{1:MULTICHOICE_S:=2#Correct~1#That gives 30~5#That gives 38~0#That gives 28}</p>")
    parsed = parse_cloze(text)
    assert [len(p["alternatives"]) for p in parsed] == [3, 4]
    assert parsed[0]["alternatives"][0] == {"weight": "100", "answer": "28:0"}


# -- Canvas QTI 1.2 -------------------------------------------------------------------------------

QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


def test_canvas_zip_manifest_lists_every_file_and_items_hold_the_keys(files):
    archive = zipfile.ZipFile(io.BytesIO(files["canvas_qti12.zip"]))
    names = set(archive.namelist())
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    listed = {f.get("href") for f in manifest.iter(f"{CP}file")}
    assert listed == names - {"imsmanifest.xml"}
    ids = {r.get("identifier") for r in manifest.iter(f"{CP}resource")}
    assert {d.get("identifierref") for d in manifest.iter(f"{CP}dependency")} <= ids
    (assessment_name,) = [n for n in names if n.endswith(".xml") and "/" in n and not n.endswith("meta.xml")]
    ET.fromstring(archive.read(assessment_name.rsplit("/", 1)[0] + "/assessment_meta.xml"))
    root = ET.fromstring(archive.read(assessment_name))
    items = list(root.iter(f"{QTI12}item"))
    parts = manifest_parts(files)
    assert [i.get("ident") for i in items] == list(parts)
    for item in items:
        part = parts[item.get("ident")]
        kind = [f.findtext(f"{QTI12}fieldentry") for f in item.iter(f"{QTI12}qtimetadatafield")
                if f.findtext(f"{QTI12}fieldlabel") == "question_type"][0]
        scored = [c for c in item.iter(f"{QTI12}respcondition") if c.find(f"{QTI12}setvar") is not None]
        assert len(scored) == 1
        if part["kind"] == "numeric":
            assert kind == "numerical_question"
            low = Fraction(scored[0].findtext(f".//{QTI12}vargte") or "")
            high = Fraction(scored[0].findtext(f".//{QTI12}varlte") or "")
            key = Fraction(part["options"][0]["text"])
            assert low <= key <= high and high - low == 2 * Fraction(str(part["tolerance"]))
        else:
            assert kind == "multiple_choice_question"
            chosen = scored[0].findtext(f".//{QTI12}varequal")
            labels = [label.get("ident") for label in item.iter(f"{QTI12}response_label")]
            assert part["options"][labels.index(chosen)]["correct"]


# -- QTI 2.1 -------------------------------------------------------------------------------------

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
IMSCP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
#: assessmentItem's children in the order the schema's sequence requires
ITEM_ORDER = ["responseDeclaration", "outcomeDeclaration", "templateDeclaration", "templateProcessing",
              "stylesheet", "itemBody", "responseProcessing", "modalFeedback"]
BLOCKS = {"p", "ul", "ol", "table", "div", "pre", "choiceInteraction", "blockquote", "h1", "h2", "h3"}


def test_qti21_package_is_complete_and_items_are_structurally_valid(files):
    archive = zipfile.ZipFile(io.BytesIO(files["qti21.zip"]))
    names = set(archive.namelist())
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    assert manifest.tag == f"{IMSCP}manifest"
    assert {f.get("href") for f in manifest.iter(f"{IMSCP}file")} == names - {"imsmanifest.xml"}
    resources = {r.get("identifier"): r for r in manifest.iter(f"{IMSCP}resource")}
    for resource in resources.values():
        assert resource.get("type") in ("imsqti_item_xmlv2p1", "imsqti_test_xmlv2p1")
        assert resource.get("href") in names
        assert all(d.get("identifierref") in resources for d in resource.iter(f"{IMSCP}dependency"))
    test = ET.fromstring(archive.read("test.xml"))
    refs = [r.get("href") for r in test.iter(f"{QTI}assessmentItemRef")]
    data = json.loads(files["manifest.json"])
    assert refs == [f"items/{item['id']}.xml" for item in data["items"]]
    for href, item in zip(refs, data["items"]):
        check_item(ET.fromstring(archive.read(href)), item)


def check_item(root: ET.Element, item: dict) -> None:  # type: ignore[type-arg]
    assert root.tag == f"{QTI}assessmentItem"
    assert root.get("identifier") == item["id"] and NCNAME.match(item["id"])
    assert root.get("adaptive") == "false" and root.get("timeDependent") == "false" and root.get("title")
    order = [ITEM_ORDER.index(child.tag.replace(QTI, "")) for child in root]
    assert order == sorted(order), "children out of the schema's order"
    declared = {d.get("identifier"): d for d in root.findall(f"{QTI}responseDeclaration")}
    outcomes = {d.get("identifier") for d in root.findall(f"{QTI}outcomeDeclaration")}
    for declaration in [*declared.values(), *root.findall(f"{QTI}outcomeDeclaration")]:
        assert declaration.get("cardinality") == "single"
        assert declaration.get("baseType") in ("float", "identifier")
    body = root.find(f"{QTI}itemBody")
    assert body is not None and all(child.tag.replace(QTI, "") in BLOCKS for child in body)
    for table in body.iter(f"{QTI}table"):
        assert [c.tag for c in table] == [f"{QTI}tbody"] and not table.attrib
    interactions = [*body.iter(f"{QTI}textEntryInteraction"), *body.iter(f"{QTI}choiceInteraction")]
    assert sorted(i.get("responseIdentifier") for i in interactions) == sorted(declared)
    assert len(declared) == len(item["parts"])
    for index, part in enumerate(item["parts"], 1):
        declaration = declared[f"RESPONSE_{index}"]
        value = declaration.findtext(f"{QTI}correctResponse/{QTI}value")
        key = next(i for i, o in enumerate(part["options"]) if o["correct"])
        if part["kind"] == "numeric":
            assert declaration.get("baseType") == "float" and value == part["options"][key]["text"]
        else:
            assert declaration.get("baseType") == "identifier" and value == "ABCDEFGHIJ"[key]
            choice = next(i for i in interactions if i.get("responseIdentifier") == f"RESPONSE_{index}")
            assert choice.get("shuffle") == "true" and choice.get("maxChoices") == "1"
    for element in root.iter():
        for attribute in ("identifier", "outcomeIdentifier", "responseIdentifier"):
            if element.get(attribute):
                assert NCNAME.match(element.get(attribute) or ""), element.get(attribute)
        if element.tag == f"{QTI}variable" or element.tag == f"{QTI}setOutcomeValue":
            assert element.get("identifier") in outcomes | set(declared)
        if element.tag == f"{QTI}equal":
            assert element.get("toleranceMode") == "absolute" and len((element.get("tolerance") or "").split()) == 2
    feedback = [(f.get("outcomeIdentifier"), f.get("identifier")) for f in root.findall(f"{QTI}modalFeedback")]
    assert len(set(feedback)) == len(feedback) and all(o in outcomes for o, _ in feedback)


# -- LaTeX and Markdown ---------------------------------------------------------------------------


def test_latex_is_ascii_and_balanced(files):
    for name in ("exam.tex", "answers.tex"):
        text = files[name].decode("ascii")
        outside = re.sub(r"\\begin\{verbatim\}.*?\\end\{verbatim\}", "", text, flags=re.S)
        depth = 0
        for char in re.sub(r"\\[{}]", "", outside):
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0
        assert depth == 0
        stack = []
        for kind, env in re.findall(r"\\(begin|end)\{(\w+)\}", text):
            if kind == "begin":
                stack.append(env)
            else:
                assert stack.pop() == env
        assert stack == [] and text.count(r"\begin{document}") == 1
        assert outside.count("$") % 2 == 0


def test_markdown_has_every_item_and_a_separate_key(files):
    data = json.loads(files["manifest.json"])
    exam, key = files["exam.md"].decode(), files["answers.md"].decode()
    for number, item in enumerate(data["items"], 1):
        assert f"## {number}. {item['title']}" in exam and item["id"] in exam
        assert item["solution"] in key
        assert item["solution"] not in exam
    assert key.count("```python") == len(data["items"])


# -- golden files ----------------------------------------------------------------------------------


def test_golden_files_for_seed_42():
    """Layout pinned byte for byte; the keys in them are the ones the other tests check against
    published values and torch. The zips are pinned by their hashes in the manifest."""
    produced = exam_files("pytorch", 42)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, data in produced.items():
        if name.endswith(".zip"):
            continue
        path = GOLDEN / name
        if UPDATE or not path.exists():
            missing += [] if UPDATE else [name]
            path.write_bytes(data)
        assert data == path.read_bytes(), f"{name} differs (CNNCALC_UPDATE_GOLDEN=1 to refresh)"
    assert not missing, f"{missing} were missing and have been written; rerun"


@needs_torch
def test_the_golden_exam_keys_agree_with_torch():
    """The numbers in the golden files, recomputed by the torch layers item by item."""
    from cnncalc.torch_backend.exam_check import check

    config = ExamConfig(seed=42, count=len(TEMPLATES), templates=tuple(sorted(TEMPLATES)), difficulty=3)
    assert [check(item.draft) for item in generate(config, "off").items] == [None] * len(TEMPLATES)
