"""`/release attach <release>`: register a file (url + sha256) and link it to a release part."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from blocks.ids import CallbackId, EditField
from blocks.message import context
from blocks.modals.form import (
    EditingMetadata,
    Group,
    Pick,
    modal,
    select_input,
    text_input,
)
from blocks.modals.form_state import Form, present, split_list
from blocks.text import esc
from core.models.attachment import AttachmentDraft, AttachmentTarget
from core.models.common import KEY_MAX, NAME_MAX, URL_MAX, parse
from core.models.release import Release

TITLE = "Attach a file"
THE_RELEASE = "The release itself"


@dataclass(frozen=True)
class TargetPick(Pick):
    """The release (all None), a product, one of its gates, or one of a gate's milestones."""

    product_id: str | None = None
    gate_name: str | None = None
    milestone_key: str | None = None


def target_picks(release: Release) -> list[TargetPick]:
    return [pick for _, picks in _targets(release) for pick, _ in picks]


def _targets(release: Release) -> list[tuple[str, list[tuple[TargetPick, str]]]]:
    groups: list[tuple[str, list[tuple[TargetPick, str]]]] = [
        ("Release", [(TargetPick(), f"{THE_RELEASE} ({release.release_id})")])
    ]
    for product in release.products:
        picks = [(TargetPick(product.product_id), f"{product.product_name} (product)")]
        for gate in product.sorted_gates():
            picks.append((TargetPick(product.product_id, gate.gate_name), f"Gate {gate.gate_name}"))
            picks += [
                (
                    TargetPick(product.product_id, gate.gate_name, m.milestone_key),
                    f"{gate.gate_name} / {m.milestone_key}",
                )
                for m in gate.milestones
            ]
        groups.append((f"{product.product_name} ({product.product_id})", picks))
    return groups


def attach_modal(release: Release, metadata: EditingMetadata) -> View:
    groups = [
        Group(label, [pick.option(text) for pick, text in picks])
        for label, picks in _targets(release)
    ]
    blocks: list[Block] = [
        context(
            f"*{esc(release.release_id)}* · {esc(release.release_name)} — the file stays where "
            "it is; releasebot keeps its address and checksum. A file already registered "
            "(same sha256) is linked again, not duplicated."
        ),
        select_input(
            EditField.TARGET,
            "Attach to",
            groups=groups,
            initial=groups[0].options[0],
        ),
        text_input(
            EditField.FILE_NAME, "File name", placeholder="uat-report.pdf", max_length=NAME_MAX
        ),
        text_input(
            EditField.FILE_URL,
            "URL",
            placeholder="https://artifacts.example.com/uat-report.pdf",
            max_length=URL_MAX,
        ),
        text_input(
            EditField.SHA256,
            "SHA-256",
            placeholder="64 hexadecimal characters",
            hint="sha256sum <file> prints it.",
            max_length=KEY_MAX,
        ),
        text_input(EditField.FILE_SIZE, "Size in bytes", placeholder="482133"),
        text_input(
            EditField.FILE_TYPE,
            "Type",
            optional=True,
            placeholder="application/pdf",
            hint="A MIME type; application/octet-stream when empty.",
        ),
        text_input(
            EditField.LABEL,
            "Label",
            optional=True,
            max_length=NAME_MAX,
            hint="How the link is shown; the file name when empty.",
        ),
        text_input(
            EditField.TAGS,
            "Tags",
            optional=True,
            placeholder="uat, evidence",
            hint="Comma-separated.",
        ),
    ]
    return modal(TITLE, CallbackId.ATTACH, blocks, metadata, submit="Attach")


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentInput:
    """The file to register, where to link it, and how the link is shown (None: its name)."""

    draft: AttachmentDraft
    target: AttachmentTarget
    label: str | None = None


def read_attach_form(form: Form, pick: TargetPick, *, release_id: str) -> AttachmentInput:
    draft = parse(
        AttachmentDraft,
        present(
            {
                "file_name": form.text(EditField.FILE_NAME),
                "file_type": form.text(EditField.FILE_TYPE),
                "file_size": form.text(EditField.FILE_SIZE),
                "file_url": form.text(EditField.FILE_URL),
                "sha256": form.text(EditField.SHA256),
                "tags": split_list(form.text(EditField.TAGS)),
            }
        ),
    )
    target = parse(
        AttachmentTarget,
        present(
            {
                "release_id": release_id,
                "product_id": pick.product_id,
                "gate_name": pick.gate_name,
                "milestone_key": pick.milestone_key,
            }
        ),
    )
    return AttachmentInput(draft, target, form.text(EditField.LABEL))


def target_name(pick: TargetPick) -> str:
    """``payments-api / UAT / uat-signoff``, or "the release"."""
    parts = [p for p in (pick.product_id, pick.gate_name, pick.milestone_key) if p]
    return " / ".join(parts) if parts else "the release"
