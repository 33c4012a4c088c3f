"""An Approve click on App Home or in the approvals list reads what that surface shows once:
the decision starts from the release as read there, and the surface is drawn again from that
read with the saved release in its place. Races with another decider end as they did when the
release was read on its own: the write is conditioned on the version read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from blocks.approvals import ApprovalTarget
from blocks.ids import ActionId, Origin
from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot, local_bot
from bot.home_tab import HOME_RELEASES
from core.errors import NotFound
from core.models.release import ApprovalStatus, Decision, Environment
from core.services.approvals import pending_in
from core.services.container import Services, build_services
from core.services.gates import MilestoneDraft
from storage.engine import Database
from storage.instrumented import RoundTrips
from storage.wiring import open_repositories
from tests.bot.test_answers_reach import LIST
from tests.bot.test_approvals import (
    SIGN_OFFS,
    approval,
    approval_events,
    ask,
    reacted,
    settle,
    stored,
    target,
)
from tests.bot.test_home import ON_HOME, approval_milestones, banner
from tests.bot.test_reading import actor

Work = Callable[[], Awaitable[object]]


class Meanwhile(RoundTrips):
    """The bot's database, where something else happens right before the next call of one
    ``collection.method``: between what a click read and what it reads or writes next."""

    def __init__(self) -> None:
        super().__init__()
        self._armed: tuple[str, Work] | None = None

    def before_next(self, name: str, work: Work) -> None:
        self._armed = (name, work)

    async def hop(self, name: str) -> None:
        armed = self._armed
        if armed is not None and armed[0] == name:
            self._armed = None  # what it does goes through here too, once
            await armed[1]()
        await super().hop(name)


@dataclass
class Raced:
    bot: LocalBot
    db: Meanwhile
    replica: Services  # another replica's services over the same database


@pytest.fixture
async def raced(db: Database) -> AsyncIterator[Raced]:
    meanwhile = Meanwhile()
    async with local_bot(db=meanwhile.wrap(db)) as bot:
        replica = build_services(await open_repositories(db), clock=bot.runtime.deps.clock)
        await replica.identity.load()
        yield Raced(bot, meanwhile, replica)


async def approve_as(raced: Raced, username: str, milestone: str) -> None:
    """Someone else approves on another replica, as any surface of theirs would (the core
    decides). On the bot's own replica they would wait for the click's write to finish."""
    who = await actor(raced.bot, username)
    t = ApprovalTarget.decode(await target(raced.bot, milestone))
    await raced.replica.approvals.decide(
        who, t.release, t.product, t.gate, t.milestone, Decision.APPROVE
    )


async def add_signoff(bot: LocalBot, release_id: str, key: str, start: datetime) -> None:
    """An admin adds a milestone an approval manager must approve to the first gate."""
    admin = await actor(bot, "admin")
    rhea = await bot.runtime.repos.users.get_by_username("rhea")
    product, gate = (await bot.runtime.repos.releases.get(release_id)).gates()[0]
    draft = MilestoneDraft(
        milestone_key=key, milestone_name=key, environment=Environment.PROD,
        start_date=start, end_date=start + timedelta(hours=8), owner_id=rhea.id,
        approval_required=True, requires_approval_manager=True,
    )  # fmt: skip
    await bot.runtime.deps.services.gates.add_milestone(
        admin, release_id, product.product_id, gate.gate_name, draft
    )


async def home_with_banner(bot: LocalBot, user: str, start: int) -> Call:
    """The first Home published for ``user`` since ``start`` with a banner on top (the
    reactions to changes also draw Homes again, without one)."""
    count = start + 1
    while True:
        calls = (await bot.slack.wait_for("views.publish", count))[start:]
        found = [c for c in calls if c.params["user_id"] == user and banner(c) is not None]
        if found:
            return found[0]
        count += 1


# --- a race between what the surface read and the write -----------------------------------


async def test_someone_deciding_after_home_was_read_is_named_and_nothing_doubles(
    raced: Raced,
) -> None:
    bot = raced.bot
    await ask(bot, SIGN_OFFS)
    value = await target(bot, "uat-signoff", origin=Origin.HOME)
    await reacted(bot)
    start = len(bot.slack.of("views.publish"))
    # Arjun's Home is read (the release with it); admin approves before arjun's write.
    raced.db.before_next("releases.update_one", lambda: approve_as(raced, "admin", "uat-signoff"))

    await bot.driver.click("UARJUN", ActionId.APPROVE, value, **ON_HOME)

    redrawn = await home_with_banner(bot, "UARJUN", start)
    notice = banner(redrawn)
    assert notice is not None and "already approved by admin" in notice
    assert approval_milestones(redrawn) == ["stage-signoff"]  # read afresh: not offered again
    assert (await approval(bot, "uat-signoff")).approver_username == "admin"
    [event] = await approval_events(bot, "uat-signoff")
    assert event.actor.username == "admin"
    await settle()
    told = [p for p in bot.slack.of("views.publish")[start:] if banner(p) is not None]
    assert told == [redrawn]


async def test_someone_deciding_after_the_list_was_read_is_named_and_nothing_doubles(
    raced: Raced,
) -> None:
    bot = raced.bot
    await ask(bot, SIGN_OFFS)
    value = await target(bot, "uat-signoff", origin=Origin.LIST)
    await reacted(bot)
    raced.db.before_next("releases.update_one", lambda: approve_as(raced, "admin", "uat-signoff"))

    await bot.driver.click("UARJUN", ActionId.APPROVE, value, container=LIST)

    [told] = await bot.slack.wait_for("response_url")
    assert told.params["replace_original"] is False  # the list stays; the clicker is told
    assert "already approved by admin" in told.params["text"]
    assert (await approval(bot, "uat-signoff")).approver_username == "admin"
    assert len(await approval_events(bot, "uat-signoff")) == 1
    await settle()
    assert len(bot.slack.of("response_url")) == 1


async def test_an_approval_pending_only_since_home_was_read_is_decided_and_shown(
    raced: Raced,
) -> None:
    """Not among what Home read: the decision reads its release, and Home is drawn from what
    it read with the saved release joining it."""
    bot = raced.bot
    release = await bot.runtime.repos.releases.get("REL-2026.11-HF1")
    assert pending_in(release) == []  # so not among what Home reads
    product, gate = release.gates()[0]
    value = ApprovalTarget(
        release=release.id, product=product.product_id, gate=gate.gate_name,
        milestone="prod-signoff", origin=Origin.HOME,
    ).encode()  # fmt: skip
    await reacted(bot)
    start = len(bot.slack.of("views.publish"))

    async def added() -> None:  # two approvals of a new round: one decided, one waits
        for day, key in enumerate(("prod-signoff", "prod-signoff-2"), start=5):
            await add_signoff(bot, "REL-2026.11-HF1", key, datetime(2031, 1, day, 9, 0))

    raced.db.before_next("releases.find_one", added)  # after Home's read, before the release's

    await bot.driver.click("UARJUN", ActionId.APPROVE, value, **ON_HOME)

    redrawn = await home_with_banner(bot, "UARJUN", start)
    notice = banner(redrawn)
    assert notice is not None and notice.startswith(":white_check_mark: You approved")
    assert "REL-2026.11-HF1" in notice
    assert approval_milestones(redrawn) == ["uat-signoff", "stage-signoff", "prod-signoff-2"]
    decided = (await bot.runtime.repos.releases.get("REL-2026.11-HF1")).product(product.product_id)
    assert decided.gate(gate.gate_name).milestone("prod-signoff").approval.approver_user_id == (
        (await actor(bot, "arjun")).user_id
    )


# --- drawn again from what was read ----------------------------------------------------------


async def test_home_drawn_after_a_decision_is_home_read_afresh(bot: LocalBot) -> None:
    """The pending approvals, and the decided release's card (its summary lists the approvals
    still pending), are those a new read finds."""
    approvals = bot.runtime.deps.services.approvals
    arjun = await actor(bot, "arjun")
    t = ApprovalTarget.decode(await target(bot, "uat-signoff"))
    before = await approvals.home(arjun, releases=HOME_RELEASES)
    read = before.release(t.release)
    assert read is not None

    saved = await approvals.decide(
        arjun, t.release, t.product, t.gate, t.milestone, Decision.APPROVE, read=read
    )
    after = approvals.after(arjun, before, saved)

    fresh = await approvals.home(arjun, releases=HOME_RELEASES)
    assert [p.ref.milestone.milestone_key for p in after.pending] == ["stage-signoff"]
    assert after.pending == fresh.pending
    assert after.releases == fresh.releases and after.releases != before.releases
    assert after.more_releases == fresh.more_releases
    assert [r.id for r in after.read] == [r.id for r in fresh.read]
    as_read = read.product(t.product).gate(t.gate).milestone(t.milestone).approval
    assert as_read.status is ApprovalStatus.PENDING  # what was read is left as read


async def test_the_list_drawn_after_the_last_decision_of_a_release_drops_it(
    bot: LocalBot,
) -> None:
    approvals = bot.runtime.deps.services.approvals
    arjun = await actor(bot, "arjun")
    for milestone in ("uat-signoff", "stage-signoff"):
        t = ApprovalTarget.decode(await target(bot, milestone))
        before = await approvals.waiting(arjun)
        saved = await approvals.decide(
            arjun, t.release, t.product, t.gate, t.milestone, Decision.APPROVE,
            read=before.release(t.release),
        )  # fmt: skip
        after = approvals.after(arjun, before, saved)
        assert after.pending == await approvals.pending_for(arjun)

    assert after.pending == [] and after.read == []
    assert after.release(saved.id) is None


async def test_a_refused_approve_from_the_list_changes_nothing(bot: LocalBot) -> None:
    """Dana may not decide an approval manager's approval: told why, nothing stored."""
    before = await stored(bot)

    await bot.driver.click(
        "UDANA", ActionId.APPROVE, await target(bot, "uat-signoff", origin=Origin.LIST),
        container=LIST,
    )  # fmt: skip

    [told] = await bot.slack.wait_for("response_url")
    assert told.params["replace_original"] is False
    assert "must be decided by an approval manager" in told.params["text"]
    assert await stored(bot) == before


async def test_a_release_read_for_someone_who_may_not_see_it_answers_as_unknown(
    bot: LocalBot,
) -> None:
    """Started from a release already read, a decision checks who may see it as a read does:
    another squad's release answers exactly like an unknown one, and nothing changes."""
    release = await bot.runtime.repos.releases.get("REL-2027.01")
    product, gate = release.gates()[0]
    dana = await actor(bot, "dana")
    before = await stored(bot, "REL-2027.01")
    decide = bot.runtime.deps.services.approvals.decide
    args = (dana, release.id, product.product_id, gate.gate_name)
    milestone = gate.milestones[0].milestone_key

    with pytest.raises(NotFound) as given:
        await decide(*args, milestone, Decision.APPROVE, read=release)
    with pytest.raises(NotFound) as unread:
        await decide(*args, milestone, Decision.APPROVE)

    assert (given.value.message, given.value.suggestions, given.value.fields) == (
        unread.value.message,
        unread.value.suggestions,
        unread.value.fields,
    )
    assert await stored(bot, "REL-2027.01") == before
