"""The bad-input corpus (tests/hostile/corpus.py) through the real HTTP path.

One running bot per family; its cases run one after another, each checked on its own, and
every failing case is listed in the family's failure message. Each case asserts:

- never a 5xx, and nothing logged as an unexpected error;
- the answer Slack would show: refused (401/413/400), or an ordinary answer that is not the
  bot's "Something went wrong on our side", with no ``<!channel>``-style ping in mrkdwn;
- storage unchanged (every collection but ``claims``, the events' dedupe bookkeeping).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from blocks.approval_list import LIST_BLOCK
from blocks.ids import ActionId, CallbackId
from bot.devtools.fake_slack import TEAM_ID, Call
from bot.devtools.harness import SIGNING_SECRET, LocalBot
from bot.devtools.payloads import APP_ID, CHANNEL_ID
from storage.instrumented import WRITES, RoundTrips
from tests.hostile import corpus
from tests.hostile.corpus import (
    ADMIN,
    ARJUN,
    DANA,
    FORM,
    JSON,
    MISSING,
    NOBODY,
    RHEA,
    SOMETHING_WENT_WRONG,
    ClickCase,
    CommandCase,
    EventCase,
    MalformedCase,
    SubmissionCase,
    Targets,
    UnsignedCase,
)

ACK_SECONDS = 3.0  # Slack's limit for the HTTP answer
ANSWER_SECONDS = 5.0  # for the answer that follows the ack
QUIET_SECONDS = 0.02  # no further Web API call for this long: the case is over
BOOKKEEPING = frozenset({"claims"})  # the events' dedupe claims: written by design
FULL_CHECK_EVERY = 50  # cases: a full comparison even when no write was counted
PING = re.compile(r"<!(channel|here|everyone|subteam\^)")
INJECTED_MENTION = "<@U0INJECT"
LOADING = "Loading"


# --- watching the bot -------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Every record at ERROR or above, from any logger: an unexpected error somewhere."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def since(self, start: int) -> list[str]:
        return [_describe(r) for r in self.records[start:]]


def _describe(record: logging.LogRecord) -> str:
    error = record.exc_info[1] if record.exc_info else None
    cause = f" [{type(error).__name__}: {str(error)[:160]}]" if error else ""
    return f"{record.name}: {record.getMessage()[:160]}{cause}"


@dataclass
class Probe:
    """Sends raw requests to the bot and tells what each one did."""

    bot: LocalBot
    errors: ErrorLog
    trips: RoundTrips
    failures: list[str] = field(default_factory=list)
    cases: int = 0
    baseline: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _writes: int = 0
    _unchecked: int = 0

    @property
    def calls(self) -> list[Call]:
        return self.bot.slack.calls

    def fill(self, body: bytes) -> bytes:
        """Point ``{fake}`` response_urls at the fake Slack (raw, or percent-encoded)."""
        base = self.bot.slack.base_url
        return body.replace(b"{fake}", base.encode()).replace(
            b"%7Bfake%7D", quote(base, safe="").encode()
        )

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str, float]:
        began = time.monotonic()
        async with self.bot.driver.session.post(
            self.bot.driver.bot_url, data=body, headers=headers
        ) as response:
            text = await response.text(errors="replace")
            return response.status, text, time.monotonic() - began

    async def post_signed(
        self, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> tuple[int, str, float]:
        headers = corpus.signed(SIGNING_SECRET, body, int(time.time()), content_type)
        return await self.post(body, {**headers, **(extra or {})})

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        db = self.bot.runtime.db
        names = sorted(set(await db.list_collection_names()) - BOOKKEEPING)
        return {name: await db[name].find({}).sort("_id", 1).to_list(None) for name in names}

    def writes(self) -> int:
        """Write calls so far, to any collection but the bookkeeping ones."""
        return sum(
            count
            for name, count in self.trips.calls.items()
            if name.rsplit(".", 1)[-1] in WRITES and name.split(".", 1)[0] not in BOOKKEEPING
        )

    async def begin(self) -> None:
        self.baseline = await self.snapshot()
        self._writes, self._unchecked = self.writes(), 0

    async def storage_changed(self, *, full: bool = False) -> str | None:
        """What changed since the last check (which becomes the new baseline). Compared in
        full after any write, every FULL_CHECK_EVERY cases, and when asked."""
        self._unchecked += 1
        writes = self.writes()
        if writes == self._writes and self._unchecked < FULL_CHECK_EVERY and not full:
            return None
        after = await self.snapshot()
        before, self.baseline = self.baseline, after
        self._writes, self._unchecked = self.writes(), 0
        if after == before:
            return None
        return "storage changed: " + _diff(before, after)

    async def quiet(self, timeout: float = ANSWER_SECONDS) -> None:
        """Until no Web API call came for QUIET_SECONDS."""
        deadline = time.monotonic() + timeout
        seen = -1
        while len(self.calls) != seen and time.monotonic() < deadline:
            seen = len(self.calls)
            await asyncio.sleep(QUIET_SECONDS)

    async def wait(
        self, found: Callable[[Call], bool], start: int = 0, timeout: float = ANSWER_SECONDS
    ) -> Call | None:
        """The first call from index ``start`` on that ``found(call)`` accepts."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls[start:]:
                if found(call):
                    return call
            start = max(start, len(self.calls))
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.002)

    def fail(self, case_id: str, problems: Iterable[str]) -> None:
        self.cases += 1
        for problem in problems:
            self.failures.append(f"{case_id}: {problem}")

    async def verdict(self, family: str) -> None:
        """Fail the test with every failing case listed (and nothing else)."""
        changed = await self.storage_changed(full=True)
        if changed:
            self.failures.append(f"(one of the last {FULL_CHECK_EVERY} cases) {changed}")
        if self.failures:
            pytest.fail(self.report(family), pytrace=False)

    def report(self, family: str) -> str:
        shown = self.failures[:150]
        more = len(self.failures) - len(shown)
        lines = "\n".join(f"  - {f}" for f in shown)
        tail = f"\n  ... and {more} more" if more else ""
        return f"{family}: {len(self.failures)} problems in {self.cases} cases\n{lines}{tail}"


