"""Is the test suite slower than it was at an older commit? Both checkouts run the same test paths at the same
time (side by side, so the machine's load falls on both alike), each serially, and the sum of the durations of
the tests present in both is compared (tests added since are reported apart: a bigger suite is not a slower one).

    python -m bench.suite_speed --old bb6a4e8 [--new HEAD] [PATH ...]

Both checkouts are fresh clones of this repository in a temporary folder and use this checkout's virtual
environment (the current directory comes first on `sys.path`, so each runs its own code).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATHS = ["tests/shared", "tests/kiosk", "tests/test_cli.py", "tests/test_patient_appointment_plan_cli.py",
                 "tests/test_migrations.py"]  # fmt: skip


def durations(junit: Path) -> dict[tuple[str, str], float]:
    """Each test's (class, name) -> seconds, from a JUnit XML report."""
    root = ET.parse(junit).getroot()
    cases = root.iter("testcase")
    return {(case.get("classname", ""), case.get("name", "")): float(case.get("time", 0)) for case in cases}


def start(revision: str, folder: Path, paths: list[str]) -> subprocess.Popen[bytes]:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "checkout", "-q", revision], check=True)
    here = [p for p in paths if (folder / p).exists()]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *here,
               f"--junitxml={folder / 'junit.xml'}"]  # fmt: skip
    return subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="the commit to compare against")
    parser.add_argument("--new", default="HEAD", help="the commit measured (default HEAD)")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="suite-speed-") as tmp:
        old_dir, new_dir = Path(tmp) / "old", Path(tmp) / "new"
        runs = [start(args.old, old_dir, args.paths), start(args.new, new_dir, args.paths)]
        codes = [run.wait() for run in runs]
        old, new = durations(old_dir / "junit.xml"), durations(new_dir / "junit.xml")
    common = old.keys() & new.keys()
    old_s, new_s = sum(old[k] for k in common), sum(new[k] for k in common)
    added = new.keys() - common
    print(f"exit codes: old {codes[0]}, new {codes[1]}")
    print(f"tests: old {len(old)}, new {len(new)}, in both {len(common)}")
    print(f"tests in both: old {old_s:.1f} s, new {new_s:.1f} s, new/old {new_s / old_s:.3f}")
    print(f"added since: {len(added)} tests, {sum(new[k] for k in added):.1f} s; "
          f"removed: {len(old.keys() - common)} tests, {sum(old[k] for k in old.keys() - common):.1f} s")  # fmt: skip
    slower = sorted(common, key=lambda k: new[k] - old[k])
    for key in slower[-5:][::-1]:
        print(f"  slower: {key[1][:90]} {old[key]:.2f} -> {new[key]:.2f} s")


if __name__ == "__main__":
    main()
