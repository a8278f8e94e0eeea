"""Blob and state keys: validation, and the one function that scopes them to a person."""

from __future__ import annotations

import hashlib
import re

from core.errors import InvalidKeyError

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=-]{0,127}")
_MAX_KEY_CHARS = 512


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative path of plain segments, else raise."""
    if not key or len(key) > _MAX_KEY_CHARS:
        raise InvalidKeyError(f"blob key must be 1-{_MAX_KEY_CHARS} characters: {key!r}")
    for segment in key.split("/"):
        # The segment pattern rejects "", ".", ".." and anything starting with a dot or a slash.
        if not _SEGMENT.fullmatch(segment):
            raise InvalidKeyError(f"blob key has an unsafe segment {segment!r}: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if it is empty or a safe key, optionally ending with '/'."""
    stripped = prefix.removesuffix("/")
    if stripped:
        validate_key(stripped)
    return prefix


def user_scope(platform: str, user_id: str | int) -> str:
    """Return the key segment for one person; every key of theirs starts with it.

    The raw id is hashed so blob listings and logs never carry a platform's user id.
    """
    if not re.fullmatch(r"[a-z]{2,16}", platform):
        raise InvalidKeyError(f"platform must be lowercase letters: {platform!r}")
    digest = hashlib.sha256(f"{platform}:{user_id}".encode()).hexdigest()[:24]
    return f"{platform}-{digest}"
