"""The processes below one process, read from /proc (Linux), for the benchmark and tests."""

from __future__ import annotations

from pathlib import Path


def descendants(root: int, exclude: int = 0) -> list[int]:
    """Every process below ``root``, children first; ``exclude`` and its own are left out."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child != exclude:
                found.append(child)
                stack.append(child)
    return found
