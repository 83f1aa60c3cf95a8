"""Copying a stream while hashing it, shared by the client and the server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor


def write_while_hashing(chunks: Iterable[bytes], write: Callable[[bytes], object], hasher) -> None:
    """Write each chunk while another thread hashes it.

    Hashing and file writes both release the GIL, so a chunk costs the slower of the two
    rather than their sum. Chunks are hashed in order: each waits for the one before.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as hashing:
        for chunk in chunks:
            hashed = hashing.submit(hasher.update, chunk)
            write(chunk)
            hashed.result()
