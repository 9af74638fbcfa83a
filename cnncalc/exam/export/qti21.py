"""IMS QTI 2.1 content package (qti21.zip): one assessmentItem per item, an assessmentTest, and
an IMS CP manifest listing every file.

Every blank is an interaction with its own response (RESPONSE_1, RESPONSE_2, ...): a
textEntryInteraction with a float response graded by `equal` with an absolute tolerance, or a
choiceInteraction graded by `match`. Each correct blank adds 1 to SCORE. A response that equals
a misconception's value sets FEEDBACK_i to that misconception's tag, and a modalFeedback shows
its explanation (QTI's way to give the per-answer feedback Moodle gives).
"""

from __future__ import annotations

import html
from fractions import Fraction
from xml.sax.saxutils import quoteattr

from cnncalc.exam.export.archive import deterministic_zip
from cnncalc.exam.export.common import LETTERS, html_stem, part_label, snippet_text
from cnncalc.exam.model import Exam, Item, Option, Part
from cnncalc.exam.text import answer

NAMESPACE = "http://www.imsglobal.org/xsd/imsqti_v2p1"
SCHEMA_LOCATION = f"{NAMESPACE} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1p1.xsd"
CP_NAMESPACE = "http://www.imsglobal.org/xsd/imscp_v1p1"


def declaration(part: Part, index: int) -> str:
    if part.kind == "numeric":
        key = answer(part.key, part.scale)  # type: ignore[arg-type]
        return (f'<responseDeclaration identifier="RESPONSE_{index}" cardinality="single" baseType="float">'
                f"<correctResponse><value>{key}</value></correctResponse></responseDeclaration>")
    key = LETTERS[next(i for i, o in enumerate(part.options) if o.correct)]
    return (f'<responseDeclaration identifier="RESPONSE_{index}" cardinality="single" baseType="identifier">'
            f"<correctResponse><value>{key}</value></correctResponse></responseDeclaration>")


def interaction(item: Item, part: Part, index: int) -> str:
    label = html.escape(part_label(item, index - 1)) + (html.escape(f" ({part.unit})") if part.unit else "")
    if part.kind == "numeric":
        return (f"<p>{label}: <textEntryInteraction responseIdentifier=\"RESPONSE_{index}\" "
                'expectedLength="12"/></p>')
    choices = "".join(f'<simpleChoice identifier="{LETTERS[i]}">{html.escape(o.text)}</simpleChoice>'
                      for i, o in enumerate(part.options))
    return (f'<choiceInteraction responseIdentifier="RESPONSE_{index}" shuffle="true" maxChoices="1">'
            f"<prompt>{label}</prompt>{choices}</choiceInteraction>")


def feedback_id(index: int, position: int, option: Option) -> str:
    """Unique per blank and option: P<blank>_<option>_<misconception tag>."""
    return f"P{index}_{LETTERS[position]}_{option.tag}"


def matches(part: Part, index: int, option: Option, position: int) -> str:
    """The QTI expression that is true when the response is `option`."""
    variable = f'<variable identifier="RESPONSE_{index}"/>'
    if part.kind == "choice":
        return f'<match>{variable}<baseValue baseType="identifier">{LETTERS[position]}</baseValue></match>'
    tolerance = answer(part.tolerance)
    value = answer(Fraction(option.value) / part.scale)  # type: ignore[arg-type]
    return (f'<equal toleranceMode="absolute" tolerance="{tolerance} {tolerance}" includeLowerBound="true" '
            f'includeUpperBound="true">{variable}<baseValue baseType="float">{value}</baseValue></equal>')


def processing(item: Item) -> str:
    rules = []
    for index, part in enumerate(item.parts, 1):
        branches: list[str] = []
        for position, option in enumerate(part.options):
            score = ('<setOutcomeValue identifier="SCORE"><sum><variable identifier="SCORE"/>'
                     '<baseValue baseType="float">1</baseValue></sum></setOutcomeValue>' if option.correct else "")
            feedback = (f'<setOutcomeValue identifier="FEEDBACK_{index}"><baseValue baseType="identifier">'
                        f"{feedback_id(index, position, option)}</baseValue></setOutcomeValue>")
            tag = "responseIf" if not branches else "responseElseIf"
            branches.append(f"<{tag}>{matches(part, index, option, position)}{score}{feedback}</{tag}>")
        rules.append("<responseCondition>" + "".join(branches) + "</responseCondition>")
    rules.append('<setOutcomeValue identifier="SOLUTION"><baseValue baseType="identifier">SHOWN</baseValue>'
                 "</setOutcomeValue>")
    return "<responseProcessing>" + "".join(rules) + "</responseProcessing>"


