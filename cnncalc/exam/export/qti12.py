"""Canvas QTI 1.2 package (canvas_qti12.zip), laid out as text2qti 0.8.0 writes it:

    imsmanifest.xml                      resources: the assessment and its Canvas metadata
    <assessment>/<assessment>.xml        questestinterop > assessment > section > item*
    <assessment>/assessment_meta.xml     Canvas quiz settings

Numeric blanks are `numerical_question` items (key ± tolerance as varequal OR vargte/varlte);
choices are `multiple_choice_question` items with per-choice misconception feedback. Canvas has
no multi-part numeric question: a multi-part item becomes one numerical item per blank, titled
"<item> (a)", "<item> (b)", .... Identifiers derive from the seed and item ids, and every zip
entry has a fixed timestamp, so the same exam gives the same bytes.
"""

from __future__ import annotations

import html
from fractions import Fraction
from xml.sax.saxutils import escape, quoteattr

from cnncalc.exam.export.archive import deterministic_zip
from cnncalc.exam.export.common import LETTERS, html_stem, part_label, snippet_text
from cnncalc.exam.model import Exam, Item, Part
from cnncalc.exam.text import answer


def assessment_id(exam: Exam) -> str:
    return f"cnncalc_exam_s{exam.config.seed}"


def mattext(text: str) -> str:
    return f'<material><mattext texttype="text/html">{escape(text)}</mattext></material>'


def field(label: str, value: str) -> str:
    return (f"<qtimetadatafield><fieldlabel>{label}</fieldlabel><fieldentry>{escape(value)}</fieldentry>"
            "</qtimetadatafield>")


def general(item: Item) -> str:
    body = (f"<p>{html.escape(item.draft.solution)}</p>"
            f"<pre>{html.escape(snippet_text(item))}</pre>")
    return f'<itemfeedback ident="general_fb"><flow_mat>{mattext(body)}</flow_mat></itemfeedback>'


def numerical(item: Item, part: Part, ident: str, title: str, text: str) -> str:
    key = Fraction(part.key) / part.scale  # type: ignore[arg-type]
    low, high = answer(key - part.tolerance), answer(key + part.tolerance)
    return "".join([
        f"<item ident={quoteattr(ident)} title={quoteattr(title)}>",
        "<itemmetadata><qtimetadata>", field("question_type", "numerical_question"),
        field("points_possible", "1"), field("original_answer_ids", f"{ident}_answer"),
        field("assessment_question_identifierref", f"{ident}_ref"), "</qtimetadata></itemmetadata>",
        f"<presentation>{mattext(text)}",
        '<response_str ident="response1" rcardinality="Single"><render_fib fibtype="Decimal">'
        '<response_label ident="answer1"/></render_fib></response_str></presentation>',
        '<resprocessing><outcomes><decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/></outcomes>',
        '<respcondition continue="Yes"><conditionvar><other/></conditionvar>'
        '<displayfeedback feedbacktype="Response" linkrefid="general_fb"/></respcondition>',
        '<respcondition continue="No"><conditionvar><or>',
        f'<varequal respident="response1">{answer(key)}</varequal>',
        f'<and><vargte respident="response1">{low}</vargte><varlte respident="response1">{high}</varlte></and>',
        '</or></conditionvar><setvar action="Set" varname="SCORE">100</setvar></respcondition>',
        "</resprocessing>", general(item), "</item>",
    ])


def multiple_choice(item: Item, part: Part, ident: str, title: str, text: str) -> str:
    choices = [f"{ident}_{LETTERS[i]}" for i in range(len(part.options))]
    key = choices[next(i for i, o in enumerate(part.options) if o.correct)]
    labels = "".join(f'<response_label ident="{c}">{mattext(html.escape(o.text))}</response_label>'
                     for c, o in zip(choices, part.options))
    feedback_conditions = "".join(
        f'<respcondition continue="Yes"><conditionvar><varequal respident="response1">{c}</varequal>'
        f'</conditionvar><displayfeedback feedbacktype="Response" linkrefid="{c}_fb"/></respcondition>'
        for c in choices)
    feedback = "".join(f'<itemfeedback ident="{c}_fb"><flow_mat>{mattext(html.escape(o.feedback))}</flow_mat>'
                       "</itemfeedback>" for c, o in zip(choices, part.options))
    return "".join([
        f"<item ident={quoteattr(ident)} title={quoteattr(title)}>",
        "<itemmetadata><qtimetadata>", field("question_type", "multiple_choice_question"),
        field("points_possible", "1"), field("original_answer_ids", ",".join(choices)),
        field("assessment_question_identifierref", f"{ident}_ref"), "</qtimetadata></itemmetadata>",
        f"<presentation>{mattext(text)}",
        f'<response_lid ident="response1" rcardinality="Single"><render_choice>{labels}</render_choice>'
        "</response_lid></presentation>",
        '<resprocessing><outcomes><decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal"/></outcomes>',
        '<respcondition continue="Yes"><conditionvar><other/></conditionvar>'
        '<displayfeedback feedbacktype="Response" linkrefid="general_fb"/></respcondition>',
        feedback_conditions,
        f'<respcondition continue="No"><conditionvar><varequal respident="response1">{key}</varequal>'
        '</conditionvar><setvar action="Set" varname="SCORE">100</setvar></respcondition>',
        "</resprocessing>", general(item), feedback, "</item>",
    ])


