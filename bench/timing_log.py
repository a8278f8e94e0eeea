"""The timing run's record: every row is printed and written to JSON and Markdown as it comes.

The files are rewritten whole after each row, so a run killed by its budget (or by the host)
still leaves every row it finished, readable in both forms.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.pack_timing import Row

HEADER = "| tier | measure | median s (or figure) | n | peak GPU GiB |"


class RowLog:
    """Collect rows; after each one, rewrite `gpu-timing.json` and `gpu-timing.md` in `folder`."""

    def __init__(self, folder: Path, title: str, meta: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.json_path = folder / "gpu-timing.json"
        self.md_path = folder / "gpu-timing.md"
        self.title = title
        self.meta = meta
        self.rows: list[Row] = []
        self.notes: list[str] = []
        print(f"# {title}\n{HEADER}\n| --- | --- | --- | --- | --- |", flush=True)
        self._write()

    def add(self, row: Row) -> Row:
        """Record one row and return it."""
        self.rows.append(row)
        print("| " + " | ".join(row.cells()) + " |", flush=True)
        self._write()
        return row

    def note(self, text: str) -> None:
        """Record a line under the table (a skipped part, the end of the run)."""
        self.notes.append(text)
        print(f"note: {text}", flush=True)
        self._write()

    def find(self, tier: str, start: str) -> list[Row]:
        """Return the timed rows of `tier` whose measure starts with `start`."""
        return [r for r in self.rows if r.tier == tier and r.name.startswith(start) and r.times_s]

    def _write(self) -> None:
        data = {"title": self.title, "meta": self.meta, "rows": [asdict(r) for r in self.rows],
                "notes": self.notes}  # fmt: skip
        _replace(self.json_path, json.dumps(data, indent=1) + "\n")
        _replace(self.md_path, self.markdown())

    def markdown(self) -> str:
        """Return the table as Markdown, with the run's facts above and the notes below."""
        lines = [f"# {self.title}", ""]
        lines += [f"- {key}: {value}" for key, value in self.meta.items()]
        lines += ["", HEADER, "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(r.cells()) + " |" for r in self.rows]
        lines += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines) + "\n"


def _replace(path: Path, text: str) -> None:
    """Write through a temporary file, so a kill mid-write never leaves half a file."""
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
