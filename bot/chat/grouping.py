"""Who the set is about while a message's photos are checked: the person's photos and those aside.

The gate decides, photo by photo, which good photos show the person (the largest group of alike
faces, engine.quality.people); this keeps both lists in step with that decision and words what
moved, so the person hears "Photo 1 doesn't look like the other 2, so I've set it aside".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat.session import Selfie
from bot.text import messages as say


@dataclass
class Grouping:
    """The set's selfies and set-aside photos while an event's photos are checked."""

    selfies: list[Selfie]
    set_aside: list[Selfie]
    notes: list[str] = field(default_factory=list)

    def all(self) -> list[Selfie]:
        """Return every good photo of the set, the person's first."""
        return [*self.selfies, *self.set_aside]

    def add(
        self, selfie: Selfie, person: tuple[tuple[str, ...], ...] | None, most_aside: int
    ) -> None:
        """Add a good photo and regroup by the gate's decision, noting what moved and why."""
        pool = [*self.all(), selfie]
        chosen = set(person[0]) if person else {s.label for s in self.selfies} | {selfie.label}
        before = {s.label for s in self.selfies}
        self.selfies = [s for s in pool if s.label in chosen]
        # The gate leaves out a set-aside photo the new one nearly copies: the copy replaces it.
        aside = set(person[1]) if person and len(person) > 1 else None
        left = [s for s in pool if s.label not in chosen and (aside is None or s.label in aside)]
        # The newest set-aside photos are kept; older ones drop out of the decision.
        self.set_aside = left[-most_aside:]
        for s in pool:
            if s.label in before and s.label not in chosen:
                self.notes.append(say.set_aside(s.label, len(self.selfies)))
            elif s.label in chosen and s.label not in before and s is not selfie:
                self.notes.append(say.counts_again(s.label))
