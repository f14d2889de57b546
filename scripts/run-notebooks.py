#!/usr/bin/env python3
"""Executes notebooks headless with nbclient (`make notebooks`); exits non-zero when a cell fails.

    run-notebooks.py notebooks/*.ipynb

Each notebook runs with the repository root's notebooks/ as working directory and its outputs
are written back into the file. With GF_NOTEBOOKS_QUICK=1 (CI) the notebooks shrink their work
(they read the variable) and the files are left untouched: the committed outputs stay those of
the full run.
"""
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(paths):
    quick = os.environ.get("GF_NOTEBOOKS_QUICK") == "1"
    failed = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=1800,
            kernel_name="python3",
            record_timing=False,  # no timestamps in the committed files
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        )
        t = time.time()
        try:
            client.execute()
        except CellExecutionError as e:
            failed.append(path)
            print(f"{path}: FAILED\n{e}", file=sys.stderr)
            continue
        print(f"{path}: ok in {time.time() - t:.0f} s{' (quick, not written)' if quick else ''}", file=sys.stderr)
        if not quick:
            nbformat.write(nb, path)
    if failed:
        sys.exit(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