def _diff(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> str:
    changes = []
    for name in sorted(set(before) | set(after)):
        old = {str(d.get("_id")): d for d in before.get(name, [])}
        new = {str(d.get("_id")): d for d in after.get(name, [])}
        added = [k for k in new if k not in old]
        removed = [k for k in old if k not in new]
        changed = [k for k in new if k in old and new[k] != old[k]]
        for key in changed:
            fields = sorted(
                f for f in set(old[key]) | set(new[key]) if old[key].get(f) != new[key].get(f)
            )
            changes.append(f"{name} {key} fields {fields}")
        if added:
            changes.append(f"{name} added {[_short(new[k]) for k in added]}")
        if removed:
            changes.append(f"{name} removed {removed}")
    return "; ".join(changes)[:600]


def _short(doc: dict[str, Any]) -> str:
    return str({k: v for k, v in doc.items() if k != "_id"})[:200]


def mrkdwn_texts(value: Any) -> Iterator[str]:
    """The strings Slack reads as mrkdwn: a message's ``text`` and every mrkdwn object."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            yield value["text"]
        for item in value.values():
            yield from mrkdwn_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from mrkdwn_texts(item)


def shown(call: Call) -> str:
    """Everything a person could read in what the bot sent."""
    return json.dumps(call.params, ensure_ascii=False, default=str)


def content_problems(calls: Iterable[Call], *, mention_ok: bool = False) -> list[str]:
    """What no answer may contain: the unexpected-error text, or a ping in mrkdwn."""
    problems = []
    for call in calls:
        if call.method.startswith("users."):
            continue
        text = shown(call)
        if SOMETHING_WENT_WRONG in text:
            problems.append(f"{call.method} says {_excerpt(text, SOMETHING_WENT_WRONG)}")
        read_as_mrkdwn = list(mrkdwn_texts(call.params.get("blocks") or []))
        read_as_mrkdwn += list(mrkdwn_texts(call.params.get("view") or {}))
        if isinstance(call.params.get("text"), str) and call.method != "views.open":
            read_as_mrkdwn.append(call.params["text"])
        for piece in read_as_mrkdwn:
            ping = PING.search(piece)
            if ping:
                problems.append(f"{call.method} pings: {_excerpt(piece, ping.group(0))}")
            if not mention_ok and INJECTED_MENTION in piece:
                problems.append(f"{call.method} mentions: {_excerpt(piece, INJECTED_MENTION)}")
    return problems


def _excerpt(text: str, needle: str) -> str:
    at = max(0, text.find(needle) - 60)
    return repr(text[at : at + 200])


def _status_problem(status: int, allowed: Iterable[int], text: str) -> list[str]:
    if status in set(allowed):
        return []
    return [f"HTTP {status} (expected {sorted(set(allowed))}): {text[:120]!r}"]


@pytest.fixture
async def probe(
    bot: LocalBot, trips: RoundTrips, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Probe]:
    caplog.set_level(logging.ERROR)  # a failure report shows the errors, not 1,000 refusals
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        yield Probe(bot, errors, trips)
    finally:
        logging.getLogger().removeHandler(errors)
    late = [c.method for c in bot.slack.calls if c.method.endswith("!expired_trigger_id")]
    assert not late, f"a trigger_id was used late or twice: {late}"


async def meet_everyone(probe: Probe) -> None:
    """First contact for each persona (links them, stores their time zone): done before any
    snapshot, since that is bookkeeping the bot does on purpose."""
    for user in (ADMIN, RHEA, ARJUN, DANA, NOBODY):
        key = f"hello-{user}"
        body = probe.fill(corpus.command_body(user, "whoami", key=key))
        status, _, _ = await probe.post_signed(body, FORM)
        assert status == 200

        def answered(call: Call, k: str = key) -> bool:
            return call.params.get("key") == k

        found = await probe.wait(answered)
        assert found is not None, f"no answer to whoami for {user}"
    await probe.quiet()


async def pending_target(bot: LocalBot) -> Targets:
    """The demo's pending UAT sign-off of REL-2026.12, as its Approve button addresses it."""
    release = await bot.runtime.repos.releases.get("REL-2026.12")
    return Targets(
        pending={
            "release": release.id,
            "product": "payments-api",
            "gate": "UAT sign-off",
            "milestone": "uat-signoff",
        }
    )


# =========================================================================================
# Family 1
# =========================================================================================


async def test_unauthenticated_requests_are_refused_and_change_nothing(probe: Probe) -> None:
    targets = await pending_target(probe.bot)
    cases = corpus.unsigned_cases(json.dumps(targets.pending))
    await probe.begin()
    calls_before = len(probe.calls)
    statuses: Counter[int] = Counter()
    for case in cases:
        problems = await _unsigned(probe, case, statuses)
        if len(probe.calls) != calls_before:
            made = [c.method for c in probe.calls[calls_before:]]
            problems.append(f"Web API calls made: {made}")
            calls_before = len(probe.calls)
        probe.fail(case.id, problems)
    print(f"\nfamily 1 (unauthenticated): {probe.cases} cases, answered {dict(statuses)}")
    await probe.verdict("unauthenticated requests")


async def _unsigned(probe: Probe, case: UnsignedCase, statuses: Counter[int]) -> list[str]:
    shape = case.shape
    body = probe.fill(shape.body)
    if shape.pad_to is not None:
        body = corpus.padded(body, shape.pad_to)
    headers, sent = case.forgery.forge(SIGNING_SECRET, body, int(time.time()))
    log_start = len(probe.errors.records)
    status, text, _ = await probe.post(sent, {**headers, "Content-Type": shape.content_type})
    statuses[status] += 1
    allowed = {401, 413} if shape.oversized else {401}
    problems = _status_problem(status, allowed, text)
    if "challenge" in text:
        problems.append(f"echoed a challenge it never should have: {text[:80]!r}")
    problems += [f"logged {e}" for e in probe.errors.since(log_start)]
    changed = await probe.storage_changed()
    return problems + ([changed] if changed else [])


# =========================================================================================
# Family 2
# =========================================================================================


async def test_signed_malformed_bodies_are_refused_or_answered_never_5xx(probe: Probe) -> None:
    await meet_everyone(probe)
    await probe.begin()
    for case in corpus.malformed_cases():
        probe.fail(case.id, await _malformed(probe, case))
    print(f"\nfamily 2 (signed, malformed): {probe.cases} cases")
    await probe.verdict("signed malformed bodies")


async def _malformed(probe: Probe, case: MalformedCase) -> list[str]:
    calls_start, log_start = len(probe.calls), len(probe.errors.records)
    body = probe.fill(case.body)
    status, text, took = await probe.post_signed(body, case.content_type)
    problems = _status_problem(status, case.allowed, text)
    if took > ACK_SECONDS:
        problems.append(f"answered after {took:.1f} s")
    if case.echo is not None and _json(text).get("challenge") != case.echo:
        problems.append(f"did not echo the challenge: {text[:80]!r}")
    await probe.quiet()
    problems += content_problems(probe.calls[calls_start:])
    problems += [f"logged {e}" for e in probe.errors.since(log_start)]
    changed = await probe.storage_changed()
    return problems + ([changed] if changed else [])


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# =========================================================================================
# Family 3
# =========================================================================================


def _command_families() -> dict[str, list[CommandCase]]:
    groups: dict[str, list[CommandCase]] = {"reading": [], "forms": [], "digest": [], "admin": []}
    for case in corpus.command_cases():
        if case.template.startswith("admin"):
            groups["admin"].append(case)
        elif case.template.startswith("digest"):
            groups["digest"].append(case)
        elif case.template in corpus.FORM_TEMPLATES:
            groups["forms"].append(case)
        else:
            groups["reading"].append(case)
    return groups


COMMAND_GROUPS = _command_families()


@pytest.mark.parametrize("group", list(COMMAND_GROUPS))
async def test_hostile_commands_get_one_clear_answer_and_change_nothing(
    probe: Probe, group: str
) -> None:
    cases = COMMAND_GROUPS[group]
    await meet_everyone(probe)
    await probe.begin()
    keys: dict[str, CommandCase] = {}
    for n, case in enumerate(cases):
        key = f"{group}-{n}"
        keys[key] = case
        probe.fail(case.id, await _command(probe, case, key))
    await probe.quiet()
    answers: dict[str, list[str]] = {key: [] for key in keys}  # one each, even counted late
    for call in probe.calls:
        if call.method == "response_url":
            key = str(call.params.get("key"))
        elif call.method == "views.open":
            key = str(call.params.get("trigger_id")).removeprefix("hostile.")
        else:
            continue
        if key in answers:
            answers[key].append(call.method)
    for key, case in keys.items():
        if len(answers[key]) != 1:
            probe.failures.append(f"{case.id}: {len(answers[key])} answers: {answers[key]}")
    print(f"\nfamily 3 ({group} commands): {probe.cases} cases")
    await probe.verdict(f"hostile {group} commands")


async def _command(probe: Probe, case: CommandCase, key: str) -> list[str]:
    calls_start, log_start = len(probe.calls), len(probe.errors.records)
    trigger = f"hostile.{key}"
    probe.bot.slack.issue_trigger(trigger)
    body = probe.fill(corpus.command_body(case.user, case.text, key=key))
    status, text, took = await probe.post_signed(body, FORM)
    problems = _status_problem(status, {200}, text)
    if took > ACK_SECONDS:
        problems.append(f"acked after {took:.1f} s")

    def answer(call: Call) -> bool:
        return (call.method == "response_url" and call.params.get("key") == key) or (
            call.method == "views.open" and call.params.get("trigger_id") == trigger
        )

    found = await probe.wait(answer, calls_start)
    if found is None:
        problems.append("no answer (neither through the response_url nor a modal)")
    elif found.method == "views.open" and LOADING in shown(found):
        index = calls_start + probe.calls[calls_start:].index(found)
        filled = await probe.wait(lambda c: c.method == "views.update", index + 1)
        if filled is None:
            problems.append("the modal stayed on Loading…")
    elif found.method == "response_url":
        said = str(found.params.get("text") or "") + str(found.params.get("blocks") or "")
        if not said.strip():
            problems.append("an empty answer")
        if found.params.get("response_type") not in (None, "ephemeral", "in_channel"):
            problems.append(f"answered as {found.params.get('response_type')!r}")
    problems += content_problems(
        probe.calls[calls_start:], mention_ok=corpus.mention_is_argument(case)
    )
    problems += [f"logged {e}" for e in probe.errors.since(log_start)]
    changed = await probe.storage_changed()
    return problems + ([changed] if changed else [])


# =========================================================================================
# Family 4: clicks
# =========================================================================================


def _container(kind: str) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
    """(container, block_id, view) of a click from ``kind``."""
    message = {"type": "message", "channel_id": CHANNEL_ID, "message_ts": "1.0"}
    if kind == "list":
        return message, f"{LIST_BLOCK}-0", None
    if kind == "home":
        view = {"id": "VHOME", "type": "home", "callback_id": "", "private_metadata": ""}
        return {"type": "view", "view_id": "VHOME"}, "home", view
    if kind == "garbage":
        return {"type": None, "channel_id": ["C0"], "message_ts": {"$gt": ""}}, "", None
    return message, "actions", None


def click_payload(case: ClickCase, key: str) -> dict[str, Any]:
    container, block_id, view = _container(case.container)
    action: dict[str, Any] = {
        "type": "button",
        "action_id": case.action_id,
        "block_id": block_id,
        "value": case.value,
        "action_ts": "1.0",
    }
    if case.value is MISSING:
        del action["value"]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "demo"},
        "user": {"id": case.user, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": f"hostile.{key}",
        "container": container,
        "actions": [action],
    }
    if case.response_url:
        payload["response_url"] = f"{{fake}}/respond/{key}"
    if view is not None:
        payload["view"] = view
    if isinstance(container.get("channel_id"), str):
        payload["channel"] = {"id": container["channel_id"]}
    return payload


