"""The Python blocks of README.md and python/README.md run as written from the repository root
(the new user's path: predict with a shipped model, train on labels of one's own, predict the
archs that model has not seen). Blocks that need a file the user makes first (`t.parquet`) are
not run; a block that reads ../shared/data is skipped without it, unless
GREENFACTORY_REQUIRE_DATA is set (CI), where its absence fails.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "../shared/data"


def python_blocks(path):
    text = (ROOT / path).read_text()
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


BLOCKS = [
    (f"{path}#{i}", block)
    for path in ["README.md", "python/README.md"]
    for i, block in enumerate(python_blocks(path))
    if "t.parquet" not in block
]


def test_the_readmes_have_runnable_python_blocks():
    assert any(name.startswith("README.md") for name, _ in BLOCKS)
    assert any(name.startswith("python/README.md") for name, _ in BLOCKS)


@pytest.mark.parametrize("name,block", BLOCKS, ids=[n for n, _ in BLOCKS])
def test_readme_python_block_runs_as_written(name, block):
    if "../shared/data" in block and not DATA.is_dir():
        if os.environ.get("GREENFACTORY_REQUIRE_DATA"):
            pytest.fail(f"{name} needs {DATA} (GREENFACTORY_REQUIRE_DATA is set)")
        pytest.skip(f"{name} needs {DATA} (NATS-Bench labels)")
    r = subprocess.run([sys.executable, "-c", block], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"{name} failed:\n{block}\n{r.stderr}"
    if "print(" in block:
        assert r.stdout.strip(), f"{name} printed nothing"
