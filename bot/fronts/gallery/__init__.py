"""The gallery: a pack as a web page (a Telegram Mini App, or a signed link elsewhere)."""
