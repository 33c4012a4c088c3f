"""Translate driver errors into domain errors."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from core.errors import Duplicate
from storage.codec import FOLDED_SUFFIX


def duplicate(error: DuplicateKeyError, what: str) -> Duplicate:
    """A DUPLICATE naming the unique key that clashed, e.g. "A release with release_id …".

    A clash on a case-folded key (``release_id_folded``) names the key itself and says that
    case does not count."""
    details = error.details or {}
    values = details.get("keyValue") or {}
    pattern = details.get("keyPattern") or {}
    fields = list(values) or list(pattern) or ["key"]
    ignoring_case = any(f.endswith(FOLDED_SUFFIX) for f in fields)

    def named(field: str) -> str:
        return field.removesuffix(FOLDED_SUFFIX)

    shown = ", ".join(f"{named(f)} '{values[f]}'" if f in values else named(f) for f in fields)
    field = named(fields[-1]).split(".")[-1]
    also = " (ignoring case)" if ignoring_case else ""
    return Duplicate(
        f"{'An' if what[:1] in 'aeio' else 'A'} {what} with {shown} already exists{also}; "
        "choose another.",
        fields={field: "Already taken"},
    )
