"""The address that opens a pack's gallery, as the notifier puts it under the pack.

Telegram opens it as a Mini App and hands the page its signed init data, so the address needs
no secret of ours; Discord and the console get a link signed with the server secret over the
person, the pack and an expiry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.fronts.gallery.auth import LINK, Grant, issue
from core.settings import Settings
from engine.jobs import PackRequest

PAGE_PATH = "/gallery/"


@dataclass(frozen=True)
class GalleryLinks:
    """Makes gallery addresses for one deployment."""

    public_url: str
    secret: bytes
    link_ttl_s: int

    @classmethod
    def from_settings(cls, settings: Settings) -> GalleryLinks | None:
        """Return the link maker, None when no public address is set (no gallery)."""
        if not settings.public_url or settings.gallery_secret is None:
            return None
        secret = settings.gallery_secret.get_secret_value().encode()
        return cls(settings.public_url, secret, settings.gallery_link_ttl_s)

    def __call__(self, request: PackRequest) -> str:
        """Return the address of the pack's gallery for its own chat platform."""
        page = self.public_url + PAGE_PATH
        if request.platform == "telegram":
            return f"{page}?{urlencode({'pack': request.job_id})}"
        expires_at = int(time.time()) + self.link_ttl_s
        token = issue(self.secret, LINK, Grant(request.user_scope, request.job_id, expires_at))
        return f"{page}?{urlencode({'link': token})}"