def items(item: Item) -> list[str]:
    out = []
    for index, part in enumerate(item.parts):
        several = len(item.parts) > 1
        ident = f"{item.id}_{part.name}" if several else item.id
        title = f"{item.id} ({'abcdefghijklmnopqrstuvwxyz'[index]})" if several else item.id
        text = html_stem(item)
        if several:
            text += f"\n<p><b>{html.escape(part_label(item, index))}</b></p>"
        make = numerical if part.kind == "numeric" else multiple_choice
        out.append(make(item, part, ident, title, text))
    return out


def assessment(exam: Exam) -> str:
    aid = assessment_id(exam)
    body = "\n".join(entry for item in exam.items for entry in items(item))
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.imsglobal.org/xsd/'
        'ims_qtiasiv1p2 http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd">',
        f"<assessment ident=\"{aid}\" title={quoteattr(exam.config.title + f' (seed {exam.config.seed})')}>",
        "<qtimetadata>" + field("cc_maxattempts", "1") + "</qtimetadata>",
        '<section ident="root_section">', body, "</section>", "</assessment>", "</questestinterop>", "",
    ])


def meta(exam: Exam) -> str:
    aid = assessment_id(exam)
    points = sum(len(item.parts) for item in exam.items)
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<quiz identifier="{aid}" xmlns="http://canvas.instructure.com/xsd/cccv1p0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://canvas.instructure.com/xsd/'
        'cccv1p0 https://canvas.instructure.com/xsd/cccv1p0.xsd">',
        f"  <title>{escape(exam.config.title + f' (seed {exam.config.seed})')}</title>",
        "  <description></description>", "  <shuffle_answers>true</shuffle_answers>",
        "  <scoring_policy>keep_highest</scoring_policy>", "  <hide_results></hide_results>",
        "  <quiz_type>assignment</quiz_type>", f"  <points_possible>{points}</points_possible>",
        "  <show_correct_answers>true</show_correct_answers>", "  <anonymous_submissions>false</anonymous_submissions>",
        "  <could_be_locked>false</could_be_locked>", "  <allowed_attempts>1</allowed_attempts>",
        "  <one_question_at_a_time>false</one_question_at_a_time>", "  <cant_go_back>false</cant_go_back>",
        "  <available>false</available>", "  <one_time_results>false</one_time_results>",
        "  <show_correct_answers_last_attempt>false</show_correct_answers_last_attempt>",
        "  <only_visible_to_overrides>false</only_visible_to_overrides>", "  <module_locked>false</module_locked>",
        "</quiz>", "",
    ])


def manifest(exam: Exam) -> str:
    aid = assessment_id(exam)
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<manifest identifier="{aid}_manifest" xmlns="http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1" '
        'xmlns:lom="http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource" xmlns:imsmd="http://www.imsglobal.org/xsd/'
        'imsmd_v1p2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.'
        'imsglobal.org/xsd/imsccv1p1/imscp_v1p1 http://www.imsglobal.org/xsd/imscp_v1p1.xsd http://ltsc.ieee.org/'
        'xsd/imsccv1p1/LOM/resource http://www.imsglobal.org/profile/cc/ccv1p1/LOM/ccv1p1_lomresource_v1p0.xsd '
        'http://www.imsglobal.org/xsd/imsmd_v1p2 http://www.imsglobal.org/xsd/imsmd_v1p2p2.xsd">',
        "  <metadata><schema>IMS Content</schema><schemaversion>1.1.3</schemaversion><imsmd:lom><imsmd:general>"
        f"<imsmd:title><imsmd:string>{escape(exam.config.title)}</imsmd:string></imsmd:title></imsmd:general>"
        "</imsmd:lom></metadata>",
        "  <organizations/>",
        "  <resources>",
        f'    <resource identifier="{aid}" type="imsqti_xmlv1p2">',
        f'      <file href="{aid}/{aid}.xml"/>',
        f'      <dependency identifierref="{aid}_dependency"/>',
        "    </resource>",
        f'    <resource identifier="{aid}_dependency" type="associatedcontent/imscc_xmlv1p1/learning-application-resource" '
        f'href="{aid}/assessment_meta.xml">',
        f'      <file href="{aid}/assessment_meta.xml"/>',
        "    </resource>",
        "  </resources>",
        "</manifest>", "",
    ])


def render(exam: Exam) -> dict[str, bytes]:
    aid = assessment_id(exam)
    entries = {
        "imsmanifest.xml": manifest(exam).encode(),
        f"{aid}/{aid}.xml": assessment(exam).encode(),
        f"{aid}/assessment_meta.xml": meta(exam).encode(),
    }
    return {"canvas_qti12.zip": deterministic_zip(entries)}
