"""The chosen headshots as ZIP documents, split into parts that each fit the platform's limit."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from bot.text import files as names

ENTRY_OVERHEAD = 128  # local header, central directory entry and slack, besides the name twice
END_RECORD = 22


def zip_parts(files: Sequence[tuple[str, bytes]], limit_bytes: int) -> list[tuple[str, bytes]]:
    """Return (file name, ZIP bytes) parts, each a whole ZIP of some files within `limit_bytes`.

    Each part opens on its own (no split-archive format the person's phone may not read). A
    single file larger than the limit still gets a part of its own: it cannot be cut smaller.
    The parts are named in the person's language (bot/text/files.py).
    """
    groups = _groups(files, limit_bytes)
    total = len(groups)
    return [(names.zip_name(n, total), _zip(g)) for n, g in enumerate(groups, start=1)]


def _groups(files: Sequence[tuple[str, bytes]], limit_bytes: int) -> list[list[tuple[str, bytes]]]:
    groups: list[list[tuple[str, bytes]]] = [[]]
    size = END_RECORD
    for name, data in files:
        cost = len(data) + 2 * len(name.encode()) + ENTRY_OVERHEAD
        if groups[-1] and size + cost > limit_bytes:
            groups.append([])
            size = END_RECORD
        groups[-1].append((name, data))
        size += cost
    return groups


def _zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    # Stored, not deflated: PNG and JPEG are compressed already, deflating only costs CPU.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()
