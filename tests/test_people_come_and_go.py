"""People who come and go (issue 13), through the core services on the fakes and on the
storage adapters: invitations (made, refused, accepted on first contact, expired, revoked,
purged) and disabling a user (votes on pending approvals dropped, delegations ended, no
longer a decider; enabling gives access back but no votes)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from core.models.catalog import SquadDraft
from core.models.common import parse
from core.models.events import AccessChanged
from core.models.invitation import InvitationDraft, InvitationStatus
from core.models.rbac import Permission, RoleDraft, SlackIdentity, UserStatus
from core.models.release import ApprovalStatus
from core.models.retention import Purged, RetentionPeriods
from core.rules.approvals import progress_line
from core.rules.permissions import Actor
from core.services.approvals import pending_in
from core.services.container import build_services
from core.services.departures import DROPPED
from core.services.invitations import AlreadyInvited
from core.services.users import AccessChange
from tests.support import World
from tests.test_approval_policies import PAY, QA, REL, _setup, approval, person, vote
from tests.test_settings import make

SLACK = SlackIdentity(team_id="T1", user_id="UNEW")


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


async def _inviting(world: World) -> Actor:
    """An admin, a role 'Release Manager' and a squad 'payments' to invite into."""
    admin = await world.admin()
    await world.services.roles.create(
        admin, parse(RoleDraft, {"role_name": "Release Manager", "can_create_release": True})
    )
    await world.services.catalog.create_squad(
        admin, SquadDraft(squad_id="payments", squad_name="Payments")
    )
    return admin


def _draft(
    email: str = "Nia@Example.com", *roles: str, squads: tuple[str, ...] = ()
) -> InvitationDraft:
    return InvitationDraft(email=email, roles=list(roles), squad_ids=list(squads))


# --- invitations ----------------------------------------------------------------------------


async def test_an_invitation_makes_the_user_on_first_contact(world: World) -> None:
    admin = await _inviting(world)
    invitation = await world.services.invitations.invite(
        admin, _draft("Nia@Example.com", "release manager", squads=("Payments",))
    )
    assert invitation.email == "nia@example.com"
    assert invitation.role_names == ["Release Manager"] and invitation.squad_ids == ["payments"]
    assert invitation.expires_at == world.clock() + timedelta(hours=72)

    world.clock.advance(hours=71)
    actor = await world.services.identity.link_by_email(SLACK, "nia@example.com", join=True)

    assert actor is not None
    user = await world.repos.users.get(actor.user_id)
    assert (user.username, user.email, user.status) == ("nia", "nia@example.com", UserStatus.ACTIVE)
    assert user.slack == SLACK and user.assigned_squad_ids == ["payments"]
    assert [r.role_name for r in actor.roles] == ["Release Manager"]
    changes = [
        e.change for entry in user.outbox for e in entry.events if isinstance(e, AccessChanged)
    ]
    assert changes == ["joined by invitation from root"]
    stored = await world.repos.invitations.get(invitation.id)
    assert stored.state is InvitationStatus.ACCEPTED and stored.accepted_user_id == user.id
    # The next request finds the user linked: no second user, the invitation stays accepted.
    again = await world.services.identity.resolve(SLACK)
    assert again is not None and again.user_id == user.id
    assert len(await world.stored("users")) == 2


async def test_a_taken_username_gets_a_suffix(world: World) -> None:
    admin = await _inviting(world)
    await world.actor("nia")
    await world.services.invitations.invite(admin, _draft("nia@elsewhere.org"))

    actor = await world.services.identity.link_by_email(SLACK, "nia@elsewhere.org", join=True)

    assert actor is not None and actor.user.username == "nia-2"


async def test_expired_and_revoked_invitations_give_nothing(world: World) -> None:
    admin = await _inviting(world)
    await world.services.invitations.invite(admin, _draft("late@example.com"))
    revoked = await world.services.invitations.invite(admin, _draft("gone@example.com"))
    await world.services.invitations.revoke(admin, revoked.id)
    world.clock.advance(hours=72)

    assert await world.services.identity.link_by_email(SLACK, "late@example.com", join=True) is None
    assert await world.services.identity.link_by_email(SLACK, "gone@example.com", join=True) is None
    assert [u["username"] for u in await world.stored("users")] == ["root"]
    listed = await world.services.invitations.list_invitations(admin)
    now = world.clock()
    assert [(i.email, i.status_at(now)) for i in listed] == [
        ("gone@example.com", InvitationStatus.REVOKED),
        ("late@example.com", InvitationStatus.EXPIRED),
    ]


async def test_refusals_store_nothing(world: World) -> None:
    admin = await _inviting(world)
    await world.actor("dana")
    open_one = await world.services.invitations.invite(admin, _draft("nia@example.com"))
    before = await world.stored("invitations")
    invite = world.services.invitations.invite

    with pytest.raises(RuleViolation, match="dana@example.com is a releasebot user already"):
        await invite(admin, _draft("DANA@example.com"))
    with pytest.raises(AlreadyInvited, match="invite revoke nia@example.com") as already:
        await invite(admin, _draft("nia@example.com"))
    assert already.value.invitation.id == open_one.id
    with pytest.raises(NotFound, match="No role 'Release Manger'") as role:
        await invite(admin, _draft("x@example.com", "Release Manger"))
    assert role.value.suggestions[0] == "Release Manager"
    with pytest.raises(NotFound, match="No squad 'paymnets'") as squad:
        await invite(admin, _draft("x@example.com", squads=("paymnets",)))
    assert squad.value.suggestions == ("payments",)
    with pytest.raises(ValidationFailed):
        parse(InvitationDraft, {"email": "not-an-email"})
    with pytest.raises(ValidationFailed):
        parse(InvitationDraft, {"email": "a" * 300 + "@example.com"})
    inviter = await world.actor("ivy", Permission.CAN_INVITE_USERS)
    with pytest.raises(PermissionDenied, match="can_manage_roles"):
        await invite(inviter, _draft("x@example.com", "Release Manager"))
    with pytest.raises(PermissionDenied, match="can_invite_users"):
        await invite(await world.actor("nobody"), _draft("x@example.com"))

    assert await world.stored("invitations") == before


async def test_revoking_by_email_and_what_cannot_be_revoked(world: World) -> None:
    admin = await _inviting(world)
    invitation = await world.services.invitations.invite(admin, _draft("nia@example.com"))

    revoked = await world.services.invitations.revoke(admin, "NIA@example.com")

    assert revoked.id == invitation.id and revoked.state is InvitationStatus.REVOKED
    assert revoked.revoked_by_username == "root"
    with pytest.raises(RuleViolation, match="was revoked already; nothing changed"):
        await world.services.invitations.revoke(admin, invitation.id)
    with pytest.raises(NotFound, match="No open invitation for nia@example.com"):
        await world.services.invitations.revoke(admin, "nia@example.com")
    # A new invitation for the same email is fine once the old one is revoked.
    await world.services.invitations.invite(admin, _draft("nia@example.com"))


async def test_retention_purges_expired_and_revoked_invitations_after_their_period(
    world: World,
) -> None:
    admin = await _inviting(world)
    await world.services.invitations.invite(admin, _draft("late@example.com"))
    revoked = await world.services.invitations.invite(admin, _draft("gone@example.com"))
    await world.services.invitations.revoke(admin, revoked.id)
    await world.services.invitations.invite(admin, _draft("nia@example.com"))
    await world.services.identity.link_by_email(SLACK, "nia@example.com", join=True)
    periods = RetentionPeriods(invitations=timedelta(days=30))

    world.clock.advance(days=30)  # expired 27 days ago, revoked 30 days ago: kept
    assert (await world.services.retention.purge(periods)).purged[Purged.INVITATIONS] == 0
    world.clock.advance(days=3, minutes=1)
    report = await world.services.retention.purge(periods)

    assert report.purged[Purged.INVITATIONS] == 2
    assert [i["email"] for i in await world.stored("invitations")] == ["nia@example.com"]


# --- disabling ------------------------------------------------------------------------------


async def test_disabling_drops_their_votes_on_pending_approvals_once(world: World) -> None:
    await _setup(world)
    quinn, pia = await person(world, "quinn", QA), await person(world, "pia", PAY)
    await vote(world, quinn)
    await vote(world, pia)
    admin = await world.admin_actor()

    change = await world.services.users.change_status(admin, "pia", UserStatus.DISABLED)

    assert change.user.status is UserStatus.DISABLED
    assert change.departure is not None and change.departure.votes_dropped == [(REL, "go-live")]
    waiting = await approval(world)
    assert waiting.status is ApprovalStatus.PENDING
    assert [v.username for v in waiting.votes] == ["quinn"]
    assert progress_line(waiting) == "QA Lead 1/1 · Payments Owner 0/2"
    release = await world.repos.releases.get(REL)
    entries = await world.repos.timeline.for_release(release.id, limit=100)
    dropped = [e for e in entries if e.action == DROPPED]
    assert len(dropped) == 1 and dropped[0].comment == "vote of pia dropped: account disabled"
    assert dropped[0].before == {"votes": ["pia"]}

    # Again (a retry): nothing more is dropped, nothing more recorded.
    again = await world.services.users.change_status(admin, "pia", UserStatus.DISABLED)
    assert again.departure is not None and again.departure.votes_dropped == []
    entries = await world.repos.timeline.for_release(release.id, limit=100)
    assert len([e for e in entries if e.action == DROPPED]) == 1

    # Enabled again: access back, the vote stays dropped; they may vote again.
    await world.services.users.set_status(admin, "pia", UserStatus.ACTIVE)
    assert [v.username for v in (await approval(world)).votes] == ["quinn"]
    await vote(world, await world.services.identity.actor_by_id(pia.user_id))
    assert [v.username for v in (await approval(world)).votes] == ["quinn", "pia"]


async def test_disabling_through_change_access_drops_votes_too(world: World) -> None:
    """The API's PATCH /users path: the same consequence in core."""
    await _setup(world)
    pia = await person(world, "pia", PAY)
    await vote(world, pia)

    await world.services.users.change_access(
        await world.admin_actor(), "pia", AccessChange(status=UserStatus.DISABLED)
    )

    assert (await approval(world)).votes == []


