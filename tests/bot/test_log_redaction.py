"""Secrets never reach a log line: Slack tokens, the API's tokens and its session JWTs."""

from __future__ import annotations

from bot.logs import redact


def test_tokens_and_sessions_are_redacted_and_the_rest_kept() -> None:
    line = (
        "token xoxb-123-456-abcDEF app xapp-1-A0-xyz api rbt_65f1a2_Qx-9_zz "
        "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.sig_-x9 for rhea"
    )
    said = redact(line)
    for secret in ("123-456-abcDEF", "A0-xyz", "65f1a2_Qx-9_zz", "eyJzdWIiOiJ1In0", "sig_-x9"):
        assert secret not in said
    assert said.count("[redacted]") == 4
    assert said.startswith("token xoxb-[redacted] app xapp-[redacted] api rbt_[redacted]")
    assert said.endswith("for rhea")
