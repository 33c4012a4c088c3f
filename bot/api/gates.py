"""CI reports a gate result: the gate changed through the core exactly as the Slack gate form
changes it (same rule, timeline entry, events and what follows them), the run's link kept on
the gate, at most once per Idempotency-Key."""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import BaseModel, Field

from bot.api.releases import RELEASE_PARAM
from bot.api.routing import Call, Route
from core.errors import ValidationFailed
from core.models.idempotency import StoredAnswer
from core.models.release import CiResult, GateStatus, Release
from core.rules.principal import Scope
from core.services.container import Services
from core.services.gates import CiReport
from core.services.idempotency import HEADER, fingerprint

TAG = "gates"
# Visible ASCII, no spaces: a UUID, a CI run id and attempt, a hash.
_KEY = re.compile(r"[\x21-\x7e]{1,200}")
REPLAYED = "Idempotent-Replayed"


class GateResultView(BaseModel):
    """The gate as the report left it."""

    release_id: str
    product_id: str
    gate_name: str
    gate_status: GateStatus
    comment: str | None
    ci_result: CiResult | None = Field(description="The last CI run reported on the gate")
    release_version: int = Field(description="The release's version after the report")

    @classmethod
    def of(cls, release: Release, product_id: str, gate_name: str) -> GateResultView:
        gate = release.product(product_id).gate(gate_name)
        return cls(
            release_id=release.release_id,
            product_id=product_id,
            gate_name=gate.gate_name,
            gate_status=gate.gate_status,
            comment=gate.comment,
            ci_result=gate.ci_result,
            release_version=release.version,
        )


def idempotency_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key, if it sent one; 422 for one that is not 1–200 visible
    ASCII characters."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        problem = "must be 1–200 visible ASCII characters, no spaces (a UUID, say)"
        raise ValidationFailed(
            f"Please correct the request — header {HEADER}: {problem}",
            fields={f"header.{HEADER}": problem},
        )
    return key


def gate_routes(services: Services) -> list[Route]:
    async def report_gate_result(call: Call) -> web.Response:
        report = call.body(CiReport)
        ref, product_id, gate_name = (call.params[p] for p in ("release", "product", "gate"))

        async def report_it() -> StoredAnswer:
            release = await services.gates.report_result(
                call.actor, ref, product_id, gate_name, report
            )
            view = GateResultView.of(release, product_id, gate_name)
            return StoredAnswer(status=200, body=view.model_dump_json())

        key = idempotency_key(call.request)
        if key is None:
            answer, replayed = await report_it(), False
        else:
            request = fingerprint(
                method=call.request.method,
                path=call.request.path,
                body=report.model_dump(mode="json"),
            )
            answer, replayed = await services.idempotency.once(
                call.actor.user_id, key, request, report_it
            )
        return web.Response(
            text=answer.body,
            status=answer.status,
            content_type="application/json",
            headers={REPLAYED: "true"} if replayed else None,
        )

    return [
        Route(
            "POST",
            "/api/v1/releases/{release}/products/{product}/gates/{gate}/results",
            report_gate_result,
            "Report a CI run's result on a quality gate",
            TAG,
            scope=Scope.GATES_WRITE,
            body=CiReport,
            response=GateResultView,
            params={
                **RELEASE_PARAM,
                "product": "The product's id in the release (e.g. payments-api)",
                "gate": "The gate's name, any case (e.g. Security scan, URL-encoded)",
            },
            headers={
                HEADER: "1–200 visible ASCII characters (a UUID, say): the same key with the "
                "same request answers as the first time without changing the gate again"
            },
            description=(
                "Sets the gate's status (and its comment to the summary) as the Slack gate "
                "form does, and keeps the run's link and commit on the gate, shown in "
                "`/release status` and the history. Needs the token's user to be allowed to "
                "change quality gates.\n\n"
                f"Send an `{HEADER}` header (1–200 visible ASCII characters, e.g. a UUID) to "
                "retry safely: the same key with the same request answers as the first time "
                f"(with `{REPLAYED}: true`) without changing the gate again; the same key with "
                "another request is refused with 409. Keys are kept for a day, per user."
            ),
        )
    ]