async def test_hostile_clicks_are_answered_and_change_nothing(probe: Probe) -> None:
    targets = await pending_target(probe.bot)
    await meet_everyone(probe)
    await probe.begin()
    for n, case in enumerate(corpus.click_cases(targets)):
        probe.fail(case.id, await _click(probe, case, f"click-{n}"))
    print(f"\nfamily 4 (clicks): {probe.cases} cases")
    await probe.verdict("hostile clicks")


async def _click(probe: Probe, case: ClickCase, key: str) -> list[str]:
    calls_start, log_start = len(probe.calls), len(probe.errors.records)
    trigger = f"hostile.{key}"
    probe.bot.slack.issue_trigger(trigger)
    body = probe.fill(corpus.interaction_body(click_payload(case, key)))
    status, text, took = await probe.post_signed(body, FORM)
    allowed = {200} if case.registered else {200, 404}
    if not case.response_url:  # no message click comes without one: 400 is right too
        allowed.add(400)
    problems = _status_problem(status, allowed, text)
    if took > ACK_SECONDS:
        problems.append(f"acked after {took:.1f} s")

    def answer(call: Call) -> bool:
        return (
            (call.method == "response_url" and call.params.get("key") == key)
            or (call.method == "views.open" and call.params.get("trigger_id") == trigger)
            or (call.method == "views.publish" and call.params.get("user_id") == case.user)
            or (call.method == "chat.postMessage" and call.params.get("channel") == case.user)
        )

    found = await probe.wait(answer, calls_start) if case.registered and status == 200 else None
    if case.registered and status == 200 and found is None:
        problems.append("no answer to the click")
    if found is None or found.method == "views.open":  # the modal may be filled in next
        await probe.quiet()
    problems += content_problems(probe.calls[calls_start:])
    problems += [f"logged {e}" for e in probe.errors.since(log_start)]
    changed = await probe.storage_changed()
    return problems + ([changed] if changed else [])


