"""Telegram: the adapter, the sink, the front and its per-chat pacing."""