def modal(item: Item) -> list[str]:
    out = []
    for index, part in enumerate(item.parts, 1):
        for position, option in enumerate(part.options):
            out.append(f'<modalFeedback outcomeIdentifier="FEEDBACK_{index}" showHide="show" '
                       f'identifier="{feedback_id(index, position, option)}"><p>{html.escape(option.feedback)}</p>'
                       "</modalFeedback>")
    return out


def item_xml(item: Item) -> str:
    parts = item.parts
    declarations = [declaration(p, i) for i, p in enumerate(parts, 1)]
    outcomes = ['<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float">'
                "<defaultValue><value>0</value></defaultValue></outcomeDeclaration>",
                '<outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">'
                f"<defaultValue><value>{len(parts)}</value></defaultValue></outcomeDeclaration>"]
    outcomes += [f'<outcomeDeclaration identifier="FEEDBACK_{i}" cardinality="single" baseType="identifier"/>'
                 for i in range(1, len(parts) + 1)]
    outcomes.append('<outcomeDeclaration identifier="SOLUTION" cardinality="single" baseType="identifier"/>')
    body = [html_stem(item, xhtml=True), *(interaction(item, p, i) for i, p in enumerate(parts, 1))]
    solution = ('<modalFeedback outcomeIdentifier="SOLUTION" showHide="show" identifier="SHOWN">'
                f"<p>{html.escape(item.draft.solution)}</p><pre>{html.escape(snippet_text(item))}</pre>"
                "</modalFeedback>")
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<assessmentItem xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{SCHEMA_LOCATION}" identifier="{item.id}" title={quoteattr(item.title)} '
        'adaptive="false" timeDependent="false">',
        *declarations, *outcomes,
        "<itemBody>", *body, "</itemBody>",
        processing(item), *modal(item), solution,
        "</assessmentItem>", "",
    ])


def test_xml(exam: Exam) -> str:
    refs = "".join(f'<assessmentItemRef identifier="{item.id}" href="items/{item.id}.xml"/>' for item in exam.items)
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<assessmentTest xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{SCHEMA_LOCATION}" identifier="cnncalc_test_s{exam.config.seed}" '
        f"title={quoteattr(exam.config.title)}>",
        '<testPart identifier="part_1" navigationMode="nonlinear" submissionMode="simultaneous">',
        f'<assessmentSection identifier="section_1" title={quoteattr(exam.config.title)} visible="true">',
        refs, "</assessmentSection>", "</testPart>", "</assessmentTest>", "",
    ])


def manifest_xml(exam: Exam) -> str:
    resources = [
        f'<resource identifier="item_{item.id}" type="imsqti_item_xmlv2p1" href="items/{item.id}.xml">'
        f'<file href="items/{item.id}.xml"/></resource>' for item in exam.items
    ]
    dependencies = "".join(f'<dependency identifierref="item_{item.id}"/>' for item in exam.items)
    resources.append(f'<resource identifier="test_s{exam.config.seed}" type="imsqti_test_xmlv2p1" href="test.xml">'
                     f'<file href="test.xml"/>{dependencies}</resource>')
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<manifest xmlns="{CP_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{CP_NAMESPACE} http://www.imsglobal.org/xsd/imscp_v1p1.xsd" '
        f'identifier="cnncalc_exam_s{exam.config.seed}">',
        "<metadata><schema>QTIv2.1 Package</schema><schemaversion>1.0.0</schemaversion></metadata>",
        "<organizations/>", "<resources>", *resources, "</resources>", "</manifest>", "",
    ])


def render(exam: Exam) -> dict[str, bytes]:
    entries = {"imsmanifest.xml": manifest_xml(exam).encode(), "test.xml": test_xml(exam).encode()}
    entries.update({f"items/{item.id}.xml": item_xml(item).encode() for item in exam.items})
    return {"qti21.zip": deterministic_zip(entries)}

