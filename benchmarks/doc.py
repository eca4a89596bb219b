"""Where benchmarks write their results: a marked section of docs/benchmarks.md each."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def markers(name: str) -> tuple[str, str]:
    """The comments that delimit benchmark ``name``'s section."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(name: str, title: str, section: str) -> None:
    """Replace ``name``'s section (markers included in ``section``), or append it under
    ``title`` the first time, leaving the rest of the page as the people wrote it."""
    start, end = markers(name)
    text = DOC.read_text()
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {title}\n\n" + section + "\n"
    DOC.write_text(text)
