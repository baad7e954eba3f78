"""`--format junit`: JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure Pipelines,
test-reporter actions). One test case per finding: a `<failure>` when it reaches `fail_on`, a passing
case with the message otherwise; suppressed, waived and baselined findings are `<skipped>` with their
reason; a skipped run is one skipped case saying why; a clean run one passing case."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from align.findings import Finding
from align.report._common import skipped_reason, sorted_findings
from align.result import ReviewResult


def _case(suite: ET.Element, finding: Finding) -> ET.Element:
    where = f"{finding.path}:{finding.line}" + (f":{finding.column}" if finding.column else "")
    return ET.SubElement(suite, "testcase", classname=finding.path, name=f"{finding.rule} at {where}",
                         file=finding.path, line=str(max(finding.line, 1)))


def _text(finding: Finding) -> str:
    lines = [f"{finding.severity.value}: {finding.message}"]
    if finding.suggestion is not None:
        lines += ["suggested:", finding.suggestion]
    lines += list(finding.details)
    return "\n".join(lines)


def render(result: ReviewResult) -> str:
    root = ET.Element("testsuites", name="align")
    suite = ET.SubElement(root, "testsuite", name=f"align {result.mode}")
    failures = skipped = cases = 0
    for finding in sorted_findings(result.findings):
        case = _case(suite, finding)
        cases += 1
        if finding.severity.reaches(result.fail_on):
            failure = ET.SubElement(case, "failure", type=finding.rule, message=finding.message)
            failure.text = _text(finding)
            failures += 1
        else:
            ET.SubElement(case, "system-out").text = _text(finding)
    excused = [(f, f"suppressed inline: {s.reason}") for f, s in result.suppressed]
    excused += [(f, f"waived by {w.author}: {w.reason}") for f, w in result.waived]
    excused += [(f, "in the baseline") for f in result.baselined]
    for finding, why in excused:
        ET.SubElement(_case(suite, finding), "skipped", message=why)
        cases += 1
        skipped += 1
    reason = skipped_reason(result)
    if reason is not None:
        case = ET.SubElement(suite, "testcase", classname="align", name=f"align {result.mode}")
        ET.SubElement(case, "skipped", message=reason)
        cases += 1
        skipped += 1
    elif cases == 0:
        ET.SubElement(suite, "testcase", classname="align", name=f"align {result.mode}: no findings")
        cases += 1
    for element in (root, suite):
        element.set("tests", str(cases))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
