"""Map Slack people to portal users and resolve the acting user with roles (SPEC §5)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from core.clock import Clock
from core.errors import Duplicate, NotFound, RuleViolation
from core.kept import Kept
from core.models.approval import QuorumRule
from core.models.common import NAME_MAX, new_id
from core.models.rbac import Permission, Role, SlackIdentity, User, UserStatus
from core.models.schedule import known_zone
from core.ports import InvitationRepository, RoleRepository, UserRepository
from core.rules.permissions import Actor
from core.services.outbox import Outbox, access_change

ADMIN_ROLE_NAME = "Admin"
# A person's Slack time zone is asked again at most this often (people travel, and Slack
# tells the bot of a change only where the app subscribes to `user_change`).
TIME_ZONE_RECHECK = timedelta(days=1)
# Users kept for showing them by name (``shown``); beyond this the longest kept go first.
SHOWN_KEPT = 10_000
# A role edit stamps its holders with the editing process's clock, roles are read on this
# one's: a stamp this close before the read still reads them again (clocks of two hosts
# differ a little, and stored times are kept to the millisecond).
CLOCK_SKEW = timedelta(seconds=5)


class IdentityService:
    """System-side operations, run on behalf of Slack's own signed requests, not of an actor.

    Freshness is one rule: the user document (grants, status, Slack link) is read from
    storage for every request, on every replica, so a revoked role, an unlink or a disabled
    user counts at once. Kept in memory are roles, read again when a user holds one created
    since, or one whose flags were edited since (roles as code, ``core/services/roles.py``,
    stamps each holder's ``access_changed_at`` with the edit: no read per request, one read
    when a holder next acts); and users' names, for showing them (``shown``; no path edits
    one). Both are read at start-up (``load``), so that no request pays for them.
    """

    def __init__(
        self,
        users: UserRepository,
        roles: RoleRepository,
        clock: Clock,
        outbox: Outbox,
        invitations: InvitationRepository | None = None,
    ) -> None:
        self._outbox = outbox
        self._invitations = invitations
        self._users = users
        self._roles = roles
        self._clock = clock
        self._known_roles: dict[str, Role] = {}
        self._roles_read_at: datetime | None = None  # when the kept roles began to be read
        self._shown: dict[str, User] = {}
        self._away: Kept[list[User]] = Kept(lambda: self._users.away(now=self._clock()))

    async def load(self) -> None:
        """At start-up: every role, users to show by name, and who is away (three round
        trips)."""
        await self._load_roles()
        self._shown = {user.id: user for user in (await self._users.all())[:SHOWN_KEPT]}
        await self._away.get()

    async def _load_roles(self) -> None:
        """Every role, in one round trip (when a user holds one created or edited since, on
        any replica)."""
        read_at = self._clock()  # before the read: an edit stamped after it is read again
        self._known_roles = {role.id: role for role in await self._roles.all()}
        self._roles_read_at = read_at

    def _roles_stale_for(self, users: Iterable[User]) -> bool:
        """Whether one of these users holds a role not kept, or had a role's flags edited
        since the kept roles were read (``User.access_changed_at``)."""
        read_at = self._roles_read_at
        for user in users:
            if any(r not in self._known_roles for r in user.role_ids):
                return True
            changed = user.access_changed_at
            if changed is not None and (read_at is None or changed > read_at - CLOCK_SKEW):
                return True
        return False

    async def actor_for(self, user: User) -> Actor:
        return (await self._fresh_actors([user]))[0]

    async def _fresh_actors(self, users: Iterable[User]) -> list[Actor]:
        """These users as actors, the roles read again first (once) if one needs it."""
        users = list(users)
        if self._roles_stale_for(users):
            await self._load_roles()
        return [self._actor(u) for u in users]

    def _actor(self, user: User) -> Actor:
        """With the user's roles as kept (one no longer known is ignored)."""
        roles = [self._known_roles[r] for r in user.role_ids if r in self._known_roles]
        return Actor(user, tuple(roles))

    async def actor_by_id(self, user_id: str) -> Actor:
        return await self.actor_for(await self._users.get(user_id))

    async def people(self, user_ids: set[str]) -> dict[str, User]:
        """Users by id as stored now, e.g. for their time zones (one round trip)."""
        if not user_ids:
            return {}
        return {u.id: u for u in await self._users.get_many(sorted(user_ids))}

    async def shown(self, user_ids: set[str]) -> dict[str, User]:
        """Users by id, to show them by name (gate owners in a status, people in a history).

        A user's name never changes (no path edits it, none deletes a user), so users once
        read are kept and only the others are read: one round trip at most, none when all
        are known. Their other fields (time zone, roles, status) may be old: use ``people``
        for those."""
        missing = user_ids - self._shown.keys()
        read = await self._users.get_many(sorted(missing)) if missing else []
        found = {u: self._shown[u] for u in user_ids - missing} | {u.id: u for u in read}
        self._shown.update((u.id, u) for u in read)
        while len(self._shown) > SHOWN_KEPT:  # the longest kept go first
            del self._shown[next(iter(self._shown))]
        return found

    async def actors_with_any(
        self, permissions: frozenset[Permission], *, rules: Iterable[QuorumRule] = ()
    ) -> list[Actor]:
        """Active users holding a role with at least one of these flags (or one ``rules`` of
        approval policies admit), each with every role they hold (seeing a release may come
        from another role than deciding it). Two round trips: the roles are read, not taken
        from those kept, so that a role created on another replica counts (and is kept from
        then on)."""
        await self._load_roles()
        names: set[str] = set()
        wanted = set(permissions)
        for rule in rules:
            wanted.update(rule.flags)
            if rule.role is not None:
                names.add(rule.role.casefold())
        matching = [
            r.id
            for r in self._known_roles.values()
            if r.permissions() & wanted or r.role_name.casefold() in names
        ]
        if not matching:
            return []
        users = await self._users.list_with_roles(matching)
        return [self._actor(u) for u in users if u.status is UserStatus.ACTIVE]

    async def standing_in_for(self, user_id: str, *, shown: bool = False) -> list[Actor]:
        """The active people away now who named this user their delegate: read now (one
        query; and the roles, as ``actors``); with ``shown``, from who is away as kept for
        display (``core.kept``), with the roles as kept."""
        now = self._clock()
        if not shown:
            users = await self._users.delegating_to(user_id, now=now)
            return await self._fresh_actors(u for u in users if u.status is UserStatus.ACTIVE)
        users = [
            u
            for u in await self._away.get()
            if (d := u.active_delegation(now)) is not None and d.delegate_user_id == user_id
        ]
        return [self._actor(u) for u in users if u.status is UserStatus.ACTIVE]

    async def away_shown(self) -> list[User]:
        """Who is away (a delegation in force), as kept for display."""
        now = self._clock()
        return [u for u in await self._away.get() if u.active_delegation(now) is not None]

    def delegations_changed(self) -> None:
        """A delegation was set or ended here: what is shown is read again."""
        self._away.drop()

    async def actors(self, user_ids: set[str]) -> list[Actor]:
        """These users, active ones only, as actors (one query; and the roles, when one of
        them holds a role created or edited since they were read)."""
        users = (await self.people(user_ids)).values()
        return await self._fresh_actors(u for u in users if u.status is UserStatus.ACTIVE)

    def time_zone_due(self, user: User) -> bool:
        """Whether to ask Slack for the person's time zone: never asked, or over a day ago."""
        checked = user.time_zone_checked_at
        return checked is None or self._clock() - checked >= TIME_ZONE_RECHECK

    async def remember_time_zone(self, actor: Actor, time_zone: str | None) -> Actor:
        """Keep the time zone Slack just gave for the person (used to show times, schedule
        digests and keep reminders out of the night), and that Slack was asked now; with
        ``None`` (Slack gave none, or did not answer) only that it was asked.

        One write, and only when something changed or the last check is a day old."""
        zone = known_zone(time_zone)
        if zone in (None, actor.user.time_zone) and not self.time_zone_due(actor.user):
            return actor
        user = await self._users.set_time_zone(actor.user_id, zone, checked_at=self._clock())
        return Actor(user, actor.roles)

    async def time_zone_changed(self, identity: SlackIdentity, time_zone: str | None) -> bool:
        """Slack says a person's zone is now ``time_zone`` (a `user_change` event): keep it if
        the person is linked to a portal user. True when a stored zone changed."""
        zone = known_zone(time_zone)
        user = await self._users.find_by_slack(identity)
        if user is None or zone is None:
            return False
        await self._users.set_time_zone(user.id, zone, checked_at=self._clock())
        return zone != user.time_zone

    async def resolve(self, identity: SlackIdentity) -> Actor | None:
        """The portal user linked to this Slack identity, or None."""
        user = await self._users.find_by_slack(identity)
        return None if user is None else await self.actor_for(user)

    async def link_by_email(
        self,
        identity: SlackIdentity,
        email: str | None,
        *,
        full_name: str = "",
        join: bool = False,
    ) -> Actor | None:
        """First contact: link the identity to the portal user with this email, if unlinked.
        With ``join`` — only for the person's own request — and no such user, an open
        invitation for the email makes one (``_join``): being mentioned, or reached by
        email, accepts nobody's invitation for them."""
        if not email:
            return None
        user = await self._users.find_by_email(email)
        if user is None and join:
            user = await self._join(identity, email, full_name)
        if user is None or (user.slack is not None and user.slack != identity):
            return None
        if user.slack is None and not user.auto_link:
            return None  # an admin unlinked this user: only an explicit link reconnects
        if user.slack is None:
            # Not an access change: the person is who the user always was, now reachable.
            # (Approvals they were not reachable for reach them with the reminders.)
            user = await self._users.set_slack(user.id, identity)
        return await self.actor_for(user)

    async def _join(self, identity: SlackIdentity, email: str, full_name: str) -> User | None:
        """The user an open invitation for ``email`` makes, linked to this Slack person, and
        the invitation ACCEPTED; None when there is none open (expired and revoked ones give
        nothing). The invitation is claimed (a conditional write) before the user is added,
        so two first requests at once make one user; one claimed by a request that then
        failed to add the user is lost (the admin invites again)."""
        if self._invitations is None:
            return None
        now = self._clock()
        invitation = await self._invitations.find_open(email, now=now)
        if invitation is None:
            return None
        user_id = new_id()
        if not await self._invitations.accept(invitation.id, user_id=user_id, now=now):
            return await self._users.find_by_email(email)  # another request took it first
        local = email.split("@")[0]

        def build(username: str) -> User:
            user = User(
                id=user_id,
                username=username,
                full_name=(full_name or local)[:NAME_MAX],
                email=email,
                role_ids=list(invitation.role_ids),
                assigned_squad_ids=list(invitation.squad_ids),
                slack=identity,
                created_at=now,
            )
            change = f"joined by invitation from {invitation.invited_by_username}"
            user.outbox.append(access_change(user, change, now))
            return user

        try:
            return await self._add_named(username_base(local, identity), build)
        except Duplicate as error:
            if "email" not in error.fields:
                raise
            return await self._users.find_by_email(email)  # made meanwhile (another path)

    async def _add_named(self, base: str, build: Callable[[str], User]) -> User:
        """Add the user ``build`` makes for ``base``, or ``base-2`` … when that username is
        taken; their events follow."""
        for suffix in ["", *[f"-{n}" for n in range(2, 10)]]:
            try:
                added = await self._users.add(build(f"{base}{suffix}"[:64]))
            except Duplicate as error:
                if "username" not in error.fields:
                    raise
                continue
            self._outbox.record_user(added)
            return added
        raise Duplicate(f"Could not find a free username for '{base}'; create the user by hand.")

    async def bootstrap_admin(
        self, identity: SlackIdentity, *, email: str | None, full_name: str, username_hint: str
    ) -> Actor:
        """Give a BOOTSTRAP_ADMIN_SLACK_IDS person the Admin role, creating the user if needed."""
        admin = await self._admin_role()
        user = await self._users.find_by_slack(identity)
        if user is None and email:
            user = await self._users.find_by_email(email)
            if user is not None and (user.slack is not None or not user.auto_link):
                raise RuleViolation(
                    f"The portal user with email {email} is linked to another Slack account, or "
                    "an admin unlinked it; an admin must link it explicitly."
                )
            if user is not None:
                caused = access_change(user, "linked as a bootstrap admin", self._clock(), identity)
                user = await self._users.set_slack(user.id, identity, caused=caused)
                self._outbox.record_user(user)
        if user is None:
            user = await self._create_admin_user(identity, email, full_name, username_hint, admin)
        if admin.id not in user.role_ids:
            caused = access_change(user, f"granted {admin.role_name} at bootstrap", self._clock())
            user = await self._users.add_role(user.id, admin.id, caused=caused)
            self._outbox.record_user(user)
        return await self.actor_for(user)

    async def _admin_role(self) -> Role:
        try:
            return await self._roles.get(ADMIN_ROLE_NAME)
        except NotFound:
            role = Role.model_validate(
                {
                    "role_name": ADMIN_ROLE_NAME,
                    "description": "Everything, including roles and links",
                    "created_at": self._clock(),
                    **{p.value: True for p in Permission},
                }
            )
            try:
                return await self._roles.add(role)
            except Duplicate:  # another replica created it first
                return await self._roles.get(ADMIN_ROLE_NAME)

    async def _create_admin_user(
        self, identity: SlackIdentity, email: str | None, full_name: str, hint: str, admin: Role
    ) -> User:
        base = username_base(hint.split("@")[0], identity)
        # Slack shares no email without users:read.email; a placeholder keeps the user unique.
        placeholder = f"{identity.user_id}.{identity.team_id}@no-email.slack"
        address = (email or placeholder).lower()

        def build(username: str) -> User:
            user = User(
                username=username,
                full_name=full_name or base,
                email=address,
                role_ids=[admin.id],
                slack=identity,
                created_at=self._clock(),
            )
            user.outbox.append(access_change(user, "made a bootstrap admin", self._clock()))
            return user

        return await self._add_named(base, build)


def username_base(hint: str, identity: SlackIdentity) -> str:
    """A username made from an email's local part (or a Slack name): only the characters a
    username may hold; from the Slack id when none is left."""
    return re.sub(r"[^A-Za-z0-9._-]", "", hint).lstrip("._-") or f"slack-{identity.user_id}"
