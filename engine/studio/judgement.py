"""The selection's verdict on one image.

Its own module so that selection (which judges) and quality (which sums the judgements up) both
import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.studio.likeness import FaceSignature, Likeness


@dataclass(frozen=True)
class Judgement:
    """The selection's verdict on one image, with what it measured on the way."""

    faces: int  # faces counted (background specks left out)
    face: FaceSignature | None  # the largest counted face
    likeness: Likeness | None
    reason: str  # "" when kept; else no_face, faces, unclear_face, different_person, near_copy

    @property
    def kept(self) -> bool:
        """Return True when the selection keeps the image."""
        return not self.reason