async def test_decided_approvals_keep_their_votes(world: World) -> None:
    await _setup(world)
    quinn = await person(world, "quinn", QA)
    pias = [await person(world, n, PAY) for n in ("pia", "paul")]
    for voter in [quinn, *pias]:
        await vote(world, voter)
    assert (await approval(world)).status is ApprovalStatus.APPROVED

    await world.services.users.set_status(await world.admin_actor(), "pia", UserStatus.DISABLED)

    assert [v.username for v in (await approval(world)).votes] == ["quinn", "pia", "paul"]


async def test_a_disabled_person_is_no_decider(world: World) -> None:
    await _setup(world)
    await person(world, "pia", PAY)
    paul = await person(world, "paul", PAY)
    release = await world.repos.releases.get(REL)
    refs = pending_in(release)

    await world.services.users.set_status(await world.admin_actor(), "pia", UserStatus.DISABLED)

    deciders = (await world.services.approvals.deciders_of(release, refs))[0]
    names = {a.user.username for a in deciders}
    assert "pia" not in names and paul.user.username in names


async def test_disabling_ends_their_delegations_and_those_naming_them(world: World) -> None:
    arjun = await world.actor("arjun", Permission.IS_APPROVAL_MANAGER)
    dana = await world.actor("dana", Permission.IS_APPROVAL_MANAGER)
    eve = await world.actor("eve", Permission.IS_APPROVAL_MANAGER)
    until, utc = date(2026, 12, 24), ZoneInfo("UTC")
    await world.services.delegation.delegate(arjun, "dana", until, utc)  # names dana
    await world.services.delegation.delegate(dana, "eve", until, utc)  # dana's own

    change = await world.services.users.change_status(
        await world.admin_actor(), "dana", UserStatus.DISABLED
    )

    assert change.departure is not None and change.departure.delegations_ended == 2
    for person_ in (arjun, dana):
        assert (await world.repos.users.get(person_.user_id)).delegation is None
    arjun_now = await world.repos.users.get(arjun.user_id)
    said = [
        e.change for entry in arjun_now.outbox for e in entry.events if isinstance(e, AccessChanged)
    ]
    assert "ended the delegation to dana" in said
    assert (await world.repos.users.get(eve.user_id)).delegation is None


