#!/usr/bin/env python3
"""One table of checks by router from `cutover certify` report folders, and each failure's
explanation as its report gives it ("Known Envoy behaviour: ..."). A failure without one is
listed as unexplained: a finding still to explain, or a harness bug to fix.

Usage: router-table.py REPORT_DIR ROUTER...   (REPORT_DIR/ROUTER/report.json each)
"""
import json
import sys
from pathlib import Path

folder, routers = Path(sys.argv[1]), sys.argv[2:]
reports = {}
for router in routers:
    path = folder / router / "report.json"
    if path.exists():
        reports[router] = json.loads(path.read_text())
    else:
        print(f"{router}: no {path}", file=sys.stderr)
routers = [r for r in routers if r in reports]

checks = []
for report in reports.values():
    for check in report["checks"]:
        if check["name"] not in checks:
            checks.append(check["name"])


def cell(report, name):
    check = next((c for c in report["checks"] if c["name"] == name), None)
    if not check:
        return ""
    counts = check["counts"]
    if counts.get("skipped") and not (counts.get("pass") or counts.get("fail") or counts.get("inconclusive")):
        return "not applicable"
    text = f"{counts.get('pass', 0)} / {counts.get('fail', 0)}"
    if counts.get("inconclusive"):
        text += f" ({counts['inconclusive']} inconclusive)"
    return f"**{text}**" if counts.get("fail") else text


def version(report):
    build = report.get("router") or {}
    return f"{build.get('profile', '?')} {build.get('version', '?')}"


print("| check | " + " | ".join(routers) + " |")
print("| --- |" + " --- |" * len(routers))
for name in checks:
    print(f"| {name} | " + " | ".join(cell(reports[r], name) for r in routers) + " |")
print("| **verdict** | " + " | ".join(reports[r]["verdict"] for r in routers) + " |")
print()
print("Builds: " + "; ".join(version(reports[r]) for r in routers) + ".")
print()
unexplained = []
for router in routers:
    notes = {}
    for suite in reports[router]["suites"]:
        for check in suite.get("checks", []):
            if check.get("status") != "fail":
                continue
            summary = check.get("summary", "")
            known = summary.split(". Known ", 1)
            key = (check["name"], "Known " + known[1] if len(known) > 1 else None)
            notes.setdefault(key, []).append(str(suite.get("suite", "?")))
            if len(known) == 1:
                unexplained.append(f"{router} {check['name']} in {notes[key][-1]}: {summary[:300]}")
    for (name, note), suites in sorted(notes.items(), key=lambda item: item[0][0]):
        print(f"- **{router}, {name}** ({len(suites)}: {', '.join(suites)}): {note or 'UNEXPLAINED'}")
if unexplained:
    print("\nUnexplained failures:")
    for line in unexplained:
        print(f"- {line}")
