"""Discord: the adapter, the sink and the front."""
