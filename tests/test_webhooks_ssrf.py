"""Webhooks reach only the public internet (server-side request forgery): a hook for a
non-public address or a local name is refused when made, with nothing stored; at each
attempt a host resolving to any non-public address is not sent to (a failed attempt, in
words, retried with backoff as any other); the connection goes to the addresses checked,
however the name resolves afterwards. WEBHOOK_ALLOW_PRIVATE=true lifts both."""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest

from bot.devtools.harness import local_bot
from bot.webhook_sender import AddrInfo, PinnedResolver, WebhookSender
from core.errors import ValidationFailed
from core.models.release import GateStatus
from core.models.webhooks import DeliveryStatus
from core.secrets import SecretBox
from core.services.webhooks import BACKOFF, WebhookService
from storage.engine import Database
from tests.api.conftest import ApiClient
from tests.support import World
from tests.test_webhooks import NEW_KEY, Later, attempts, set_gate, setup
from tests.test_webhooks_receiver import receiving

HINT = "WEBHOOK_ALLOW_PRIVATE=true"
HOST = "hooks.example.test"  # a name no real DNS answers: only FakeDns knows it

# Each URL refused when a hook is made, and the words saying why.
REFUSED = {
    "http://127.0.0.1:8080/admin": "a loopback address",
    "http://2130706433/": "a loopback address",  # 127.0.0.1 spelt as a number
    "http://[::1]/": "a loopback address",
    "http://10.1.2.3/hook": "a private-network address",
    "http://172.16.0.1/hook": "a private-network address",
    "https://192.168.1.10/hook": "a private-network address",
    "http://[fc00::1]/hook": "a private-network address",
    "http://169.254.169.254/latest/meta-data/": "a link-local address",
    "http://[fe80::1]/hook": "a link-local address",
    "http://224.0.0.1/hook": "a multicast address",
    "http://[ff02::1]/hook": "a multicast address",
    "http://0.0.0.0:9200/": "the unspecified address",
    "http://[::]/": "the unspecified address",
    "http://240.0.0.1/": "a reserved address",
    "http://255.255.255.255/": "a reserved address",
    "http://100.64.0.1/": "not a public address",  # carrier-grade NAT
    "http://[::ffff:127.0.0.1]/": "an address reaching 127.0.0.1, a loopback",
    "http://[2002:a9fe:a9fe::]/": "an address reaching 169.254.169.254, a link-local",
    "http://[64:ff9b::a00:1]/": "an address reaching 10.0.0.1, a private-network",
    "http://localhost:9000/": "a local name",
    "http://LOCALHOST./": "a local name",
    "http://admin.localhost/": "a local name",
    "http://metadata.google.internal/computeMetadata/v1/": "a local name",
    "http://printer.local/": "a local name",
    "http://redis:6379/": "a name without a domain",
}
PUBLIC = [
    "https://ci.example.com/hook",
    "http://93.184.216.34/hook",
    "https://[2606:4700::1111]/hook",
    "http://[::ffff:8.8.8.8]/hook",
    f"https://{HOST}/hook",  # a name: what it resolves to is checked at each attempt
]


@dataclass
class FakeDns:
    """The DNS as the test sets it: each name's answers in turn, the last one kept."""

    answers: dict[str, list[list[str]]]
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> Sequence[AddrInfo]:
        self.asked.append(host)
        turns = self.answers.get(host)
        if not turns:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        found = turns.pop(0) if len(turns) > 1 else turns[0]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
            if ":" in ip
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in found
        ]


def webhooks(
    world: World, *, allow_private: bool, dns: FakeDns | None = None
) -> tuple[WebhookService, Later]:
    """A process's webhook service with WEBHOOK_ALLOW_PRIVATE as given, resolving by ``dns``."""
    assert world.repos.webhooks is not None
    later = Later()
    service = WebhookService(
        world.repos.webhooks,
        world.repos.claims,
        world.services.identity,
        world.clock,
        SecretBox(NEW_KEY),
    )
    sender = WebhookSender(timeout=2, allow_private=allow_private, lookup=dns or FakeDns({}))
    service.connect(sender, later, allow_private=allow_private)
    world.services.outbox.connect(service.react, later)
    return service, later


async def test_a_hook_for_a_non_public_host_is_refused_saying_why_and_storing_nothing(
    world: World,
) -> None:
    hooks, _ = webhooks(world, allow_private=False)
    rhea = await setup(world)

    said: dict[str, str] = {}
    for url in REFUSED:
        with pytest.raises(ValidationFailed) as refused:
            await hooks.create(rhea, url, ["gate.changed"])
        error = refused.value
        assert HINT in error.message and set(error.fields) == {"url"}, url
        said[url] = error.fields["url"]

    assert {url: REFUSED[url] in why for url, why in said.items()} == dict.fromkeys(REFUSED, True)
    assert "169.254.169.254 is a link-local" in said["http://169.254.169.254/latest/meta-data/"]
    assert await world.mongo["webhooks"].find().to_list(length=None) == []


async def test_public_hosts_are_made_and_private_ones_once_allowed(world: World) -> None:
    public, _ = webhooks(world, allow_private=False)
    allowing, _ = webhooks(world, allow_private=True)
    rhea = await setup(world)

    for url in PUBLIC:
        await public.create(rhea, url, ["gate.changed"])
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://10.1.2.3/"):
        await allowing.create(rhea, url, ["gate.changed"])

    assert len(await world.mongo["webhooks"].find().to_list(length=None)) == len(PUBLIC) + 3


