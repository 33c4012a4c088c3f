"""Outbound webhooks in the core: deliveries from stored changes, sent to a receiver over
real HTTP, once per event and hook, retried and logged, kept across a restart; secrets
encrypted at rest with keys that rotate."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.webhook_sender import WebhookSender
from core.errors import NotFound, PermissionDenied, ValidationFailed
from core.models.rbac import Permission
from core.models.release import GateStatus
from core.models.webhooks import ATTEMPTS_MAX, DeliveryStatus
from core.rules.permissions import Actor
from core.secrets import SecretBox, UndecryptableSecret
from core.services.gates import GateChange, GateDraft
from core.services.webhooks import BACKOFF, WebhookService
from tests.support import World
from tests.test_webhooks_receiver import receiving

REL = "REL-2026.12"
GATE = "Security scan"
OLD_KEY, NEW_KEY = "the-old-secret-key", "the-new-secret-key"
HOOK_FLAGS = (Permission.CAN_CREATE_RELEASE, Permission.CAN_MANAGE_QUALITY_GATES)


class Later:
    """The bot's after-ack queue, run when the test says."""

    def __init__(self) -> None:
        self.jobs: list[Callable[[], Awaitable[None]]] = []

    def __call__(self, job: Callable[[], Awaitable[None]]) -> None:
        self.jobs.append(job)

    async def run(self) -> None:
        while self.jobs:
            await self.jobs.pop(0)()


def webhooks(world: World, box: SecretBox | None = None) -> tuple[WebhookService, Later]:
    """A process's webhook service (``box``: its SECRET_KEYs), reacting to stored changes."""
    assert world.repos.webhooks is not None
    later = Later()
    service = WebhookService(
        world.repos.webhooks,
        world.repos.claims,
        world.services.identity,
        world.clock,
        box or SecretBox(NEW_KEY),
    )
    # The receiver is on 127.0.0.1: private addresses allowed (WEBHOOK_ALLOW_PRIVATE=true).
    service.connect(WebhookSender(timeout=5, allow_private=True), later, allow_private=True)
    world.services.outbox.connect(service.react, later)
    return service, later


async def setup(world: World, *, squads: tuple[str, ...] = ()) -> Actor:
    """A release with one required gate, its earlier changes delivered; a person who may
    make hooks (and see every release, unless given ``squads``)."""
    await world.release(gates=[GATE])
    await world.services.outbox.dispatch_pending()
    flags = HOOK_FLAGS if squads else (*HOOK_FLAGS, Permission.CAN_VIEW_ALL)
    return await world.actor("rhea", *flags, squads=squads)


async def set_gate(world: World, actor: Actor, status: GateStatus) -> None:
    await world.services.gates.update_gate(
        actor, REL, "pay-api", GATE, GateChange(gate_status=status)
    )


def attempts(delivery: Any) -> list[tuple[int, int | None, str | None]]:
    return [(a.number, a.status_code, a.error) for a in delivery.attempts]


async def test_a_delivery_refused_once_is_retried_after_a_restart_and_delivered_once(
    world: World,
) -> None:
    async with receiving([500]) as receiver:
        hooks, later = webhooks(world)
        rhea = await setup(world)
        hook, secret = await hooks.create(rhea, receiver.url, ["gate.changed"])

        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        await later.run()  # the reaction stores the delivery, then sends it: 500
        [pending] = await hooks.deliveries(rhea, hook.id)
        # A restart: another process with the same SECRET_KEY, once the backoff is over.
        world.clock.advance(seconds=BACKOFF[0].total_seconds())
        restarted, _ = webhooks(world)
        delivered = await restarted.deliver_due()
        again = await restarted.deliver_due()
        [done] = await restarted.deliveries(rhea, hook.id)

    assert (delivered, again) == (1, 0)
    assert pending.status is DeliveryStatus.PENDING
    assert attempts(pending) == [(1, 500, "the receiver answered HTTP 500")]
    assert done.status is DeliveryStatus.DELIVERED and done.delivered_at == world.clock()
    assert attempts(done) == [(1, 500, "the receiver answered HTTP 500"), (2, 200, None)]
    first, second = receiver.received
    assert first.body == second.body and first.signed_with(secret) and second.signed_with(secret)
    payload = first.json
    assert set(payload) == {"id", "event", "created_at", "data"}
    assert payload["event"] == "gate.changed" and payload["id"] == done.event_id
    data = payload["data"]
    assert (data["product_id"], data["gate_name"]) == ("pay-api", GATE)
    assert (data["before"], data["after"]) == ("NOT_STARTED", "IN_PROGRESS")
    assert data["release"]["release_id"] == REL
    assert data["changed_by"]["username"] == "rhea"


