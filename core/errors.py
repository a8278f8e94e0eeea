"""The error hierarchy shared by every layer; each edge turns these into a friendly message."""


class HeadshotsError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(HeadshotsError):
    """A setting is missing or malformed; the message names the variable."""


class StorageError(HeadshotsError):
    """A blob or state operation failed."""


class InvalidKeyError(StorageError):
    """A blob key is empty, absolute, or tries to escape its root."""


class BlobNotFoundError(StorageError):
    """No blob exists under the key."""


class BlobTooLargeError(StorageError):
    """A blob is larger than the caller allowed."""
