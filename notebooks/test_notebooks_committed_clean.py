"""Notebooks are committed without outputs, and each one checks the CLI's
outputs with at least one assertion."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))

# The notebooks this directory must hold, so that a lost one fails here
# rather than leaving nbmake with less to run.
REQUIRED = {
    "consolidation.ipynb",
    "failover.ipynb",
    "finance.ipynb",
    "load-test.ipynb",
    "migration.ipynb",
    "spike.ipynb",
}


def test_the_required_notebooks_are_here():
    names = {p.name for p in NOTEBOOKS}
    assert REQUIRED <= names, f"missing: {sorted(REQUIRED - names)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} hold outputs; run "
        f"`.venv/bin/python notebooks/strip_outputs.py notebooks/{path.name}`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_the_cli_and_asserts(path):
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "CUTOVER" in source and "--out" in source, f"{path.name} does not run the CLI"
    assert "\nassert " in "\n" + source or "    assert " in source, f"{path.name} asserts nothing"
