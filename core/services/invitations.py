"""Invitations: an admin asks someone in by email with roles and squads; the invited
person's first contact with the bot makes their user (``IdentityService.link_by_email``,
the one place that turns an invitation into a user).

An invitation is open until it expires (``ttl``, ``INVITATION_TTL_HOURS``) or is revoked.
Two admins inviting the same email at the same moment may both get an invitation (the
check is a read); only one can be accepted — the user's email is unique — and the other
expires unused."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.clock import Clock
from core.errors import NotFound, RuleViolation, literal
from core.models.catalog import Squad
from core.models.invitation import Invitation, InvitationDraft, InvitationStatus
from core.models.rbac import Permission, Role
from core.ports import InvitationRepository, KeyedRepository, RoleRepository, UserRepository
from core.rules.operations import ADD_USER
from core.rules.permissions import Actor
from core.suggestions import closest

DEFAULT_TTL = timedelta(hours=72)
LISTED = 200  # invitations a list shows, the newest first


class AlreadyInvited(RuleViolation):
    """An open invitation for this email already: when it expires (the bot shows that on
    the reader's clock) and how to replace it."""

    def __init__(self, invitation: Invitation) -> None:
        self.invitation = invitation
        email, by = literal(invitation.email), literal(invitation.invited_by_username)
        super().__init__(
            f"{email} is invited already (by {by}), until {{until}}. To invite them with other "
            f"roles, revoke it first: `/release admin invite revoke {email}`.",
            fields={"email": "Invited already"},
            moments={"until": invitation.expires_at},
        )


class InvitationService:
    def __init__(
        self,
        invitations: InvitationRepository,
        users: UserRepository,
        roles: RoleRepository,
        squads: KeyedRepository[Squad],
        clock: Clock,
        *,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._invitations = invitations
        self._users = users
        self._roles = roles
        self._squads = squads
        self._clock = clock
        self._ttl = ttl

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    async def invite(self, actor: Actor, draft: InvitationDraft) -> Invitation:
        """Judged whole before anything is stored: not a user yet, not invited already, the
        roles and squads exist. Roles in an invitation need ``can_manage_roles`` too, as
        they do for a user added by hand (inviting is not granting)."""
        ADD_USER.require(actor)
        if draft.roles:
            actor.require(Permission.CAN_MANAGE_ROLES, "give an invited person roles")
        now = self._clock()
        existing = await self._users.find_by_email(draft.email)
        if existing is not None:
            raise RuleViolation(
                f"{draft.email} is a releasebot user already ('{existing.username}', "
                f"{existing.status.value.lower()}); change their access instead of inviting.",
                fields={"email": "Already a user"},
            )
        open_one = await self._invitations.find_open(draft.email, now=now)
        if open_one is not None:
            raise AlreadyInvited(open_one)
        roles = await self._known_roles(draft.roles)
        squad_ids = await self._known_squads(draft.squad_ids)
        invitation = Invitation(
            email=draft.email,
            role_ids=[r.id for r in roles],
            role_names=[r.role_name for r in roles],
            squad_ids=squad_ids,
            invited_by=actor.user_id,
            invited_by_username=actor.user.username,
            created_at=now,
            expires_at=now + self._ttl,
        )
        return await self._invitations.add(invitation)

    async def list_invitations(self, actor: Actor) -> list[Invitation]:
        """The newest first, whatever their status (``Invitation.status``)."""
        ADD_USER.require(actor)
        return await self._invitations.all(limit=LISTED)

    async def revoke(self, actor: Actor, which: str) -> Invitation:
        """Revoke the open invitation named by its id, or by email (its open one); one that
        is accepted, expired or revoked already is refused, saying which."""
        ADD_USER.require(actor)
        now = self._clock()
        which = which.strip()
        if "@" in which:
            found = await self._invitations.find_open(which.lower(), now=now)
            if found is None:
                raise NotFound(
                    f"No open invitation for {which.lower()}; see "
                    "`/release admin invitations` for every invitation.",
                    fields={"invitation": "None open for this email"},
                )
        else:
            found = await self._invitations.get(which)
        if not await self._invitations.revoke(found.id, by=actor.user.username, now=now):
            raise _not_open(await self._invitations.get(found.id), now)
        return await self._invitations.get(found.id)

    def now(self) -> datetime:
        """The service's clock: an invitation's status is read off it (``status_at``)."""
        return self._clock()

    async def _known_roles(self, names: list[str]) -> list[Role]:
        if not names:
            return []
        known = await self._roles.all()
        by_name = {r.role_name.casefold(): r for r in known}
        found: dict[str, Role] = {}
        for name in names:
            role = by_name.get(name.casefold())
            if role is None:
                raise NotFound(
                    f"No role '{name}'; nothing was stored.",
                    suggestions=closest(name, [r.role_name for r in known]),
                    fields={"roles": f"Unknown role '{name}'"},
                )
            found.setdefault(role.id, role)
        return list(found.values())

    async def _known_squads(self, squad_ids: list[str]) -> list[str]:
        if not squad_ids:
            return []
        known = [s.squad_id for s in await self._squads.all()]
        by_id = {s.casefold(): s for s in known}
        found: list[str] = []
        for wanted in squad_ids:
            squad = by_id.get(wanted.casefold())
            if squad is None:
                raise NotFound(
                    f"No squad '{wanted}'; nothing was stored.",
                    suggestions=closest(wanted, known),
                    fields={"squad_ids": f"Unknown squad '{wanted}'"},
                )
            if squad not in found:
                found.append(squad)
        return found


def _not_open(invitation: Invitation, now: datetime) -> RuleViolation:
    status = invitation.status_at(now)
    said = {
        InvitationStatus.ACCEPTED: "was accepted already: they are a user now",
        InvitationStatus.EXPIRED: "has expired already: it gives nothing",
        InvitationStatus.REVOKED: "was revoked already",
    }.get(status, "is not open")
    return RuleViolation(f"The invitation for {invitation.email} {said}; nothing changed.")
