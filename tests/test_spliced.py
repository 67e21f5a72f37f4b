"""Dumps kept as the ranges of the shards' pieces (kg.spliced): read back as one file, and sent as one."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from kg import spliced
from kg.layout import current
from kg.spliced import PARTS_DIR, SUFFIX, Splicer


@pytest.fixture(scope="module")
def release(released: Path) -> Path:
    found = current(released / "var")
    assert found is not None
    return found


def made(tmp_path: Path) -> tuple[Path, bytes]:
    """A spliced file of glue and ranges of two part files, and the bytes it stands for."""
    parts = tmp_path / PARTS_DIR
    parts.mkdir(parents=True)
    (parts / "a").write_bytes(bytes(range(256)) * 40)
    (parts / "b").write_bytes(b"0123456789" * 500)
    out = Splicer(tmp_path, "glue")
    out.write(b"HEAD\n")
    out.part("a", 100, 3000)
    out.write(b",")
    out.write(b";")
    out.part("b", 0, 0)  # nothing: no range
    out.part("b", 7, 4000)
    out.part("b", 4007, 100)  # follows the range before it: one range
    out.write(b"TAIL\n")
    target = tmp_path / "dump.ttl"
    assert out.close(target) == 5 + 3000 + 2 + 4100 + 5
    a, b = (parts / "a").read_bytes(), (parts / "b").read_bytes()
    return target, b"HEAD\n" + a[100:3100] + b",;" + b[7:4107] + b"TAIL\n"


def test_a_spliced_file_reads_as_the_bytes_it_stands_for(tmp_path):
    target, expected = made(tmp_path)
    assert not target.exists() and spliced.exists(target)
    assert spliced.read_bytes(target) == expected and spliced.size(target) == len(expected)
    listed = json.loads((tmp_path / ("dump.ttl" + SUFFIX)).read_text())
    assert [r[0] for r in listed["ranges"]] == ["glue", "a", "glue", "b", "glue"]  # neighbours joined


def test_a_spliced_file_reads_the_same_from_anywhere(tmp_path):
    target, expected = made(tmp_path)
    pick = random.Random(7)
    with spliced.open_file(target) as f:
        for _ in range(300):
            at, n = pick.randrange(len(expected) + 10), pick.randrange(1, 5000)
            f.seek(at)
            assert f.read(n) == expected[at:at + n], (at, n)
        f.seek(-7, 2)
        assert f.read() == expected[-7:]


@pytest.mark.parametrize("name", ["../secret", "/etc/passwd", "sub/x", ".hidden"])
def test_a_list_naming_a_file_outside_its_parts_is_refused(tmp_path, name):
    (tmp_path / "secret").write_bytes(b"x" * 100)
    (tmp_path / ("dump.ttl" + SUFFIX)).write_text(json.dumps({"size": 10, "ranges": [[name, 0, 10]]}))
    with pytest.raises(OSError, match="not a list of ranges"):
        spliced.open_file(tmp_path / "dump.ttl")
    with pytest.raises(OSError):
        spliced.size(tmp_path / "dump.ttl")


@pytest.mark.parametrize("listed", ['{"size": Infinity, "ranges": [["a", 0, 10]]}',
                                    '{"size": 10.0, "ranges": [["a", 0, 10.0]]}',
                                    '{"size": 10, "ranges": [["a", true, 10]]}',
                                    '{"size": "10", "ranges": [["a", 0, "10"]]}',
                                    '{"size": 11, "ranges": [["a", 0, 10]]}',
                                    '[["a", 0, 10]]', '{"size": 10}'])
def test_a_list_that_is_not_one_kg_wrote_is_refused(tmp_path, listed):
    (tmp_path / PARTS_DIR).mkdir()
    (tmp_path / PARTS_DIR / "a").write_bytes(b"x" * 100)
    (tmp_path / ("dump.ttl" + SUFFIX)).write_text(listed)
    with pytest.raises(OSError):
        spliced.open_file(tmp_path / "dump.ttl")
    with pytest.raises(OSError):
        spliced.size(tmp_path / "dump.ttl")


def test_a_spliced_file_reads_to_its_end_when_its_directory_is_moved_and_deleted_meanwhile(tmp_path):
    """A download goes on when its release is retired: renamed, then deleted."""
    target, expected = made(tmp_path / "release")
    with spliced.open_file(target) as f:
        first = f.read(10)
        (tmp_path / "release").rename(tmp_path / ".retired")
        shutil.rmtree(tmp_path / ".retired")
        assert first + f.read() == expected


def test_a_spliced_file_refuses_a_seek_before_its_start(tmp_path):
    target, _ = made(tmp_path)
    with spliced.open_file(target) as f, pytest.raises(ValueError):
        f.seek(-5)


def test_a_part_shorter_than_its_range_is_an_error_not_a_short_file(tmp_path):
    target, _ = made(tmp_path)
    (tmp_path / PARTS_DIR / "b").write_bytes(b"0123")
    with pytest.raises(OSError, match="ends before"):
        spliced.open_file(target)


def test_a_plain_file_is_read_as_it_is(tmp_path):
    (tmp_path / "plain.ttl").write_bytes(b"<a> <b> <c> .\n")
    assert spliced.size(tmp_path / "plain.ttl") == 14 and spliced.read_bytes(tmp_path / "plain.ttl") == \
        b"<a> <b> <c> .\n"
    assert not spliced.exists(tmp_path / "gone.ttl")


def boundaries(release: Path, name: str) -> list[int]:
    """Where one range of the dump ends and the next begins."""
    listed = json.loads((release / (name + SUFFIX)).read_text())
    at, out = 0, []
    for _, _, length in listed["ranges"][:-1]:
        at += length
        out.append(at)
    return out


@pytest.mark.parametrize("name", ["kg.ttl", "kg.jsonld", "kg.jsonl", "kg.trig"])
def test_the_server_sends_a_spliced_dump_whole(live, release, name):
    r = requests.get(f"{live.url}/download/{name}", headers={"Accept-Encoding": "identity"}, timeout=10)
    expected = spliced.read_bytes(release / name)
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert int(r.headers["Content-Length"]) == len(expected) and r.content == expected
    assert len(boundaries(release, name)) > 4  # made of several shards' pieces


@pytest.mark.parametrize("name", ["kg.ttl", "kg.trig"])
def test_the_server_sends_a_range_across_the_pieces_of_a_spliced_dump(live, release, name):
    expected = spliced.read_bytes(release / name)
    for cut in boundaries(release, name)[:6]:
        r = requests.get(f"{live.url}/download/{name}", headers={"Range": f"bytes={cut - 3}-{cut + 2}",
                                                                  "Accept-Encoding": "identity"}, timeout=10)
        assert r.status_code == 206 and r.content == expected[cut - 3:cut + 3], cut
        assert r.headers["Content-Range"] == f"bytes {cut - 3}-{cut + 2}/{len(expected)}"


def test_the_server_answers_a_spliced_dump_asked_again_with_not_modified(live):
    url = f"{live.url}/download/kg.ttl"
    first = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
    again = requests.get(url, headers={"Accept-Encoding": "identity", "If-None-Match": first.headers["ETag"]},
                         timeout=10)
    assert first.status_code == 200 and again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("name", ["kg.ttl", "kg.trig"])
def test_kg_dump_writes_a_dump_as_the_server_sends_it(run_kg, released, client, name):
    code, output = run_kg(released, "dump", name)
    sent = client.get(f"/download/{name}", headers={"Accept-Encoding": "identity"}).data
    assert code == 0 and output.encode("utf-8") == sent and len(sent) > 1000


@pytest.mark.parametrize("name", ["kg.jsonld", "kg.nq.gz"])
def test_kg_dump_writes_into_a_file(run_kg, released, client, tmp_path, name):
    code, _ = run_kg(released, "dump", name, "-o", str(tmp_path / name))
    sent = client.get(f"/download/{name}", headers={"Accept-Encoding": "identity"}).data
    assert code == 0 and (tmp_path / name).read_bytes() == sent and len(sent) > 1000


@pytest.mark.parametrize("args, said", [(["kg.xml"], "no dump called 'kg.xml'; a release has kg.ttl"),
                                        (["kg.ttl", "--release", "nonesuch"], "kg: no kept release 'nonesuch' (kg releases")])
def test_kg_dump_of_what_is_not_there_exits_2_saying_so(run_kg, released, args, said):
    code, output = run_kg(released, "dump", *args)
    assert code == 2 and said in output


def test_kg_dump_without_a_release_exits_2(run_kg, empty_project):
    code, output = run_kg(empty_project, "dump", "kg.ttl")
    assert code == 2 and "no release in " in output and "yet (the project at" in output


def test_kg_dump_never_writes_into_the_releases(run_kg, released):
    target = current(released / "var") / PARTS_DIR / "release.ttl"
    before = target.read_bytes()
    code, output = run_kg(released, "dump", "kg.ttl", "-o", str(target))
    assert code == 2 and "among the releases" in output and target.read_bytes() == before


def test_kg_dump_into_a_folder_that_is_not_there_exits_3_leaving_nothing(run_kg, released, tmp_path):
    code, output = run_kg(released, "dump", "kg.ttl", "-o", str(tmp_path / "gone" / "kg.ttl"))
    assert code == 3 and "cannot write" in output and not (tmp_path / "gone").exists()


def test_kg_dump_into_a_pipe_writes_to_it_and_leaves_the_pipe(run_kg, released, client, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _ = run_kg(released, "dump", "kg.ttl", "-o", str(fifo))
    reader.join(30)
    sent = client.get("/download/kg.ttl", headers={"Accept-Encoding": "identity"}).data
    assert code == 0 and got == [sent] and fifo.is_fifo()


def test_kg_dump_through_a_link_writes_the_file_it_names(run_kg, released, client, tmp_path):
    (tmp_path / "link.ttl").symlink_to(tmp_path / "target.ttl")
    code, _ = run_kg(released, "dump", "kg.ttl", "-o", str(tmp_path / "link.ttl"))
    sent = client.get("/download/kg.ttl", headers={"Accept-Encoding": "identity"}).data
    assert code == 0 and (tmp_path / "link.ttl").is_symlink() and (tmp_path / "target.ttl").read_bytes() == sent


def test_kg_dump_to_a_dash_writes_to_standard_output(run_kg, released, client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, output = run_kg(released, "dump", "kg.ttl", "-o", "-")
    sent = client.get("/download/kg.ttl", headers={"Accept-Encoding": "identity"}).data
    assert code == 0 and output.encode("utf-8") == sent and not (tmp_path / "-").exists()


def test_kg_dump_of_an_empty_release_name_exits_2(run_kg, released):
    code, output = run_kg(released, "dump", "kg.ttl", "--release", "")
    assert code == 2 and "--release needs" in output


def test_kg_dump_to_a_full_standard_output_exits_3_saying_so(released):
    with open("/dev/full", "wb") as full:  # the shell's `kg dump kg.ttl > /dev/full`: the device is not touched
        done = subprocess.run([sys.executable, "-m", "kg", "--root", str(released), "dump", "kg.ttl"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert done.returncode == 3 and "No space left on device" in done.stderr and "Traceback" not in done.stderr


def test_a_damaged_list_of_a_gzip_copy_sends_the_plain_dump(released, tmp_path):
    from kg.config import load_config
    from server import create_app

    root = tmp_path / "project"
    shutil.copytree(released, root, symlinks=True)
    release = current(root / "var")
    assert release is not None
    (release / "wire" / ("kg.ttl.gz" + SUFFIX)).write_text("not a list kg wrote\n", encoding="utf-8")
    app = create_app(load_config(root, query_workers=1, cache_mb=0))
    try:
        r = app.test_client().get("/download/kg.ttl", headers={"Accept-Encoding": "gzip"})
    finally:
        app.extensions["kg.executors"].close()
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.data == spliced.read_bytes(release / "kg.ttl")


_HELD = """
import resource, sys
from pathlib import Path
from kg import spliced
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
here = Path(sys.argv[1])
for name, count in (("dump.ttl", 20), ("large.ttl", 40)):
    out = spliced.Splicer(here, "glue")
    for n in range(count):
        (here / spliced.PARTS_DIR / f"{name}-{n}").write_bytes(b"x" * 10)
        out.part(f"{name}-{n}", 0, 10)
    out.close(here / name)
