"""Where the samples of a `py-spy record -f raw` file went: one tally and one printout for every profiler."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StackTally:
    """Samples inside one entry function: by component, inclusive and self, and how many fell elsewhere."""

    total: int = 0
    other: int = 0
    groups: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    own: Counter[str] = field(default_factory=Counter)


def tally(paths: Iterable[Path], is_entry: Callable[[str], bool], groups: Mapping[str, str]) -> StackTally:
    """Count each stack from its first frame that `is_entry` (start-up, shut-down and other processes go to
    `other`); a stack counts for every component of `groups` (a substring of a frame -> a label) on it."""
    out = StackTally()
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack_text, _, count_text = line.rpartition(" ")
            if not stack_text:
                continue
            count = int(count_text)
            frames = [short_frame(f) for f in stack_text.split(";")]
            entry = next((i for i, f in enumerate(frames) if is_entry(f)), None)
            if entry is None:
                out.other += count
                continue
            frames = frames[entry:]
            out.total += count
            for frame in set(frames):
                out.inclusive[frame] += count
            out.own[frames[-1]] += count
            for key, label in groups.items():
                if any(key in f for f in frames):
                    out.groups[label] += count
    return out


def print_tally(found: StackTally, top: int, *, indent: str = "") -> None:
    """By component, then the top `top` functions inclusive and self, as shares of the entry's samples."""
    print(f"{indent}by component (a sample counts for each component on its stack):")
    for label, count in found.groups.most_common():
        print(f"{indent}  {100 * count / found.total:5.1f}%  {label}")
    print(f"{indent}inclusive (top {top}):")
    for frame, count in found.inclusive.most_common(top):
        print(f"{indent}  {100 * count / found.total:5.1f}%  {frame}")
    print(f"{indent}self (top {top}):")
    for frame, count in found.own.most_common(top):
        print(f"{indent}  {100 * count / found.total:5.1f}%  {frame}")


def short_frame(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` -> `func (pkg/mod.py)`: one entry per function."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"
