"""Small wording helpers every layer's messages share (stdlib only)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in agreement: ``counted(1, "file")`` -> "1 file", 2 -> "2 files".

    ``plural`` for nouns that do not take an ``s`` (``counted(3, "class", "classes")``).
    Thousands are grouped ("1,024 pixels")."""
    word = noun if n == 1 else (plural or noun + "s")
    return f"{n:,} {word}"
