"""bench/RESULTS.md in sections, one per benchmark: each run rewrites its own, keeps the rest."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Put ``text`` in the section ``name`` of the results file, in place or at the end."""
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        updated = head + block + rest.split(end, 1)[1]
    else:
        updated = (current.rstrip() + "\n\n" if current.strip() else "") + block + "\n"
    path.write_text(updated, encoding="utf-8")
