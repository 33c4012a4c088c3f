"""A release in squads the actor is not in reads exactly like an unknown id, for every read
and every write by release reference: its existence is not disclosed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from bson import ObjectId

from core.errors import DomainError, NotFound
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.rbac import Permission, Role, User
from core.models.release import Decision, FixedVersion, GateStatus
from core.rules.permissions import Actor
from core.services.gates import GateChange, GateDraft
from core.services.runbooks import RunbookDraft
from tests.support import World, milestone

HIDDEN = "REL-CARDS-1"  # exists, in the cards squad only
UNKNOWN = "REL-NOPE-1"  # exists nowhere

Operation = Callable[[World, Actor, str], Awaitable[object]]


async def register_file(world: World, actor: Actor) -> str:
    draft = AttachmentDraft(
        file_name="plan.pdf", file_size=1, file_url="https://files.example.com/plan.pdf",
        sha256="a" * 64,
    )  # fmt: skip
    return (await world.services.attachments.register(actor, draft)).id


OPERATIONS: dict[str, Operation] = {
    "status": lambda w, a, ref: w.services.releases.get(a, ref),
    "history": lambda w, a, ref: w.services.timeline.history(a, ref),
    "description": lambda w, a, ref: w.services.releases.edit_description(a, ref, "x"),
    "product": lambda w, a, ref: w.services.releases.add_product(
        a, ref, application_id="app-rel-cards-1", product_id="pay-api"
    ),
    "fixed version": lambda w, a, ref: w.services.releases.set_fixed_version(
        a, ref, "pay-api", FixedVersion(version_key="1.0", version_name="1.0")
    ),
    "gate": lambda w, a, ref: w.services.gates.add_gate(
        a, ref, "pay-api", GateDraft(gate_name="G")
    ),
    "gate status": lambda w, a, ref: w.services.gates.update_gate(
        a, ref, "pay-api", "Security scan", GateChange(gate_status=GateStatus.PASSED)
    ),
    "milestone": lambda w, a, ref: w.services.gates.add_milestone(
        a, ref, "pay-api", "Security scan", milestone("m", 0)
    ),
    "approval": lambda w, a, ref: w.services.approvals.decide(
        a, ref, "pay-api", "Security scan", "go-live", Decision.APPROVE
    ),
    "runbook": lambda w, a, ref: w.services.runbooks.add_runbook(
        a, ref, RunbookDraft(runbook_name="Cutover")
    ),
}


async def outsider(world: World) -> Actor:
    """Every permission but can_view_all, in the payments squad only."""
    flags = {p.value: p is not Permission.CAN_VIEW_ALL for p in Permission}
    role = await world.repos.roles.add(
        Role.model_validate({"role_name": "All but view-all", "created_at": world.clock(), **flags})
    )
    dana = User(
        username="dana", full_name="Dana", email="dana@example.com", role_ids=[role.id],
        assigned_squad_ids=["payments"], created_at=world.clock(),
    )  # fmt: skip
    await world.repos.users.add(dana)
    return await world.services.identity.actor_by_id(dana.id)


async def refusal(call: Awaitable[object]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await call
    return refused.value


@pytest.mark.parametrize("name", OPERATIONS)
async def test_another_squads_release_answers_exactly_like_an_unknown_id(
    world: World, name: str
) -> None:
    await world.release(HIDDEN, squads=["cards"], gates=["Security scan"])
    dana = await outsider(world)
    before = await world.snapshot()

    hidden = await refusal(OPERATIONS[name](world, dana, HIDDEN))
    unknown = await refusal(OPERATIONS[name](world, dana, UNKNOWN))

    assert type(hidden) is type(unknown) is NotFound
    assert hidden.message == unknown.message.replace(UNKNOWN, HIDDEN)
    assert hidden.fields == unknown.fields
    assert "cards" not in hidden.message and "squad" not in hidden.message
    assert await world.snapshot() == before


async def test_linking_a_file_to_another_squads_release_answers_like_an_unknown_id(
    world: World,
) -> None:
    await world.release(HIDDEN, squads=["cards"])
    dana = await outsider(world)
    file_id = await register_file(world, dana)
    before = await world.snapshot()

    hidden = await refusal(
        world.services.attachments.link(dana, file_id, AttachmentTarget(release_id=HIDDEN), "x")
    )
    unknown = await refusal(
        world.services.attachments.link(dana, file_id, AttachmentTarget(release_id=UNKNOWN), "x")
    )

    assert type(hidden) is type(unknown) is NotFound
    assert hidden.message == unknown.message.replace(UNKNOWN, HIDDEN)
    assert await world.snapshot() == before


async def test_by_database_id_the_id_typed_is_echoed_not_the_release_id(world: World) -> None:
    release = await world.release(HIDDEN, squads=["cards"])
    dana = await outsider(world)
    nobody = str(ObjectId())

    hidden = await refusal(world.services.releases.get(dana, release.id))
    unknown = await refusal(world.services.releases.get(dana, nobody))

    assert hidden.message == unknown.message.replace(nobody, release.id)
    assert HIDDEN not in hidden.message


async def test_one_of_ones_own_squads_releases_is_still_shown(world: World) -> None:
    await world.release("REL-PAY-1", squads=["payments"])
    dana = await outsider(world)

    assert (await world.services.releases.get(dana, "REL-PAY-1")).release_id == "REL-PAY-1"