async def test_the_api_refuses_a_private_url_with_a_422_naming_the_url_and_the_setting(
    db: Database,
) -> None:
    async with local_bot(db=db) as bot, aiohttp.ClientSession() as session:
        api = ApiClient(bot, session)
        rhea = await api.login("rhea")
        refused = await api.call(
            "POST",
            "/api/v1/webhooks",
            token=rhea,
            json={"url": "http://169.254.169.254/latest/meta-data/", "events": ["gate.changed"]},
        )
        stored = await db["webhooks"].find().to_list(length=None)

    assert refused.status == 422 and refused.error["code"] == "VALIDATION_ERROR"
    assert HINT in refused.error["message"]
    fields = refused.error["details"]["fields"]
    # The core names the field "url"; the route may name it as the body's ("body.url").
    [(name, why)] = fields.items()
    assert name in ("url", "body.url") and "link-local" in why
    assert stored == []


async def test_a_name_resolving_to_a_private_address_is_not_sent_and_logged_as_an_attempt(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async with receiving() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        dns = FakeDns({HOST: [["127.0.0.1"]]})  # the receiver, were it sent
        hooks, later = webhooks(world, allow_private=False, dns=dns)
        rhea = await setup(world)
        hook, _ = await hooks.create(rhea, f"http://{HOST}:{port}/hook", ["gate.changed"])
        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        with caplog.at_level(logging.WARNING, logger="bot.webhook_sender"):
            await later.run()
        [first] = await hooks.deliveries(rhea, hook.id)
        again = await hooks.deliver_due()  # before the backoff is over: no new attempt
        world.clock.advance(seconds=BACKOFF[0].total_seconds())
        retried = await hooks.deliver_due()
        [second] = await hooks.deliveries(rhea, hook.id)

    why = (
        f"not sent: {HOST} resolves to 127.0.0.1, a loopback address (this machine); webhooks "
        f"go only to public addresses (set {HINT} where the bot runs to allow receivers on "
        "private networks)"
    )
    assert receiver.received == []
    assert attempts(first) == [(1, None, why)]
    assert first.status is DeliveryStatus.PENDING
    assert first.next_attempt_at == first.attempts[0].at + BACKOFF[0]
    assert (again, retried) == (0, 0)
    assert attempts(second) == [(1, None, why), (2, None, why)]
    assert f"webhook POST to host {HOST} not sent" in caplog.text


async def test_a_hook_made_while_private_was_allowed_is_not_sent_once_it_is_not(
    world: World,
) -> None:
    async with receiving() as receiver:
        allowing, _ = webhooks(world, allow_private=True)
        rhea = await setup(world)
        hook, _ = await allowing.create(rhea, receiver.url, ["gate.changed"])
        # The setting turned off: the next process refuses the stored hook's address.
        hooks, later = webhooks(world, allow_private=False)
        await set_gate(world, rhea, GateStatus.IN_PROGRESS)
        await later.run()
        [delivery] = await hooks.deliveries(rhea, hook.id)

    assert receiver.received == []
    [(number, status_code, error)] = attempts(delivery)
    assert (number, status_code) == (1, None)
    assert error is not None and "127.0.0.1 is a loopback address" in error and HINT in error


async def test_a_name_is_refused_if_any_of_its_addresses_is_not_public() -> None:
    dns = FakeDns({HOST: [["93.184.216.34", "2606:4700::1111", "10.0.0.7"]]})
    sender = WebhookSender(timeout=2, lookup=dns)

    result = await sender.post(f"https://{HOST}/hook", b"{}", {})
    unknown = await sender.post("https://nowhere.example.test/hook", b"{}", {})

    assert result.status_code is None and result.error is not None
    assert result.error.startswith(f"not sent: {HOST} resolves to 10.0.0.7, a private-network")
    assert dns.asked == [HOST, "nowhere.example.test"]
    assert unknown.error == (
        "not sent: could not resolve nowhere.example.test: Name or service not known"
    )


async def test_the_connection_goes_to_the_checked_address_however_the_name_resolves_later() -> None:
    async with receiving() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        # Rebinding: the name's next answers point elsewhere. No real DNS knows the name, so
        # the POST arrives only if the connector uses the addresses checked first.
        dns = FakeDns({HOST: [["127.0.0.1"], ["10.9.9.9"]]})
        sender = WebhookSender(timeout=5, allow_private=True, lookup=dns)
        result = await sender.post(f"http://{HOST}:{port}/hook", b'{"id":"1"}', {})

    assert (result.status_code, result.error) == (200, None)
    [received] = receiver.received
    assert received.headers["Host"] == f"{HOST}:{port}"  # the URL kept: Host (and SNI) right
    assert dns.asked == [HOST]  # looked up once, by the check


async def test_the_pinned_resolver_answers_only_for_its_host_with_the_checked_addresses() -> None:
    dns = FakeDns({HOST: [["93.184.216.34", "2606:4700::1111"]]})
    checked = await WebhookSender(lookup=dns).checked_addresses(HOST, 443)
    resolver = PinnedResolver(HOST, checked)

    both = await resolver.resolve(HOST + ".", 443, socket.AF_UNSPEC)
    v6 = await resolver.resolve(HOST.upper(), 443, socket.AF_INET6)

    assert [a["host"] for a in both] == ["93.184.216.34", "2606:4700::1111"]
    assert [a["host"] for a in v6] == ["2606:4700::1111"]
    with pytest.raises(OSError, match="was not checked"):
        await resolver.resolve("elsewhere.example.com", 443, socket.AF_UNSPEC)
