"""Roles as code: `python -m scripts.rbac apply roles.yml` plans by default, applies with
--apply, is idempotent, refuses a bad file or the loss of the last administrator with
nothing changed, and its changes carry their consequences (AccessChanged in the outbox)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from core.models.catalog import SquadDraft
from core.models.events import AccessChanged
from core.models.rbac import Permission, Role, RoleDraft, UserDraft
from core.rules.permissions import Actor
from core.services.identity import ADMIN_ROLE_NAME
from core.services.users import LOCK_LEASE, ROLE_MANAGERS_LOCK, AccessChange
from scripts.rbac import edits, parse, run
from tests.support import World
from tests.test_last_admin import acting_admins, admin, slack_id, snapshot

ROOT = Path(__file__).resolve().parents[1]
ITERATIONS = 20


async def people(world: World) -> Actor:
    """root (Admin, linked to Slack: the one acting administrator), two roles, rhea (Release
    Manager) and dana (Viewer, squad payments), and the squads payments and checkout."""
    root = await admin(world, "root")
    roles = world.services.roles
    await roles.create(root, RoleDraft(role_name="Release Manager", can_create_release=True))
    await roles.create(root, RoleDraft(role_name="Viewer", can_view_all=True))
    for squad in ("payments", "checkout"):
        await world.services.catalog.create_squad(
            root, SquadDraft(squad_id=squad, squad_name=squad.title())
        )
    for username, role, squads in (
        ("rhea", "Release Manager", []),
        ("dana", "Viewer", ["payments"]),
    ):
        held = await world.repos.roles.get(role)
        await world.services.users.create(
            root,
            UserDraft(
                username=username,
                full_name=username.title(),
                email=f"{username}@example.com",
                role_ids=[held.id],
                assigned_squad_ids=squads,
            ),
        )
    return root


IN_SYNC = """
    roles:
      - name: Release Manager
        flags: [can_create_release]
      - name: viewer
        flags: [can_view_all]
    users:
      - username: root
        roles: [Admin]
      - username: Rhea
        roles: [Release Manager]
      - username: dana
        roles: [Viewer]
        squads: [payments]
"""

CHANGES = """
    roles:
      - name: Auditor
        description: Reads every release
        flags: [can_view_all, can_upload_attachments]
      - name: Release Manager
        flags: [can_create_release, can_manage_runbooks]
    users:
      - username: rhea
        roles: [Release Manager, Auditor]
      - username: dana
        roles: []
        squads: [checkout, payments]
