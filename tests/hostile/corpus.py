"""The bad-input corpus: malformed, hostile and extreme requests, generated as data.

Every generator here is pure: it returns cases (a name, what to send, what is expected) and
knows nothing of the running bot, except for the few values only the running bot has (a
real approval target, the views it opened), which the tests pass in. test_corpus.py sends
them through the real HTTP path and checks each answer.

Families:
1. unauthenticated requests (unsigned, badly signed, stale, future, odd timestamps) of many
   body shapes — always refused;
2. signed but malformed bodies — 400 or an ordinary answer, never a 5xx;
3. signed, well-formed but hostile slash commands for every subcommand;
4. hostile interactions: clicks and view submissions;
5. events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from blocks.ids import ActionId, CallbackId
from bot.devtools.fake_slack import TEAM_ID
from bot.devtools.payloads import APP_ID, CHANNEL_ID, command_payload, event_payload

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MIB = 1024**2
OTHER_TEAM = "T0OTHER"
ADMIN, RHEA, ARJUN, DANA, NOBODY = "UADMIN", "URHEA", "UARJUN", "UDANA", "UNOBODY"
ROBOT = "UROBOT"  # a bot user: users.info says is_bot
STRANGER = "U0STRANGER"  # users.info: user_not_found
SOMETHING_WENT_WRONG = "Something went wrong on our side"
MISSING = object()  # a field left out of the payload altogether


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature of ``body`` at ``timestamp`` (any string, any bytes)."""
    base = b"v0:" + timestamp.encode("utf-8") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def signed(secret: str, body: bytes, now: int, content_type: str) -> dict[str, str]:
    return {
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": signature(secret, str(now), body),
        "Content-Type": content_type,
    }


def command_body(user_id: str, text: str, *, key: str, team_id: str = TEAM_ID) -> bytes:
    fields = command_payload(
        team_id=team_id,
        user_id=user_id,
        text=text,
        channel_id=CHANNEL_ID,
        response_url=f"{{fake}}/respond/{key}",
        trigger_id=f"hostile.{key}",
    )
    return urlencode(fields).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


# =========================================================================================
# Family 1: requests Slack did not sign (or not now, or not this body)
# =========================================================================================


@dataclass(frozen=True)
class Shape:
    """A request body; ``{fake}`` in it is replaced by the fake Slack's base URL."""

    name: str
    body: bytes
    content_type: str
    pad_to: int | None = None  # padded to this many bytes once {fake} is filled in

    @property
    def oversized(self) -> bool:
        """More than the server reads (1 MiB): 413 is an answer too."""
        return (self.pad_to or len(self.body)) > MIB


# (secret, body, now) → (headers without Content-Type, the body actually sent)
Forge = Callable[[str, bytes, int], tuple[dict[str, str], bytes]]


@dataclass(frozen=True)
class Forgery:
    name: str
    forge: Forge


@dataclass(frozen=True)
class UnsignedCase:
    id: str
    shape: Shape
    forgery: Forgery


def _ts_sig(timestamp: str, sig: str) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sig}


def _signed_at(offset: int) -> Forge:
    """Correctly signed, but ``offset`` seconds away from now."""

    def forge(secret: str, body: bytes, now: int) -> tuple[dict[str, str], bytes]:
        stamp = str(now + offset)
        return _ts_sig(stamp, signature(secret, stamp, body)), body

    return forge


def _odd_timestamp(make: Callable[[int], str]) -> Forge:
    """A timestamp of an odd shape, with a signature that is right for exactly that text."""

    def forge(secret: str, body: bytes, now: int) -> tuple[dict[str, str], bytes]:
        stamp = make(now)
        return _ts_sig(stamp, signature(secret, stamp, body)), body

    return forge


def _odd_signature(make: Callable[[str], str]) -> Forge:
    """The right timestamp, and the right signature bent into ``make(signature)``."""

    def forge(secret: str, body: bytes, now: int) -> tuple[dict[str, str], bytes]:
        return _ts_sig(str(now), make(signature(secret, str(now), body))), body

    return forge


def _fullwidth(now: int) -> str:
    return "".join(chr(0xFF10 + int(d)) for d in str(now))


def _arabic_indic(now: int) -> str:
    return "".join(chr(0x0660 + int(d)) for d in str(now))


