"""Renders deploy/.env.example from Settings, so the example never drifts from the code.

Regenerate with `python -m ops.env_example > deploy/.env.example`; a test compares the two.
"""

from __future__ import annotations

import json
import sys

from pydantic import SecretStr

from core.settings import ENV_PREFIX, Settings

HEADER = """\
# Every setting of the headshot bot, with its default. Copy to deploy/.env (compose) or
# /etc/headshots/env (systemd), uncomment and fill what you change. Generated from
# storage/settings.py by `python -m ops.env_example`; do not edit by hand.
"""


def render_env_example() -> str:
    """Return the example environment file: a comment and a line per setting."""
    blocks = [HEADER]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        line = f"{ENV_PREFIX}{name.upper()}={_value(default)}"
        unset = default is None or "SecretStr" in str(field.annotation)
        blocks.append(f"# {field.description}\n{'# ' if unset else ''}{line}\n")
    return "\n".join(blocks)


def _value(default: object) -> str:
    if default is None or isinstance(default, SecretStr):
        return ""
    if isinstance(default, bool | list | dict | tuple | set | frozenset):
        return json.dumps(sorted(default) if isinstance(default, set | frozenset) else default)
    return str(default)


if __name__ == "__main__":
    sys.stdout.write(render_env_example())
