"""The retention job: what the product no longer needs is let go after its period, once a
day across replicas, each kind logged; releases, their timeline, users and roles never."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import cast

import pytest

from bot.settings import Settings
from bot.startup import StartupError, load_settings
from core.models.auth import StoredApiToken
from core.models.idempotency import IdempotentRequest, StoredAnswer
from core.models.notification import ApprovalMessage
from core.models.retention import Purged, RetentionPeriods
from core.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEvent
from core.ports import ApiTokenRepository
from core.services.retention import RetentionService, run_key
from tests.support import World
from tests.test_settings import clean, make

DAY = timedelta(days=1)
LEASE = timedelta(minutes=5)
NEVER_TOUCHED = ("releases", "events", "users", "roles")


@pytest.fixture
def world(any_world: World) -> World:
    return any_world


def replica(world: World) -> RetentionService:
    """The retention job of another process over the same database."""
    r = world.repos
    return RetentionService(r.claims, r.api_tokens, r.webhooks, r.idempotency_keys, world.clock)


async def claim_done(world: World, key: str, at: datetime) -> None:
    assert await world.repos.claims.claim(key, now=at, ttl=LEASE, owner="o")
    assert await world.repos.claims.complete(key, now=at, owner="o")


async def token(world: World, name: str, *, expires: datetime, revoked: datetime | None) -> None:
    created = expires - timedelta(days=365)
    await world.repos.api_tokens.add(
        StoredApiToken(
            user_id="u1",
            name=name,
            scopes=[],
            created_at=created,
            expires_at=expires,
            revoked_at=revoked,
            secret_sha256="0" * 64,
        )
    )


async def delivery(world: World, key: str, status: DeliveryStatus, made: datetime) -> None:
    pending = status is DeliveryStatus.PENDING
    await world.repos.webhooks.add_delivery(
        WebhookDelivery(
            key=key,
            hook_id="h1",
            event_id=key,
            event=WebhookEvent.GATE_CHANGED,
            created_at=made,
            data={"release_id": "REL-2026.12"},
            status=status,
            next_attempt_at=made if pending else None,
            delivered_at=made if status is DeliveryStatus.DELIVERED else None,
        )
    )


async def idempotency_key(world: World, key: str, at: datetime) -> None:
    request = IdempotentRequest(key=key, fingerprint="f" * 64, claimed_at=at)
    assert await world.repos.idempotency_keys.claim(request, stale_before=at) is None
    answer = StoredAnswer(status=200, body="{}")
    await world.repos.idempotency_keys.finish(key, claimed_at=at, answer=answer)


async def seed(world: World) -> None:
    """Of each kind, what its default period let go (``old-*``) and what it keeps."""
    now = world.clock()
    await claim_done(world, "old-digest", now - 8 * DAY)
    await claim_done(world, "digest", now - 6 * DAY)
    claims = world.repos.claims
    assert await claims.claim("event:old", now=now - 2 * DAY, ttl=timedelta(hours=1))
    assert await claims.claim("event:new", now=now - timedelta(hours=3), ttl=timedelta(hours=1))
    await delivery(world, "old-delivered", DeliveryStatus.DELIVERED, now - 91 * DAY)
    await delivery(world, "old-failed", DeliveryStatus.FAILED, now - 91 * DAY)
    await delivery(world, "old-pending", DeliveryStatus.PENDING, now - 91 * DAY)  # never sent
    await delivery(world, "delivered", DeliveryStatus.DELIVERED, now - 89 * DAY)
    await token(world, "old-expired", expires=now - 31 * DAY, revoked=None)
    await token(world, "old-revoked", expires=now + 300 * DAY, revoked=now - 31 * DAY)
    await token(world, "expired", expires=now - 29 * DAY, revoked=None)
    await token(world, "revoked", expires=now + 300 * DAY, revoked=now - 29 * DAY)
    await token(world, "live", expires=now + 300 * DAY, revoked=None)
    await idempotency_key(world, "u1:old", now - 2 * DAY)
    await idempotency_key(world, "u1:new", now - timedelta(hours=23))
    for ts, sent in (("old.1", now - 366 * DAY), ("new.1", now - 364 * DAY)):
        await world.repos.approval_messages.record(
            ApprovalMessage(approval_key="k", user_id="u1", channel="D1", ts=ts, sent_at=sent)
        )


async def names(world: World, collection: str, field: str) -> set[str]:
    return {str(d[field]) for d in await world.stored(collection)}


async def test_what_is_past_its_period_is_purged_and_the_rest_kept(world: World) -> None:
    await seed(world)

    report = await world.services.retention.purge(RetentionPeriods())

    assert report.purged == {
        Purged.FINISHED_CLAIMS: 1,
        Purged.EXPIRED_CLAIMS: 1,
        Purged.WEBHOOK_DELIVERIES: 2,
        Purged.API_TOKENS: 2,
        Purged.IDEMPOTENCY_KEYS: 1,
        Purged.INVITATIONS: 0,
        Purged.APPROVAL_MESSAGES: 1,
    }
    assert report.cutoffs[Purged.WEBHOOK_DELIVERIES] == world.clock() - 90 * DAY
    assert [m.ts for m in await world.repos.approval_messages.for_approval("k")] == ["new.1"]
    assert await names(world, "claims", "key") == {"digest", "event:new"}
    assert await names(world, "webhook_deliveries", "key") == {"old-pending", "delivered"}
    assert await names(world, "api_tokens", "name") == {"expired", "revoked", "live"}
    idempotency_field = "key" if world.fakes is not None else "_id"
    assert await names(world, "idempotency_keys", idempotency_field) == {"u1:new"}


async def test_a_purged_claim_can_be_claimed_again_and_a_kept_one_still_guards(
    world: World,
) -> None:
    await seed(world)
    await world.services.retention.purge(RetentionPeriods())
    claims, now = world.repos.claims, world.clock()

    assert await claims.claim("old-digest", now=now, ttl=LEASE)
    assert not await claims.claim("digest", now=now, ttl=LEASE)  # still done


async def test_periods_are_the_settings(world: World) -> None:
    await seed(world)
    longer = RetentionPeriods(
        finished_claims=30 * DAY, webhook_deliveries=365 * DAY, api_tokens=365 * DAY
    )

    report = await world.services.retention.purge(longer)

    assert report.purged[Purged.FINISHED_CLAIMS] == 0
    assert report.purged[Purged.WEBHOOK_DELIVERIES] == 0
    assert report.purged[Purged.API_TOKENS] == 0
    assert {"old-digest", "digest"} <= await names(world, "claims", "key")
    assert len(await world.stored("api_tokens")) == 5


async def test_releases_their_timeline_users_and_roles_are_never_purged(world: World) -> None:
    await world.release(gates=["security-scan"])
    await world.services.outbox.dispatch_pending()  # the timeline stored
    await world.actor("gone", status="DISABLED")
    await seed(world)
    world.clock.advance(days=3650)  # everything is old now
    before = {name: await world.stored(name) for name in NEVER_TOUCHED}
    assert before["releases"] and before["events"] and before["users"] and before["roles"]

    report = await world.services.retention.purge(RetentionPeriods())

    assert report.total >= 9  # lots of other things went
    assert {name: await world.stored(name) for name in NEVER_TOUCHED} == before


async def test_each_kind_is_logged_with_its_count_and_cutoff(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(world)
    caplog.set_level(logging.INFO, logger="core.services.retention")

    await world.services.retention.purge(RetentionPeriods())

    lines = [r.getMessage() for r in caplog.records if r.name == "core.services.retention"]
    cutoff = (world.clock() - 90 * DAY).isoformat(timespec="seconds")
    assert len(lines) == len(Purged)
    assert f"retention: purged 2 webhook_deliveries (ended before {cutoff})" in lines
    assert any(line.startswith("retention: purged 1 finished_claims ") for line in lines)


async def test_the_run_is_claimed_once_a_day_across_replicas(world: World) -> None:
    await seed(world)

    first, second = await asyncio.gather(
        world.services.retention.run_daily(), replica(world).run_daily()
    )
    again = await replica(world).run_daily()  # later the same day
    await claim_done(world, "another-old-digest", world.clock() - 8 * DAY)
    world.clock.advance(days=1)
    tomorrow = await replica(world).run_daily()

    assert [r is None for r in (first, second)].count(True) == 1  # one of them ran
    ran = first or second
    assert ran is not None and ran.total == 8
    assert again is None
    assert tomorrow is not None and tomorrow.purged[Purged.FINISHED_CLAIMS] == 1
    assert "another-old-digest" not in await names(world, "claims", "key")
    assert await world.repos.claims.finished(run_key(world.clock()))


class BrokenTokens:
    """API tokens whose purge fails (the database went away mid-run)."""

    def __init__(self, tokens: ApiTokenRepository) -> None:
        self._tokens = tokens

    def __getattr__(self, name: str) -> object:
        return getattr(self._tokens, name)

    async def purge(self, *, ended_before: datetime) -> int:
        raise ConnectionError("the database went away")


async def test_a_run_that_failed_is_run_again_by_the_next_tick(world: World) -> None:
    await seed(world)
    r = world.repos
    tokens = cast(ApiTokenRepository, BrokenTokens(r.api_tokens))  # the rest delegated
    broken = RetentionService(r.claims, tokens, r.webhooks, r.idempotency_keys, world.clock)

    with pytest.raises(ConnectionError):
        await broken.run_daily()
    retried = await replica(world).run_daily()

    assert retried is not None and retried.purged[Purged.API_TOKENS] == 2


# --- the settings -------------------------------------------------------------------------------


def test_retention_periods_default_and_are_read_in_days(monkeypatch: pytest.MonkeyPatch) -> None:
    assert make(monkeypatch).retention() == RetentionPeriods()
    settings = make(
        monkeypatch,
        RETENTION_FINISHED_CLAIMS_DAYS="30",
        RETENTION_EXPIRED_CLAIMS_DAYS="3",
        RETENTION_WEBHOOK_DELIVERIES_DAYS="365",
        RETENTION_API_TOKENS_DAYS="0",
    )
    assert settings.retention() == RetentionPeriods(
        finished_claims=30 * DAY,
        expired_claims=3 * DAY,
        webhook_deliveries=365 * DAY,
        api_tokens=timedelta(0),
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("RETENTION_FINISHED_CLAIMS_DAYS", "1", "at least 2 days: a digest's claim"),
        ("RETENTION_EXPIRED_CLAIMS_DAYS", "0", "at least 1 day: Slack retries an event"),
        ("RETENTION_WEBHOOK_DELIVERIES_DAYS", "0", "greater than or equal to 1"),
        ("RETENTION_API_TOKENS_DAYS", "-1", "greater than or equal to 0"),
        ("RETENTION_API_TOKENS_DAYS", "3651", "less than or equal to 3650"),
    ],
)
def test_a_retention_period_too_short_to_be_safe_is_refused_saying_why(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    clean(monkeypatch)
    monkeypatch.setenv(name, value)
    monkeypatch.chdir("/")  # no .env

    with pytest.raises(StartupError) as error:
        load_settings()

    assert error.value.setting == name
    assert says in str(error.value)
    assert name.lower() in Settings.model_fields
