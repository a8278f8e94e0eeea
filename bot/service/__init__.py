"""The I/O shell around the core: Redis state, blobs, limits, the pack queue, albums."""
