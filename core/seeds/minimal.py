"""The smallest useful data set (SPEC §7): one Release Manager, one application, one release.

Idempotent: running it again finds everything by its unique key and adds nothing.

Loaded at start-up with ``SEED_DATA=minimal``, or from the command line:

    python -m scripts.seed_minimal      # MONGO_URI (default mongomock://), MONGO_DB_NAME
"""

from __future__ import annotations

from datetime import date
from functools import partial

from core.models.catalog import Application, Product
from core.models.rbac import User
from core.models.release import Release
from core.seeds.seeding import (
    RELEASE_MANAGER,
    Schedule,
    SeedReport,
    ensure_release,
    ensure_role,
    ensure_user,
    get_or_add,
)
from core.services.container import Repositories

USERNAME = "rm"
APPLICATION_ID = "sample-app"
PRODUCT_ID = "sample-api"
RELEASE_ID = "REL-0001"
RELEASE_DAYS_AHEAD = 14


async def seed_minimal(repos: Repositories, *, today: date | None = None) -> SeedReport:
    """Seed the role, the user ``rm``, one application with one product, one empty release."""
    when = Schedule.starting(today)
    report = SeedReport("Minimal data")
    role = await ensure_role(repos, report, RELEASE_MANAGER, when.now)
    user = await ensure_user(repos, report, partial(_user, role.id, when), USERNAME)
    await get_or_add(
        report,
        "applications",
        partial(repos.applications.get, APPLICATION_ID),
        _application,
        repos.applications.add,
    )
    await ensure_release(repos, report, RELEASE_ID, partial(_release, user, when), user)
    return report


def _user(role_id: str, when: Schedule) -> User:
    return User(
        username=USERNAME,
        full_name="Release Manager",
        email=f"{USERNAME}@example.com",
        role_ids=[role_id],
        created_at=when.now,
    )


def _application() -> Application:
    return Application(
        application_id=APPLICATION_ID,
        application_name="Sample Application",
        description="A placeholder application to add to releases.",
        products=[Product(product_id=PRODUCT_ID, product_name="Sample API")],
    )


def _release(creator: User, when: Schedule) -> Release:
    return Release(
        release_id=RELEASE_ID,
        release_name="First release",
        release_date=when.day(RELEASE_DAYS_AHEAD),
        description="An empty release: add products and gates to it.",
        created_by=creator.id,
        created_at=when.now,
    )
