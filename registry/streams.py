"""Copying a stream while hashing it, shared by the client and the server."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

CHUNK_SIZE = 1024 * 1024


def copy_while_hashing(
    read_into: Callable[[memoryview], int],
    write: Callable[[memoryview], object],
    hasher,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Copy everything `read_into` yields to `write`, hashing it on the way; return the size.

    One buffer fills while another thread hashes and writes the one before. Socket reads,
    hashing and file writes all release the GIL, so the copy runs at about the pace of its
    slowest step, and two buffers reused throughout keep memory flat and spare the allocator
    (and the kernel's page faults) a fresh megabyte per chunk.
    """
    buffers = (memoryview(bytearray(chunk_size)), memoryview(bytearray(chunk_size)))
    total = 0
    pending: Future | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as worker:
        for filled in itertools.cycle(buffers):
            count = read_into(filled)
            if pending is not None:
                pending.result()  # the other buffer is free again, or its error raises here
            if not count:
                return total
            total += count
            pending = worker.submit(_hash_and_write, filled[:count], hasher, write)


def _hash_and_write(chunk: memoryview, hasher, write: Callable[[memoryview], object]) -> None:
    hasher.update(chunk)
    write(chunk)
