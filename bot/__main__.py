"""`python -m bot` serves Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP) and runs
the digest and reminder scheduler; SIGTERM stops the server, lets the scheduler's tick under
way finish its sends, listeners finish what they do after their ack, and the queued answers
and reactions run (SHUTDOWN_DRAIN_SECONDS at most), then closes the database.
`python -m bot console` is the local console."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from bot.logs import configure_logging
from bot.runtime import build_runtime
from bot.settings import AppEnv, Settings
from bot.startup import StartupError, load_settings, report, require_serving

log = logging.getLogger("bot")


async def serve(settings: Settings) -> None:
    runtime = await build_runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runtime.start_scheduler()
    runtime.start_collector()
    # HTTP serves /health in both modes (the container's health check), Slack only in HTTP.
    runner = web.AppRunner(runtime.web_app(serve_slack=not settings.socket_mode))
    try:
        await runner.setup()
        await web.TCPSite(runner, "0.0.0.0", settings.port).start()
        if settings.socket_mode:
            from bot.socket_mode import run_socket_mode

            log.info("listening on :%s (GET /health); Slack over Socket Mode", settings.port)
            await run_socket_mode(runtime, stop)
        else:
            log.info("listening on :%s (POST /slack/events, GET /health)", settings.port)
            await stop.wait()
    finally:
        await runner.cleanup()
        await runtime.drain()
        runtime.close()
        log.info("stopped")


def main(argv: list[str]) -> int:
    if argv not in ([], ["console"]):
        print("usage: python -m bot [console]", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        if argv == ["console"]:
            return console(settings)
        require_serving(settings)
        json_logs = settings.app_env is AppEnv.PROD
        configure_logging(json_logs=json_logs, level=settings.effective_log_level)
        asyncio.run(serve(settings))
    except StartupError as error:
        report(error)
        return 2
    except Exception as error:  # e.g. an index that existing data breaks: one line, no trace
        report(error)
        return 1
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
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
