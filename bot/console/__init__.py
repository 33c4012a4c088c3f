"""`python -m bot console`: a terminal in which a person talks to the real bot as a persona."""

from bot.console.app import Console, Settle, run_console

__all__ = ["Console", "Settle", "run_console"]
