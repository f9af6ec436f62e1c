"""The Telegram side of the running bot: python-telegram-bot started and stopped in our loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.errors import BotError, ConfigError
from bot.settings.config import Config
from bot.settings.credentials import TOKEN_ENV, Token
from bot.telegram.commands import Commands

log = logging.getLogger(__name__)

UPDATES_TIMEOUT = 30
TELEGRAM_START_ATTEMPTS = 3
TELEGRAM_START_BACKOFF = 2.0

# The name python-telegram-bot gives its long-polling task (telegram.ext.Updater).
POLLING_TASK_NAME = "Updater:start_polling:polling_task"


def api_urls(config: Config) -> dict[str, str]:
    """base_url and base_file_url for python-telegram-bot, when a local Bot API is set."""
    base = config.telegram.api_base_url
    return {"base_url": f"{base}/bot", "base_file_url": f"{base}/file/bot"} if base else {}


async def initialized_application(config: Config, token: Token) -> Application:  # type: ignore[type-arg]
    """python-telegram-bot's Application, initialised (getMe answered); a rejected token is
    a ConfigError that never shows the token, an unreachable Telegram a BotError."""
    builder = Application.builder().token(token.reveal())
    urls = api_urls(config)
    if urls:
        builder = builder.base_url(urls["base_url"]).base_file_url(urls["base_file_url"])
    application = builder.build()
    for attempt in range(1, TELEGRAM_START_ATTEMPTS + 1):
        try:
            await application.initialize()
            return application
        except InvalidToken:
            # python-telegram-bot's own message quotes the token: never pass it on.
            raise ConfigError(TOKEN_ENV, "Telegram rejected the bot token") from None
        except TelegramError as exc:
            if attempt == TELEGRAM_START_ATTEMPTS:
                raise BotError(f"Telegram is unreachable ({type(exc).__name__}); "
                               "alerts stay queued for the next run") from None
            log.warning("telegram unreachable attempt=%d error=%s", attempt,
                        type(exc).__name__)
            await asyncio.sleep(TELEGRAM_START_BACKOFF * attempt)
    raise AssertionError("unreachable")  # the loop returns or raises


async def start_updates(application: Application, commands: Commands,  # type: ignore[type-arg]
                        on_dead: Callable[[BaseException], None]) -> None:
    """Answer chat commands from now on: handlers, the command menu, long polling.

    python-telegram-bot ends its polling for good when Telegram rejects the token (a 401
    on getUpdates) and says nothing more; ``on_dead`` is called then, so the bot can stop
    with a clear error instead of running on deaf to every command."""
    commands.install(application)
    application.add_error_handler(_on_error)
    await application.start()
    try:
        await commands.register_descriptions(application)
    except Exception as exc:  # the command menu is a convenience, not a reason to stop
        log.warning("setMyCommands failed error=%s", exc)
    assert application.updater is not None
    await application.updater.start_polling(timeout=UPDATES_TIMEOUT,
                                            allowed_updates=Update.ALL_TYPES)
    for task in asyncio.all_tasks():
        if task.get_name() == POLLING_TASK_NAME:
            task.add_done_callback(lambda done: _watch(done, on_dead))


async def stop_updates(application: Application) -> None:  # type: ignore[type-arg]
    """Stop long polling and the handlers (the reverse of :func:`start_updates`)."""
    if application.updater is not None and application.updater.running:
        try:
            await application.updater.stop()
        except TelegramError as exc:  # the polling that ended it has been reported already
            log.info("telegram updates had ended error=%s", type(exc).__name__)
    if application.running:
        await application.stop()


async def _on_error(update: object, context: object) -> None:
    error = getattr(context, "error", None)
    log.error("telegram handler failed error=%s", error, exc_info=error)


class UpdatesWatch:
    """Whether python-telegram-bot's polling ended by itself, and why; stops the bot then."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.error: BaseException | None = None

    def died(self, error: BaseException) -> None:
        """The polling ended with ``error``: log it and stop the bot."""
        log.error("telegram updates stopped error=%s: chat commands are no longer "
                  "answered; stopping the bot", type(error).__name__)
        self.error = error
        self.stop.set()

    def raise_if_dead(self) -> None:
        """BotError, with what to do, when the polling had died."""
        if self.error is None:
            return
        reason = ("Telegram rejected the bot token" if isinstance(self.error, InvalidToken)
                  else f"Telegram updates failed ({type(self.error).__name__})")
        raise BotError(f"{reason} while running: chat commands stopped, so the bot "
                       "stopped; check TELEGRAM_BOT_TOKEN and start it again")


def _watch(task: asyncio.Task[object], on_dead: Callable[[BaseException], None]) -> None:
    """The polling task ended: by a stop (cancelled, or no error), or by an error."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        on_dead(error)
