"""Translate driver errors into domain errors."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from core.errors import Duplicate


def duplicate(error: DuplicateKeyError, what: str) -> Duplicate:
    """A DUPLICATE naming the unique key that clashed, e.g. "A release with release_id …"."""
    details = error.details or {}
    values = details.get("keyValue") or {}
    pattern = details.get("keyPattern") or {}
    fields = list(values) or list(pattern) or ["key"]
    shown = ", ".join(f"{f} '{values[f]}'" if f in values else f for f in fields)
    field = fields[-1].split(".")[-1]
    return Duplicate(
        f"A {what} with {shown} already exists; choose another.",
        fields={field: "Already taken"},
    )
