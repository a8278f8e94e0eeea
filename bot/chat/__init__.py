"""The pure conversation core: (session, event) -> (session, effects), no I/O."""
