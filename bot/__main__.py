"""`python -m bot` serves Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP) and runs
the digest and reminder scheduler; SIGTERM stops the server, finishes queued answers, stops
the scheduler and closes the database. `python -m bot console` is the local console."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from bot.logs import configure_logging
from bot.runtime import Runtime, build_runtime
from bot.server import build_web_app
from bot.settings import AppEnv, Settings

log = logging.getLogger("bot")


async def serve(settings: Settings) -> None:
    runtime = await build_runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runtime.start_scheduler()
    try:
        if settings.socket_mode:
            from bot.socket_mode import run_socket_mode

            await run_socket_mode(runtime, stop)
        else:
            await _http(runtime, stop)
    finally:
        await runtime.deps.after_ack.drain()
        runtime.close()
        log.info("stopped")


async def _http(runtime: Runtime, stop: asyncio.Event) -> None:
    runner = web.AppRunner(build_web_app(runtime.app, runtime.db))
    await runner.setup()
    site = web.TCPSite(runner, "0.0.0.0", runtime.settings.port)
    await site.start()
    log.info("listening on :%s (POST /slack/events, GET /health)", runtime.settings.port)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str]) -> int:
    settings = Settings()
    if argv == ["console"]:
        return console(settings)
    configure_logging(json_logs=settings.app_env is AppEnv.PROD, level=settings.effective_log_level)
    if argv:
        print("usage: python -m bot [console]", file=sys.stderr)
        return 2
    asyncio.run(serve(settings))
    return 0


def console(settings: Settings) -> int:
    """`python -m bot console`: the bot locally with demo data, and a terminal to talk to it."""
    from bot.console import run_console

    # The terminal belongs to the conversation: warnings only, unless LOG_LEVEL asks for more
    # (the console explains unhandled requests itself, so Bolt's advice is kept quiet).
    configure_logging(json_logs=False, level=(settings.log_level or "WARNING").upper())
    if not settings.log_level:
        logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    try:
        return asyncio.run(run_console(settings))
    except KeyboardInterrupt:  # Ctrl-C at the prompt: leave quietly
        print()
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
