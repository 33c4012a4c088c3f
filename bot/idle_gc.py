"""Full garbage collections between requests, never in the middle of one.

A full collection stops the event loop while it walks every object the collector tracks.
The embedded engine keeps each stored document as Python objects and every write leaves new
ones behind, so CPython's own full collections grew to 50–200 ms pauses, acks included. Here
automatic full collections are off; ``IdleCollector`` runs them itself, when no ack is
pending (it waits for a turn, as work after an ack does), and then freezes what survived
(``gc.freeze``) so later collections skip it. What is alive at such a moment is the
process's data, not requests in flight; should a frozen object later become cyclic garbage,
the periodic sweep (unfreeze, collect everything, freeze again) reclaims it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from bot.after_ack import pending_acks

log = logging.getLogger(__name__)

NEVER = 2**31 - 1  # a generation-2 threshold CPython never reaches
CHECK_SECONDS = 1.0
UNFROZEN_LIMIT = 25_000  # tracked long-lived objects a full collection walks: a few ms
PATIENCE_SECONDS = 30.0  # under endless load, collect anyway after waiting this long
SWEEP_SECONDS = 3600.0


class IdleCollector:
    def __init__(
        self,
        *,
        check_seconds: float = CHECK_SECONDS,
        unfrozen_limit: int = UNFROZEN_LIMIT,
        patience: float = PATIENCE_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.check_seconds = check_seconds
        self.unfrozen_limit = unfrozen_limit
        self.patience = patience
        self.sweep_seconds = sweep_seconds
        self._swept = time.monotonic()

    async def run(self) -> None:
        """Until cancelled; CPython's own thresholds are put back then."""
        young, middle, old = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)
        try:
            while True:
                await asyncio.sleep(self.check_seconds)
                await self.collect_if_due()
        finally:
            gc.set_threshold(young, middle, old)

    def unfrozen(self) -> int:
        """Long-lived objects a full collection would walk now."""
        return len(gc.get_objects(generation=2))

    def sweep_due(self) -> bool:
        return time.monotonic() - self._swept >= self.sweep_seconds

    async def collect_if_due(self) -> bool:
        """Collect (at the next moment no ack is pending) when enough long-lived objects
        piled up since the last time, or the sweep is due; whether it did."""
        sweep = self.sweep_due()
        if not sweep and self.unfrozen() < self.unfrozen_limit:
            return False
        await pending_acks().turn(self.patience)
        began = time.perf_counter()
        if sweep:
            gc.unfreeze()
            self._swept = time.monotonic()
        found = gc.collect()
        gc.freeze()
        log.debug(
            "%s collection: %d unreachable, %.1f ms",
            "sweeping" if sweep else "full",
            found,
            (time.perf_counter() - began) * 1000,
        )
        return True
