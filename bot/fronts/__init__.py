"""One package per chat platform: adapter + sink, no decisions."""
