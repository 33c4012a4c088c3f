"""What an approval looked at: its product's gate statuses, fixed version and attachments.

Each vote keeps a fingerprint of it; when it changes after the vote, a policy that says so
withdraws the vote (``core.rules.approvals.withdraw_stale``).
"""

from __future__ import annotations

import hashlib
import json

from core.models.release import ReleaseProduct

Evidence = dict[str, str]


def evidence_of(product: ReleaseProduct) -> Evidence:
    """Readable item → state, e.g. ``{"Regression suite": "PASSED"}``."""
    items = {gate.gate_name: gate.gate_status.value for gate in product.quality_gates}
    version = product.fixed_version
    if version is not None:
        items["fixed version"] = f"{version.version_key} {version.status.value}"
    for attachment in product.attachment_refs:
        items[f"attachment '{attachment.label}'"] = attachment.attachment_id
    return items


def fingerprint(evidence: Evidence) -> str:
    canonical = json.dumps(sorted(evidence.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def describe_change(before: Evidence, after: Evidence) -> str:
    """ "Regression suite PASSED → FAILED; attachment 'plan' removed"."""
    parts: list[str] = []
    for item in sorted(before.keys() | after.keys()):
        was, now = before.get(item), after.get(item)
        if was == now:
            continue
        if item.startswith("attachment "):
            parts.append(
                f"{item} {'added' if was is None else 'removed' if now is None else 'replaced'}"
            )
        elif was is None:
            parts.append(f"{item} added ({now})")
        elif now is None:
            parts.append(f"{item} removed (was {was})")
        else:
            parts.append(f"{item} {was} → {now}")
    return "; ".join(parts) or "what it covers changed"