# =========================================================================================
# Family 4: view submissions
# =========================================================================================


async def opened_views(probe: Probe) -> dict[str, dict[str, Any]]:
    """Every form as the bot really opens it: the editing forms (rhea, on REL-2026.12), the
    admin forms (admin) and the reject form (arjun, on the pending approval)."""
    commands = {
        CallbackId.NEW_RELEASE: (RHEA, "new"),
        CallbackId.ADD_PRODUCT: (RHEA, "product REL-2026.12"),
        CallbackId.GATE: (RHEA, "gate REL-2026.12"),
        CallbackId.MILESTONE: (RHEA, "milestone REL-2026.12"),
        CallbackId.RUNBOOK: (RHEA, "runbook REL-2026.12"),
        CallbackId.TASK: (RHEA, "task REL-2026.12"),
        CallbackId.CHANGE: (RHEA, "change REL-2026.12"),
        CallbackId.ATTACH: (RHEA, "attach REL-2026.12"),
        CallbackId.NEW_ROLE: (ADMIN, "admin role new"),
        CallbackId.NEW_USER: (ADMIN, "admin user new"),
        CallbackId.NEW_APPLICATION: (ADMIN, "admin apps new"),
        CallbackId.NEW_SQUAD: (ADMIN, "admin squads new"),
        CallbackId.NEW_BOARD: (ADMIN, "admin boards new"),
        CallbackId.NEW_FREEZE: (RHEA, "freeze new"),
    }
    views: dict[str, dict[str, Any]] = {}
    for n, (callback_id, (user, text)) in enumerate(commands.items()):
        key = f"open-{n}"
        probe.bot.slack.issue_trigger(f"hostile.{key}")
        start = len(probe.calls)
        await probe.post_signed(probe.fill(corpus.command_body(user, text, key=key)), FORM)
        await probe.quiet()
        forms = [
            c.params["view"]
            for c in probe.calls[start:]
            if c.method in ("views.open", "views.update") and LOADING not in shown(c)
        ]
        assert forms and forms[-1]["callback_id"] == callback_id, (text, forms)
        views[callback_id] = forms[-1]
    targets = await pending_target(probe.bot)
    key = "open-reject"
    probe.bot.slack.issue_trigger(f"hostile.{key}")
    case = ClickCase("reject", ARJUN, ActionId.REJECT.value, json.dumps(targets.pending))
    start = len(probe.calls)
    await probe.post_signed(probe.fill(corpus.interaction_body(click_payload(case, key))), FORM)
    await probe.quiet()
    [reject] = [c.params["view"] for c in probe.calls[start:] if c.method == "views.open"]
    views[CallbackId.REJECT] = reject
    return views


