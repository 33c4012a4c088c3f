"""Freeze windows (issue 12): while one is on, approvals of `prod` milestones in its scope and
moves of their gates to PASSED or WAIVED wait, unless an approval manager breaks glass with a
reason (recorded by the caller).

Pure: windows, a release and the time in; answers out. A window is *on* from its start until
its end, or until it was ended by hand if that came first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import PermissionDenied, RuleViolation, ValidationFailed
from core.models.approval import BreakGlass
from core.models.common import COMMENT_MAX
from core.models.freeze import FreezeWindow
from core.models.rbac import Permission
from core.models.release import Release, ReleaseProduct
from core.rules.operations import Operation
from core.rules.permissions import Actor

# Release managers plan freezes, as they plan releases.
MANAGE_FREEZES = Operation(Permission.CAN_CREATE_RELEASE, "plan or end freeze windows")
UPCOMING_HORIZON = timedelta(days=14)  # how far ahead status, Home and the digest look
BREAK_GLASS_FIELD = "break_glass"


def in_scope(window: FreezeWindow, release: Release, product: ReleaseProduct) -> bool:
    """Whether ``window`` freezes ``product`` of ``release``: everything, the product's
    application, or a squad of the release or of the product (either one is enough: a freeze
    errs on the side of holding a change)."""
    scope = window.scope
    if scope.everything or product.application_id in scope.application_ids:
        return True
    squads = {*release.squad_ids, *product.participating_squad_ids}
    return not squads.isdisjoint(scope.squad_ids)


def touches(window: FreezeWindow, release: Release) -> bool:
    """Whether ``window`` freezes any part of ``release``: one of its products, or (a release
    without products yet) its squads or the applications it has in scope."""
    scope = window.scope
    if scope.everything or any(in_scope(window, release, p) for p in release.products):
        return True
    return not (
        set(release.squad_ids).isdisjoint(scope.squad_ids)
        and set(release.scope_application_ids).isdisjoint(scope.application_ids)
    )


def active_at(window: FreezeWindow, now: datetime) -> bool:
    """On at ``now``: started, and neither over nor ended by hand."""
    return window.starts_at <= now < window.closes_at


def is_upcoming(window: FreezeWindow, now: datetime, horizon: timedelta) -> bool:
    """Starting after ``now`` and within ``horizon`` of it, and not called off."""
    return window.ended_at is None and now < window.starts_at <= now + horizon


def current(windows: Iterable[FreezeWindow], now: datetime) -> list[FreezeWindow]:
    """The windows on at ``now``, the first to end first."""
    return sorted((w for w in windows if active_at(w, now)), key=lambda w: (w.closes_at, w.id))


def upcoming(
    windows: Iterable[FreezeWindow], now: datetime, horizon: timedelta = UPCOMING_HORIZON
) -> list[FreezeWindow]:
    """The windows starting within ``horizon``, the soonest first."""
    found = (w for w in windows if is_upcoming(w, now, horizon))
    return sorted(found, key=lambda w: (w.starts_at, w.id))


def covering(
    windows: Iterable[FreezeWindow], release: Release, product: ReleaseProduct, now: datetime
) -> FreezeWindow | None:
    """The window that freezes ``product`` at ``now`` (the first to end, if several do)."""
    on = current(windows, now)
    return next((w for w in on if in_scope(w, release, product)), None)


def for_release(
    windows: Iterable[FreezeWindow],
    release: Release,
    now: datetime,
    horizon: timedelta = UPCOMING_HORIZON,
) -> tuple[list[FreezeWindow], list[FreezeWindow]]:
    """What to show with a release: the windows freezing any part of it now, and those that
    will within ``horizon``."""
    mine = [w for w in windows if touches(w, release)]
    return current(mine, now), upcoming(mine, now, horizon)


@dataclass(frozen=True)
class FreezeOutlook:
    """What a surface shows at ``now``: the windows on, the first to end first, and those to
    come within the horizon, the soonest first."""

    now: datetime
    current: list[FreezeWindow]
    upcoming: list[FreezeWindow]

    @property
    def windows(self) -> list[FreezeWindow]:
        return [*self.current, *self.upcoming]


def outlook(
    windows: Iterable[FreezeWindow],
    now: datetime,
    release: Release | None = None,
    horizon: timedelta = UPCOMING_HORIZON,
) -> FreezeOutlook:
    """The windows on and to come at ``now``: all of them, or those touching ``release``."""
    if release is not None:
        return FreezeOutlook(now, *for_release(windows, release, now, horizon))
    windows = list(windows)
    return FreezeOutlook(now, current(windows, now), upcoming(windows, now, horizon))


def utc_iso(moment: datetime) -> str:
    """``2026-12-24T18:00Z``: a time in the core's words, for readers in no zone in
    particular (the bot shows it on the reader's clock instead)."""
    return moment.strftime("%Y-%m-%dT%H:%MZ")


class Frozen(RuleViolation):
    """A change refused because a freeze is on: which one, until when, and the way out.

    The message gives the end in UTC, as the core knows no reader: the bot shows ``until`` on
    the reader's own clock (`blocks.freezes.frozen_text`)."""

    def __init__(self, window: FreezeWindow) -> None:
        self.window = window
        self.until = window.closes_at
        super().__init__(
            f"The freeze '{window.name}' is on until {utc_iso(self.until)} (UTC): approvals of "
            "prod milestones and moves of their gates to PASSED or WAIVED wait until it ends. "
            "An approval manager can break glass with a reason, which is recorded."
        )


def check_unfrozen(
    windows: Sequence[FreezeWindow],
    release: Release,
    product: ReleaseProduct,
    now: datetime,
    *,
    break_glass: str | None,
    actor: Actor,
) -> FreezeWindow | None:
    """None when no window freezes ``product`` now. Otherwise raise ``Frozen``, unless
    ``break_glass`` gives a reason and ``actor`` is an approval manager: then the window it
    overrides is returned, for the caller to record the override (who, why, which freeze)."""
    window = covering(windows, release, product, now)
    if window is None:
        return None
    if break_glass is None:
        raise Frozen(window)
    actor.require_active()
    if not actor.has(Permission.IS_APPROVAL_MANAGER):
        raise PermissionDenied(
            f"The freeze '{window.name}' is on, and only an approval manager can break glass "
            "to go ahead during a freeze. Ask one to do it, or wait until the freeze ends.",
            fields={BREAK_GLASS_FIELD: "Only an approval manager can break glass"},
        )
    reason = break_glass.strip()
    if not reason:
        raise ValidationFailed(
            f"Breaking glass during the freeze '{window.name}' needs a reason; say why this "
            "change cannot wait.",
            fields={BREAK_GLASS_FIELD: "Say why this change cannot wait"},
        )
    if len(reason) > COMMENT_MAX:
        raise ValidationFailed(
            f"The reason is {len(reason)} characters; keep it within {COMMENT_MAX}.",
            fields={BREAK_GLASS_FIELD: f"At most {COMMENT_MAX} characters"},
        )
    return window


class NeedsWindows(Exception):
    """A change found it must be checked against the freeze windows, not read yet: they are
    read and the change made again (``core.services.freezes.apply_guarded``). Changes that
    no freeze can touch never pay for that read."""


def guard(
    windows: Sequence[FreezeWindow] | None,
    release: Release,
    product: ReleaseProduct,
    now: datetime,
    *,
    break_glass: str | None,
    actor: Actor,
    what: str,
) -> None:
    """Refuse a change a freeze holds (``check_unfrozen``); one that breaks glass is recorded
    on the release (who, why, which freeze, what), where status and the digest show it."""
    if windows is None:
        raise NeedsWindows
    window = check_unfrozen(windows, release, product, now, break_glass=break_glass, actor=actor)
    if window is None or break_glass is None:
        return
    release.break_glass.append(
        BreakGlass(
            freeze_id=window.id,
            freeze_name=window.name,
            reason=break_glass.strip(),
            by=actor.user.username,
            at=now,
            what=what,
        )
    )
