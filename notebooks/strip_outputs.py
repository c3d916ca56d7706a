"""Strips outputs and execution counts from notebooks, in place, so they
are committed without outputs:

    .venv/bin/python notebooks/strip_outputs.py notebooks/*.ipynb
"""

from __future__ import annotations

import sys

import nbformat


def strip(path: str) -> bool:
    """Clears a notebook's outputs; returns whether it changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.outputs or cell.execution_count is not None:
            cell.outputs = []
            cell.execution_count = None
            changed = True
        for key in ("execution", "collapsed", "scrolled"):
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        if strip(name):
            print(f"stripped {name}")
