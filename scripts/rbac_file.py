"""Read a roles file (YAML) into an ``AccessFile``; every problem names its line.

    roles:
      - name: Auditor
        description: Reads every release
        flags: [can_view_all]
    users:
      - username: dana
        roles: [Squad Member, Auditor]
        squads: [payments]          # optional: left alone when absent

What the file means is ``core/rules/rbac_plan.py``'s.
"""

from __future__ import annotations

from typing import Any

import yaml

from core.errors import ValidationFailed
from core.rules.rbac_plan import AccessFile, RoleEntry, UserEntry, flags_named

LINE = "__line__"  # added to every mapping read: the line it starts on
ROLE_KEYS = ("name", "description", "flags")
USER_KEYS = ("username", "roles", "squads")


class _LineLoader(yaml.SafeLoader):
    """The safe loader, keeping the line each mapping starts on."""


def _mapping_with_line(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def read_access_file(text: str) -> AccessFile:
    """The file's roles and users; ValidationFailed naming the line of the first problem."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else "the file"
        raise ValidationFailed(f"{where}: not valid YAML ({error.problem}).") from None
    except yaml.YAMLError as error:
        raise ValidationFailed(f"The file is not valid YAML ({error}).") from None
    if data is None:
        return AccessFile()
    if not isinstance(data, dict):
        raise ValidationFailed("The file must be a mapping with 'roles:' and/or 'users:' lists.")
    _only_keys(data, ("roles", "users"), "line 1", "the file")
    roles = tuple(_role(item) for item in _entries(data, "roles"))
    users = tuple(_user(item) for item in _entries(data, "users"))
    return AccessFile(roles=roles, users=users)


def _entries(data: dict[Any, Any], key: str) -> list[dict[Any, Any]]:
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValidationFailed(f"line {data[LINE]}: '{key}' must be a list of entries.")
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValidationFailed(
                f"'{key}' entry {index} ({item!r}) must be a mapping, such as "
                + ("'- name: Auditor'." if key == "roles" else "'- username: dana'.")
            )
    return items


def _role(item: dict[Any, Any]) -> RoleEntry:
    line = f"line {item[LINE]}"
    name = _text(item, "name", line, "role")
    where = f"{line} (role '{name}')"
    _only_keys(item, ROLE_KEYS, where, "a role")
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        raise ValidationFailed(f"{where}: 'description' must be text.")
    flags = flags_named(_names(item, "flags", where), where)
    return RoleEntry(name=name, flags=flags, description=description, where=where)


def _user(item: dict[Any, Any]) -> UserEntry:
    line = f"line {item[LINE]}"
    username = _text(item, "username", line, "user")
    where = f"{line} (user '{username}')"
    _only_keys(item, USER_KEYS, where, "a user")
    if "roles" not in item:
        raise ValidationFailed(
            f"{where}: 'roles' is missing; list every role the user should hold "
            "('roles: []' takes them all away)."
        )
    squads = tuple(_names(item, "squads", where)) if item.get("squads") is not None else None
    return UserEntry(
        username=username, roles=tuple(_names(item, "roles", where)), squads=squads, where=where
    )


def _text(item: dict[Any, Any], key: str, where: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise ValidationFailed(f"{where}: a {what} needs a '{key}'.")
    return str(value).strip()


def _names(item: dict[Any, Any], key: str, where: str) -> list[str]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ValidationFailed(f"{where}: '{key}' must be a list of names, such as [a, b].")
    return [str(v).strip() for v in value]


def _only_keys(item: dict[Any, Any], keys: tuple[str, ...], where: str, what: str) -> None:
    for key in item:
        if key != LINE and key not in keys:
            raise ValidationFailed(
                f"{where}: unknown key '{key}' in {what}; the keys are {', '.join(keys)}."
            )
