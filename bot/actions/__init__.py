"""Bolt listeners: actions."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import BotDeps


def register(app: AsyncApp, deps: BotDeps) -> None:
    """Listeners of this kind are added by the modules that own them."""