async def test_two_replicas_sending_at_once_post_a_delivery_once(world: World) -> None:
    async with receiving(delay=0.3) as receiver:
        one, _ = webhooks(world)
        rhea = await setup(world)
        hook, _ = await one.create(rhea, receiver.url, ["gate.changed"])
        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        await world.services.outbox.dispatch_pending()  # stored; its sending not yet run
        other, _ = webhooks(world)

        sent = await asyncio.gather(one.deliver_due(), other.deliver_due())
        [delivery] = await one.deliveries(rhea, hook.id)

    assert sorted(sent) == [0, 1]
    assert len(receiver.received) == 1
    assert attempts(delivery) == [(1, 200, None)]


async def test_each_event_is_stored_once_per_hook_however_often_the_reaction_runs(
    world: World,
) -> None:
    hooks, later = webhooks(world)
    rhea = await setup(world)
    first, _ = await hooks.create(rhea, "http://127.0.0.1:9/a", ["gate.changed"])
    second, _ = await hooks.create(rhea, "http://127.0.0.1:9/b", ["gate.changed", "task.changed"])
    await hooks.create(rhea, "http://127.0.0.1:9/c", ["approval.decided"])
    await set_gate(world, rhea, GateStatus.IN_PROGRESS)
    release = await world.repos.releases.get(REL)
    [entry] = release.outbox

    await hooks.react(release, entry)
    await hooks.react(release, entry)  # a retry after a crash

    stored = await world.mongo["webhook_deliveries"].find().to_list(length=None)
    assert sorted(d["hook_id"] for d in stored) == sorted([first.id, second.id])
    assert {d["event"] for d in stored} == {"gate.changed"}


async def test_a_delivery_failing_every_time_is_given_up_after_the_last_attempt(
    world: World,
) -> None:
    async with receiving([503] * (ATTEMPTS_MAX + 1)) as receiver:
        hooks, later = webhooks(world)
        rhea = await setup(world)
        hook, _ = await hooks.create(rhea, receiver.url, ["gate.changed"])
        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        await later.run()
        for wait in BACKOFF:
            world.clock.advance(seconds=wait.total_seconds())
            await hooks.deliver_due()
        world.clock.advance(days=1)
        late = await hooks.deliver_due()
        [delivery] = await hooks.deliveries(rhea, hook.id)

    assert late == 0 and len(receiver.received) == ATTEMPTS_MAX
    assert delivery.status is DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert [a.number for a in delivery.attempts] == list(range(1, ATTEMPTS_MAX + 1))


async def test_release_ready_is_sent_when_the_last_required_gate_passes(world: World) -> None:
    async with receiving() as receiver:
        hooks, later = webhooks(world)
        rhea = await setup(world)
        _, secret = await hooks.create(rhea, receiver.url, ["release.ready"])

        await set_gate(world, rhea, GateStatus.IN_PROGRESS)  # not ready
        await later.run()
        await set_gate(world, rhea, GateStatus.PASSED)  # ready
        await later.run()
        # Still ready (an optional gate added): not again.
        await world.services.gates.add_gate(
            rhea, REL, "pay-api", GateDraft(gate_name="Docs review", required=False)
        )
        await later.run()

    [ready] = receiver.received
    assert ready.signed_with(secret)
    assert ready.json["event"] == "release.ready"
    assert ready.json["data"]["all_required_gates_passed"] is True
    assert ready.json["data"]["has_blockers"] is False


async def test_no_delivery_of_a_release_the_hooks_owner_may_not_see(world: World) -> None:
    async with receiving() as receiver:
        hooks, later = webhooks(world)
        admin = await setup(world)  # sees every release
        other = await world.actor("otto", *HOOK_FLAGS, squads=("checkout",))
        await hooks.create(other, receiver.url, ["gate.changed"])
        seen, _ = await hooks.create(admin, receiver.url, ["gate.changed"])

        await set_gate(world, admin, GateStatus.IN_PROGRESS)
        await later.run()

    stored = await world.mongo["webhook_deliveries"].find().to_list(length=None)
    assert [d["hook_id"] for d in stored] == [seen.id]
    assert len(receiver.received) == 1