async def test_hostile_submissions_are_refused_in_the_form_and_change_nothing(
    probe: Probe,
) -> None:
    await meet_everyone(probe)
    views = await opened_views(probe)
    await probe.begin()
    for n, case in enumerate(corpus.submission_cases(views)):
        probe.fail(case.id, await _submission(probe, case, f"submit-{n}"))
    print(f"\nfamily 4 (view submissions): {probe.cases} cases")
    await probe.verdict("hostile view submissions")


async def _submission(probe: Probe, case: SubmissionCase, key: str) -> list[str]:
    calls_start, log_start = len(probe.calls), len(probe.errors.records)
    view = {k: v for k, v in case.view.items() if v is not MISSING}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "demo"},
        "user": {"id": case.user, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": f"hostile.{key}",
        "view": view,
    }
    status, text, took = await probe.post_signed(corpus.interaction_body(payload), FORM)
    allowed = {200} if case.registered else {200, 404}
    if case.malformed:
        allowed.add(400)
    problems = _status_problem(status, allowed, text)
    if took > ACK_SECONDS:
        problems.append(f"answered after {took:.1f} s")
    if case.registered and status == 200:
        answer = _json(text)
        errors = answer.get("errors")
        inputs = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
        if answer.get("response_action") != "errors" or not isinstance(errors, dict) or not errors:
            problems.append(f"not refused in the form: {text[:200]!r}")
        else:
            if inputs and not set(errors) <= inputs:
                problems.append(f"errors on blocks the form does not have: {sorted(errors)}")
            if SOMETHING_WENT_WRONG in text:
                problems.append(f"the form says {_excerpt(text, SOMETHING_WENT_WRONG)}")
    if _json(text).get("response_action") != "errors":
        await probe.quiet(timeout=1.0)  # closed: anything done after the ack
    problems += content_problems(probe.calls[calls_start:])
    problems += [f"logged {e}" for e in probe.errors.since(log_start)]
    changed = await probe.storage_changed()
    return problems + ([changed] if changed else [])


