#!/usr/bin/env python3
"""Every Swift example in the documentation compiles (issue 16): each ```swift block of the
README, the pages under docs/, the DocC catalog and the public sources' /// comments must appear, whitespace aside, in
Examples/CertifyReference, which `make test` builds and runs. A block that drifts from the
example, or an example that changes under a block, fails here and names the block."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "Examples" / "CertifyReference"


def normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def blocks():
    articles = [ROOT / "README.md", ROOT / "bench" / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    for article in articles + sorted((ROOT / "Sources" / "Cutover" / "Cutover.docc").glob("*.md")):
        for match in re.finditer(r"```swift\n(.*?)```", article.read_text(), re.S):
            yield article, match.group(1)
    for source in sorted((ROOT / "Sources" / "Cutover").rglob("*.swift")):
        comment = "\n".join(re.sub(r"^\s*/// ?", "", line) for line in source.read_text().splitlines() if line.strip().startswith("///"))
        for match in re.finditer(r"```swift\n(.*?)```", comment, re.S):
            yield source, match.group(1)


def main() -> int:
    example = normal(" ".join(p.read_text() for p in sorted(EXAMPLE.rglob("*.swift")) if ".build" not in p.parts))
    count, problems = 0, []
    for where, block in blocks():
        count += 1
        if normal(block) not in example:
            first = block.strip().splitlines()[0]
            problems.append(f"{where.relative_to(ROOT)}: the example starting '{first}' is not in {EXAMPLE.relative_to(ROOT)}, so nothing compiles it")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"doc-examples: all {count} Swift examples of the documentation are compiled in {EXAMPLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
