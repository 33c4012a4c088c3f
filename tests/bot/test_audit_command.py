"""`/release audit <release>`: the export sent by DM as a file (Slack's external upload
flow, recorded by the fake Slack), which the verifier checks; refusals upload nothing."""

from __future__ import annotations

from pathlib import Path

from bot.devtools.fake_slack import Call
from bot.devtools.harness import LocalBot
from scripts.audit import OK, verify_file
from tests.bot.test_admin import refusal, shown

REL = "REL-2026.12"
UPLOAD_METHODS = ("files.getUploadURLExternal", "upload_url", "files.completeUploadExternal")


async def answer(bot: LocalBot, user: str, text: str) -> Call:
    before = len(bot.slack.of("response_url"))
    reply = await bot.driver.command(user, text)
    assert reply.status == 200
    return (await bot.slack.wait_for("response_url", before + 1))[before]


def nothing_uploaded(bot: LocalBot) -> bool:
    return not bot.slack.files and not [c for c in bot.slack.calls if c.method in UPLOAD_METHODS]


async def test_the_export_is_sent_by_dm_as_a_file_that_verifies(
    bot: LocalBot, tmp_path: Path
) -> None:
    said = await answer(bot, "UADMIN", "audit rel-2026.12")

    [file] = bot.slack.shared_files("DUADMIN")  # the app's DM with the requester
    assert file.filename.startswith(f"releasebot-audit-{REL}-") and file.filename.endswith(
        ".ndjson"
    )
    assert file.content is not None and len(file.content) == file.length
    assert REL in str(file.initial_comment)
    saved = tmp_path / file.filename
    saved.write_bytes(file.content)
    code, verified = verify_file(saved)
    assert (code, verified) == (OK, "OK: 1 release, 1 entry verified")
    text = shown(said)
    assert said.params["response_type"] == "ephemeral"
    assert "by DM" in text and f"python -m scripts.audit verify {file.filename}" in text


async def test_without_can_view_audit_it_is_refused_and_nothing_is_uploaded(
    bot: LocalBot,
) -> None:
    said = refusal(await answer(bot, "UDANA", f"audit {REL}"))

    assert "can_view_audit" in said and "/release whoami" in said
    assert nothing_uploaded(bot) and not bot.slack.of("conversations.open")


async def test_an_unknown_release_is_answered_as_elsewhere_and_nothing_is_uploaded(
    bot: LocalBot,
) -> None:
    said = refusal(await answer(bot, "UADMIN", "audit REL-NOPE"))

    assert "`/release list` shows the releases you can see" in said
    assert nothing_uploaded(bot)


async def test_a_failed_upload_is_told_and_nothing_is_shared(bot: LocalBot) -> None:
    bot.slack.fail("upload_url", status=502)

    said = refusal(await answer(bot, "UADMIN", f"audit {REL}"))

    assert "could not send you the audit trail" in said and "Nothing was shared" in said
    assert bot.slack.of("upload_url!502") and not bot.slack.of("files.completeUploadExternal")
    assert not bot.slack.shared_files("DUADMIN")


async def test_a_refused_share_is_told_in_words(bot: LocalBot) -> None:
    bot.slack.refuse_channel("DUADMIN", "channel_not_found")

    said = refusal(await answer(bot, "UADMIN", f"audit {REL}"))

    assert "Slack answered `channel_not_found`" in said and "Nothing was shared" in said
    assert not bot.slack.shared_files("DUADMIN")


async def test_slacks_own_failure_while_sharing_says_to_look_first(bot: LocalBot) -> None:
    bot.slack.fail_after_doing("files.completeUploadExternal", error="internal_error")

    said = refusal(await answer(bot, "UADMIN", f"audit {REL}"))

    assert "may have reached our DM all the same" in said and "Nothing was shared" not in said


async def test_help_lists_the_command(bot: LocalBot) -> None:
    said = shown(await answer(bot, "UADMIN", "help"))

    assert "/release audit &lt;release&gt;" in said and "can_view_audit" in said