# =========================================================================================
# Family 4: double clicks on a real approval
# =========================================================================================

ALREADY = "already approved by arjun"


async def _approve(probe: Probe, user: str, target: dict[str, str], key: str) -> tuple[int, str]:
    """Click Approve; (HTTP status, what the clicker was told through the response_url)."""
    case = ClickCase(key, user, ActionId.APPROVE.value, json.dumps(target))
    body = probe.fill(corpus.interaction_body(click_payload(case, key)))
    status, _, _ = await probe.post_signed(body, FORM)
    found = await probe.wait(lambda c: c.method == "response_url" and c.params.get("key") == key)
    return status, shown(found) if found is not None else ""


async def test_double_clicks_decide_once_and_tell_the_others(probe: Probe) -> None:
    """Arjun approves the UAT sign-off; he, rhea and dana click again: each is told who
    decided, and nothing changes. Two clicks at once on the stage sign-off decide it once.
    A reject submitted for the approved sign-off afterwards is refused."""
    targets = await pending_target(probe.bot)
    uat = targets.pending
    stage = {**uat, "milestone": "stage-signoff"}
    await meet_everyone(probe)
    timeline = probe.bot.runtime.db["events"]
    events_before = await timeline.count_documents({})

    status, said = await _approve(probe, ARJUN, uat, "double-first")
    assert status == 200 and "Approved" in said, said
    await probe.quiet()
    await probe.begin()
    for n, user in enumerate((ARJUN, ARJUN, RHEA, DANA)):
        calls_start = len(probe.calls)
        status, said = await _approve(probe, user, uat, f"double-again-{n}")
        await probe.quiet()
        problems = _status_problem(status, {200}, said)
        if ALREADY not in said:
            problems.append(f"not told who decided: {said[:300]!r}")
        problems += content_problems(probe.calls[calls_start:])
        changed = await probe.storage_changed()
        probe.fail(f"approve again #{n} as {user}", problems + ([changed] if changed else []))

    calls_start = len(probe.calls)
    both = await asyncio.gather(
        _approve(probe, ARJUN, stage, "double-both-1"),
        _approve(probe, ARJUN, stage, "double-both-2"),
    )
    await probe.quiet()
    await probe.storage_changed()
    problems = [f"HTTP {s}" for s, _ in both if s != 200]
    decided = [s for _, s in both if "Approved" in s and "already" not in s]
    refused = [s for _, s in both if "already approved by arjun" in s]
    if (len(decided), len(refused)) != (1, 1):
        problems.append(f"two clicks at once were told {[s[:120] for _, s in both]}")
    problems += content_problems(probe.calls[calls_start:])
    probe.fail("two approve clicks at once on the stage sign-off", problems)

    release = await probe.bot.runtime.repos.releases.get("REL-2026.12")
    statuses = {
        m.milestone_key: m.approval.status.value
        for _, gate in release.gates()
        for m in gate.milestones
        if m.milestone_key in ("uat-signoff", "stage-signoff")
    }
    if statuses != {"uat-signoff": "APPROVED", "stage-signoff": "APPROVED"}:
        probe.failures.append(f"the approvals are {statuses}")
    decisions = await timeline.count_documents({}) - events_before
    if decisions != 2:
        probe.failures.append(f"{decisions} timeline events for 2 decisions")

    await probe.begin()
    status, text, _ = await _submit_reject(probe, uat)
    problems = _status_problem(status, {200}, text)
    if _json(text).get("response_action") != "errors" or ALREADY not in text:
        problems.append(f"a reject after the approval was not refused: {text[:200]!r}")
    changed = await probe.storage_changed()
    probe.fail("reject submitted after the approval", problems + ([changed] if changed else []))
    await probe.verdict("double clicks")


