"""An approval policy's rules as people write them: ``1 × QA Lead + 2 × Payments Owner``.

Rules are separated by ``+``, ``,`` or new lines; each is a count (``2``, ``2 x``, ``2 ×``;
none means 1) and a name: a role (any case, stored as the role is spelled) or a role flag's
label (``Approval Manager``: anyone holding a role with that flag; ``Approval Manager or Gate
Manager``). A flag's label means the flag even when a role has the same name: the role's
holders hold the flag too. ``render_rules`` writes rules back so that they read the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.errors import ValidationFailed
from core.models.approval import FLAG_LABELS, MAX_QUORUM, MAX_RULES, Policy, QuorumRule
from core.models.rbac import Permission

APPROVERS = "approvers"  # the field a form reads the rules from
_SEPARATORS = re.compile(r"[+,\n]")
_RULE = re.compile(r"(?:(?P<count>\d+)\s*(?:[x×*](?=\s)|×)?)?\s*(?P<name>.*)", re.IGNORECASE)
_FLAGS_BY_LABEL = {label.casefold(): flag for flag, label in FLAG_LABELS.items()}


_Key = tuple[str | None, tuple[Permission, ...]]


def _key(rule: QuorumRule) -> _Key:
    """What makes two rules the same rule: the role (any case), or the flags."""
    return (rule.role.casefold() if rule.role else None, tuple(sorted(rule.flags)))


def parse_rules(
    text: str, role_names: Iterable[str], *, field: str = APPROVERS
) -> list[QuorumRule]:
    """The rules ``text`` asks for; ``role_names``: the roles that exist. Every problem is
    told at once, under ``field``."""
    roles = {name.casefold(): name for name in role_names}
    rules: list[QuorumRule] = []
    problems: list[str] = []
    seen: set[_Key] = set()
    parts = [p.strip() for p in _SEPARATORS.split(text) if p.strip()]
    for part in parts:
        rule = _rule(part, roles, problems)
        if rule is None:
            continue
        if _key(rule) in seen:
            problems.append(f"'{rule.label}' appears twice; give it once, with its count")
            continue
        seen.add(_key(rule))
        rules.append(rule)
    if not parts:
        problems.append("Name at least one role, e.g. 1 × QA Lead")
    elif len(rules) > MAX_RULES:
        problems.append(f"At most {MAX_RULES} rules")
    if problems:
        raise ValidationFailed(
            "The approvers could not be read: " + "; ".join(problems) + ".",
            fields={field: "; ".join(problems)},
        )
    return rules


def _rule(part: str, roles: dict[str, str], problems: list[str]) -> QuorumRule | None:
    whole = roles.get(part.casefold())
    if whole is not None:  # a role whose name starts with a digit ("2FA Admins")
        return QuorumRule(role=whole)
    found = _RULE.fullmatch(part)
    name = found["name"].strip() if found else ""
    if found is None or not name:
        problems.append(f"'{part}': name a role after the number")
        return None
    count = int(found["count"]) if found["count"] else 1
    if count < 1:
        problems.append(f"'{part}': at least 1 person per rule")
        return None
    if count > MAX_QUORUM:
        problems.append(f"'{part}': at most {MAX_QUORUM} people per rule")
        return None
    flags = _flags(name)
    if flags:
        return QuorumRule(count=count, flags=flags)
    role = roles.get(name.casefold())
    if role is None:
        problems.append(f"No role '{name}' — roles: {_known(roles)}")
        return None
    return QuorumRule(count=count, role=role)


def _flags(name: str) -> list[Permission]:
    """The flags a label names (``Approval Manager or Gate Manager``); none if it is not one."""
    labels = [p.strip().casefold() for p in re.split(r"\s+or\s+", name, flags=re.IGNORECASE)]
    if not all(label in _FLAGS_BY_LABEL for label in labels):
        return []
    return list(dict.fromkeys(_FLAGS_BY_LABEL[label] for label in labels))  # as written


def _known(roles: dict[str, str]) -> str:
    names = sorted(roles.values(), key=str.casefold)
    flags = [label for label in FLAG_LABELS.values() if label.casefold() not in roles]
    return ", ".join([*names, *flags]) or "none yet"


def render_rules(policy: Policy) -> str:
    """``1 × QA Lead + 2 × Payments Owner``: what ``parse_rules`` reads back as the same."""
    return policy.describe()


def check_roles(policy: Policy, role_names: Iterable[str], *, field: str) -> Policy:
    """``policy`` with each rule's role spelled as stored; a role that does not exist (its
    rule could never be met) is refused under ``field.rules.N.role``."""
    roles = {name.casefold(): name for name in role_names}
    problems: dict[str, str] = {}
    rules: list[QuorumRule] = []
    seen: set[_Key] = set()
    for i, rule in enumerate(policy.rules):
        if _key(rule) in seen:
            problems[f"{field}.rules.{i}"] = f"'{rule.label}' appears twice; give it once"
        seen.add(_key(rule))
        if rule.role is None:
            rules.append(rule)
            continue
        stored = roles.get(rule.role.casefold())
        if stored is None:
            problems[f"{field}.rules.{i}.role"] = f"No role '{rule.role}' — roles: {_known(roles)}"
            continue
        rules.append(rule.model_copy(update={"role": stored}))
    if problems:
        raise ValidationFailed(
            "The approval policy is not one that can be met: " + "; ".join(problems.values()) + ".",
            fields=problems,
        )
    return policy.model_copy(update={"rules": rules})