budget = spliced.Descriptors()
first = spliced.open_file(here / "dump.ttl", budget)
try:
    spliced.open_file(here / "dump.ttl", budget)
except spliced.Busy as exc:
    print("busy", exc.errno, budget.held)
unlimited = [spliced.open_file(here / "dump.ttl") for _ in range(2)]  # (the build's, kg dump's: no budget)
print("without a budget", budget.held, sum(len(f.read()) for f in unlimited))
for f in unlimited:
    f.close()
first.close()
print("closed", budget.held)
large = spliced.open_file(here / "large.ttl", budget)
print("larger than the budget, alone", budget.held, len(large.read()))
try:
    spliced.open_file(here / "dump.ttl", budget)
except spliced.Busy:
    print("busy beside it")
large.close()
large.close()
print("closed twice", budget.held)
"""


def test_spliced_files_opened_with_a_budget_hold_at_most_half_the_descriptors_a_process_may(tmp_path):
    (tmp_path / PARTS_DIR).mkdir()
    said = subprocess.run([sys.executable, "-c", _HELD, str(tmp_path)], capture_output=True, text=True, check=True)
    assert said.stdout.split("\n") == ["busy 24 20", "without a budget 20 400", "closed 0",
                                       "larger than the budget, alone 40 400", "busy beside it", "closed twice 0", ""]