async def test_the_secret_is_stored_encrypted_and_read_after_a_new_key_is_added(
    world: World,
) -> None:
    async with receiving() as receiver:
        hooks, _ = webhooks(world, SecretBox(OLD_KEY))
        rhea = await setup(world)
        hook, secret = await hooks.create(rhea, receiver.url, ["gate.changed"])
        [raw] = await world.mongo["webhooks"].find().to_list(length=None)
        # SECRET_KEY rotated: the new key first, the old one kept to read what it encrypted.
        rotated, later = webhooks(world, SecretBox([NEW_KEY, OLD_KEY]))
        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        await later.run()

    assert secret.startswith("whsec_") and secret not in str(raw)
    assert set(raw) == {"_id", "user_id", "url", "events", "created_at", "secret_encrypted"}
    assert SecretBox(OLD_KEY).decrypt(raw["secret_encrypted"]) == secret
    [delivery] = receiver.received
    assert delivery.signed_with(secret)
    assert "secret" not in (await rotated.list_hooks(rhea))[0].model_dump()
    assert hook.id == raw["_id"].__str__()


async def test_a_secret_no_key_decrypts_is_logged_as_a_failed_attempt(world: World) -> None:
    async with receiving() as receiver:
        hooks, _ = webhooks(world, SecretBox(OLD_KEY))
        rhea = await setup(world)
        hook, _ = await hooks.create(rhea, receiver.url, ["gate.changed"])
        dropped, later = webhooks(world, SecretBox(NEW_KEY))  # the old key was dropped
        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        await later.run()
        [delivery] = await dropped.deliveries(rhea, hook.id)

    assert receiver.received == []
    [(number, status_code, error)] = attempts(delivery)
    assert (number, status_code) == (1, None)
    assert error is not None and "SECRET_KEY" in error


def test_keys_rotate_the_first_encrypts_every_one_decrypts() -> None:
    old = SecretBox(OLD_KEY)
    both = SecretBox([NEW_KEY, OLD_KEY])
    token = old.encrypt("whsec_abc")

    assert both.decrypt(token) == "whsec_abc"
    with pytest.raises(UndecryptableSecret):
        SecretBox(NEW_KEY).decrypt(token)
    rotated = both.rotate(token)
    assert SecretBox(NEW_KEY).decrypt(rotated) == "whsec_abc"
    assert SecretBox(NEW_KEY).decrypt(both.encrypt("x")) == "x"  # the first key encrypts
    with pytest.raises(UndecryptableSecret):
        old.decrypt(both.encrypt("x"))


async def test_refusals_change_nothing(world: World) -> None:
    hooks, _ = webhooks(world)
    rhea = await setup(world)
    dana = await world.actor("dana", Permission.CAN_VIEW_ALL)
    other = await world.actor("otto", *HOOK_FLAGS)
    hook, _ = await hooks.create(rhea, "https://ci.example.com/hook", ["gate.changed"])
    before = await world.mongo["webhooks"].find().to_list(length=None)

    with pytest.raises(PermissionDenied, match="can_create_release"):
        await hooks.create(dana, "https://ci.example.com/x", ["gate.changed"])
    with pytest.raises(ValidationFailed) as wrong_url:
        await hooks.create(rhea, "ftp://ci.example.com/x", ["gate.changed"])
    with pytest.raises(ValidationFailed) as wrong_event:
        await hooks.create(rhea, "https://ci.example.com/x", ["gate.exploded"])
    with pytest.raises(NotFound):
        await hooks.delete(other, hook.id)
    with pytest.raises(NotFound):
        await hooks.deliveries(other, hook.id)

    assert "url" in wrong_url.value.fields and "events.0" in wrong_event.value.fields
    assert await world.mongo["webhooks"].find().to_list(length=None) == before


async def test_after_a_rotation_the_stored_secrets_move_to_the_new_key_and_the_old_can_go(
    world: World,
) -> None:
    async with receiving() as receiver:
        hooks, _ = webhooks(world, SecretBox(OLD_KEY))
        rhea = await setup(world)
        _, secret = await hooks.create(rhea, receiver.url, ["gate.changed"])
        rotating, _ = webhooks(world, SecretBox([NEW_KEY, OLD_KEY]))

        assert await rotating.rotate_secrets() == 1
        assert await rotating.rotate_secrets() == 0  # current already: not written again

        # the old key dropped: what is stored is read with the new one alone
        only_new, later = webhooks(world, SecretBox(NEW_KEY))
        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        await later.run()

    [raw] = await world.mongo["webhooks"].find().to_list(length=None)
    assert SecretBox(NEW_KEY).decrypt(raw["secret_encrypted"]) == secret
    [delivery] = receiver.received
    assert delivery.signed_with(secret)
