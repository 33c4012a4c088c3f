"""Outbound webhooks: machines told of changes, each event delivered once per hook, signed.

- A hook is made by someone who may run releases (``can_create_release``: release managers
  and admins), with an http(s) URL and the events it wants; its signing secret is shown
  once and stored encrypted (``core.secrets``).
- ``react`` is a reaction to stored changes, as the Slack ones (``bot/reactions.py``): for
  each domain event of an outbox entry it stores one PENDING delivery per hook subscribed
  to it whose owner may still see the release — once, however often it runs (a unique key
  of event and hook). Whichever entry point made the change, the same deliveries follow.
- ``deliver_due`` (soon after ``react``, and on every scheduler tick) POSTs what is due.
  Each attempt is claimed (``ClaimRepository``, as the scheduler's sends are), so two
  replicas never send one delivery at once; a 2xx completes it, anything else is logged
  and retried with backoff, up to ``ATTEMPTS_MAX`` attempts. Pending deliveries are
  stored, so a restart loses none. A crash between a receiver's 2xx and its record sends
  that delivery again once its lease ends: receivers de-duplicate by the payload's ``id``.

The POST is JSON ``{"id", "event", "created_at", "data"}``, signed as Slack signs its own
requests: ``X-Releasebot-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`` with
``X-Releasebot-Request-Timestamp: {timestamp}`` (seconds since the epoch).

Hooks reach only the public internet (server-side request forgery: a URL must not make the
bot call its cloud's metadata service, an admin port on localhost or the private network):
a URL whose host is a non-public IP address or a local name (``localhost``, ``*.internal``,
...) is refused when made, and at each attempt the sender (``bot/webhook_sender.py``) refuses
a host resolving to any non-public address and connects only to the addresses it checked.
``WEBHOOK_ALLOW_PRIVATE=true`` allows private receivers (and the tests' local ones).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import ValidationError

from core.clock import Clock
from core.errors import NotFound, ValidationFailed
from core.models.events import (
    ApprovalDecided,
    ApprovalExpired,
    ApprovalRequested,
    ApprovalVoted,
    ApprovalWithdrawn,
    BrokeGlass,
    DomainEvent,
    GateChanged,
    MilestoneChanged,
    ReleaseCreated,
    TaskChanged,
    VotesWithdrawn,
)
from core.models.rbac import Permission
from core.models.release import Release
from core.models.timeline import TimelineEvent
from core.models.webhooks import (
    ATTEMPTS_MAX,
    DeliveryAttempt,
    DeliveryStatus,
    StoredWebhook,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookRequest,
)
from core.ports import ClaimRepository, WebhookRepository
from core.rules.permissions import Actor
from core.rules.readiness import summarize
from core.secrets import SecretBox, UndecryptableSecret
from core.services.identity import IdentityService
from core.services.outbox import Entry

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Releasebot-Signature"
TIMESTAMP_HEADER = "X-Releasebot-Request-Timestamp"
SECRET_PREFIX = "whsec_"
MANAGE = Permission.CAN_CREATE_RELEASE  # who runs releases may wire pipelines to them
# Wait after the n-th failed attempt (then the next one); ATTEMPTS_MAX attempts in all.
BACKOFF = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
LEASE = timedelta(minutes=2)  # longer than a POST may take (the transport's timeout)
DUE_BATCH = 100
CONCURRENCY = 8
DELIVERIES_MAX = 100

Later = Callable[[Callable[[], Awaitable[None]]], None]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOW_PRIVATE_HINT = (
    "set WEBHOOK_ALLOW_PRIVATE=true where the bot runs to allow receivers on private networks"
)
# Names that never mean a host on the public internet (RFC 6761, RFC 6762, RFC 8375, and
# ICANN's private-use .internal, where clouds keep their metadata service).
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # IPv6 hosts reaching IPv4 ones through a gateway


@dataclass(frozen=True)
class PostResult:
    """What a receiver answered: its status, or (no answer) why not, in words."""

    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookTransport(Protocol):
    """Sends one POST (``bot/webhook_sender.py``); never raises for the receiver's failures."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> PostResult: ...


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` (Slack's scheme)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def body_of(delivery: WebhookDelivery) -> bytes:
    """The POSTed body: the same bytes at every attempt."""
    return json.dumps(delivery.payload(), separators=(",", ":"), sort_keys=True).encode()


def address_refusal(address: Address) -> str | None:
    """Why ``address`` is no place for a webhook, in words (``a loopback address``); None
    for a public one. An IPv6 address carrying an IPv4 one (mapped, 6to4, NAT64) is judged
    by the IPv4 address it reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in _NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is not None:
            why = address_refusal(carried)
            return None if why is None else f"an address reaching {carried}, {why}"
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private-network address"
    if not address.is_global:
        return "not a public address"
    return None


def host_refusal(host: str) -> str | None:
    """Why a URL's ``host`` (an IP address or a name) is no place for a webhook, in words;
    None if it may be public. A name is only judged by its form here: what it resolves to
    is checked at each attempt."""
    name = host.strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return address_refusal(address)
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return "a local name"
    if "." not in name:
        return "a name without a domain (an internal host's)"
    return None


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


class WebhookService:
    def __init__(
        self,
        hooks: WebhookRepository,
        claims: ClaimRepository,
        identity: IdentityService,
        clock: Clock,
        box: SecretBox,
    ) -> None:
        self._hooks = hooks
        self._claims = claims
        self._identity = identity
        self._clock = clock
        self._box = box
        self._transport: WebhookTransport | None = None
        self._later: Later | None = None
        self._allow_private = False
        self._sending = asyncio.Semaphore(CONCURRENCY)

    def connect(
        self, transport: WebhookTransport, later: Later, *, allow_private: bool = False
    ) -> None:
        """Send through ``transport``; deliveries stored by ``react`` are sent by ``later``.
        ``allow_private`` (WEBHOOK_ALLOW_PRIVATE): hooks may be made for private addresses
        and local names (the transport is told the same for the addresses it resolves)."""
        self._transport, self._later = transport, later
        self._allow_private = allow_private

    # --- managing hooks ---------------------------------------------------------------------

    async def create(self, actor: Actor, url: str, events: Sequence[str]) -> tuple[Webhook, str]:
        """A hook of ``actor``'s, and its signing secret: shown this once, kept encrypted."""
        actor.require(MANAGE, "manage webhooks")
        try:
            request = WebhookRequest.model_validate({"url": url, "events": list(events)})
        except ValidationError as error:
            raise ValidationFailed.from_pydantic(error) from None
        self._require_public(str(request.url))
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        hook = await self._hooks.add(
            StoredWebhook(
                user_id=actor.user_id,
                url=str(request.url),
                events=request.events,
                created_at=self._clock(),
                secret_encrypted=self._box.encrypt(secret),
            )
        )
        # The host only: a URL's path or query may carry a receiver's own token.
        host = urlsplit(hook.url).hostname
        log.info("webhook %s made by user %s for host %s", hook.id, actor.user_id, host)
        return hook.public(), secret

    async def rotate_secrets(self) -> int:
        """After ``SECRET_KEY`` was rotated (the new key first, the old one in
        ``SECRET_KEY_FALLBACKS``): every stored secret encrypted with an older key is
        encrypted again with the new one, so the old key can then be dropped. Run at start-up;
        replicas doing it at once are harmless (each write is conditioned on what it read).
        A secret no key decrypts is left as it is (logged). Returns how many were rotated."""
        rotated = 0
        for hook in await self._hooks.subscribed(list(WebhookEvent)):
            if self._box.is_current(hook.secret_encrypted):
                continue
            try:
                fresh = self._box.rotate(hook.secret_encrypted)
            except UndecryptableSecret:
                log.warning("webhook %s: its secret decrypts with no configured key", hook.id)
                continue
            rotated += await self._hooks.replace_secret(
                hook.id, was=hook.secret_encrypted, now=fresh
            )
        if rotated:
            log.info("re-encrypted %d webhook secrets with the current SECRET_KEY", rotated)
        return rotated

    def _require_public(self, url: str) -> None:
        """Refuse a URL whose host is a non-public address or a local name, unless allowed."""
        host = urlsplit(url).hostname or ""
        why = None if self._allow_private else host_refusal(host)
        if why is None:
            return
        raise ValidationFailed(
            f"Webhooks are sent only to the public internet, and {host} is {why}: give a URL "
            f"a public host answers, or {ALLOW_PRIVATE_HINT}.",
            fields={"url": f"Not a public host: {host} is {why}"},
        )

    async def list_hooks(self, actor: Actor) -> list[Webhook]:
        """``actor``'s own hooks, newest first."""
        actor.require(MANAGE, "manage webhooks")
        return await self._hooks.for_user(actor.user_id)

    async def delete(self, actor: Actor, hook_id: str) -> Webhook:
        """Delete a hook of ``actor``'s (or anyone's, for an admin who manages roles), with
        its deliveries: those still pending are never sent."""
        hook = await self._visible(actor, hook_id)
        await self._hooks.remove(hook.id)
        log.info("webhook %s deleted by user %s", hook.id, actor.user_id)
        return hook.public()

    async def deliveries(
        self, actor: Actor, hook_id: str, *, limit: int = DELIVERIES_MAX
    ) -> list[WebhookDelivery]:
        """The hook's delivery log, newest first: every attempt with its outcome."""
        hook = await self._visible(actor, hook_id)
        return await self._hooks.deliveries(hook.id, limit=limit)

    async def _visible(self, actor: Actor, hook_id: str) -> StoredWebhook:
        """The hook, if ``actor`` may manage it; else NotFound, as for an unknown id (another
        person's hooks are theirs to know of)."""
        actor.require(MANAGE, "manage webhooks")
        unknown = NotFound(
            f"No webhook '{hook_id}' of yours; GET /api/v1/webhooks lists them.",
            fields={"id": "Unknown webhook"},
        )
        try:
            hook = await self._hooks.get(hook_id)
        except NotFound:
            raise unknown from None
        if hook.user_id != actor.user_id and not actor.has(Permission.CAN_MANAGE_ROLES):
            raise unknown
        return hook

    # --- from stored changes to deliveries ---------------------------------------------------

    async def react(self, release: Release | None, entry: Entry) -> None:
        """Store a delivery per event of ``entry`` and hook subscribed to it; then send soon."""
        if release is None:
            return
        found = webhook_events(release, entry)
        if not found:
            return
        hooks = await self._hooks.subscribed(list({e.event for e in found}))
        if not hooks:
            return
        allowed = await self._owners_seeing(release, hooks)
        stored = 0
        for item in found:
            for hook in hooks:
                if item.event not in hook.events or hook.user_id not in allowed:
                    continue
                delivery = WebhookDelivery(
                    key=f"{item.event_id}:{hook.id}",
                    hook_id=hook.id,
                    event_id=item.event_id,
                    event=item.event,
                    created_at=entry.at,
                    data=item.data,
                    next_attempt_at=self._clock(),
                )
                stored += await self._hooks.add_delivery(delivery)
        if stored and self._later is not None:
            self._later(self._send_soon)

    async def _owners_seeing(self, release: Release, hooks: list[StoredWebhook]) -> set[str]:
        """Owners who may still manage hooks and see ``release`` (checked at each event: a
        revoked role or squad stops their deliveries)."""
        allowed: set[str] = set()
        for user_id in {h.user_id for h in hooks}:
            try:
                owner = await self._identity.actor_by_id(user_id)
            except NotFound:
                continue
            if owner.has(MANAGE) and owner.can_view(release):
                allowed.add(user_id)
        return allowed

    async def _send_soon(self) -> None:
        await self.deliver_due()

    # --- sending ------------------------------------------------------------------------------

    async def deliver_due(self, *, limit: int = DUE_BATCH) -> int:
        """Attempt every delivery due now that no one else is attempting; how many were
        delivered. Called soon after ``react`` and on every scheduler tick."""
        if self._transport is None:
            return 0
        due = await self._hooks.due(now=self._clock(), limit=limit)
        sent = await asyncio.gather(*(self._attempt(d) for d in due))
        return sum(sent)

    async def _attempt(self, delivery: WebhookDelivery) -> bool:
        assert self._transport is not None
        async with self._sending:  # claim only once a slot is free: the lease covers the send
            key, owner = f"webhook:{delivery.id}", uuid.uuid4().hex
            if not await self._claims.claim(key, ttl=LEASE, owner=owner, now=self._clock()):
                return False  # another replica is at it, or it was delivered
            delivered = False
            try:
                delivered = await self._send(delivery.id)
            finally:
                if delivered:
                    await self._claims.complete(key, owner=owner, now=self._clock())
                else:
                    await self._claims.release(key, owner=owner)
            return delivered

    async def _send(self, delivery_id: str) -> bool:
        """One attempt at a claimed delivery, logged; True if the receiver took it."""
        assert self._transport is not None
        now = self._clock()
        # Read again under the claim: another replica may have attempted it meanwhile.
        delivery = await self._hooks.delivery(delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return False
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return False
        try:
            hook = await self._hooks.get(delivery.hook_id)
        except NotFound:  # deleted meanwhile (with its deliveries)
            return False
        body = body_of(delivery)
        started = time.monotonic()
        try:
            secret = self._box.decrypt(hook.secret_encrypted)
        except UndecryptableSecret as undecryptable:
            result = PostResult(None, f"{undecryptable}; delete the hook and make it again")
        else:
            timestamp = int(now.timestamp())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "releasebot-webhooks",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: signature(secret, timestamp, body),
            }
            result = await self._transport.post(hook.url, body, headers)
        duration_ms = round((time.monotonic() - started) * 1000)
        number = len(delivery.attempts) + 1
        error = None
        if not result.ok:
            error = result.error or f"the receiver answered HTTP {result.status_code}"
        attempt = DeliveryAttempt(
            number=number,
            at=now,
            status_code=result.status_code,
            duration_ms=duration_ms,
            error=error,
        )
        if result.ok:
            status, retry_at = DeliveryStatus.DELIVERED, None
        elif number >= ATTEMPTS_MAX:
            status, retry_at = DeliveryStatus.FAILED, None
            log.warning("webhook delivery %s given up after %d attempts", delivery.id, number)
        else:
            status, retry_at = DeliveryStatus.PENDING, now + backoff(number)
        await self._hooks.record_attempt(
            delivery.id, attempt, status=status, next_attempt_at=retry_at
        )
        return result.ok


@dataclass(frozen=True)
class Found:
    """One webhook event derived from a stored change."""

    event_id: str
    event: WebhookEvent
    data: dict[str, Any]


def webhook_events(release: Release, entry: Entry) -> list[Found]:
    """The webhook events of one outbox entry, in order; ids stable per entry and event."""
    base: dict[str, Any] = {
        "release": {
            "id": release.id,
            "release_id": release.release_id,
            "release_name": release.release_name,
            "release_date": release.release_date.isoformat(),
        }
    }
    if isinstance(entry, TimelineEvent):
        base["changed_by"] = {"user_id": entry.actor.user_id, "username": entry.actor.username}
    found: list[Found] = []
    for index, event in enumerate(entry.events):
        name = _NAMES.get(type(event))
        if name is not None:
            data = {**base, **_fields(event)}
            found.append(Found(f"{entry.id}.{index}", name, data))
    if became_ready(release, entry.events):
        summary = summarize(release)
        ready = {
            "total_gates": summary.total_gates,
            "all_required_gates_passed": summary.all_required_gates_passed,
            "has_blockers": summary.has_blockers,
        }
        found.append(Found(f"{entry.id}.ready", WebhookEvent.RELEASE_READY, {**base, **ready}))
    return found


_NAMES: dict[type[DomainEvent], WebhookEvent] = {
    ReleaseCreated: WebhookEvent.RELEASE_CREATED,
    GateChanged: WebhookEvent.GATE_CHANGED,
    MilestoneChanged: WebhookEvent.MILESTONE_CHANGED,
    ApprovalRequested: WebhookEvent.APPROVAL_REQUESTED,
    ApprovalDecided: WebhookEvent.APPROVAL_DECIDED,
    ApprovalWithdrawn: WebhookEvent.APPROVAL_WITHDRAWN,
    ApprovalVoted: WebhookEvent.APPROVAL_VOTED,
    VotesWithdrawn: WebhookEvent.APPROVAL_VOTES_WITHDRAWN,
    ApprovalExpired: WebhookEvent.APPROVAL_EXPIRED,
    BrokeGlass: WebhookEvent.FREEZE_BROKEN,
    TaskChanged: WebhookEvent.TASK_CHANGED,
}


def _fields(event: DomainEvent) -> dict[str, Any]:
    """The event's own fields, an approval's reference flattened into them."""
    data: dict[str, Any] = event.model_dump(mode="json", exclude={"kind"})
    ref = data.pop("ref", None)
    return {**ref, **data} if isinstance(ref, dict) else data


def became_ready(release: Release, events: Sequence[DomainEvent]) -> bool:
    """Whether ``release`` is ready for approval now and was not before these events (the
    gate and milestone changes among them undone; one added is taken away)."""
    gates = {(e.product_id, e.gate_name): e.before for e in events if isinstance(e, GateChanged)}
    milestones = {
        (e.ref.product_id, e.ref.gate_name, e.ref.milestone_key): e.before
        for e in events
        if isinstance(e, MilestoneChanged)
    }
    if not gates and not milestones:
        return False
    if not summarize(release).is_ready_for_approval:
        return False
    before = release.model_copy(deep=True)
    for product in before.products:
        kept = []
        for gate in product.quality_gates:
            key = (product.product_id, gate.gate_name)
            if key in gates:
                was = gates[key]
                if was is None:
                    continue
                gate.gate_status = was
            gate.milestones = [
                m
                for m in gate.milestones
                if milestones.get((*key, m.milestone_key), m.status) is not None
            ]
            for milestone in gate.milestones:
                was_m = milestones.get((*key, milestone.milestone_key))
                if was_m is not None:
                    milestone.status = was_m
            kept.append(gate)
        product.quality_gates = kept
    return not summarize(before).is_ready_for_approval
