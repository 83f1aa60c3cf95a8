"""Copying a stream while hashing it, shared by the client and the server."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024
WRITE_BEHIND_BYTES = 64 * 1024 * 1024
# Buffers in flight: one filling while the hasher and the writer work through the others.
BUFFERS = 3


def copy_while_hashing(
    read_into: Callable[[memoryview], int],
    write: Callable[[memoryview], object],
    hasher,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Copy everything `read_into` yields to `write`, hashing it on the way; return the size.

    A three-stage pipeline: the caller fills a buffer while one thread hashes and another
    writes the buffers filled before, both reading the same buffer at once. Socket reads,
    hashing and file writes all release the GIL, so the copy runs at about the pace of its
    slowest step rather than the sum of them. Each stage has one thread, so chunks are hashed
    and written in order, and a few buffers reused throughout keep memory flat.
    """
    buffers = [memoryview(bytearray(chunk_size)) for _ in range(BUFFERS)]
    in_use: dict[int, tuple[Future, Future]] = {}
    total = 0
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as hashing,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="write") as writing,
    ):
        try:
            for index in itertools.cycle(range(BUFFERS)):
                _wait(in_use.pop(index, ()))  # this buffer is free again, or its error raises
                buffer = buffers[index]
                count = read_into(buffer)
                if not count:
                    break
                total += count
                chunk = buffer[:count]
                in_use[index] = (hashing.submit(hasher.update, chunk), writing.submit(write, chunk))
            for futures in in_use.values():
                _wait(futures)
        except BaseException:
            for hashed, written in in_use.values():
                hashed.cancel()
                written.cancel()
            raise
    return total


def _wait(futures) -> None:
    for future in futures:
        future.result()


def writing_behind(file: BinaryIO) -> Callable[[memoryview], object]:
    """`file.write` that has the kernel start putting each WRITE_BEHIND_BYTES on disk while the
    next arrive.

    A large file written in one go would otherwise sit in the page cache until its final sync
    and then be flushed all at once: starting early overlaps the disk with the network, and
    keeps a file nobody is reading yet from crowding the cache (written pages are dropped
    once they are clean).
    """
    if not hasattr(os, "posix_fadvise"):  # not on every platform; the final sync does it all
        return file.write
    written = started = 0

    def write(chunk: memoryview) -> None:
        nonlocal written, started
        file.write(chunk)
        written += len(chunk)
        if written - started >= WRITE_BEHIND_BYTES:
            file.flush()
            os.posix_fadvise(file.fileno(), 0, written, os.POSIX_FADV_DONTNEED)
            started = written

    return write
