"""The digest message: Slack's limits, escaping, and a rewordable text template."""

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from blocks.digest import digest_message, digest_text, template_environment
from core.models.release import GateStatus, QualityGate, Release, ReleaseProduct
from core.rules.digest import Digest, DigestEntry
from core.rules.readiness import summarize

TZ = ZoneInfo("Europe/Paris")


def release(n: int, name: str = "Release") -> Release:
    gate = QualityGate(
        gate_name="Regression", gate_status=GateStatus.FAILED, comment="<!here> broke"
    )
    product = ReleaseProduct(
        application_id="app", product_id="api", product_name="API", quality_gates=[gate]
    )
    return Release(
        release_id=f"REL-{n:03d}",
        release_name=name,
        release_date=date(2026, 12, 1),
        products=[product],
        created_by="u",
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def digest_of(releases: list[Release]) -> Digest:
    return Digest(
        date(2026, 11, 23),
        date(2026, 11, 20),
        date(2026, 12, 7),
        [DigestEntry(r, summarize(r)) for r in releases],
    )


def test_many_releases_fit_in_fifty_blocks_and_say_how_many_are_hidden() -> None:
    message = digest_message(digest_of([release(n) for n in range(40)]), TZ)

    payload = message.to_dict()  # slack_sdk validates every block
    assert len(payload["blocks"]) <= 50
    shown = sum(
        1 for b in payload["blocks"] if b["type"] == "section" and "REL-" in b["text"]["text"]
    )
    last = payload["blocks"][-1]
    assert last["type"] == "context"
    assert f"… and {40 - shown} more releases" in last["elements"][0]["text"]
    assert payload["blocks"][-2]["type"] != "divider"


def test_user_text_is_escaped_in_blocks_and_in_the_text_fallback() -> None:
    message = digest_message(digest_of([release(1, "<!channel> & friends")]), TZ)

    payload = message.to_dict()
    assert "<!channel>" not in str(payload) and "<!here>" not in str(payload)
    assert "&lt;!channel&gt; &amp; friends" in payload["text"]


def test_teams_can_reword_the_text_with_their_own_template(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text(
        "Bonjour! {{ digest.entries | length }} release(s): "
        "{% for e in digest.entries %}{{ e.release.release_name }}{% endfor %}"
    )
    template_environment.cache_clear()

    text = digest_text(digest_of([release(1, "<b>")]), str(tmp_path))

    assert text == "Bonjour! 1 release(s): &lt;b&gt;"


def test_the_text_renders_only_what_fits_and_says_how_many_more() -> None:
    text = digest_text(digest_of([release(n) for n in range(100)]))

    assert "(100 releases from" in text
    assert "REL-039" in text and "REL-040" not in text
    assert text.rstrip().endswith("… and 60 more releases.")
