"""Shared helpers for the notebook checks and the report's browser test.

The tests drive the `cutover` command line exactly as a user would: the
binary named by the CUTOVER_BIN environment variable (`.ci/run` sets it to
the release build), or else `cargo run --release -q -p cutover --` from the
repository's root, which builds it on a fresh clone.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cutover_command() -> list[str]:
    """The command that runs the CLI, as a list for subprocess."""
    binary = os.environ.get("CUTOVER_BIN")
    if binary:
        return [binary]
    return ["cargo", "run", "--release", "-q", "-p", "cutover", "--"]


def run_cutover(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Runs `cutover ARGS` from the repository's root; fails the test on an
    exit status not in `ok` (`cutover plan` exits 1 for a plan that fails),
    showing what the CLI printed."""
    done = subprocess.run(
        [*cutover_command(), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode not in ok:
        pytest.fail(
            f"cutover {' '.join(args)} exited {done.returncode}\n"
            f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
    return done