"""


async def rbac(
    world: World, tmp_path: Path, text: str, *flags: str, actor: str = "root"
) -> tuple[int, list[str]]:
    """Run the command in this process on the test database: its exit code and what it said."""
    path = tmp_path / "roles.yml"
    path.write_text(dedent(text), encoding="utf-8")
    said: list[str] = []
    code = await run(
        parse(["apply", str(path), "--as", actor, *flags]),
        world.repos,
        world.services,
        edits(world.mongo),
        clock=world.clock,
        say=said.append,
        refuse=said.append,
    )
    return code, [line.replace(str(path), "roles.yml") for line in said]


async def role(world: World, name: str) -> Role:
    return await world.repos.roles.get(name)


async def roles_of(world: World, username: str) -> list[str]:
    held = (await world.repos.users.get_by_username(username)).role_ids
    return sorted(r.role_name for r in await world.repos.roles.get_many(held))


async def caused(world: World, username: str) -> list[str]:
    user = await world.repos.users.get_by_username(username)
    return [e.change for entry in user.outbox for e in entry.events if isinstance(e, AccessChanged)]


# --- plan ------------------------------------------------------------------------------------


async def test_a_file_in_sync_plans_nothing_and_applies_nothing(
    world: World, tmp_path: Path
) -> None:
    await people(world)
    before = await snapshot(world)

    assert await rbac(world, tmp_path, IN_SYNC) == (
        0,
        ["  nothing to change: storage already matches the file"],
    )
    assert await rbac(world, tmp_path, IN_SYNC, "--apply") == (
        0,
        ["  nothing to change: storage already matches the file"],
    )
    assert await snapshot(world) == before


async def test_a_dry_run_prints_the_plan_and_writes_nothing(world: World, tmp_path: Path) -> None:
    await people(world)
    before = await snapshot(world)

    code, said = await rbac(world, tmp_path, CHANGES)

    assert code == 0
    assert said == [
        "Plan for roles.yml (dry run, nothing written; add --apply to make it so):",
        "  create role 'Auditor': can_upload_attachments, can_view_all",
        "  change role 'Release Manager': add can_manage_runbooks",
        "  user 'rhea': grant Auditor",
        "  user 'dana': revoke Viewer; squads payments -> checkout, payments",
    ]
    assert await snapshot(world) == before


# --- apply -----------------------------------------------------------------------------------


async def test_apply_creates_roles_changes_flags_grants_revokes_and_sets_squads(
    world: World, tmp_path: Path
) -> None:
    await people(world)
    rhea_before = await caused(world, "rhea")

    code, said = await rbac(world, tmp_path, CHANGES, "--yes")

    assert code == 0 and said[0] == "Applied roles.yml as root:"
    auditor = await role(world, "Auditor")
    assert auditor.permissions() == {Permission.CAN_VIEW_ALL, Permission.CAN_UPLOAD_ATTACHMENTS}
    assert auditor.description == "Reads every release"
    assert auditor.created_by == (await world.repos.users.get_by_username("root")).id
    assert (await role(world, "Release Manager")).permissions() == {
        Permission.CAN_CREATE_RELEASE,
        Permission.CAN_MANAGE_RUNBOOKS,
    }
    assert await roles_of(world, "rhea") == ["Auditor", "Release Manager"]
    assert await roles_of(world, "dana") == []
    dana = await world.repos.users.get_by_username("dana")
    assert dana.assigned_squad_ids == ["checkout", "payments"]
    # What followed, as the bot's own changes record it: one access event per change.
    assert (await caused(world, "rhea"))[len(rhea_before) :] == [
        "role Release Manager gained can_manage_runbooks",
        "granted Auditor",
    ]
    assert (await caused(world, "dana"))[-2:] == [
        "squads set to checkout, payments",
        "revoked Viewer",
    ]
    actor = await world.services.identity.actor_for(await world.repos.users.get_by_username("rhea"))
    assert actor.has(Permission.CAN_MANAGE_RUNBOOKS)  # the holder's access follows the role


async def test_applying_twice_changes_nothing_the_second_time(world: World, tmp_path: Path) -> None:
    await people(world)
    await rbac(world, tmp_path, CHANGES, "--apply")
    after_first = await snapshot(world)

    assert await rbac(world, tmp_path, CHANGES) == (
        0,
        ["  nothing to change: storage already matches the file"],
    )
    assert (await rbac(world, tmp_path, CHANGES, "--apply"))[0] == 0
    assert await snapshot(world) == after_first


async def test_a_description_alone_changes_the_role_but_nobodys_access(
    world: World, tmp_path: Path
) -> None:
    await people(world)
    text = """
        roles:
          - name: Viewer
            description: Sees everything
            flags: [can_view_all]
    """
    dana_before = await caused(world, "dana")

    code, said = await rbac(world, tmp_path, text, "--apply")

    assert code == 0 and said[1:] == ["  change role 'Viewer': description 'Sees everything'"]
    assert (await role(world, "Viewer")).description == "Sees everything"
    assert await caused(world, "dana") == dana_before


# --- refused: nothing changed ----------------------------------------------------------------


BAD_FILES = {
    "unknown flag": (
        """
        roles:
          - name: Auditor
            flags: [can_view_al]
        """,
        "refused, nothing changed: line 3 (role 'Auditor'): unknown flag 'can_view_al'. "
        "The flags are: ",
    ),
    "unknown user": (
        """
        roles:
          - name: Auditor
            flags: [can_view_all]
        users:
          - username: rhea
            roles: [Auditor]
          - username: dnaa
            roles: [Auditor]
        """,
        "refused, nothing changed: line 8 (user 'dnaa'): no user 'dnaa'. A roles file grants "
        "and revokes roles of people who already exist; add them first (or fix the name). "
        "Did you mean dana?",
    ),
    "duplicate role": (
        """
        roles:
          - name: Auditor
            flags: [can_view_all]
          - name: auditor
            flags: []
        """,
        "refused, nothing changed: line 5 (role 'auditor'): the role 'auditor' is named twice "
        "(first at line 3 (role 'Auditor')); name each role once.",
    ),
    "duplicate user": (
        """
        users:
          - username: rhea
            roles: []
          - username: RHEA
            roles: [Viewer]
        """,
        "refused, nothing changed: line 5 (user 'RHEA'): the user 'RHEA' is named twice "
        "(first at line 3 (user 'rhea')); name each user once.",
    ),
    "unknown role": (
        """
        users:
          - username: rhea
            roles: [Release Manger]
        """,
        "refused, nothing changed: line 3 (user 'rhea'): user 'rhea' is given the role "
        "'Release Manger', which is neither in the file's roles nor stored; define it under "
        "roles: or fix the name. Did you mean Release Manager?",
    ),
    "unknown squad": (
        """
        users:
          - username: dana
            roles: [Viewer]
            squads: [payment]
        """,
        "refused, nothing changed: line 3 (user 'dana'): user 'dana' is put in squad "
        "'payment', which is not in the catalog; add the squad first or fix the id. "
        "Did you mean payments?",
    ),
    "unknown key": (
        """
        roles:
          - name: Auditor
            flag: [can_view_all]
        """,
        "refused, nothing changed: line 3 (role 'Auditor'): unknown key 'flag' in a role; "
        "the keys are name, description, flags.",
    ),
    "roles left out": (
        """
        users:
          - username: dana
            squads: [checkout]
        """,
        "refused, nothing changed: line 3 (user 'dana'): 'roles' is missing; list every role "
        "the user should hold ('roles: []' takes them all away).",
    ),
    "not YAML": (
        """
        roles:
          - name: Auditor
            flags: [can_view_all
        """,
        "refused, nothing changed: line 5: not valid YAML",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
async def test_a_bad_file_is_refused_naming_the_entry_and_nothing_changes(
    world: World, tmp_path: Path, case: str
) -> None:
    await people(world)
    text, said_first = BAD_FILES[case]
    before = await snapshot(world)

    code, said = await rbac(world, tmp_path, text, "--apply")

    assert code == 2 and len(said) == 1
    assert said[0].startswith(said_first)
    assert await snapshot(world) == before


async def test_someone_who_cannot_manage_roles_is_refused(world: World, tmp_path: Path) -> None:
    await people(world)
    before = await snapshot(world)

    assert await rbac(world, tmp_path, CHANGES, "--apply", actor="rhea") == (
        2,
        [
            "refused, nothing changed: You need the 'can_manage_roles' permission to apply a "
            "roles file. Ask an admin to grant you a role that has it."
        ],
    )
    assert await snapshot(world) == before


# --- the last administrator ------------------------------------------------------------------


ALL_BUT_MANAGING = ", ".join(p.value for p in Permission if p is not Permission.CAN_MANAGE_ROLES)
LAST_ADMIN = {
    "revoked": """
        users:
          - username: root
            roles: [Viewer]
    """,
    "the role's flag taken": f"""
        roles:
          - name: Admin
            flags: [{ALL_BUT_MANAGING}]
    """,
}


@pytest.mark.parametrize("how", LAST_ADMIN)
async def test_the_file_cannot_take_role_management_from_the_last_admin(
    world: World, tmp_path: Path, how: str
) -> None:
    await people(world)
    before = await snapshot(world)

    code, said = await rbac(world, tmp_path, LAST_ADMIN[how], "--apply")

    assert code == 2
    assert said == [
        "refused, nothing changed: This file would leave no administrator who can manage "
        "roles from Slack (now: 'root'); keep a role with can_manage_roles (such as Admin) "
        "for someone active and linked to Slack, or nobody could administer releasebot."
    ]
    assert await snapshot(world) == before


async def test_the_admin_role_can_move_to_someone_else_in_one_file(
    world: World, tmp_path: Path
) -> None:
    """Grants are written before revokes: root's Admin role is revoked only once rhea holds
    it, so the change is never judged as leaving nobody (the other order would be refused)."""
    root = await people(world)
    await world.services.users.link_slack(root, "rhea", slack_id("rhea"))
    text = """
        users:
          - username: root
            roles: [Viewer]
          - username: rhea
            roles: [Admin, Release Manager]
    """

    assert (await rbac(world, tmp_path, text, "--apply"))[0] == 0

    assert await roles_of(world, "root") == ["Viewer"]
    assert await roles_of(world, "rhea") == ["Admin", "Release Manager"]
    assert await acting_admins(world) == ["rhea"]


@pytest.mark.parametrize("iteration", range(ITERATIONS))
async def test_a_role_losing_role_management_races_a_revoke_and_one_admin_stays(
    racing_world: World, tmp_path: Path, iteration: int
) -> None:
    """ada holds Admin, bob holds Owner (can manage roles). The file takes the flag from
    Owner while ada's Admin role is revoked: each is allowed alone, not both. The lease
    judges them one after the other, so one is refused and an administrator remains."""
    world = racing_world
    ada = await admin(world, "ada")
    bob = await admin(world, "bob")
    await world.services.roles.create(ada, RoleDraft(role_name="Owner", can_manage_roles=True))
    await world.services.users.change_access(
        ada, "bob", AccessChange(grant_roles=["Owner"], revoke_roles=[ADMIN_ROLE_NAME])
    )
    text = """
        roles:
          - name: Owner
            flags: []
    """

    results = await asyncio.gather(
        rbac(world, tmp_path, text, "--apply", actor="ada"),
        world.services.users.revoke_role(bob, "ada", ADMIN_ROLE_NAME),
        return_exceptions=True,
    )

    assert len(await acting_admins(world)) == 1, results
    assert await world.mongo["claims"].count_documents({}) == 0


async def test_an_apply_stopped_partway_says_so_and_finishes_when_run_again(
    world: World, tmp_path: Path
) -> None:
    """Another admin holds the role managers' lease for longer than a revoke waits: the
    grant before it is made, the revoke is not, and the message says to run it again."""
    await people(world)
    await admin(world, "bea")
    text = """
        users:
          - username: root
            roles: [Viewer]
    """
    await world.repos.claims.claim(
        ROLE_MANAGERS_LOCK, now=world.clock(), ttl=LOCK_LEASE, owner="another admin"
    )

    code, said = await rbac(world, tmp_path, text, "--apply")

    assert code == 2
    assert said == [
        "stopped partway (the changes before this one were made): Someone else is changing "
        "roles, links or user status right now; try again in a moment. Run it again: it makes "
        "only what is still missing."
    ]
    assert await roles_of(world, "root") == [ADMIN_ROLE_NAME, "Viewer"]

    await world.repos.claims.release(ROLE_MANAGERS_LOCK, owner="another admin")
    code, said = await rbac(world, tmp_path, text, "--apply")

    assert code == 0 and said[1:] == ["  user 'root': revoke Admin"]
    assert await roles_of(world, "root") == ["Viewer"]


# --- the command line ------------------------------------------------------------------------


def command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "SEED_DATA")}
    return subprocess.run(
        [sys.executable, "-m", "scripts.rbac", "apply", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_example_file_plans_on_the_demo_data() -> None:
    """The example stays valid: a dry run on the demo data, loaded into the embedded engine."""
    done = command(
        {"MONGO_URI": "mongomock://", "SEED_DATA": "demo"},
        "scripts/roles.example.yml",
        "--as",
        "admin",
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-3:] == [
        "Plan for scripts/roles.example.yml (dry run, nothing written; add --apply to make it so):",
        "  create role 'Auditor': can_view_all",
        "  user 'dana': grant Auditor; squads payments -> payments, checkout",
    ]


def test_the_embedded_engine_without_data_is_refused_in_one_line() -> None:
    done = command({"MONGO_URI": "mongomock://"}, "scripts/roles.example.yml", "--as", "admin")

    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "refused: MONGO_URI is the embedded engine (mongomock://), which holds nothing outside "
        "this process; point MONGO_URI at the bot's MongoDB (or set SEED_DATA=demo to try a "
        "file on the demo data)."
    ]
