#!/usr/bin/env python3
"""The documentation says only what is true of the repository (issue 27): in the README, the
pages under docs/ and bench/README.md, every file or folder named in backticks or linked
exists, every `make` target and `cutover` subcommand named exists, and every count of checks
or named suites written out in words is the count the code and suites/ hold. A drifted fact
fails here and names the file, the line and what was expected."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
TOP = ("Sources/", "Tests/", "suites/", "bench/", "scripts/", "docs/", "deploy/", "Examples/", "mock-upstream/", "CCurl/", "api/")
WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                                     "sixteen seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four".split())}


def checks_in_code() -> set[int]:
    """How many checks there are (CheckID's cases), and how many are judged in every run."""
    ids = (ROOT / "Sources" / "Cutover" / "Checks" / "CheckID.swift").read_text()
    catalog = (ROOT / "Sources" / "Cutover" / "Checks" / "CheckCatalog.swift").read_text()
    always = re.search(r"static let alwaysJudged: \[CheckID\] = \[(.*?)\]", catalog, re.S)
    return {len(re.findall(r"^\s*case \w+ = ", ids, re.M)), len(re.findall(r"\.\w+", always.group(1)))}


def named_suites() -> tuple[int, int]:
    names = [p.stem for p in (ROOT / "suites").glob("*.yaml")]
    certification = re.findall(r"^\s*-\s*(\S+)", (ROOT / "suites" / "sets" / "certification.yaml").read_text(), re.M)
    return len(names), len(certification)


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


def cutover_subcommands() -> set[str]:
    command = (ROOT / "Sources" / "cutover" / "CutoverCommand.swift").read_text()
    listed = re.search(r"subcommands: \[(.*?)\]", command, re.S).group(1)
    return {name.lower() for name in re.findall(r"(\w+)\.self", listed)}


def prose_lines(text: str):
    """Each line with its number, and whether it is inside a fenced block."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        yield number, line, fenced


def main() -> int:
    checks, (suites, certification) = checks_in_code(), named_suites()
    targets, subcommands = make_targets(), cutover_subcommands()
    problems, facts = [], 0
    for doc in DOCS:
        where = doc.relative_to(ROOT)
        for number, line, fenced in prose_lines(doc.read_text()):
            spans = [line] if fenced else re.findall(r"`([^`]+)`", line)
            for span in spans:
                for target in re.findall(r"(?:^|[\s(])make ([a-z][\w-]*)", span):
                    facts += 1
                    if target not in targets:
                        problems.append(f"{where}:{number}: `make {target}`: no such target in the Makefile ({', '.join(sorted(targets))})")
                for sub in re.findall(r"(?:^|[\s/(])cutover ([a-z]+)\b", span):
                    facts += 1
                    if sub not in subcommands and sub not in ("help",):
                        problems.append(f"{where}:{number}: `cutover {sub}`: no such subcommand ({', '.join(sorted(subcommands))})")
                for path in re.findall(r"(?:^|\s)((?:%s)[\w./*{}-]*)" % "|".join(map(re.escape, TOP)), span):
                    path = path.rstrip(".,;:")
                    if "{" in path or "…" in path or re.search(r"/[A-Z]+(\.\w+)?$", path):
                        continue
                    facts += 1
                    if not (any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()):
                        problems.append(f"{where}:{number}: `{path}`: no such file or folder")
            if fenced:
                continue
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", line):
                if re.match(r"[a-z]+:", target):
                    continue
                facts += 1
                if not (doc.parent / target).exists():
                    problems.append(f"{where}:{number}: the link to {target}: no such file")
            for word, noun in re.findall(r"\b(%s) (checks|named suites|suites)\b" % "|".join(WORDS), line, re.I):
                facts += 1
                count, expected = WORDS[word.lower()], (checks if noun == "checks" else {suites, certification})
                if count not in expected:
                    problems.append(f"{where}:{number}: '{word} {noun}': the repository has {' or '.join(map(str, sorted(expected)))}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"doc-facts: {facts} files, links, commands and counts named in {len(DOCS)} documents, all true")
    return 0


if __name__ == "__main__":
    sys.exit(main())
