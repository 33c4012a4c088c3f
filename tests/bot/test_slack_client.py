"""The Web API client: optional pacing of posts (SLACK_POST_RATE)."""

import time

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.harness import local_settings
from bot.slack_client import PacedWebClient, build_client


async def test_posts_are_paced_when_a_rate_is_set_and_not_otherwise() -> None:
    slack = FakeSlack()
    await slack.start()
    try:
        paced = build_client(local_settings(slack, slack_post_rate=50))
        plain = build_client(local_settings(slack))
        assert isinstance(paced, PacedWebClient) and not isinstance(plain, PacedWebClient)

        started = time.monotonic()
        for n in range(10):
            await paced.chat_postMessage(channel="C1", text=f"paced {n}")
        paced_s = time.monotonic() - started
        started = time.monotonic()
        await paced.auth_test()  # other methods are not paced
        other_s = time.monotonic() - started

        assert paced_s >= 9 / 50  # ten posts at 50 a second: nine intervals at least
        assert other_s < 1 / 50 + 0.5
        assert len(slack.of("chat.postMessage")) == 10
    finally:
        await slack.stop()