async def test_the_last_admin_cannot_be_disabled(world: World) -> None:
    admin = await world.admin()
    linked = await world.repos.users.set_slack(admin.user_id, SLACK)
    admin = await world.services.identity.actor_for(linked)
    before = await world.snapshot()

    with pytest.raises(RuleViolation, match="last administrator"):
        await world.services.users.change_status(admin, "root", UserStatus.DISABLED)

    assert await world.snapshot() == before


async def test_a_vote_cast_for_someone_away_is_dropped_with_its_caster(world: World) -> None:
    await _setup(world)
    pia, dana = await person(world, "pia", PAY), await person(world, "dana")
    admin = await world.admin_actor()
    await world.services.delegation.delegate(
        admin, "dana", date(2026, 12, 24), ZoneInfo("UTC"), for_user="pia"
    )
    await vote(world, dana)  # in pia's place
    [cast] = (await approval(world)).votes
    assert (cast.username, cast.cast_by_username) == ("pia", "dana")

    change = await world.services.users.change_status(admin, "dana", UserStatus.DISABLED)

    assert change.departure is not None
    assert change.departure.votes_dropped == [(REL, "go-live")]
    assert change.departure.delegations_ended == 1
    assert (await approval(world)).votes == []
    assert (await world.repos.users.get(pia.user_id)).delegation is None


async def test_the_invitation_period_is_the_one_configured(world: World) -> None:
    services = build_services(world.repos, clock=world.clock, invitation_ttl=timedelta(hours=5))
    invitation = await services.invitations.invite(await _inviting(world), _draft())

    assert invitation.expires_at == world.clock() + timedelta(hours=5)


def test_the_settings_give_the_invitation_period_and_how_long_ended_ones_are_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = make(monkeypatch)
    assert defaults.invitation_ttl() == timedelta(hours=72)
    assert defaults.retention().invitations == timedelta(days=30)
    settings = make(monkeypatch, INVITATION_TTL_HOURS="24", RETENTION_INVITATIONS_DAYS="7")
    assert settings.invitation_ttl() == timedelta(hours=24)
    assert settings.retention().invitations == timedelta(days=7)
