from __future__ import annotations

import hashlib
import io
import os

import pytest

from registry import streams
from registry.streams import BUFFERS, copy_while_hashing, writing_behind


def test_the_copy_is_whole_and_hashed_across_many_reused_buffers():
    data = os.urandom(10_000)
    source, target = io.BytesIO(data), io.BytesIO()
    hasher = hashlib.sha256()
    # A chunk size that does not divide the data: every buffer is refilled many times over.
    copied = copy_while_hashing(source.readinto, target.write, hasher, chunk_size=97)
    assert copied == len(data)
    assert target.getvalue() == data
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_an_empty_stream_copies_nothing():
    target = io.BytesIO()
    hasher = hashlib.sha256()
    assert copy_while_hashing(io.BytesIO().readinto, target.write, hasher) == 0
    assert target.getvalue() == b"" and hasher.hexdigest() == hashlib.sha256().hexdigest()


def test_a_failed_write_stops_the_copy_with_its_error():
    written = []

    def write(chunk):
        if len(written) == 3:
            raise OSError("No space left on device")
        written.append(bytes(chunk))

    source = io.BytesIO(os.urandom(10_000))
    with pytest.raises(OSError, match="No space left"):
        copy_while_hashing(source.readinto, write, hashlib.sha256(), chunk_size=100)
    # It stopped within the few buffers in flight, not after reading everything.
    assert source.tell() <= 100 * (3 + BUFFERS + 1)


def test_writing_behind_writes_everything_while_asking_the_kernel_to_flush(tmp_path, monkeypatch):
    monkeypatch.setattr(streams, "WRITE_BEHIND_BYTES", 1000)
    asked = []
    real_fadvise = os.posix_fadvise

    def fadvise(fd, offset, length, advice):
        asked.append((length, advice))
        real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", fadvise)
    data = os.urandom(10_000)
    with (tmp_path / "out").open("wb") as out:
        copy_while_hashing(
            io.BytesIO(data).readinto, writing_behind(out), hashlib.sha256(), chunk_size=97
        )
    assert (tmp_path / "out").read_bytes() == data
    # Each request covers all written so far, about every 1000 bytes.
    lengths = [length for length, advice in asked if advice == os.POSIX_FADV_DONTNEED]
    assert len(lengths) == 9 and lengths == sorted(lengths) and lengths[-1] <= len(data)
