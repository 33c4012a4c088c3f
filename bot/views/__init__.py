"""Bolt listeners for views; each submodule with `register(app, deps)` adds its own."""

from __future__ import annotations

import sys

from slack_bolt.async_app import AsyncApp

from bot.deps import BotDeps
from bot.discovery import submodules


def register(app: AsyncApp, deps: BotDeps) -> None:
    for module in submodules(sys.modules[__name__]):
        module.register(app, deps)
