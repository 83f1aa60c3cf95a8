from __future__ import annotations

import hashlib
import io
import os

from registry.streams import copy_while_hashing


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
