"""The QTI 2.1 package validated against the IMS schemas: every item, the test and the manifest of
exams over every template, at every difficulty and in both conventions.

The official XSDs cannot be fetched offline and must not be vendored, so tests/schemas/qti21/
holds our own subsets of them, transcribed definition by definition from the official files (the
header of each names the file and commit read). A subset is a restriction: whatever it accepts,
the official schema accepts. The rules XSD 1.0 cannot say are checked here in Python: the
Schematron rules embedded in the official QTI file, and the references between an item's parts
(a variable names a declaration, a value parses as its declaration's baseType).
The negative tests prove the schemas bite: each mutation of a valid document must be refused.
"""

from __future__ import annotations

import copy
import functools
import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
import xmlschema

from cnncalc.exam.generate import generate
from cnncalc.exam.manifest import render
from cnncalc.exam.model import ExamConfig
from cnncalc.exam.templates import TEMPLATES

SCHEMAS = Path(__file__).parent / "schemas" / "qti21"
QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
XS_NS = "http://www.w3.org/2001/XMLSchema"
QTI = f"{{{QTI_NS}}}"
CP = f"{{{CP_NS}}}"
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
CONFIGS = [(difficulty, convention) for difficulty in (1, 2, 3, 4) for convention in ("pytorch", "keras")]
#: Schematron RULE SET GENERAL 1: expressions that must not appear in responseProcessing
TEST_ONLY_EXPRESSIONS = ("numberCorrect", "numberIncorrect", "numberPresented", "numberResponded",
                         "numberSelected", "outcomeMinimum", "outcomeMaximum", "testVariables")


@functools.cache
def qti_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMAS / "imsqti_v2p1_subset.xsd")


@functools.cache
def cp_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMAS / "imscp_v1p1_subset.xsd")


def templates_at(difficulty: int) -> tuple[str, ...]:
    return tuple(name for name in sorted(TEMPLATES) if difficulty in TEMPLATES[name].levels)


@functools.cache
def package(difficulty: int, convention: str) -> dict[str, bytes]:
    """The files of qti21.zip for an exam with every template offered at `difficulty`, twice
    (each item has its own seed)."""
    chosen = templates_at(difficulty)
    config = ExamConfig(seed=7, count=2 * len(chosen), templates=chosen, difficulty=difficulty,
                        convention=convention)
    archive = zipfile.ZipFile(io.BytesIO(render(generate(config, "off"), ["qti21"])["qti21.zip"]))
    return {name: archive.read(name) for name in archive.namelist()}


def errors(schema: xmlschema.XMLSchema, document: bytes) -> list[str]:
    """The schema's complaints, one line each (empty when the document is valid). Location hints
    in the document (xsi:schemaLocation) are ignored: nothing is fetched."""
    return [f"{error.path}: {error.reason}" for error in schema.iter_errors(io.BytesIO(document))]


def schema_for(name: str) -> xmlschema.XMLSchema:
    return cp_schema() if name == "imsmanifest.xml" else qti_schema()


# -- every generated document is valid ------------------------------------------------------------


