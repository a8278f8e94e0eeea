"""Every prompt a style can produce must fit the text encoder: CLIP reads 77 tokens, no more.

Counted with the loaded model's own tokenizer, so a style file whose longest prompt would be cut
stops the worker at start with the file's name, instead of rendering without its last words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.studio.styles import Style, StyleError

CountTokens = Callable[[str], int]
"""Returns how many tokens a text takes, start and end tokens included."""


def longest_prompt(style: Style, persons: Iterable[str], count: CountTokens) -> tuple[int, str]:
    """Return the token count and text of the style's longest prompt, negative prompt included."""
    texts = [style.negative_prompt, *(p for person in persons for p in style.every_prompt(person))]
    return max((count(text), text) for text in texts)


def check_prompts_fit(
    styles: Iterable[Style], persons: Iterable[str], count: CountTokens, limit: int
) -> None:
    """Raise StyleError naming the first style file with a prompt over `limit` tokens."""
    persons = tuple(persons)
    for style in styles:
        tokens, text = longest_prompt(style, persons, count)
        if tokens > limit:
            raise StyleError(
                f"{style.id}.toml: a prompt takes {tokens} tokens, the text encoder reads "
                f"{limit}; shorten the prompt or its variants: {text!r}"
            )
