"""The notifier: job streams -> chat, exactly once."""