@pytest.mark.parametrize(("difficulty", "convention"), CONFIGS)
def test_every_document_of_the_package_is_valid(difficulty, convention):
    files = package(difficulty, convention)
    roots = {name: ET.fromstring(data).tag for name, data in files.items()}
    assert roots.pop("imsmanifest.xml") == f"{CP}manifest"
    assert roots.pop("test.xml") == f"{QTI}assessmentTest"
    assert len(roots) == 2 * len(templates_at(difficulty)) and set(roots.values()) == {f"{QTI}assessmentItem"}
    problems = {name: errors(schema_for(name), data) for name, data in files.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_a_title_with_markup_characters_stays_valid():
    """The exam title lands in attributes of the test and the section: quotes, angle brackets,
    ampersands and non-ASCII must be escaped, not break the document."""
    title = 'Tom\'s "CNN" <quiz> & co — 2×2 pools'
    config = ExamConfig(seed=3, count=3, templates=templates_at(2)[:3], difficulty=2, title=title)
    archive = zipfile.ZipFile(io.BytesIO(render(generate(config, "off"), ["qti21"])["qti21.zip"]))
    test = archive.read("test.xml")
    assert errors(qti_schema(), test) == []
    assert ET.fromstring(test).get("title") == title
    assert first(ET.fromstring(test), "assessmentSection").get("title") == title


def test_the_difficulties_cover_every_template():
    assert {name for difficulty in (1, 2, 3, 4) for name in templates_at(difficulty)} == set(TEMPLATES)


@pytest.mark.parametrize(("difficulty", "convention"), CONFIGS)
def test_items_obey_the_rules_the_xsd_cannot_express(difficulty, convention):
    found = {name: rule_violations(ET.fromstring(data))
             for name, data in package(difficulty, convention).items() if name.startswith("items/")}
    assert {name: problems for name, problems in found.items() if problems} == {}


def rule_violations(item: ET.Element) -> list[str]:
    """What one assessmentItem breaks of the official file's Schematron (RULE SET GENERAL 1,
    INTERACTION 1 and 2) and of the information model's references."""
    responses = {d.get("identifier"): d.get("baseType") for d in item.iter(f"{QTI}responseDeclaration")}
    outcomes = {d.get("identifier"): d.get("baseType") for d in item.iter(f"{QTI}outcomeDeclaration")}
    problems = [f"GENERAL 1: {name} in responseProcessing" for name in TEST_ONLY_EXPRESSIONS
                if item.find(f"{QTI}responseProcessing//{QTI}{name}") is not None]
    problems += [f"{name} is both a response and an outcome" for name in set(responses) & set(outcomes)]
    for entry in item.iter(f"{QTI}textEntryInteraction"):
        if entry.get("stringIdentifier") == entry.get("responseIdentifier"):
            problems.append("INTERACTION 1a: stringIdentifier = responseIdentifier")
        if responses.get(entry.get("responseIdentifier")) not in ("string", "float", "integer"):
            problems.append("INTERACTION 1b: a textEntryInteraction bound to a non-text, non-number response")
    for choice in item.iter(f"{QTI}choiceInteraction"):
        if responses.get(choice.get("responseIdentifier")) != "identifier":
            problems.append("a choiceInteraction bound to an undeclared or non-identifier response")
        if int(choice.get("maxChoices", "0")) < int(choice.get("minChoices", "0")):
            problems.append("INTERACTION 2a: maxChoices < minChoices")
    problems += [f"variable {v.get('identifier')} is not declared" for v in item.iter(f"{QTI}variable")
                 if v.get("identifier") not in {**responses, **outcomes}]
    problems += [f"setOutcomeValue {r.get('identifier')} sets no declared outcome"
                 for r in item.iter(f"{QTI}setOutcomeValue") if r.get("identifier") not in outcomes]
    for declaration in [*item.iter(f"{QTI}responseDeclaration"), *item.iter(f"{QTI}outcomeDeclaration")]:
        problems += [f"value {value.text!r} is not a {declaration.get('baseType')}"
                     for value in declaration.iter(f"{QTI}value")
                     if not parses_as(value.text or "", declaration.get("baseType"))]
    problems += [f"baseValue {value.text!r} is not a {value.get('baseType')}"
                 for value in item.iter(f"{QTI}baseValue")
                 if not parses_as(value.text or "", value.get("baseType"))]
    return problems + feedback_violations(item, outcomes)


def feedback_violations(item: ET.Element, outcomes: dict[str | None, str | None]) -> list[str]:
    """A modalFeedback shows when its outcome holds its identifier: the outcome must be an
    identifier and some rule must set that value, or the feedback can never appear."""
    set_to: dict[str | None, set[str | None]] = {}
    for rule in item.iter(f"{QTI}setOutcomeValue"):
        values = {value.text for value in rule.findall(f"{QTI}baseValue")}
        set_to.setdefault(rule.get("identifier"), set()).update(values)
    problems = []
    for feedback in item.iter(f"{QTI}modalFeedback"):
        outcome = feedback.get("outcomeIdentifier")
        if outcomes.get(outcome) != "identifier":
            problems.append(f"modalFeedback on {outcome}, not an identifier outcome")
        elif feedback.get("identifier") not in set_to.get(outcome, set()):
            problems.append(f"modalFeedback {feedback.get('identifier')} can never be shown")
    return problems


def parses_as(text: str, base_type: str | None) -> bool:
    """Whether `text` is a value of the QTI baseType (the two the exporter uses)."""
    if base_type == "identifier":
        return bool(NCNAME.match(text))
    if base_type == "float":
        try:
            return math.isfinite(float(text))
        except ValueError:
            return False
    return False


RULE_CASES: dict[str, tuple[Callable[[ET.Element], None], str]] = {
    "textEntry bound to an identifier response": (
        lambda root: first(root, "responseDeclaration").set("baseType", "identifier"), "INTERACTION 1b"),
    "stringIdentifier = responseIdentifier": (
        lambda root: first(root, "textEntryInteraction").set("stringIdentifier", "RESPONSE_1"),
        "INTERACTION 1a"),
    "test-only expression in responseProcessing": (
        lambda root: first(root, "responseIf").append(ET.Element(f"{QTI}numberCorrect")), "GENERAL 1"),
    "undeclared variable": (
        lambda root: first(root, "variable").set("identifier", "GHOST"), "GHOST is not declared"),
    "value that is not a float": (
        lambda root: setattr(first(root, "value"), "text", "sixty"), "'sixty' is not a float"),
    "feedback never shown": (
        lambda root: first(root, "modalFeedback").set("identifier", "NEVER"), "can never be shown"),
}


@pytest.mark.parametrize("name", RULE_CASES)
def test_the_python_rules_bite(name):
    mutate, complaint = RULE_CASES[name]
    item = sample_item("textEntryInteraction")
    assert rule_violations(item) == []
    mutate(item)
    assert any(complaint in problem for problem in rule_violations(item)), rule_violations(item)


def test_the_test_obeys_the_identifier_uniqueness_rules():
    """Schematron RULE SET GENERAL 2: the test, its parts, sections and item refs have distinct
    identifiers (the whole set, which implies each pairwise rule)."""
    for difficulty, convention in CONFIGS:
        test = ET.fromstring(package(difficulty, convention)["test.xml"])
        named = [test, *test.iter(f"{QTI}testPart"), *test.iter(f"{QTI}assessmentSection"),
                 *test.iter(f"{QTI}assessmentItemRef")]
        identifiers = [element.get("identifier") for element in named]
        assert len(set(identifiers)) == len(identifiers)


@pytest.mark.parametrize(("schema", "namespace"),
                         [("imsqti_v2p1_subset.xsd", QTI), ("imscp_v1p1_subset.xsd", CP)])
def test_the_subsets_declare_exactly_the_elements_the_exporter_writes(schema, namespace):
    """No dead declarations: every element a subset declares appears in some generated document,
    and (by the validity test) nothing else does."""
    written: set[str] = set()
    for difficulty, convention in CONFIGS:
        for data in package(difficulty, convention).values():
            tags = {element.tag for element in ET.fromstring(data).iter()}
            written |= {tag.replace(namespace, "") for tag in tags if tag.startswith(namespace)}
    declared = {element.get("name") for element in ET.parse(SCHEMAS / schema).iter()
                if element.tag == f"{{{XS_NS}}}element" and element.get("name")}
    assert written == declared


# -- the schemas bite -------------------------------------------------------------------------------

Mutation = Callable[[ET.Element], None]


def first(root: ET.Element, tag: str, ns: str = QTI) -> ET.Element:
    """`root` itself or its first descendant named `tag`."""
    found = root if root.tag == f"{ns}{tag}" else root.find(f".//{ns}{tag}")
    assert found is not None, tag
    return found


def sample_item(*tags: str) -> ET.Element:
    """A valid generated item containing every element in `tags`."""
    for name, data in sorted(package(3, "pytorch").items()):
        root = ET.fromstring(data)
        if name.startswith("items/") and all(root.find(f".//{QTI}{tag}") is not None for tag in tags):
            return root
    raise AssertionError(f"no generated item has {tags}")


def drop(tag: str, attribute: str, ns: str = QTI) -> Mutation:
    def mutate(root: ET.Element) -> None:
        del first(root, tag, ns).attrib[attribute]
    return mutate


def put(tag: str, attribute: str, value: str) -> Mutation:
    def mutate(root: ET.Element) -> None:
        first(root, tag).set(attribute, value)
    return mutate


def append(tag: str, child: str, ns: str = QTI) -> Mutation:
    def mutate(root: ET.Element) -> None:
        first(root, tag, ns).append(ET.Element(child))
    return mutate


def to_end(parent: str, child: str, ns: str = QTI) -> Mutation:
    """Move the first `child` of the first `parent` after its last sibling."""
    def mutate(root: ET.Element) -> None:
        container = first(root, parent, ns)
        moved = container.find(f"{ns}{child}")
        assert moved is not None, child
        container.remove(moved)
        container.append(moved)
    return mutate


def twice(parent: str, child: str, ns: str = QTI) -> Mutation:
    """Insert a copy of the first `child` of the first `parent` before it."""
    def mutate(root: ET.Element) -> None:
        container = first(root, parent, ns)
        original = container.find(f"{ns}{child}")
        assert original is not None, child
        container.insert(0, copy.deepcopy(original))
    return mutate


def third_operand(operator: str) -> Mutation:
    def mutate(root: ET.Element) -> None:
        first(root, operator).append(copy.deepcopy(first(root, "baseValue")))
    return mutate


def remove_all(parent: str, child: str) -> Mutation:
    def mutate(root: ET.Element) -> None:
        container = first(root, parent)
        for element in container.findall(f"{QTI}{child}"):
            container.remove(element)
    return mutate


def outcome_first(root: ET.Element) -> None:
    outcome = first(root, "outcomeDeclaration")
    root.remove(outcome)
    root.insert(0, outcome)


def rows_without_tbody(root: ET.Element) -> None:
    table = first(root, "table")
    tbody = first(table, "tbody")
    table.remove(tbody)
    table.extend(list(tbody))


class Case(NamedTuple):
    """A mutation of a valid document, what it needs, and the complaint it must draw."""

    needs: tuple[str, ...]  # elements the sample item must contain
    mutate: Mutation
    complaint: str  # a fragment of the validator's message


MISSING = "missing required attribute"
INCOMPLETE = "is not complete"
NOT_NCNAME = "doesn't match any pattern"


def unexpected(tag: str) -> str:
    """xmlschema's complaint about a misplaced element (ElementTree writes the QTI namespace
    with the prefix ns0)."""
    return f"Unexpected child with tag 'ns0:{tag}'"


#: Mutations that the official QTI 2.1.1 schema refuses too, so the subset must refuse them.
ITEM_CASES: dict[str, Case] = {
    "declarations out of order": Case((), outcome_first, unexpected("responseDeclaration")),
    "responseProcessing before itemBody": Case(
        (), to_end("assessmentItem", "itemBody"), unexpected("itemBody")),
    "missing timeDependent": Case((), drop("assessmentItem", "timeDependent"), f"{MISSING} 'timeDependent'"),
    "missing title": Case((), drop("assessmentItem", "title"), f"{MISSING} 'title'"),
    "missing cardinality": Case((), drop("responseDeclaration", "cardinality"), f"{MISSING} 'cardinality'"),
    "missing showHide on modalFeedback": Case((), drop("modalFeedback", "showHide"), f"{MISSING} 'showHide'"),
    "missing baseType on baseValue": Case((), drop("baseValue", "baseType"), f"{MISSING} 'baseType'"),
    "missing responseIdentifier": Case(
        ("textEntryInteraction",), drop("textEntryInteraction", "responseIdentifier"),
        f"{MISSING} 'responseIdentifier'"),
    "bad baseType enum": Case(
        (), put("responseDeclaration", "baseType", "double"), "baseType='double': value must be"),
    "bad cardinality enum": Case(
        (), put("outcomeDeclaration", "cardinality", "one"), "cardinality='one': value must be"),
    "bad toleranceMode enum": Case(
        ("equal",), put("equal", "toleranceMode", "approximate"),
        "toleranceMode='approximate': value must be"),
    "bad showHide enum": Case(
        (), put("modalFeedback", "showHide", "visible"), "showHide='visible': value must be"),
    "adaptive not a boolean": Case((), put("assessmentItem", "adaptive", "no"), "is not a boolean"),
    "expectedLength not an integer": Case(
        ("textEntryInteraction",), put("textEntryInteraction", "expectedLength", "12.5"),
        "expectedLength='12.5'"),
    "identifier not an NCName": Case((), put("variable", "identifier", "RESPONSE 1"), NOT_NCNAME),
    "entry bound to an undeclared response": Case(
        ("textEntryInteraction",),
        put("textEntryInteraction", "responseIdentifier", "NOPE"),
        "IDREF 'NOPE' not found"),
    "two responses with one identifier": Case(
        (), twice("assessmentItem", "responseDeclaration"), "duplicated xs:ID"),
    "correctResponse without a value": Case((), remove_all("correctResponse", "value"), INCOMPLETE),
    "unknown element in itemBody": Case((), append("itemBody", f"{QTI}font"), unexpected("font")),
    "element outside the QTI namespace": Case((), append("itemBody", "p"), "Unexpected child with tag 'p'"),
    "block inside p": Case((), append("p", f"{QTI}pre"), unexpected("pre")),
    "text directly in itemBody": Case(
        (), lambda root: setattr(first(root, "itemBody"), "text", "loose text"),
        "character data between child elements not allowed"),
    "unknown attribute": Case((), put("itemBody", "style", "color: red"), "'style' attribute not allowed"),
    "equal with three operands": Case(("equal",), third_operand("equal"), unexpected("baseValue")),
    "match with three operands": Case(("match",), third_operand("match"), unexpected("baseValue")),
    "responseElseIf before responseIf": Case(
        ("responseElseIf",), to_end("responseCondition", "responseIf"),
        unexpected("responseElseIf")),
    "maxChoices negative": Case(
        ("choiceInteraction",), put("choiceInteraction", "maxChoices", "-1"), "non negative"),
    "shuffle not a boolean": Case(
        ("choiceInteraction",), put("choiceInteraction", "shuffle", "yes"), "is not a boolean"),
    "choiceInteraction without a choice": Case(
        ("choiceInteraction",), remove_all("choiceInteraction", "simpleChoice"),
        INCOMPLETE),
    "prompt after the choices": Case(
        ("prompt",), to_end("choiceInteraction", "prompt"), unexpected("prompt")),
    "simpleChoice identifier not an NCName": Case(
        ("simpleChoice",), put("simpleChoice", "identifier", "1A"), NOT_NCNAME),
    "tr directly in table": Case(("table",), rows_without_tbody, unexpected("tr")),
    "table without rows": Case(("tbody",), remove_all("tbody", "tr"), INCOMPLETE),
}
#: Mutations the official schema accepts but the subset refuses on purpose (see the header of
#: imsqti_v2p1_subset.xsd): elements the exporter never writes, and the tightened rules.
STRICTER_CASES: dict[str, Case] = {
    "official block never written": Case((), append("itemBody", f"{QTI}hr"), unexpected("hr")),
    "official th cell never written": Case(("tr",), append("tr", f"{QTI}th"), unexpected("th")),
    "tolerance with 3 values (the information model allows 2)": Case(
        ("equal",), put("equal", "tolerance", "1 1 1"),
        "length cannot be greater than 2"),
    "tolerance as a template variable reference": Case(
        ("equal",), put("equal", "tolerance", "TOL"), "tolerance='TOL'"),
    "maxChoices beyond xs:int (2.1 refuses, 2.1.1 accepts)": Case(
        ("choiceInteraction",),
        put("choiceInteraction", "maxChoices", "2147483648"),
        "less than or equal"),
}


@pytest.mark.parametrize("name", [*ITEM_CASES, *STRICTER_CASES])
def test_mutated_items_are_refused(name):
    case = {**ITEM_CASES, **STRICTER_CASES}[name]
    assert_refused(sample_item(*case.needs), case, qti_schema())


TEST_CASES: dict[str, Case] = {
    "bad navigationMode enum": Case((), put("testPart", "navigationMode", "free"), "navigationMode='free'"),
    "bad submissionMode enum": Case((), put("testPart", "submissionMode", "batch"), "submissionMode='batch'"),
    "missing submissionMode": Case((), drop("testPart", "submissionMode"), f"{MISSING} 'submissionMode'"),
    "missing href on assessmentItemRef": Case((), drop("assessmentItemRef", "href"), f"{MISSING} 'href'"),
    "missing visible on assessmentSection": Case(
        (), drop("assessmentSection", "visible"), f"{MISSING} 'visible'"),
    "testPart without a section": Case((), remove_all("testPart", "assessmentSection"), INCOMPLETE),
    "item ref directly in testPart": Case(
        (), append("testPart", f"{QTI}assessmentItemRef"),
        unexpected("assessmentItemRef")),
}


@pytest.mark.parametrize("name", TEST_CASES)
def test_mutated_tests_are_refused(name):
    test = ET.fromstring(package(3, "pytorch")["test.xml"])
    assert_refused(test, TEST_CASES[name], qti_schema())


MANIFEST_CASES: dict[str, Case] = {
    "missing resources": Case((), lambda root: root.remove(first(root, "resources", CP)), INCOMPLETE),
    "organizations after resources": Case(
        (), to_end("manifest", "organizations", CP), unexpected("resources")),
    "missing manifest identifier": Case((), drop("manifest", "identifier", CP), f"{MISSING} 'identifier'"),
    "missing resource type": Case((), drop("resource", "type", CP), f"{MISSING} 'type'"),
    "missing file href": Case((), drop("file", "href", CP), f"{MISSING} 'href'"),
    "missing dependency identifierref": Case(
        (), drop("dependency", "identifierref", CP), f"{MISSING} 'identifierref'"),
    "two resources with one identifier": Case((), twice("resources", "resource", CP), "duplicated xs:ID"),
    "dependency before file": Case((), to_end("resource", "file", CP), unexpected("file")),
    "unknown element": Case((), append("manifest", f"{CP}extra", CP), unexpected("extra")),
}


@pytest.mark.parametrize("name", MANIFEST_CASES)
def test_mutated_manifests_are_refused(name):
    manifest = ET.fromstring(package(3, "pytorch")["imsmanifest.xml"])
    # a file and a dependency on the first resource, so every mutation has something to act on
    first(manifest, "resource", CP).append(ET.Element(f"{CP}dependency", identifierref="test_s7"))
    assert_refused(manifest, MANIFEST_CASES[name], cp_schema())


def assert_refused(root: ET.Element, case: Case, schema: xmlschema.XMLSchema) -> None:
    """The document is valid; the mutated copy is not, for the reason the case names."""
    assert errors(schema, ET.tostring(root)) == []
    mutated = copy.deepcopy(root)
    case.mutate(mutated)
    assert ET.tostring(mutated) != ET.tostring(root), "the mutation changed nothing"
    found = errors(schema, ET.tostring(mutated))
    assert any(case.complaint in error for error in found), found