FORGERIES: tuple[Forgery, ...] = (
    Forgery("no-slack-headers", lambda s, b, n: ({}, b)),
    Forgery("timestamp-only", lambda s, b, n: ({"X-Slack-Request-Timestamp": str(n)}, b)),
    Forgery(
        "signature-only",
        lambda s, b, n: ({"X-Slack-Signature": signature(s, str(n), b)}, b),
    ),
    Forgery("wrong-secret", lambda s, b, n: (_ts_sig(str(n), signature("guess", str(n), b)), b)),
    Forgery("empty-secret", lambda s, b, n: (_ts_sig(str(n), signature("", str(n), b)), b)),
    Forgery(
        "signed-another-body",
        lambda s, b, n: (_ts_sig(str(n), signature(s, str(n), b + b"&x=1")), b),
    ),
    Forgery(
        "body-extended-after-signing",
        lambda s, b, n: (_ts_sig(str(n), signature(s, str(n), b)), b + b"&user_id=UADMIN"),
    ),
    Forgery(
        "body-truncated-after-signing",
        lambda s, b, n: (_ts_sig(str(n), signature(s, str(n), b)), b[: len(b) // 2]),
    ),
    Forgery(
        "timestamp-header-differs-from-signed",
        lambda s, b, n: (_ts_sig(str(n - 1), signature(s, str(n), b)), b),
    ),
    Forgery("stale-301s", _signed_at(-301)),
    Forgery("stale-1h", _signed_at(-3600)),
    Forgery("stale-1y", _signed_at(-365 * 86400)),
    Forgery("future-301s", _signed_at(301)),
    Forgery("future-1y", _signed_at(365 * 86400)),
    Forgery("epoch-zero", _odd_timestamp(lambda n: "0")),
    Forgery("timestamp-12-nines", _odd_timestamp(lambda n: "9" * 12)),
    Forgery("timestamp-40-nines", _odd_timestamp(lambda n: "9" * 40)),
    Forgery("timestamp-letters", _odd_timestamp(lambda n: "abc")),
    Forgery("timestamp-empty", _odd_timestamp(lambda n: "")),
    Forgery("timestamp-negative", _odd_timestamp(lambda n: f"-{n}")),
    Forgery("timestamp-plus-sign", _odd_timestamp(lambda n: f"+{n}")),
    Forgery("timestamp-fraction", _odd_timestamp(lambda n: f"{n}.0")),
    Forgery("timestamp-exponent", _odd_timestamp(lambda n: f"{n / 1e9:.9f}e9")),
    Forgery("timestamp-underscores", _odd_timestamp(lambda n: f"{n:_}")),
    Forgery("timestamp-hex", _odd_timestamp(lambda n: hex(n))),
    Forgery("timestamp-nan", _odd_timestamp(lambda n: "NaN")),
    Forgery("timestamp-fullwidth-digits", _odd_timestamp(_fullwidth)),
    Forgery("timestamp-arabic-indic-digits", _odd_timestamp(_arabic_indic)),
    Forgery("timestamp-two-values", _odd_timestamp(lambda n: f"{n}, {n}")),
    Forgery("signature-empty", _odd_signature(lambda sig: "")),
    Forgery("signature-prefix-only", _odd_signature(lambda sig: "v0=")),
    Forgery("signature-upper-hex", _odd_signature(lambda sig: "v0=" + sig[3:].upper())),
    Forgery("signature-one-hex-short", _odd_signature(lambda sig: sig[:-1])),
    Forgery("signature-one-hex-long", _odd_signature(lambda sig: sig + "0")),
    Forgery("signature-v1", _odd_signature(lambda sig: "v1=" + sig[3:])),
    Forgery("signature-capital-V0", _odd_signature(lambda sig: "V0=" + sig[3:])),
    Forgery("signature-colon", _odd_signature(lambda sig: "v0:" + sig[3:])),
    Forgery("signature-all-zeros", _odd_signature(lambda sig: "v0=" + "0" * 64)),
    Forgery("signature-non-ascii", _odd_signature(lambda sig: "v0=" + "é" * 64)),
    Forgery("signature-listed-twice", _odd_signature(lambda sig: f"{sig},{sig}")),
    Forgery("signature-of-the-hash-only", _odd_signature(lambda sig: sig[3:])),
)
# The bodies too large to send with every forgery: these few make the point.
HUGE_FORGERIES = ("no-slack-headers", "wrong-secret", "stale-1h", "signature-upper-hex")


def _pending_click(target: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "demo"},
        "user": {"id": ARJUN, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": "hostile.unsigned-approve",
        "response_url": "{fake}/respond/unsigned-approve",
        "container": {"type": "message", "channel_id": "DUARJUN", "message_ts": "1.0"},
        "actions": [
            {
                "type": "button",
                "action_id": ActionId.APPROVE.value,
                "block_id": "approval",
                "value": target,
                "action_ts": "1.0",
            }
        ],
    }


def _new_role_submission() -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "demo"},
        "user": {"id": ADMIN, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": "hostile.unsigned-role",
        "view": {
            "id": "VUNSIGNED",
            "type": "modal",
            "callback_id": CallbackId.NEW_ROLE.value,
            "private_metadata": "{}",
            "blocks": [],
            "state": {
                "values": {
                    "role_name": {"role_name": {"type": "plain_text_input", "value": "pwned"}},
                    "description": {"description": {"type": "plain_text_input", "value": "x"}},
                }
            },
        },
    }


def unsigned_shapes(approval_target: str) -> list[Shape]:
    """Bodies that would change something (grant Admin, approve, create a role) were they
    believed, and bodies of every odd shape."""
    padding = "x" * 900_000
    help_form = command_body(DANA, "help", key="unsigned-help")
    return [
        Shape("form-help", help_form, FORM),
        Shape(
            "form-admin-grant",
            command_body(ADMIN, "admin grant <@UDANA> Admin", key="unsigned-grant"),
            FORM,
        ),
        Shape(
            "form-digest-subscribe",
            command_body(RHEA, "digest subscribe 09:00 UTC", key="unsigned-digest"),
            FORM,
        ),
        Shape("payload-approve", interaction_body(_pending_click(approval_target)), FORM),
        Shape("payload-new-role", interaction_body(_new_role_submission()), FORM),
        Shape(
            "json-app-home-opened",
            json.dumps(
                event_payload(
                    team_id=TEAM_ID,
                    event={"type": "app_home_opened", "user": DANA, "tab": "home"},
                    event_id="EvUNSIGNED",
                )
            ).encode(),
            JSON,
        ),
        Shape(
            "json-url-verification",
            json.dumps(
                {"type": "url_verification", "token": "x", "challenge": "unsigned-challenge"}
            ).encode(),
            JSON,
        ),
        Shape("empty", b"", FORM),
        Shape("binary", bytes(range(256)) * 8, "application/octet-stream"),
        Shape("binary-as-form", b"\xff\xfe\x00text=help\x80\x81", FORM),
        Shape("nested-json-5000", b'{"a":' * 5000 + b"1" + b"}" * 5000, JSON),
        Shape("log-injection", b"text=x\r\n2026-12-01 INFO granted Admin to mallory\x00", FORM),
        Shape("form-900kb", help_form + f"&pad={padding}".encode(), FORM),
        Shape("exactly-1mib", help_form, FORM, pad_to=MIB),
        Shape("1mib-plus-one", help_form, FORM, pad_to=MIB + 1),
        Shape("4mib", help_form, FORM, pad_to=4 * MIB),
    ]


def padded(body: bytes, size: int) -> bytes:
    """``body`` with a form field appended, ``size`` bytes in all."""
    pad = b"&pad="
    return body + pad + b"y" * (size - len(body) - len(pad))


def unsigned_cases(approval_target: str) -> list[UnsignedCase]:
    cases = []
    for shape in unsigned_shapes(approval_target):
        huge = (shape.pad_to or len(shape.body)) > 100_000
        for forgery in FORGERIES:
            if huge and forgery.name not in HUGE_FORGERIES:
                continue
            if not shape.body and forgery.name == "body-truncated-after-signing":
                continue  # half of nothing is nothing: that request is signed right
            cases.append(UnsignedCase(f"{shape.name}/{forgery.name}", shape, forgery))
    # Signed right over the raw bytes, but not UTF-8: Slack signs text, so this is refused.
    binary = Shape("binary-signed-over-raw-bytes", b"text=\xff\xfe\xfd", FORM)
    cases.append(UnsignedCase(binary.name, binary, Forgery("right-signature", _signed_at(0))))
    latin = Shape("latin1-signed-over-raw-bytes", "text=caf\xe9".encode("latin-1"), FORM)
    cases.append(UnsignedCase(latin.name, latin, Forgery("right-signature", _signed_at(0))))
    return cases


# =========================================================================================
# Family 2: signed, but malformed
# =========================================================================================


@dataclass(frozen=True)
class MalformedCase:
    id: str
    body: bytes
    content_type: str
    allowed: frozenset[int]  # acceptable HTTP statuses
    echo: str | None = None  # url_verification: the challenge the answer must carry


BAD = frozenset({400})
OK = frozenset({200})
ANSWERED = frozenset({200, 400, 404})  # an ordinary answer, a refusal, or "not handled"


def _event_json(event: object, **top: object) -> bytes:
    body: dict[str, Any] = {
        "token": "legacy-unused",
        "type": "event_callback",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event_id": "EvMALFORMED",
        "event_time": 1700000000,
        "event": event,
        **top,
    }
    return json.dumps(body).encode()


def _interaction(kind: str, **fields: object) -> dict[str, Any]:
    return {
        "type": kind,
        "team": {"id": TEAM_ID, "domain": "demo"},
        "user": {"id": DANA, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": "hostile.malformed",
        **fields,
    }


def _raw_form(key: str, **fields: str | None) -> bytes:
    """A slash command's form, its values percent-encoded (or not) by hand; a field given
    as None is left out."""
    base: dict[str, str | None] = {
        "command": "%2Frelease",
        "team_id": TEAM_ID,
        "channel_id": CHANNEL_ID,
        "user_id": DANA,
        "text": "",
        "response_url": "{fake}/respond/" + key,
        "trigger_id": "hostile." + key,
    }
    base.update(fields)
    return "&".join(f"{k}={v}" for k, v in base.items() if v is not None).encode()


def malformed_cases() -> list[MalformedCase]:
    cases: list[MalformedCase] = []

    def add(
        name: str,
        body: bytes | str,
        content_type: str = JSON,
        allowed: frozenset[int] = ANSWERED,
        echo: str | None = None,
    ) -> None:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        cases.append(MalformedCase(name, raw, content_type, allowed, echo))

    # --- JSON that does not parse ----------------------------------------------------------
    for name, text in {
        "truncated": '{"type": "event_callback", ',
        "open-brace": "{",
        "close-brace": "}",
        "trailing-comma": '{"type": "url_verification",}',
        "single-quotes": "{'type': 'url_verification'}",
        "undefined": '{"type": undefined}',
        "trailing-garbage": '{"type": "url_verification", "challenge": "x"} and more',
        "two-objects": '{"a": 1}{"b": 2}',
        "bom": '\ufeff{"type": "url_verification", "challenge": "x"}',
        "bad-escape": '{"type": "url_verification", "challenge": "\\x41"}',
        "raw-nul-in-string": '{"type": "url_verification", "challenge": "a\x00b"}',
        "raw-newline-in-string": '{"type": "url_verification", "challenge": "a\nb"}',
        "unterminated-string": '{"type": "url_verification", "challenge": "abc}',
        "comment": '{"type": "url_verification" /* hi */}',
        "hex-number": '{"n": 0x10}',
        "leading-zero": '{"n": 012}',
        "integer-5000-digits": '{"n": ' + "9" * 5000 + "}",
        "nested-arrays-100k": "[" * 100_000 + "]" * 100_000,
        "nested-objects-100k": '{"a":' * 100_000 + "1" + "}" * 100_000,
    }.items():
        add(f"json-broken/{name}", text, allowed=BAD)

    # --- JSON that parses, but is not an object ------------------------------------------------
    for name, text in {
        "array": "[]",
        "array-of-events": "[" + _event_json({"type": "app_home_opened"}).decode() + "]",
        "string": '"event_callback"',
        "number": "42",
        "float-inf": "1e999",
        "null": "null",
        "true": "true",
        "nan": "NaN",
        "empty": "",
        "whitespace": "   \n\t ",
    }.items():
        add(f"json-not-object/{name}", text, allowed=BAD)

    # --- JSON objects of odd content -----------------------------------------------------------
    add("json-object/empty", "{}")
    add("json-object/type-number", '{"type": 5}')
    add("json-object/type-nan", '{"type": NaN, "team_id": NaN}')
    add("json-object/type-list", '{"type": ["event_callback"], "event": {}}')
    add("json-object/unknown-type", '{"type": "no_such_type", "team_id": "T0DEMO"}')
    add(
        "json-object/infinite-number",
        _event_json({"type": "app_home_opened", "user": DANA, "tab": "messages", "n": 1e999}),
    )
    add(
        "json-object/integer-4000-digits",
        _event_json({"type": "app_home_opened", "user": DANA, "tab": "messages"})[:-2]
        + b', "n": '
        + b"9" * 4000
        + b"}}",
    )
    deep: object = "x"
    for _ in range(400):
        deep = {"a": deep}
    add("json-object/nested-400-in-event", _event_json({"type": "app_home_opened", "x": deep}))
    add("json-object/nul-escape", _event_json({"type": "app_home_opened", "tab": "a\u0000b"}))
    add(
        "json-object/duplicate-type-key",
        '{"type": "url_verification", "type": "event_callback", "challenge": "dup"}',
    )
    add(
        "json-object/duplicate-team-key",
        '{"type": "event_callback", "team_id": "T0OTHER", "team_id": "T0DEMO", '
        '"event_id": "EvDUP", "event": {"type": "app_home_opened", "tab": "messages", '
        '"user": "UDANA"}}',
    )
    add(
        "json-object/duplicate-user-key",
        '{"type": "event_callback", "team_id": "T0DEMO", "event_id": "EvDUPUSER", '
        '"event": {"type": "app_home_opened", "tab": "messages", "user": "UDANA", '
        '"user": "UNOBODY"}}',
    )
    # lone surrogates: valid JSON escapes, but no UTF-8 text can hold them
    add(
        "surrogate/url-verification-challenge",
        '{"type": "url_verification", "challenge": "\\ud800"}',
    )
    add("surrogate/event-type", _event_json({"type": "\ud800", "user": DANA}))
    add("surrogate/event-user", _event_json({"type": "app_home_opened", "user": "\ud800"}))
    add(
        "surrogate/event-tab",
        _event_json({"type": "app_home_opened", "user": DANA, "tab": "\udfff"}),
    )
    add(
        "surrogate/event-id",
        _event_json({"type": "app_home_opened", "tab": "x"}, event_id="\ud800"),
    )
    add("surrogate/team-id", _event_json({"type": "app_home_opened"}, team_id="\ud800"))
    add(
        "surrogate/click-value",
        interaction_body(
            _interaction(
                "block_actions",
                response_url="{fake}/respond/malformed-surrogate-value",
                actions=[{"action_id": ActionId.REFRESH_STATUS.value, "value": "\ud800"}],
            )
        ),
        FORM,
    )
    add(
        "surrogate/click-action-id",
        interaction_body(
            _interaction("block_actions", actions=[{"action_id": "\udfff", "value": "x"}])
        ),
        FORM,
    )
    add(
        "surrogate/click-user-id",
        interaction_body(
            {
                **_interaction(
                    "block_actions", actions=[{"action_id": "status_refresh", "value": "x"}]
                ),
                "user": {"id": "\ud800", "team_id": TEAM_ID},
            }
        ),
        FORM,
    )
    add(
        "surrogate/submission-metadata",
        interaction_body(
            _interaction(
                "view_submission",
                view={
                    "id": "VSUR",
                    "type": "modal",
                    "callback_id": CallbackId.GATE.value,
                    "private_metadata": '{"release": "\ud800"}',
                    "state": {"values": {}},
                },
            )
        ),
        FORM,
    )

    # --- the shapes Slack's payloads always have, broken -----------------------------------------
    # Payload types the bot has no listener for, and fields Bolt reads from every payload
    # (team, enterprise, user, channel) of the wrong type: Bolt's own context building
    # crashed on these (a 500) until it ran inside the server's guard.
    for name, payload in {
        "shortcut-team-number": {"type": "shortcut", "team": 5},
        "message-action-team-number": {"type": "message_action", "team": 5, "user": {"id": DANA}},
        "shortcut-enterprise-number": {"type": "shortcut", "enterprise": 5},
        "shortcut-channel-number": {
            "type": "shortcut",
            "user": {"id": DANA, "team_id": TEAM_ID},
            "team": {"id": TEAM_ID},
            "channel": 5,
        },
        "interactive-message-actions-number": {
            "type": "interactive_message",
            "team": {"id": TEAM_ID},
            "user": {"id": DANA},
            "actions": 5,
        },
        "dialog-submission-string": {
            "type": "dialog_submission",
            "team": {"id": TEAM_ID},
            "user": {"id": DANA},
            "submission": "x",
        },
        "shortcut-user-number": {"type": "shortcut", "team": {"id": TEAM_ID}, "user": 5},
        "block-actions-channel-number": {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": DANA},
            "actions": [{"action_id": "x"}],
            "channel": 5,
        },
    }.items():
        add(f"bolt-context/{name}", urlencode({"payload": json.dumps(payload)}), FORM)
    for name, event in {
        "message-channel-number": {"type": "message", "channel": 5, "user": DANA},
        "im-text-number": {
            "type": "message",
            "channel_type": "im",
            "channel": "D1",
            "user": DANA,
            "text": 5,
        },
        "user-change-tz-number": {"type": "user_change", "user": {"id": DANA, "tz": 5}},
        "im-thread-object": {
            "type": "message",
            "channel_type": "im",
            "channel": "D1",
            "user": DANA,
            "text": "hi",
            "thread_ts": {"a": 1},
        },
    }.items():
        add(f"bolt-context/event-{name}", _event_json(event))
    add("event-shape/event-missing", _event_json(None)[: -len(b', "event": null}')] + b"}")
    add("event-shape/event-null", _event_json(None))
    add("event-shape/event-string", _event_json("app_home_opened"))
    add("event-shape/event-list", _event_json([{"type": "app_home_opened"}]))
    add("event-shape/event-number", _event_json(5))
    add("event-shape/event-type-missing", _event_json({"user": DANA}))
    add("event-shape/event-type-number", _event_json({"type": 7, "user": DANA}))
    add("event-shape/team-id-object", _event_json({"type": "app_home_opened"}, team_id={"a": 1}))
    add("event-shape/authorizations-string", _event_json({"type": "x"}, authorizations="x"))
    for name, payload in {
        "user-string": {**_interaction("block_actions", actions=[]), "user": DANA},
        "user-id-number": {**_interaction("block_actions", actions=[]), "user": {"id": 5}},
        "user-id-list": {**_interaction("block_actions", actions=[]), "user": {"id": [DANA]}},
        "team-string": {**_interaction("block_actions", actions=[]), "team": "T0DEMO"},
        "team-null": {**_interaction("block_actions", actions=[]), "team": None},
        "actions-missing": _interaction("block_actions"),
        "actions-string": _interaction("block_actions", actions="approve"),
        "actions-empty": _interaction("block_actions", actions=[]),
        "actions-null-item": _interaction("block_actions", actions=[None]),
        "actions-string-item": _interaction("block_actions", actions=["status_refresh"]),
        "action-id-number": _interaction("block_actions", actions=[{"action_id": 5}]),
        "action-id-missing": _interaction("block_actions", actions=[{"value": "x"}]),
        "action-id-null": _interaction("block_actions", actions=[{"action_id": None}]),
        "action-id-object": _interaction(
            "block_actions", actions=[{"action_id": {"$regex": ".*"}}]
        ),
        "block-id-number": _interaction(
            "block_actions",
            response_url="{fake}/respond/malformed-block-id",
            actions=[{"action_id": "status_refresh", "block_id": 5, "value": "REL-2026.12"}],
        ),
        "container-string": _interaction(
            "block_actions",
            container="message",
            actions=[{"action_id": ActionId.APPROVE.value, "value": "x"}],
        ),
        "view-missing": _interaction("view_submission"),
        "view-null": _interaction("view_submission", view=None),
        "view-string": _interaction("view_submission", view="modal_gate"),
        "view-list": _interaction("view_submission", view=[]),
        "view-without-type": _interaction(
            "view_submission", view={"callback_id": CallbackId.GATE.value}
        ),
        "view-callback-number": _interaction(
            "view_submission", view={"type": "modal", "callback_id": 5}
        ),
        "view-state-list": _interaction(
            "view_submission",
            view={"type": "modal", "callback_id": CallbackId.GATE.value, "state": []},
        ),
        "view-metadata-number": _interaction(
            "view_submission",
            view={"type": "modal", "callback_id": CallbackId.GATE.value, "private_metadata": 5},
        ),
        "view-closed-without-view": _interaction("view_closed"),
        "shortcut-without-callback": _interaction("shortcut"),
        "message-action-without-callback": _interaction("message_action"),
        "block-suggestion-without-action": _interaction("block_suggestion"),
        "unknown-interaction-type": _interaction("no_such_interaction"),
        "type-missing": {k: v for k, v in _interaction("x").items() if k != "type"},
    }.items():
        add(f"payload-shape/{name}", interaction_body(payload), FORM)

    # --- payload= that is not a JSON object ----------------------------------------------
    for name, text in {
        "not-json": "not-json",
        "array": "[1, 2]",
        "string": '"block_actions"',
        "number": "42",
        "null": "null",
        "empty": "",
        "truncated": '{"type": "block_actions", ',
        "nested-100k": "[" * 100_000 + "]" * 100_000,
    }.items():
        add(f"payload-not-object/{name}", urlencode({"payload": text}), FORM, BAD)
    add("payload-not-object/twice-last-broken", "payload=%7B%7D&payload=nope", FORM, BAD)
    add("payload-object/empty", urlencode({"payload": "{}"}), FORM)

    # --- forms: percent-encoding, duplicates, missing fields -----------------------------------
    for name, text in {
        "bad-escape-ZZ": "%ZZ",
        "lone-percent": "help%",
        "double-percent": "%%help",
        "truncated-utf8": "%E0%A4",
        "surrogate-utf8": "status%20%ED%A0%80",
        "invalid-byte": "%FF%FE",
        "overlong-slash": "status%20%C0%AF",
        "nul": "status%20REL%00",
        "plus-signs": "status+++REL-2026.12+++",
        "raw-space": "status REL",
        "raw-unicode": "status Ré",
    }.items():
        add(f"form-encoding/{name}", _raw_form(f"enc-{name}", text=text), FORM, OK)
    add(
        "form-duplicate/text",
        _raw_form("dup-text", text="help&text=admin%20grant%20%3C%40UDANA%3E%20Admin"),
        FORM,
        OK,
    )
    add(
        "form-duplicate/user-id",
        _raw_form("dup-user", text="admin%20users", user_id="UNOBODY&user_id=UDANA"),
        FORM,
        OK,
    )
    add(
        "form-duplicate/team-id",
        _raw_form("dup-team", text="whoami", team_id="T0DEMO&team_id=T0OTHER"),
        FORM,
        OK,
    )
    add(
        "form-duplicate/command",
        _raw_form("dup-cmd", text="whoami", command="%2Frelease&command=%2Fother"),
        FORM,
    )
    add("form-missing/command", _raw_form("m-cmd", text="whoami", command=None), FORM)
    add(
        "form-missing/user-id",  # a command without it is no command Slack sends
        _raw_form("m-user", text="status%20REL-2026.12", user_id=None),
        FORM,
        BAD,
    )
    add(
        "form-missing/team-id",  # a command without it is no command Slack sends
        _raw_form("m-team", text="whoami", team_id=None),
        FORM,
        BAD,
    )
    add(
        "form-missing/text",
        _raw_form("m-text", text=None),
        FORM,
        OK,
    )
    add(
        "form-missing/response-url",  # a command without it is no command Slack sends
        _raw_form("m-url", text="whoami", response_url=None),
        FORM,
        BAD,
    )
    add("form-other-command", _raw_form("other", text="help", command="%2Fother"), FORM)
    add("form-empty-keys", "=&=&&&=x", FORM)
    add(
        "form-huge-text-900kb",
        _raw_form("huge-text", text="a" * 900_000),
        FORM,
        OK,
    )
    add(
        "form-1mib-plus-one",
        padded(_raw_form("too-big", text="help"), MIB + 1),
        FORM,
        frozenset({413}),
    )

    # --- content types that do not match the body ----------------------------------------
    help_form = _raw_form("ct-help", text="help")
    add("content-type/form-sent-as-json", help_form, JSON, BAD)
    add("content-type/json-sent-as-form", _event_json({"type": "app_home_opened"}), FORM)
    add(
        "content-type/json-with-leading-space-as-form",
        b" " + _event_json({"type": "app_home_opened"}),
        FORM,
    )
    add("content-type/form-as-text-plain", _raw_form("ct-text", text="help"), "text/plain")
    add(
        "content-type/form-as-multipart",
        _raw_form("ct-multi", text="help"),
        "multipart/form-data; boundary=x",
    )
    add(
        "content-type/json-with-charset",
        '{"type": "url_verification", "challenge": "charset"}',
        "application/json; charset=utf-8",
        OK,
        echo="charset",
    )
    add("content-type/none-given", _raw_form("ct-none", text="help"), "")
    return cases


# =========================================================================================
# Family 3: signed, well-formed, hostile slash commands
# =========================================================================================

# Each goes where a command takes an argument (a release, a query, a time, a name...).
PAYLOADS: dict[str, str] = {
    "overlong-10k": "A" * 10_000,
    "at-limit-2000": "R" * 1990,
    "channel-ping": "<!channel>",
    "here-everyone": "<!here> <!everyone> <!subteam^S0TEAM>",
    "mention-injection": "<@U0INJECT> <#C0INJECT|general>",
    "mrkdwn": "*bold* _it_ ~gone~ `code` ```block``` >quote",
    "entities": "&lt;!channel&gt; &amp; &#60;",
    "mongo-gt": '{"$gt": ""}',
    "mongo-where": "$where",
    "mongo-where-json": '{"$where": "sleep(5000)"}',
    "mongo-ne-bare": "{$ne:null}",
    "regex-dot-star": ".*",
    "regex-anchors": "^REL.*$",
    "regex-class": "REL-2026.1[0-9]",
    "regex-redos": "(a+)+$ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
    "backslashes": "\\ \\E.*\\Q \\\\",
    "rtl-marks": "\u202eREL-2026.12\u200f\u202c",
    "zero-width": "REL\u200b-2026.12\ufeff",
    "emoji": "🚀🔥👩\u200d👩\u200d👧",
    "combining": "e\u0301\u0301\u0301\u0301 Z\u0364\u0351\u0313a\u0308",
    "control-chars": "REL\x01\x1b[31m\x7f\x08",
    "crlf-log-forging": "REL\r\n2026-12-01 INFO bot granted Admin to mallory",
    "unknown-id": "REL-9999.99",
    "objectid-like": "64b7f0c2e4b0a1b2c3d4e5f6",
    "objectid-call": "ObjectId('000000000000000000000000')",
    "unbalanced-quote": '"REL-2026.12',
    "smart-quotes": "“REL-2026.12",
    "single-quotes": "'REL-2026.12' ' OR '1'='1",
    "huge-number": "99999999999999999999",
    "negative-number": "-1",
    "float-words": "NaN Infinity 1e308",
    "bad-time": "25:99",
    "negative-time": "-1:00",
    "fullwidth-time": "０９:００",
    "mars-zone": "Mars/Olympus",
    "path-traversal-zone": "../../etc/passwd",
    "format-strings": "%s%s%n {0.__class__} {{7*7}} ${7*7}",
    "html": "<script>alert(1)</script>",
    "null-words": "null undefined None",
}

# The subcommands, with ``{p}`` where the hostile text goes.
READ_TEMPLATES = (
    "{p}",
    "help {p}",
    "whoami {p}",
    "list {p}",
    "status {p}",
    "history {p}",
    "approvals {p}",
)
FORM_TEMPLATES = (
    "new {p}",
    "product {p}",
    "gate {p}",
    "milestone {p}",
    "runbook {p}",
    "task {p}",
    "change {p}",
    "attach {p}",
)
DIGEST_TEMPLATES = (
    "digest {p}",
    "digest subscribe {p}",
    "digest subscribe 09:00 {p}",
    "digest unsubscribe {p}",
    "digest now {p}",
    "digest me {p}",
)
ADMIN_TEMPLATES = (
    "admin {p}",
    "admin roles {p}",
    "admin role new {p}",
    "admin users {p}",
    "admin user new {p}",
    "admin link {p} dana",
    "admin link <@UNOBODY> {p}",
    "admin unlink {p}",
    "admin grant {p} Admin",
    "admin grant <@UDANA> {p}",
    "admin revoke {p} Squad",
    "admin revoke <@UDANA> {p}",
    "admin apps {p}",
    "admin apps new {p}",
    "admin squads {p}",
    "admin squads new {p}",
    "admin boards {p}",
    "admin boards new {p}",
)
PEOPLE = (DANA, ARJUN, NOBODY)
# Admin commands go to the admin too: bad arguments must be refused to someone allowed.
ADMIN_PEOPLE = (ADMIN, DANA, ADMIN, ARJUN, ADMIN, NOBODY)
# Every subcommand gets these...
CORE_PAYLOADS = (
    "overlong-10k",
    "channel-ping",
    "mention-injection",
    "mongo-gt",
    "regex-dot-star",
    "backslashes",
    "rtl-marks",
    "control-chars",
    "crlf-log-forging",
    "objectid-like",
    "unbalanced-quote",
    "huge-number",
)
# ...the digest's subcommands these too (times and time zones)...
DIGEST_PAYLOADS = (
    "bad-time",
    "negative-time",
    "fullwidth-time",
    "mars-zone",
    "path-traversal-zone",
)
# ...and each subcommand this many of the rest, in turn, so every payload goes to several.
ROTATING = 4
# Sent by every person to every subcommand, not just by one of them.
EVERYONE_SENDS = ("channel-ping",)
# Where a Slack mention is the command's own argument: the answer may name that person.
MENTION_ARGUMENT = frozenset(
    {"admin link {p} dana", "admin unlink {p}", "admin grant {p} Admin", "admin revoke {p} Squad"}
)


@dataclass(frozen=True)
class CommandCase:
    id: str
    user: str
    text: str
    template: str
    payload: str


def command_cases() -> list[CommandCase]:
    """Every subcommand with the core payloads and some of the rest, each pair sent by one
    person in turn (and the channel ping by everyone)."""
    cases = []
    templates = READ_TEMPLATES + FORM_TEMPLATES + DIGEST_TEMPLATES + ADMIN_TEMPLATES
    rest = [p for p in PAYLOADS if p not in CORE_PAYLOADS and p not in DIGEST_PAYLOADS]
    turn = 0
    for t_index, template in enumerate(templates):
        people = ADMIN_PEOPLE if template.startswith("admin") else PEOPLE
        chosen = list(CORE_PAYLOADS)
        if template.startswith("digest"):
            chosen += DIGEST_PAYLOADS
        for _ in range(ROTATING):
            chosen.append(rest[turn % len(rest)])
            turn += 1
        for p_index, name in enumerate(chosen):
            if name in EVERYONE_SENDS:
                senders = sorted(set(people))
            else:
                senders = [people[(t_index + p_index) % len(people)]]
            short = template.replace(" {p}", "").replace("{p}", "<bare>") or "<bare>"
            for user in senders:
                text = template.format(p=PAYLOADS[name])
                cases.append(CommandCase(f"{short} [{name}] as {user}", user, text, template, name))
    return cases


def mention_is_argument(case: CommandCase) -> bool:
    """Whether the answer may mention the Slack person the text names (admin link...)."""
    return case.template in MENTION_ARGUMENT


# =========================================================================================
# Family 4: hostile interactions
# =========================================================================================


@dataclass(frozen=True)
class ClickCase:
    id: str
    user: str
    action_id: str
    value: object  # a string, or MISSING
    container: str = "message"  # message | list | home | garbage
    response_url: bool = True
    registered: bool = True  # a listener exists: an answer is expected


@dataclass(frozen=True)
class Targets:
    """Real addresses in the demo data, from the running bot."""

    pending: dict[str, str]  # an ApprovalTarget of a pending approval, as a dict


def _target(**fields: object) -> str:
    return json.dumps(fields)


def click_values(targets: Targets) -> dict[str, object]:
    p = targets.pending
    return {
        "missing": MISSING,
        "empty": "",
        "json-null": "null",
        "json-array": "[]",
        "json-empty-object": "{}",
        "json-number": "42",
        "not-json": "not json at all",
        "json-string": '"REL-2026.12"',
        "mongo-operators": _target(
            release={"$gt": ""}, product={"$ne": None}, gate=".*", milestone=".*"
        ),
        "target-unknown-release": _target(**{**p, "release": "REL-9999.99"}),
        "target-objectid-release": _target(**{**p, "release": "64b7f0c2e4b0a1b2c3d4e5f6"}),
        "target-regex-release": _target(**{**p, "release": ".*"}),
        "target-unknown-product": _target(**{**p, "product": "no-such-product"}),
        "target-unknown-gate": _target(**{**p, "gate": "No such gate"}),
        "target-unknown-milestone": _target(**{**p, "milestone": "no-such-milestone"}),
        "target-regex-milestone": _target(**{**p, "milestone": ".*"}),
        "target-extra-field": _target(**p, admin=True),
        "target-missing-field": _target(release=p["release"]),
        "target-wrong-types": _target(release=1, product=[], gate={}, milestone=None),
        "oversized-100k": "x" * 100_000,
        "nul-and-controls": "\x00\x01\x1b",
        "release-id": "REL-2026.12",
        "release-of-other-squad": "REL-2027.01",
        "objectid-like": "64b7f0c2e4b0a1b2c3d4e5f6",
        "page-garbage-cursor": _target(cursor="garbage"),
        "page-negative": _target(cursor="", page=-1),
        "page-huge": _target(cursor="x", page=10**30),
        "page-regex-query": _target(cursor="x", query=".*"),
        "page-operator-cursor": _target(cursor={"$gt": ""}),
        "snooze-garbage-key": _target(approval_key="garbage", choice="1h"),
        "snooze-forever": _target(approval_key="x", choice="forever"),
        "mrkdwn-ping": "<!channel> <@U0INJECT>",
    }


KNOWN_ACTIONS = (
    ActionId.APPROVE.value,
    ActionId.REJECT.value,
    ActionId.REFRESH_STATUS.value,
    ActionId.SHOW_HISTORY.value,
    ActionId.MORE_RELEASES.value,
    ActionId.OPEN_NEW_RELEASE.value,
    f"{ActionId.SNOOZE.value}_1h",
)
UNKNOWN_ACTIONS = (
    "",
    "no_such_action",
    "APPROVAL_APPROVE",
    f"{ActionId.APPROVE.value} ",
    f"{ActionId.APPROVE.value}_extra",
    ActionId.SNOOZE.value,  # the snooze listener wants a suffix
    "x" * 300,
    ".*",
)
CLICKERS = (DANA, NOBODY, RHEA, ARJUN, STRANGER)
CONTAINERS = ("message", "list", "home", "garbage")


def click_cases(targets: Targets) -> list[ClickCase]:
    cases = []
    values = click_values(targets)
    n = 0
    for action_id in KNOWN_ACTIONS:
        for name, value in values.items():
            user = CLICKERS[n % len(CLICKERS)]
            container = CONTAINERS[n // len(CLICKERS) % len(CONTAINERS)]
            cases.append(
                ClickCase(
                    f"{action_id} [{name}] as {user} from {container}",
                    user,
                    action_id,
                    value,
                    container,
                )
            )
            n += 1
    # A message click without a response_url (Slack always sends one with a message click;
    # the bot's answer has nowhere to go, but it must not fail on that).
    cases.append(
        ClickCase(
            f"{ActionId.REFRESH_STATUS.value} [release-id] as {DANA} without a response_url",
            DANA,
            ActionId.REFRESH_STATUS.value,
            "REL-2026.12",
            response_url=False,
        )
    )
    for action_id in UNKNOWN_ACTIONS:
        for name in ("empty", "target-unknown-release", "mrkdwn-ping"):
            user = CLICKERS[n % len(CLICKERS)]
            cases.append(
                ClickCase(
                    f"unknown action {action_id[:20]!r} [{name}] as {user}",
                    user,
                    action_id,
                    values[name],
                    registered=False,
                )
            )
            n += 1
    # The right address, clicked by people who may not decide it (and bots, and strangers).
    pending = json.dumps(targets.pending)
    for user in (DANA, RHEA, NOBODY, ROBOT, STRANGER):
        for action_id in (ActionId.APPROVE.value, ActionId.REJECT.value):
            for container in ("message", "list", "home"):
                cases.append(
                    ClickCase(
                        f"{action_id} [pending approval] as {user} from {container}",
                        user,
                        action_id,
                        pending,
                        container,
                        registered=user != ROBOT,
                    )
                )
    return cases


@dataclass(frozen=True)
class SubmissionCase:
    id: str
    user: str
    view: dict[str, Any]
    registered: bool = True
    # A shape Slack never sends: 400 ("malformed Slack payload") is the right answer too.
    malformed: bool = False


# States whose shape Slack never sends (a list for a dict, null or numbers for input state).
MALFORMED_STATES = frozenset(
    {
        "state-list",
        "values-list",
        "values-block-string",
        "values-action-list",
        "values-nulls",
        "values-wrong-types",
        "values-numbers",
    }
)


def _inputs(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(block_id, action_id, element type) of each input block."""
    found = []
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            element = block.get("element") or {}
            found.append(
                (block["block_id"], element.get("action_id", "a"), element.get("type", ""))
            )
    return found


def _every_input(view: dict[str, Any], state: Callable[[str], object]) -> dict[str, Any]:
    return {block: {action: state(kind)} for block, action, kind in _inputs(view)}


def _wrong_types(kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "value": {"$gt": ""},
        "selected_option": "REL-2026.12",
        "selected_options": "all",
        "selected_date": 20261301,
        "selected_date_time": "soon",
        "selected_user": 5,
        "selected_users": {"$in": []},
        "selected_conversation": [],
    }


def _injection(kind: str) -> dict[str, Any]:
    text = '<!channel> *x* {"$gt": ""} .* \\'
    return {
        "type": kind,
        "value": text,
        "selected_option": {"value": ".*", "text": {"type": "plain_text", "text": "x"}},
        "selected_options": [{"value": '{"$gt": ""}'}, {"value": "<!channel>"}],
        "selected_date": "2026-02-30",
        "selected_date_time": 10**30,
        "selected_user": "U0INJECT",
    }


def _huge(kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "value": "A" * 20_000,
        "selected_options": [{"value": f"o{n}"} for n in range(500)],
        "selected_option": {"value": "B" * 5_000},
        "selected_date": "9" * 1000,
        "selected_date_time": -(10**20),
    }


def _controls(kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "value": "\x00\ud800\x1b[2J",
        "selected_option": {"value": "\udfff"},
        "selected_date": "2026-12-0\x00",
        "selected_date_time": 1e308,
        "selected_user": "\x00",
    }


def _numbers(kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "value": 99999999999999999999,
        "selected_option": {"value": -1},
        "selected_options": [{"value": 1e308}],
        "selected_date": -1,
        "selected_date_time": True,
        "selected_user": False,
    }


STATES: dict[str, Callable[[dict[str, Any]], object]] = {
    "state-missing": lambda view: MISSING,
    "state-null": lambda view: None,
    "state-list": lambda view: [],
    "state-values-missing": lambda view: {},
    "values-list": lambda view: {"values": []},
    "values-empty": lambda view: {"values": {}},
    "values-block-string": lambda view: {"values": {b: "x" for b, _, _ in _inputs(view)}},
    "values-action-list": lambda view: {"values": {b: {a: []} for b, a, _ in _inputs(view)}},
    "values-nulls": lambda view: {"values": _every_input(view, lambda kind: None)},
    "values-wrong-types": lambda view: {"values": _every_input(view, _wrong_types)},
    "values-injection": lambda view: {"values": _every_input(view, _injection)},
    "values-huge": lambda view: {"values": _every_input(view, _huge)},
    "values-controls": lambda view: {"values": _every_input(view, _controls)},
    "values-numbers": lambda view: {"values": _every_input(view, _numbers)},
}
# What may be saved by someone allowed to save it: states that parse into something valid
# (the injection text is a valid name for a role, say). Only people who may not save send
# those; these go to everyone.
INVALID_FOR_EVERYONE = (
    "state-missing",
    "state-null",
    "state-list",
    "state-values-missing",
    "values-list",
    "values-empty",
    "values-block-string",
    "values-action-list",
    "values-nulls",
    "values-huge",
    "values-numbers",
)
METADATA: dict[str, object] = {
    "missing": MISSING,
    "null": None,
    "empty": "",
    "not-json": "not json",
    "json-array": "[]",
    "json-number": "42",
    "operator-release": '{"release": {"$gt": ""}}',
    "regex-release": '{"release": ".*"}',
    "unknown-release": '{"release": "REL-9999.99"}',
    "objectid-release": '{"release": "64b7f0c2e4b0a1b2c3d4e5f6"}',
    "version-nan": '{"release": "REL-2026.12", "version": "NaN"}',
    "version-huge": '{"release": "REL-2026.12", "version": 99999999999999999999999}',
    "extra-field": '{"release": "REL-2026.12", "admin": true}',
    "oversized-100k": json.dumps({"release": "R" * 100_000}),
    "wrong-target": json.dumps({"target": {"release": 1}, "origin": "nowhere"}),
    "response-url-elsewhere": json.dumps({"response_url": "http://127.0.0.1:1/x", "channel_id": 5}),
}
SUBMITTERS_MAY_NOT = (DANA, NOBODY, STRANGER)
SUBMITTERS_MAY = (RHEA, ADMIN, ARJUN)


def _submission_view(base: dict[str, Any], **changes: object) -> dict[str, Any]:
    view = {**base, "id": base.get("id") or "VHOSTILE"}
    for key, value in changes.items():
        if value is MISSING:
            view.pop(key, None)
        else:
            view[key] = value
    return view


def submission_cases(views: dict[str, dict[str, Any]]) -> list[SubmissionCase]:
    """``views``: callback_id → a view the bot really opened (with its own metadata)."""
    cases = []
    n = 0
    for callback_id, view in views.items():
        for state_name, make in STATES.items():
            people = (
                SUBMITTERS_MAY + SUBMITTERS_MAY_NOT
                if state_name in INVALID_FOR_EVERYONE
                else SUBMITTERS_MAY_NOT
            )
            user = people[n % len(people)]
            n += 1
            cases.append(
                SubmissionCase(
                    f"{callback_id} [{state_name}] as {user}",
                    user,
                    _submission_view(view, state=make(view)),
                    malformed=state_name in MALFORMED_STATES,
                )
            )
        for meta_name, metadata in METADATA.items():
            people = SUBMITTERS_MAY + SUBMITTERS_MAY_NOT
            user = people[n % len(people)]
            n += 1
            cases.append(
                SubmissionCase(
                    f"{callback_id} [metadata {meta_name}] as {user}",
                    user,
                    _submission_view(view, private_metadata=metadata, state={"values": {}}),
                    malformed=metadata is None,
                )
            )
    any_view = next(iter(views.values()))
    for callback_id in ("", "modal_unknown", "x" * 300, ".*", CallbackId.NEW_ROLE.value.upper()):
        for user in (ADMIN, DANA):
            cases.append(
                SubmissionCase(
                    f"unknown callback {callback_id[:20]!r} as {user}",
                    user,
                    _submission_view(any_view, callback_id=callback_id, state={"values": {}}),
                    registered=False,
                )
            )
    return cases


# =========================================================================================
# Family 5: events
# =========================================================================================


@dataclass(frozen=True)
class EventCase:
    id: str
    body: dict[str, Any]
    echo: object = MISSING  # url_verification: what the answer must carry back
    # Web API methods the event may legitimately cause (an App Home for a real person)
    may_call: frozenset[str] = field(default_factory=frozenset)
    retry: bool = False
    # A shape Slack never sends: 400 ("malformed Slack payload") is the right answer too.
    malformed: bool = False


def _event(
    event: object, *, event_id: str, team_id: str = TEAM_ID, **top: object
) -> dict[str, Any]:
    body = event_payload(team_id=team_id, event={}, event_id=event_id)
    body.update(top)
    if event is MISSING:
        body.pop("event")
    else:
        body["event"] = event
    return body


def event_cases() -> Iterator[EventCase]:
    n = iter(range(10_000))

    def eid() -> str:
        return f"EvHOSTILE{next(n):04d}"

    for kind in (
        "no_such_event",
        "message",
        "app_mention",
        "reaction_added",
        "team_join",
        "member_joined_channel",
        "app_uninstalled",
        "tokens_revoked",
        "",
        "app_home_opened ",
        "APP_HOME_OPENED",
    ):
        for user in (DANA, NOBODY):
            yield EventCase(
                f"unknown type {kind!r} from {user}",
                _event({"type": kind, "user": user, "text": "<!channel>"}, event_id=eid()),
                malformed=not kind,
            )
    home = {"type": "app_home_opened", "tab": "home"}
    for name, someone in {
        "user-missing": MISSING,
        "user-null": None,
        "user-empty": "",
        "user-number": 5,
        "user-list": [DANA],
        "user-object": {"id": DANA},
        "user-operator": {"$gt": ""},
        "user-nul": "U\x00DANA",
        "user-huge": "U" + "A" * 10_000,
        "user-regex": ".*",
    }.items():
        event = dict(home) if someone is MISSING else {**home, "user": someone}
        yield EventCase(f"app_home_opened {name}", _event(event, event_id=eid()), malformed=True)
    yield EventCase(
        "app_home_opened from a bot user",
        _event({**home, "user": ROBOT}, event_id=eid()),
    )
    yield EventCase(
        "app_home_opened with bot_id",
        _event({**home, "user": DANA, "bot_id": "B0OTHER"}, event_id=eid()),
    )
    yield EventCase(
        "message from a bot (subtype bot_message)",
        _event({"type": "message", "subtype": "bot_message", "text": "<!channel>"}, event_id=eid()),
    )
    yield EventCase(
        "app_home_opened messages tab",
        _event({**home, "user": DANA, "tab": "messages"}, event_id=eid()),
    )
    yield EventCase(
        "app_home_opened unknown tab",
        _event({**home, "user": DANA, "tab": "<!channel>"}, event_id=eid()),
    )
    yield EventCase(
        "app_home_opened from another team",
        _event({**home, "user": DANA}, event_id=eid(), team_id=OTHER_TEAM),
    )
    yield EventCase(
        "app_home_opened from a stranger Slack does not know",
        _event({**home, "user": STRANGER}, event_id=eid()),
        may_call=frozenset({"views.publish"}),
    )
    yield EventCase(
        "app_home_opened without event_id",
        {
            k: v
            for k, v in _event({**home, "user": DANA, "tab": "messages"}, event_id="x").items()
            if k != "event_id"
        },
    )
    # a retry of an event already handled: acknowledged, nothing run twice
    first = _event({**home, "user": DANA}, event_id="EvHOSTILERETRY")
    yield EventCase("app_home_opened first delivery", first, may_call=frozenset({"views.publish"}))
    yield EventCase("app_home_opened retried delivery", first, retry=True)
    for name, shape in {
        "event-missing": MISSING,
        "event-null": None,
        "event-empty": {},
        "event-string": "app_home_opened",
        "event-list": [home],
    }.items():
        yield EventCase(f"event_callback {name}", _event(shape, event_id=eid()), malformed=True)
    yield EventCase(
        "app_rate_limited",
        {
            "token": "x",
            "type": "app_rate_limited",
            "team_id": TEAM_ID,
            "minute_rate_limited": 1518467820,
            "api_app_id": APP_ID,
        },
    )
    for name, challenge in {
        "plain": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "long": "c" * 5000,
        "unicode": "ünïcødé 🚀",
        "markup": "<!channel><script>",
        "empty": "",
        "number": 12345,
        "object": {"a": [1, 2]},
        "null": None,
    }.items():
        yield EventCase(
            f"url_verification challenge {name}",
            {"token": "x", "type": "url_verification", "challenge": challenge},
            echo=challenge,
            malformed=not isinstance(challenge, str),
        )
    yield EventCase(
        "url_verification without challenge",
        {"token": "x", "type": "url_verification"},
        echo=None,
        malformed=True,
    )


# =========================================================================================
# The size of it
# =========================================================================================


def sizes() -> dict[str, int]:
    """How many cases each family has (the runtime-only values replaced by stand-ins)."""
    targets = Targets(pending={"release": "r", "product": "p", "gate": "g", "milestone": "m"})
    views = {str(c): {"callback_id": str(c), "blocks": []} for c in CallbackId}
    counts = {
        "1 unauthenticated": len(unsigned_cases("{}")),
        "2 signed malformed": len(malformed_cases()),
        "3 hostile commands": len(command_cases()),
        "4 clicks": len(click_cases(targets)),
        "4 view submissions": len(submission_cases(views)),
        "4 double clicks": 6,  # test_double_clicks_decide_once_and_tell_the_others
        "5 events": len(list(event_cases())),
    }
    return {**counts, "total": sum(counts.values())}
