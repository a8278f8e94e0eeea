"""Every sentence a person reads: the messages, progress and gate texts, the catalogs."""
