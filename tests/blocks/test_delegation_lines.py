"""What whoami and App Home say of delegations: the last day on the reader's clock, and a
long list of people one decides for cut with "and N more"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from blocks.delegation import MAX_SHOWN, delegation_lines, until_text
from core.models.rbac import Delegation, User
from core.rules.delegation import day_end, standing_of
from tests.support import T0

BERLIN = ZoneInfo("Europe/Berlin")


def user(username: str, delegation: Delegation | None = None) -> User:
    return User(
        username=username,
        full_name=username.title(),
        email=f"{username}@example.com",
        delegation=delegation,
        created_at=T0,
    )


def to(delegate: User, until: datetime) -> Delegation:
    return Delegation(
        delegate_user_id=delegate.id,
        delegate_username=delegate.username,
        until=until,
        set_at=T0,
        set_by="admin",
        admin_approved_by="admin",
    )


def test_the_last_day_on_the_readers_clock_or_the_moment_elsewhere() -> None:
    end = day_end(date(2026, 12, 24), BERLIN)

    assert until_text(end, BERLIN) == "Thu 24 Dec"
    assert until_text(end, ZoneInfo("UTC")) == "Thu 24 Dec 23:00 (UTC)"
    assert end == datetime(2026, 12, 24, 23, 0, tzinfo=UTC)


def test_away_and_deciding_for_many_are_said_within_a_line_each() -> None:
    dana = user("dana")
    end = day_end(date(2026, 12, 24), BERLIN)
    me = user("dana", to(user("eve"), end)).model_copy(update={"id": dana.id})
    others = [user(f"person{n:02}", to(dana, end)) for n in range(MAX_SHOWN + 2)]

    lines = delegation_lines(standing_of(me, others, T0), BERLIN)

    assert lines[0].startswith(":palm_tree: *Away until Thu 24 Dec* — eve decides in your place")
    assert "(approved by admin)" in lines[0]
    assert lines[1].startswith(":handshake: *You decide for* person00 until Thu 24 Dec, ")
    assert lines[1].endswith("person09 until Thu 24 Dec and 2 more.")
    assert delegation_lines(standing_of(dana, [], T0), BERLIN) == []
