"""bench/build.py, run small: its edits are compared with --full builds as its figures claim (a bench that stopped
comparing like with like would report speed bought with wrong output)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO


def test_the_build_bench_finds_each_edit_byte_identical_to_a_full_build(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}  # the bench sets its own
    done = subprocess.run([sys.executable, "bench/build.py", "--films", "300", "--work", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    said = done.stdout
    assert "the last byte-identical to --full: True" in said and "byte-identical to --full: True)" in said, said
    assert "False" not in said, said
