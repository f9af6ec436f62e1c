"""The outbox to Telegram or the console: in order, retried with backoff, never dropped."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TextIO

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.config import DeliveryConfig
from bot.errors import BotError
from bot.store import Alert, Store

log = logging.getLogger(__name__)

CONSOLE_CHAT = "console"
LINK_RE = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
TAG_RE = re.compile(r"<[^>]+>")


class SendError(BotError):
    """A send failed; ``permanent`` when retrying cannot help (bad message, no access)."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Sender(Protocol):
    """Somewhere alerts go: Telegram, or standard output when no token is set."""

    chat: str

    async def send(self, chat: str, text: str, *, silent: bool) -> int | None:
        """Send ``text`` (Telegram HTML); the message id, if the destination gives one."""
        ...


class ConsoleSender:
    """Prints each alert as plain text; what a new user sees before setting a token."""

    chat = CONSOLE_CHAT

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    async def send(self, chat: str, text: str, *, silent: bool) -> int | None:
        plain = LINK_RE.sub(lambda m: f"{m.group(2)}\n{m.group(1)}", text)
        plain = html.unescape(TAG_RE.sub("", plain))
        self.stream.write(f"{plain}\n{'-' * 60}\n")
        self.stream.flush()
        return None


class TelegramSender:
    """Sends alerts through python-telegram-bot; turns its errors into SendError."""

    def __init__(self, bot: Bot, chat: str, *, link_preview: bool) -> None:
        self.bot = bot
        self.chat = chat
        self.preview = LinkPreviewOptions(is_disabled=not link_preview)

    async def send(self, chat: str, text: str, *, silent: bool) -> int | None:
        try:
            message = await self.bot.send_message(
                chat_id=chat, text=text, parse_mode=ParseMode.HTML,
                link_preview_options=self.preview, disable_notification=silent,
            )
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise SendError(f"flood control, retry after {seconds:g}s",
                            retry_after=seconds) from None
        except (BadRequest, Forbidden, ChatMigrated) as exc:
            raise SendError(f"{type(exc).__name__}: {exc.message}", permanent=True) from None
        except InvalidToken:
            raise SendError("Telegram refused the token (InvalidToken)") from None
        except TelegramError as exc:
            raise SendError(f"{type(exc).__name__}: {exc.message}") from None
        return message.message_id


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    blocked_until: datetime | None = None


class Deliverer:
    """Drains the outbox oldest first; one pass at a time."""

    def __init__(self, store: Store, sender: Sender, config: DeliveryConfig,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.sender = sender
        self.config = config
        self.clock = clock
        self._lock = asyncio.Lock()

    async def deliver_due(self) -> DeliveryReport:
        """Send every due alert until the outbox is empty or a transient error stops the pass.

        A transient failure stops the pass so that alerts keep their order; a permanent one
        marks that alert failed and goes on.
        """
        sent = failed = 0
        async with self._lock:
            while batch := self.store.due_alerts(self.clock(), self.config.batch):
                for alert in batch:
                    try:
                        message_id = await self.sender.send(alert.chat, alert.html,
                                                            silent=alert.silent)
                    except SendError as exc:
                        if exc.permanent:
                            log.error("alert refused alert=%s chat=%s error=%s", alert.id,
                                      alert.chat, exc)
                            self.store.mark_failed(alert.id, str(exc))
                            failed += 1
                            continue
                        until = self._retry_at(alert, exc)
                        log.warning("alert send failed alert=%s chat=%s error=%s retry_at=%s",
                                    alert.id, alert.chat, exc, until.isoformat())
                        self.store.mark_retry(alert.id, str(exc), until)
                        if exc.retry_after is not None:
                            self.store.postpone_pending(alert.chat, until)
                        return DeliveryReport(sent, failed, 1, until)
                    self.store.mark_sent(alert.id, message_id, self.clock())
                    sent += 1
                    log.info("alert sent alert=%s chat=%s message_id=%s", alert.id,
                             alert.chat, message_id)
        return DeliveryReport(sent, failed)

    def _retry_at(self, alert: Alert, error: SendError) -> datetime:
        if error.retry_after is not None:
            delay = error.retry_after
        else:
            delay = min(self.config.retry_max, self.config.retry_base * 2 ** alert.attempts)
        return self.clock() + timedelta(seconds=delay)
