"""`/release product <release>`: add a catalog product, or set a product's fixed version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from blocks.ids import CallbackId, EditField
from blocks.message import context
from blocks.modals.form import (
    EditingMetadata,
    Group,
    Pick,
    enum_options,
    modal,
    multi_select_input,
    notice_view,
    select_input,
    squad_options,
    text_input,
)
from blocks.modals.form_state import Form, present
from blocks.text import esc
from core.errors import ValidationFailed
from core.models.catalog import Application, Squad
from core.models.common import KEY_MAX, NAME_MAX, parse
from core.models.release import FixedVersion, FixedVersionStatus, Release

TITLE = "Product"


@dataclass(frozen=True)
class ProductPick(Pick):
    """A catalog product to add (``application_id`` set), or one already in the release."""

    product_id: str
    application_id: str | None = None


def product_picks(release: Release, applications: Sequence[Application]) -> list[ProductPick]:
    return [pick for group in _groups(release, applications) for pick, _ in group[1]]


def _groups(
    release: Release, applications: Sequence[Application]
) -> list[tuple[str, list[tuple[ProductPick, str]]]]:
    present = {p.product_id for p in release.products}
    groups: list[tuple[str, list[tuple[ProductPick, str]]]] = [
        (
            f"Add from {a.application_name}",
            [
                (ProductPick(p.product_id, a.application_id), f"{p.product_name} ({p.product_id})")
                for p in a.products
                if p.product_id not in present
            ],
        )
        for a in applications
    ]
    groups.append(
        (
            f"In {release.release_id}: set its fixed version",
            [
                (ProductPick(p.product_id), f"{p.product_name} ({p.product_id})")
                for p in release.products
            ],
        )
    )
    return groups


def add_product_modal(
    release: Release,
    applications: Sequence[Application],
    squads: Sequence[Squad],
    metadata: EditingMetadata,
) -> View:
    groups = [
        Group(label, [pick.option(text) for pick, text in picks])
        for label, picks in _groups(release, applications)
    ]
    if not any(g.options for g in groups):
        return notice_view(
            TITLE,
            CallbackId.ADD_PRODUCT,
            f"The catalog has no products for *{esc(release.release_id)}* yet; an admin adds "
            "them with `/release admin apps new`.",
        )
    blocks: list[Block] = [
        context(
            f"*{esc(release.release_id)}* · {esc(release.release_name)} — pick a catalog "
            "product to add, or a product of the release to set its fixed version."
        ),
        select_input(EditField.PRODUCT, "Product", groups=groups),
    ]
    if squads:
        blocks.append(
            multi_select_input(
                EditField.PRODUCT_SQUADS,
                "Participating squads",
                squad_options(squads),
                hint="When adding: leave empty for the squads the catalog gives the product.",
            )
        )
    blocks += [
        DividerBlock(),
        context("*Fixed version* — for a product already in the release"),
        text_input(
            EditField.VERSION_KEY,
            "Version key",
            optional=True,
            placeholder="payments-api-3.15.0",
            max_length=KEY_MAX,
        ),
        text_input(EditField.VERSION_NAME, "Version name", optional=True, max_length=NAME_MAX),
        select_input(
            EditField.VERSION_STATUS,
            "Version status",
            options=enum_options(FixedVersionStatus),
            optional=True,
            hint="Unreleased unless you pick another.",
        ),
    ]
    return modal(TITLE, CallbackId.ADD_PRODUCT, blocks, metadata)


# --- reading ------------------------------------------------------------------------------

# The fixed version's fields, as FixedVersion names them, and the blocks they are typed in.
VERSION_BLOCKS = {
    "version_key": EditField.VERSION_KEY,
    "version_name": EditField.VERSION_NAME,
    "status": EditField.VERSION_STATUS,
}


@dataclass(frozen=True)
class ProductAddition:
    """A catalog product to add to the release; no ``squad_ids``: the catalog's."""

    application_id: str
    product_id: str
    squad_ids: list[str] | None = None


def read_product_form(form: Form, pick: ProductPick) -> ProductAddition | FixedVersion:
    """A catalog product picked is added (a fixed version is set once it is in the
    release); a product of the release gets the fixed version typed."""
    version = present(
        {
            "version_key": form.text(EditField.VERSION_KEY),
            "version_name": form.text(EditField.VERSION_NAME),
            "status": form.choice(EditField.VERSION_STATUS),
        }
    )
    squads = form.choices(EditField.PRODUCT_SQUADS)
    if pick.application_id is not None:
        if version:  # told under each version field filled in, so each can be cleared
            why = "Add the product first, then pick it again to set its fixed version"
            raise ValidationFailed(
                "Add the product first; then set its fixed version.",
                fields={VERSION_BLOCKS[name]: why for name in version},
            )
        return ProductAddition(pick.application_id, pick.product_id, squads or None)
    if squads:
        raise ValidationFailed(
            "Squads are chosen when a product is added.",
            fields={EditField.PRODUCT_SQUADS: "Only when adding a product"},
        )
    return parse(FixedVersion, version)
