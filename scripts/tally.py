#!/usr/bin/env python3
"""Prints one 'VARIANT:TEST PASS|FAIL' line per test case in a meson testlog.json.

GoogleTest executables (protocol: 'gtest') are expanded into their individual cases, which meson
records in testlog.junit.xml beside the JSON log; other tests count as one case each. A test that
meson saw fail although all its cases passed (a crash at exit, a sanitizer report) adds a failure.
"""
import json
import os
import sys
import xml.etree.ElementTree as ElementTree

variant, log_path = sys.argv[1], sys.argv[2]
junit_path = os.path.join(os.path.dirname(log_path), "testlog.junit.xml")

# meson test name ("a-chat:unit / protocol") -> {case name: PASS|FAIL}
expanded = {}
if os.path.exists(junit_path):
    for suite in ElementTree.parse(junit_path).getroot().iter("testsuite"):
        # gtest suites are named "<project>.<project>:<suite> / <test>.<GTestSuite>"
        project_and_rest = suite.get("name", "").split(".", 1)
        if len(project_and_rest) != 2 or " / " not in project_and_rest[1]:
            continue
        test, _, gtest_suite = project_and_rest[1].rpartition(".")
        if not test:
            continue
        for case in suite.iter("testcase"):
            if case.find("skipped") is not None:
                continue
            failed = case.find("failure") is not None or case.find("error") is not None
            expanded.setdefault(test, {})[f"{gtest_suite}.{case.get('name')}"] = "FAIL" if failed else "PASS"

with open(log_path, encoding="utf-8") as log:
    for line in log:
        record = json.loads(line)
        name, result = record["name"], record["result"]
        if result in ("SKIP", "EXPECTEDFAIL"):
            continue
        label = name.replace(" ", "")
        cases = expanded.get(name, {})
        for case, outcome in sorted(cases.items()):
            print(f"{variant}:{label}/{case} {outcome}")
        if result != "OK" and "FAIL" not in cases.values():
            print(f"{variant}:{label} FAIL")
        elif not cases:
            print(f"{variant}:{label} PASS")