async def _submit_reject(probe: Probe, target: dict[str, str]) -> tuple[int, str, float]:
    reason = {"type": "plain_text_input", "value": "Evidence missing."}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "demo"},
        "user": {"id": ARJUN, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": "hostile.reject-late",
        "view": {
            "id": "VREJECT",
            "type": "modal",
            "callback_id": CallbackId.REJECT.value,
            "private_metadata": json.dumps({"target": target, "origin": "dm"}),
            "blocks": [],
            "state": {"values": {"reason": {"reason": reason}}},
        },
    }
    return await probe.post_signed(corpus.interaction_body(payload), FORM)


# =========================================================================================
# Family 5: events
# =========================================================================================


async def test_hostile_events_are_acknowledged_without_side_effects(probe: Probe) -> None:
    await meet_everyone(probe)
    await probe.begin()
    for case in corpus.event_cases():
        probe.fail(case.id, await _event(probe, case))
    print(f"\nfamily 5 (events): {probe.cases} cases")
    await probe.verdict("hostile events")


async def _event(probe: Probe, case: EventCase) -> list[str]:
    calls_start, log_start = len(probe.calls), len(probe.errors.records)
    extra = (
        {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"} if case.retry else None
    )
    body = json.dumps(case.body).encode()
    status, text, took = await probe.post_signed(body, JSON, extra)
    problems = _status_problem(status, {200, 400} if case.malformed else {200}, text)
    if took > ACK_SECONDS:
        problems.append(f"acked after {took:.1f} s")
    echoes = case.echo is not MISSING and status == 200
    if echoes and _json(text) != {"challenge": case.echo}:
        problems.append(f"did not echo the challenge: {text[:100]!r}")
    await probe.quiet()
    made = [c.method for c in probe.calls[calls_start:] if c.method != "users.info"]
    unexpected = [m for m in made if m not in case.may_call]
    if unexpected:
        problems.append(f"side effects: {unexpected}")
    problems += content_problems(probe.calls[calls_start:])
    problems += [f"logged {e}" for e in probe.errors.since(log_start)]
    changed = await probe.storage_changed()
    return problems + ([changed] if changed else [])


# =========================================================================================
# The size of it
# =========================================================================================


def test_the_checks_catch_what_they_look_for() -> None:
    """The oracles themselves: a ping in mrkdwn, the unexpected-error text, a mention."""
    ping = Call("response_url", {"text": "hi <!channel>", "blocks": []})
    escaped = Call("response_url", {"text": "hi &lt;!channel&gt;", "blocks": []})
    in_block = Call(
        "views.update",
        {"view": {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<!here>"}}]}},
    )
    plain = Call(
        "views.update",
        {
            "view": {
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "<!here>"}}]
            }
        },
    )
    oops = Call("chat.postMessage", {"text": f":boom: {SOMETHING_WENT_WRONG} (ref `x`)"})
    mention = Call("response_url", {"text": "No release '<@U0INJECT>'"})

    assert content_problems([ping]) and content_problems([in_block]) and content_problems([oops])
    assert content_problems([mention]) and not content_problems([mention], mention_ok=True)
    assert not content_problems([escaped]) and not content_problems([plain])
    assert corpus.signature("s", "1", b"x") == corpus.signature("s", "1", b"x")
    assert corpus.padded(b"a=1", 100).__len__() == 100


def test_the_corpus_has_hundreds_of_cases() -> None:
    sizes = corpus.sizes()
    print("\nbad-input corpus: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    assert sizes["total"] >= 500, sizes
