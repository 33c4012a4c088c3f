"""Outbound webhooks: make, list and delete hooks, and read a hook's delivery log — thin
over the core's WebhookService (which also produces and sends the deliveries)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.api.routing import Call, Route
from core.models.webhooks import Webhook, WebhookDelivery, WebhookRequest
from core.rules.principal import Scope
from core.services.container import Services
from core.services.webhooks import (
    DELIVERIES_MAX,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookService,
)

TAG = "webhooks"
HOOK_PARAM = {"id": "The webhook's id (from GET /api/v1/webhooks)"}
WHO = "Needs the can_create_release permission (release managers and admins)."


class WebhookCreated(Webhook):
    secret: str = Field(
        description="Verifies the signature of every delivery; shown this once, never again"
    )


class WebhookList(BaseModel):
    items: list[Webhook] = Field(description="Your webhooks, newest first")


class DeliveriesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(
        50, ge=1, le=DELIVERIES_MAX, description=f"Deliveries, newest first, 1–{DELIVERIES_MAX}"
    )


class DeliveryList(BaseModel):
    items: list[WebhookDelivery] = Field(
        description="Newest first, each with every attempt: when, HTTP status, duration, error"
    )


def webhook_routes(services: Services) -> list[Route]:
    hooks: WebhookService = services.webhooks

    async def create_webhook(call: Call) -> WebhookCreated:
        body = call.body(WebhookRequest)
        hook, secret = await hooks.create(call.actor, str(body.url), body.events)
        return WebhookCreated(**hook.model_dump(), secret=secret)

    async def list_webhooks(call: Call) -> WebhookList:
        return WebhookList(items=await hooks.list_hooks(call.actor))

    async def delete_webhook(call: Call) -> Webhook:
        return await hooks.delete(call.actor, call.params["id"])

    async def list_webhook_deliveries(call: Call) -> DeliveryList:
        limit = call.query(DeliveriesQuery).limit
        return DeliveryList(
            items=await hooks.deliveries(call.actor, call.params["id"], limit=limit)
        )

    write = Scope.WEBHOOKS_WRITE
    return [
        Route(
            "POST",
            "/api/v1/webhooks",
            create_webhook,
            "Make a webhook: changes POSTed to your URL, signed",
            TAG,
            scope=write,
            body=WebhookRequest,
            response=WebhookCreated,
            status=201,
            description=f"{WHO} Each delivery is a POST of JSON "
            '{"id", "event", "created_at", "data"}, with the headers '
            f"{TIMESTAMP_HEADER} (seconds since the epoch) and {SIGNATURE_HEADER}: "
            'v0=<hex HMAC-SHA256, keyed with the secret, of "v0:{timestamp}:{body}">. '
            "A non-2xx answer or none is retried with backoff; de-duplicate by id.",
        ),
        Route(
            "GET",
            "/api/v1/webhooks",
            list_webhooks,
            "Your webhooks",
            TAG,
            scope=write,
            response=WebhookList,
            description=WHO,
        ),
        Route(
            "DELETE",
            "/api/v1/webhooks/{id}",
            delete_webhook,
            "Delete a webhook (its pending deliveries are not sent)",
            TAG,
            scope=write,
            response=Webhook,
            params=HOOK_PARAM,
            description="Your own, or anyone's for an admin who manages roles.",
        ),
        Route(
            "GET",
            "/api/v1/webhooks/{id}/deliveries",
            list_webhook_deliveries,
            "A webhook's delivery log",
            TAG,
            scope=write,
            query=DeliveriesQuery,
            response=DeliveryList,
            params=HOOK_PARAM,
        ),
    ]
