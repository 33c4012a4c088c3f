"""The HTTP side of outbound webhooks: one POST with a timeout, its outcome in words.

What is sent, when, signed how and retried how is the core's (``core/services/webhooks.py``);
this only carries a body to a URL and says what came back, never raising for a receiver's
failure (a refused connection, a timeout, a bad certificate are outcomes to log).

Before each POST the URL's host is resolved once; if any of its addresses is not public
(``core.services.webhooks.address_refusal``), nothing is sent (unless WEBHOOK_ALLOW_PRIVATE).
The connection is then made only to the addresses checked (``PinnedResolver``), so a name
that resolves again differently (DNS rebinding) cannot send it elsewhere; the URL is kept, so
the Host header and TLS (SNI, the certificate's name) are the host's. Redirects are not
followed, and no proxy from the environment is used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from core.services.webhooks import ALLOW_PRIVATE_HINT, PostResult, address_refusal

TIMEOUT_SECONDS = 10.0
log = logging.getLogger(__name__)

# getaddrinfo's answers: (family, type, proto, canonname, sockaddr).
AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]
Lookup = Callable[[str, int], Awaitable[Sequence[AddrInfo]]]


async def system_lookup(host: str, port: int) -> Sequence[AddrInfo]:
    """The system resolver's addresses of ``host`` (asyncio's getaddrinfo)."""
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)


class Unsendable(Exception):
    """A host the webhook cannot or may not go to, and why in words."""


class PinnedResolver(AbstractResolver):
    """Answers only for ``host``, with the addresses already checked: the connector's
    resolver, so it never looks the name up again."""

    def __init__(self, host: str, addresses: Sequence[ResolveResult]) -> None:
        self.host = _name(host)
        self.addresses = list(addresses)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if _name(host) != self.host:
            raise OSError(f"{host} was not checked for this webhook (only {self.host})")
        found = [
            ResolveResult(
                hostname=host,
                host=a["host"],
                port=port or a["port"],
                family=a["family"],
                proto=a["proto"],
                flags=a["flags"],
            )
            for a in self.addresses
            if family == socket.AF_UNSPEC or a["family"] == family
        ]
        if not found:
            raise OSError(f"{host} has no checked address of the family asked for")
        return found

    async def close(self) -> None:
        pass


class WebhookSender:
    def __init__(
        self,
        *,
        timeout: float = TIMEOUT_SECONDS,
        allow_private: bool = False,
        lookup: Lookup = system_lookup,
    ) -> None:
        """``allow_private`` (WEBHOOK_ALLOW_PRIVATE): send to private addresses too;
        ``lookup``: how a host's addresses are found (the system's DNS)."""
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._allow_private = allow_private
        self._lookup = lookup

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> PostResult:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await self.checked_addresses(host, port)
            # A session per POST: hooks are few and called seldom, and nothing to close later.
            # The connector reaches the checked addresses only; no DNS cache to outlive them.
            connector = aiohttp.TCPConnector(
                resolver=PinnedResolver(host, addresses), use_dns_cache=False
            )
            async with (
                aiohttp.ClientSession(timeout=self._timeout, connector=connector) as session,
                session.post(
                    url, data=body, headers=dict(headers), allow_redirects=False
                ) as answer,
            ):
                await answer.read()  # the connection is reused only once the body is read
                status = answer.status
        except Unsendable as unsendable:
            log.warning("webhook POST to host %s not sent: %s", host, unsendable)
            return PostResult(None, f"not sent: {unsendable}")
        except TimeoutError:
            return PostResult(None, f"no answer within {self._timeout.total:g} s")
        except aiohttp.ClientError as error:
            return PostResult(
                None, f"could not reach the receiver: {error or type(error).__name__}"
            )
        if 200 <= status < 300:
            return PostResult(status)
        return PostResult(status, f"the receiver answered HTTP {status}")

    async def checked_addresses(self, host: str, port: int) -> list[ResolveResult]:
        """``host``'s addresses, once each, if every one may be sent to; else Unsendable."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        try:
            async with asyncio.timeout(self._timeout.total):
                infos = (
                    [(_FAMILY[literal.version], socket.SOCK_STREAM, 0, "", (host, port))]
                    if literal is not None
                    else await self._lookup(host, port)
                )
        except TimeoutError:
            raise Unsendable(
                f"could not resolve {host}: no answer within {self._timeout.total:g} s"
            ) from None
        except OSError as error:
            raise Unsendable(f"could not resolve {host}: {error.strerror or error}") from None
        found: dict[str, ResolveResult] = {}
        for family, _, proto, _, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = str(sockaddr[0])
            why = None if self._allow_private else address_refusal(ipaddress.ip_address(ip))
            if why is not None:
                what = f"is {why}" if literal is not None else f"resolves to {ip}, {why}"
                raise Unsendable(
                    f"{host} {what}; webhooks go only to public addresses ({ALLOW_PRIVATE_HINT})"
                )
            found.setdefault(
                ip,
                ResolveResult(
                    hostname=host,
                    host=ip,
                    port=port,
                    family=family,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                ),
            )
        if not found:
            raise Unsendable(f"could not resolve {host}: no IPv4 or IPv6 address")
        return list(found.values())


_FAMILY = {4: socket.AF_INET, 6: socket.AF_INET6}


def _name(host: str) -> str:
    return host.rstrip(".").lower()
