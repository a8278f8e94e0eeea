"""Image generation behind one protocol: backends (lora/, express), styles, selection, tiny."""
