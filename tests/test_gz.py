"""Files joined from the parts of others: the same bytes whether the kernel copies them or this process does; one
gzip member spliced from parts deflated apart."""

from __future__ import annotations

import gzip
import io
import os
import zlib

import pytest

from kg import spliced
from kg.build import gz
from kg.build.gz import copy_range
from kg.spliced import PARTS_DIR, Splicer

DATA = bytes(range(256)) * 5000  # larger than one block of the copy through memory


@pytest.fixture(params=["kernel", "memory"])
def copying(request, monkeypatch) -> str:
    """Each test runs with the kernel's copy, and with the copy through memory a file system without it gets."""
    if request.param == "memory":
        def refused(*_):
            raise OSError(18, "Invalid cross-device link")
        monkeypatch.setattr(gz.os, "copy_file_range", refused)
    return request.param


def test_a_range_is_appended_after_what_was_written(tmp_path, copying):
    (tmp_path / "src").write_bytes(DATA)
    with (tmp_path / "src").open("rb") as src, (tmp_path / "out").open("wb") as out:
        out.write(b"head")  # still in the writer's buffer
        assert copy_range(src, 1000, 300_000, out) == 300_000
        out.write(b"tail")
    assert (tmp_path / "out").read_bytes() == b"head" + DATA[1000:301_000] + b"tail"


def test_a_range_past_the_end_copies_what_there_is(tmp_path, copying):
    (tmp_path / "src").write_bytes(DATA[:500])
    with (tmp_path / "src").open("rb") as src, (tmp_path / "out").open("wb") as out:
        assert copy_range(src, 400, 300, out) == 100
    assert (tmp_path / "out").read_bytes() == DATA[400:500]


def test_files_concatenate_whole(tmp_path, copying):
    parts = []
    for n in range(3):
        parts.append(tmp_path / f"part-{n}")
        parts[-1].write_bytes(DATA[n * 1000:(n + 1) * 1000 + 77])
    gz.concatenate(parts, tmp_path / "all")
    assert (tmp_path / "all").read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert os.path.getsize(tmp_path / "all") == 3 * 1077


def _one_member(data: bytes) -> bytes:
    """What a gzip reader takes from `data`, which must be exactly one gzip member (a second would be left over)."""
    reader = zlib.decompressobj(31)
    out = reader.decompress(data)
    assert reader.eof and reader.unused_data == b""
    return out


def test_parts_deflated_apart_join_into_one_member(tmp_path):
    texts = [DATA[:700_000], b"", b"{\"name\": \"Break Away\"}" * 500, DATA[3:9]]
    (tmp_path / PARTS_DIR).mkdir()
    with (tmp_path / PARTS_DIR / "packed").open("wb") as packed:
        parts = [(packed.tell(), gz.deflate_into(io.BytesIO(t), packed)) for t in texts]
    assert parts[1][1] == gz.EMPTY
    member = gz.Member(Splicer(tmp_path, "glue"))
    member.write(b"[")
    for at, part in parts:
        member.part("packed", at, part)
        member.write(b",")
    size = member.close(tmp_path / "member.gz")
    data = spliced.read_bytes(tmp_path / "member.gz")
    assert size == len(data) and _one_member(data) == b"[" + b",".join(texts) + b"," == gzip.decompress(data)


def test_a_member_spliced_in_a_directory_below_its_parts_reads_whole(tmp_path):
    (tmp_path / PARTS_DIR).mkdir()
    with (tmp_path / PARTS_DIR / "packed").open("wb") as packed:
        part = gz.deflate_into(io.BytesIO(DATA[:5000]), packed)
    (tmp_path / "wire").mkdir()
    member = gz.Member(Splicer(tmp_path, "glue"))
    member.part("packed", 0, part)
    member.close(tmp_path / "wire" / "member.gz")
    assert gzip.decompress(spliced.read_bytes(tmp_path / "wire" / "member.gz")) == DATA[:5000]


def test_bytes_deflated_apart_join_a_member_as_its_parts_do(tmp_path):
    packed = io.BytesIO()
    part = gz.deflate_into(io.BytesIO(DATA[:3000]), packed)
    member = gz.Member(Splicer(tmp_path, "glue"))
    member.write(b"<")
    member.deflated(packed.getvalue(), part)
    member.close(tmp_path / "member.gz")
    assert _one_member(spliced.read_bytes(tmp_path / "member.gz")) == b"<" + DATA[:3000]
    with pytest.raises(ValueError, match="not the part"):
        gz.Member(Splicer(tmp_path, "glue")).deflated(b"x", part)


def test_a_member_of_written_bytes_only(tmp_path):
    member = gz.Member(Splicer(tmp_path, "glue"))
    member.write(b"@prefix s: <http://schema.org/> .\n")
    member.close(tmp_path / "member.gz")
    assert _one_member(spliced.read_bytes(tmp_path / "member.gz")) == b"@prefix s: <http://schema.org/> .\n"


def test_a_member_naming_a_part_its_file_does_not_hold_is_refused_when_read(tmp_path):
    (tmp_path / PARTS_DIR).mkdir()
    (tmp_path / PARTS_DIR / "part").write_bytes(b"")
    member = gz.Member(Splicer(tmp_path, "glue"))
    member.part("part", 0, gz.Deflated(10, 40, 1234))
    member.close(tmp_path / "member.gz")
    with pytest.raises(OSError, match="ends before"):
        spliced.read_bytes(tmp_path / "member.gz")
