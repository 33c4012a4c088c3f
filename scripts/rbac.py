"""Roles and who holds them, kept as code: plan, then apply, a roles file.

    python -m scripts.rbac apply roles.yml --as admin            # dry run: prints the plan
    python -m scripts.rbac apply roles.yml --as admin --apply    # makes those changes

The file (scripts/roles.example.yml) names roles with their flags and existing users with
their roles and squads; it never creates people or deletes roles (core/rules/rbac_plan.py).
``--as``: the administrator (can_manage_roles) the changes are made by, so they are
attributable. Connects to MONGO_URI / MONGO_DB_NAME, as the seed scripts do; the embedded
engine (mongomock://) holds nothing outside this process, so it is refused unless
SEED_DATA=demo or minimal loads data into it first (to try a file). Exit codes: 0 done (or
nothing to change), 2 refused (the file, the actor or a rule), nothing written then.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.clock import Clock, utc_now
from core.errors import DomainError, Kind, NotFound
from core.models.rbac import User
from core.seeds.demo import seed_demo_data
from core.seeds.minimal import seed_minimal
from core.services.container import Repositories, Services, build_services
from core.services.roles import AccessEdits, AccessFileService
from core.suggestions import CANDIDATES, closest
from scripts.rbac_file import read_access_file
from scripts.seeding import DEFAULT_DB_NAME, DEFAULT_MONGO_URI, describe_target
from storage.engine import UNAVAILABLE, Database, connect, hosts_of, is_embedded
from storage.repositories.access_edits import AccessEditRepository
from storage.wiring import open_repositories

SEEDS = {"demo": seed_demo_data, "minimal": seed_minimal}
REFUSED = 2


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


@dataclass(frozen=True)
class Arguments:
    file: Path
    actor: str
    apply: bool


def parse(argv: Sequence[str] | None) -> Arguments:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.rbac", description="Keep roles and who holds them as code."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    apply = commands.add_parser("apply", help="plan (dry run) or apply a roles file")
    apply.add_argument("file", type=Path, help="the roles file (YAML)")
    apply.add_argument(
        "--as",
        dest="actor",
        required=True,
        metavar="USERNAME",
        help="the administrator (can_manage_roles) the changes are made by",
    )
    apply.add_argument(
        "--apply", "--yes", dest="apply", action="store_true", help="make the changes"
    )
    args = parser.parse_args(argv)
    return Arguments(file=args.file, actor=args.actor, apply=args.apply)


async def run(
    args: Arguments,
    repos: Repositories,
    services: Services,
    edits: AccessEdits,
    *,
    clock: Clock = utc_now,
    say: Callable[[str], None] = print,
    refuse: Callable[[str], None] = _to_stderr,
) -> int:
    """Plan (or apply) ``args.file`` as ``args.actor``: the plan to ``say``, 0; or one line
    saying what is wrong to ``refuse``, 2 (nothing written, unless an apply was stopped
    partway by someone else's change, which it says)."""
    access = AccessFileService(
        roles=repos.roles,
        users=repos.users,
        squads=repos.squads,
        claims=repos.claims,
        edits=edits,
        role_service=services.roles,
        user_service=services.users,
        outbox=services.outbox,
        clock=clock,
    )
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as error:
        refuse(f"refused: cannot read {args.file}: {error.strerror or error}")
        return REFUSED
    try:
        file = read_access_file(text)
        actor = await services.identity.actor_for(await _user(repos, args.actor))
        plan = await access.plan(actor, file)
    except DomainError as error:
        refuse(f"refused, nothing changed: {_in_words(error)}")
        return REFUSED
    if args.apply and not plan.empty:
        try:
            plan = await access.apply(actor, file)
        except DomainError as error:  # someone changed something meanwhile
            refuse(
                f"stopped partway (the changes before this one were made): {_in_words(error)} "
                "Run it again: it makes only what is still missing."
            )
            return REFUSED
    if args.apply and not plan.empty:
        say(f"Applied {args.file} as {actor.user.username}:")
    elif not plan.empty:
        say(f"Plan for {args.file} (dry run, nothing written; add --apply to make it so):")
    for line in plan.lines():
        say(f"  {line}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    uri = os.environ.get("MONGO_URI") or DEFAULT_MONGO_URI
    name = os.environ.get("MONGO_DB_NAME") or DEFAULT_DB_NAME
    seed = (os.environ.get("SEED_DATA") or "").strip().lower()
    if is_embedded(uri) and seed not in SEEDS:
        _to_stderr(
            f"refused: MONGO_URI is the embedded engine ({uri}), which holds nothing outside "
            "this process; point MONGO_URI at the bot's MongoDB (or set SEED_DATA=demo to try "
            "a file on the demo data).",
        )
        return REFUSED
    return asyncio.run(_from_environment(args, uri, name, seed if is_embedded(uri) else None))


async def _from_environment(args: Arguments, uri: str, name: str, seed: str | None) -> int:
    client, db = connect(uri, name)
    try:
        print(describe_target(uri, name))
        repos = await open_repositories(db)
        if seed is not None:
            print(await SEEDS[seed](repos))
        return await run(args, repos, build_services(repos), edits(db))
    except UNAVAILABLE as error:
        _to_stderr(f"refused: MongoDB at {hosts_of(uri)} did not answer ({type(error).__name__}).")
        return REFUSED
    finally:
        client.close()


async def _user(repos: Repositories, username: str) -> User:
    try:
        return await repos.users.get_by_username(username)
    except NotFound:
        raise NotFound(
            f"--as {username}: no such user; name the administrator the changes are made by.",
            kind=Kind.USER,
            suggestions=closest(username, await repos.users.usernames(limit=CANDIDATES)),
        ) from None


def edits(db: Database) -> AccessEdits:
    return AccessEditRepository(db["roles"], db["users"])


def _in_words(error: DomainError) -> str:
    if isinstance(error, NotFound) and error.suggestions:
        return f"{error.message} Did you mean {' or '.join(error.suggestions)}?"
    return error.message


if __name__ == "__main__":
    sys.exit(main())
