#!/usr/bin/env python3
"""The public API's surface (issue 16): reads the symbol graphs SwiftPM dumps and checks
that (1) only the products Cutover and MockUpstream have public symbols, (2) every public
symbol has a /// comment, and (3) the surface equals the one recorded in api/*.txt, so a
symbol cannot become public by accident. `--update` records the current surface."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRODUCTS = ["Cutover", "MockUpstream"]
INTERNAL = ["ConfigInput", "CurlHTTP", "HTTPServerCore", "BlueGreenRouter", "CommandLineSupport"]


def main() -> int:
    update = "--update" in sys.argv[1:]
    out = subprocess.run(["swift", "package", "dump-symbol-graph", "--minimum-access-level", "public"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout + out.stderr, file=sys.stderr)
        return 1
    folder = next(line.split("Files written to ", 1)[1].strip() for line in out.stdout.splitlines() if "Files written to" in line)
    graphs = pathlib.Path(folder)
    problems = []
    for module in INTERNAL:
        symbols = json.loads((graphs / f"{module}.symbols.json").read_text())["symbols"]
        if symbols:
            names = sorted(".".join(s["pathComponents"]) for s in symbols)
            problems.append(f"{module} is not a product, yet has public symbols: {', '.join(names[:10])}")
    for module in PRODUCTS:
        symbols = json.loads((graphs / f"{module}.symbols.json").read_text())["symbols"]
        lines = []
        for symbol in symbols:
            # Members the compiler writes (hashValue of an enum) have nothing to document.
            if "::SYNTHESIZED::" in symbol["identifier"]["precise"]:
                continue
            declaration = "".join(f["spelling"] for f in symbol.get("declarationFragments", []))
            path = ".".join(symbol["pathComponents"])
            lines.append(f"{path}: {declaration}")
            if not symbol.get("docComment"):
                problems.append(f"{module}: public symbol without a /// comment: {path} ({declaration})")
        lines = sorted(set(lines))
        record = ROOT / "api" / f"{module}.txt"
        if update:
            record.parent.mkdir(exist_ok=True)
            record.write_text("\n".join(lines) + "\n")
            print(f"public-api: recorded {len(lines)} symbols of {module} in {record.relative_to(ROOT)}")
            continue
        recorded = record.read_text().splitlines() if record.exists() else []
        added = sorted(set(lines) - set(recorded))
        removed = sorted(set(recorded) - set(lines))
        for line in added:
            problems.append(f"{module}: public but not in api/{module}.txt: {line}")
        for line in removed:
            problems.append(f"{module}: in api/{module}.txt but no longer public: {line}")
        if not added and not removed:
            print(f"public-api: {module}: {len(lines)} public symbols, all documented and as recorded")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print("public-api: if the change is meant, run scripts/public-api.py --update and commit api/", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
