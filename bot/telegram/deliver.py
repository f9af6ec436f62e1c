"""The outbox to Telegram or the console: in order, retried with backoff, never dropped."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
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

from bot.errors import BotError
from bot.ops.metrics import NoMetrics, Recorder
from bot.settings.config import DeliveryConfig
from bot.storage.records import CONSOLE_CHAT, Alert
from bot.storage.store import Store
from bot.telegram.html import MAX_MESSAGE_UTF16, bold, visible_length
from bot.telegram.i18n import t
from bot.telegram.notices import alert_refused_notice

log = logging.getLogger(__name__)

MESSAGE_NOT_MODIFIED = "message is not modified"
# Calls are spaced a little wider than Telegram's limits, so that clock jitter on either
# side never turns the last allowed call into a 429.
PACING_MARGIN = 1.05  # an edit that changes nothing is not an error
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
    console: bool  # the console delivers its own outbox rows only, never Telegram's

    async def send(self, chat: str, text: str, *, silent: bool,
                   thread_id: int | None = None) -> int | None:
        """Send ``text`` (Telegram HTML); the message id, if the destination gives one."""
        ...

    async def edit(self, chat: str, message_id: int, text: str) -> None:
        """Replace the text of a message sent before."""
        ...

    async def send_photo(self, chat: str, png: bytes, caption: str, *,
                         thread_id: int | None = None) -> int | None:
        """Send a picture with a caption (Telegram HTML)."""
        ...


class ConsoleSender:
    """Prints each alert as plain text; what a new user sees before setting a token."""

    chat = CONSOLE_CHAT
    console = True

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._count = 0

    async def send(self, chat: str, text: str, *, silent: bool,
                   thread_id: int | None = None) -> int | None:
        self._count += 1
        self.stream.write(f"{_plain(text)}\n{'-' * 60}\n")
        self.stream.flush()
        return self._count

    async def edit(self, chat: str, message_id: int, text: str) -> None:
        self.stream.write(f"[update]\n{_plain(text)}\n{'-' * 60}\n")
        self.stream.flush()

    async def send_photo(self, chat: str, png: bytes, caption: str, *,
                         thread_id: int | None = None) -> int | None:
        self._count += 1
        self.stream.write(f"[picture, {len(png):,} bytes]\n{_plain(caption)}\n{'-' * 60}\n")
        self.stream.flush()
        return self._count


def _plain(text: str) -> str:
    linked = LINK_RE.sub(lambda m: f"{m.group(2)}\n{m.group(1)}", text)
    return html.unescape(TAG_RE.sub("", linked))


class TelegramSender:
    """Sends alerts through python-telegram-bot; turns its errors into SendError."""

    console = False

    def __init__(self, bot: Bot, chat: str, *, link_preview: bool) -> None:
        self.bot = bot
        self.chat = chat
        self.preview = LinkPreviewOptions(is_disabled=not link_preview)

    async def send(self, chat: str, text: str, *, silent: bool,
                   thread_id: int | None = None) -> int | None:
        with _telegram_errors():
            message = await self.bot.send_message(
                chat_id=chat, text=text, parse_mode=ParseMode.HTML,
                link_preview_options=self.preview, disable_notification=silent,
                message_thread_id=thread_id,
            )
        return message.message_id

    async def send_photo(self, chat: str, png: bytes, caption: str, *,
                         thread_id: int | None = None) -> int | None:
        with _telegram_errors():
            message = await self.bot.send_photo(
                chat_id=chat, photo=png, caption=caption, parse_mode=ParseMode.HTML,
                message_thread_id=thread_id)
        return message.message_id

    async def edit(self, chat: str, message_id: int, text: str) -> None:
        try:
            with _telegram_errors():
                await self.bot.edit_message_text(
                    text, chat_id=chat, message_id=message_id, parse_mode=ParseMode.HTML,
                    link_preview_options=self.preview,
                )
        except SendError as exc:
            if MESSAGE_NOT_MODIFIED not in str(exc).lower():
                raise


@contextmanager
def _telegram_errors() -> Iterator[None]:
    """python-telegram-bot's errors as SendError: permanent, or retry (after a pause)."""
    try:
        yield
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


class Pacer:
    """Spaces calls to Telegram: so many a minute per chat and so many a second in all."""

    def __init__(self, per_chat_per_minute: int, global_per_second: int,
                 monotonic: Callable[[], float], sleep: Callable[[float], Awaitable[None]]):
        self.chat_gap = PACING_MARGIN * 60.0 / per_chat_per_minute
        self.global_gap = PACING_MARGIN / global_per_second
        self.monotonic = monotonic
        self.sleep = sleep
        self._last_chat: dict[str, float] = {}
        self._last_any = -float("inf")

    def chat_interval(self) -> float:
        """Seconds between two calls to one chat."""
        return self.chat_gap

    async def wait(self, chat: str) -> None:
        """Sleep until a call to ``chat`` is allowed, then count it as made."""
        now = self.monotonic()
        ready = max(self._last_chat.get(chat, -float("inf")) + self.chat_gap,
                    self._last_any + self.global_gap)
        if ready > now:
            await self.sleep(ready - now)
            now = self.monotonic()
        self._last_chat[chat] = now
        self._last_any = now

@dataclass(frozen=True)
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    blocked_until: datetime | None = None


class Deliverer:
    """Drains the outbox oldest first, paced, one pass at a time.

    Each alert is marked sent, with its message id, as soon as Telegram accepts it: a crash
    can at worst repeat the one message in flight. When a chat's backlog would hold alerts
    back longer than ``max_hold``, its pending alerts go out together as digests.
    """

    def __init__(self, store: Store, sender: Sender, config: DeliveryConfig,
                 clock: Callable[[], datetime], pacer: Pacer | None, *, language: str,
                 admins: Sequence[int] = (), metrics: Recorder | None = None) -> None:
        self.store = store
        self.sender = sender
        self.config = config
        self.clock = clock
        self.pacer = pacer
        self.language = language
        # Notices for the admins; on the console, printed once there (and never left
        # waiting in the admins' chats, where a later run with a token would not expect them).
        self.admins = ((CONSOLE_CHAT,) if sender.console and admins
                       else tuple(str(a) for a in admins))
        self._lock = asyncio.Lock()
        self.sent_total = 0  # messages sent or edited since start, for the cycle summary
        self.metrics: Recorder = metrics or NoMetrics()
        self._reported: set[tuple[str, str]] = set()

    async def deliver_due(self) -> DeliveryReport:
        """Send and edit everything due until the outbox is empty or a transient error stops
        the pass (so that alerts keep their order); a permanent error fails that alert only."""
        sent = failed = 0
        async with self._lock:
            while batch := self.store.due_alerts(self.clock(), self.config.batch,
                                                 console=self.sender.console):
                for alert in batch:
                    if alert.message_id is None and alert.story_id is not None \
                            and self._backlog_too_long(alert.chat):
                        await self._send_digests(alert.chat)
                        break  # the batch changed: read the outbox again
                    await self._pace(alert.chat)
                    try:
                        message_id = await self._deliver(alert)
                    except SendError as exc:
                        if exc.permanent:
                            self._refused(alert, exc)
                            failed += 1
                            continue
                        until = self._retry_at(alert, exc)
                        log.warning("alert send failed alert=%s chat=%s error=%s retry_at=%s",
                                    alert.id, alert.chat, exc, until.isoformat())
                        self.store.mark_retry(alert.id, str(exc), until)
                        # Everything behind it for that chat waits too: alerts keep their order.
                        self.store.postpone_pending(alert.chat, until)
                        return DeliveryReport(sent, failed, 1, until)
                    self.store.mark_sent(alert, message_id, self.clock(), self._next_edit())
                    sent += 1
                    self.sent_total += 1
                    if alert.message_id is None:  # a new message, not an edit
                        self.metrics.alert_sent()
                    log.info("alert %s alert=%s chat=%s message_id=%s",
                             "edited" if alert.message_id else "sent", alert.id, alert.chat,
                             message_id or alert.message_id)
        return DeliveryReport(sent, failed)

    async def _deliver(self, alert: Alert) -> int | None:
        if alert.photo is not None:  # a picture is sent once, never edited
            return await self.sender.send_photo(alert.chat, alert.photo, alert.html,
                                                thread_id=alert.thread_id)
        if alert.message_id is not None:
            await self.sender.edit(alert.chat, alert.message_id, alert.html)
            return alert.message_id
        return await self.sender.send(alert.chat, alert.html, silent=alert.silent,
                                      thread_id=alert.thread_id)

    async def _pace(self, chat: str) -> None:
        if self.pacer is not None:  # the console has no flood limits
            await self.pacer.wait(chat)

    def _next_edit(self) -> datetime:
        return self.clock() + timedelta(seconds=self.config.edit_interval)

    def _backlog_too_long(self, chat: str) -> bool:
        backlog = self.store.pending_sends(chat, self.clock())
        return self.pacer is not None and \
            backlog * self.pacer.chat_interval() > self.config.max_hold

    async def _send_digests(self, chat: str) -> None:
        """Send every pending alert of ``chat`` packed into as few messages as fit."""
        alerts = [a for a in self.store.pending_alerts(chat, self.clock()) if a.story_id]
        for group, text in pack_digests(alerts, self.language):
            await self._pace(chat)
            try:
                message_id = await self.sender.send(chat, text, silent=all(
                    a.silent for a in group))
            except SendError as exc:
                log.warning("digest send failed chat=%s alerts=%d error=%s", chat, len(group),
                            exc)
                if exc.permanent:
                    for alert in group:
                        self._refused(alert, exc)
                    continue
                until = self._retry_at(group[0], exc)
                self.store.postpone_pending(chat, until)
                return
            for alert in group:
                self.store.mark_sent(alert, message_id, self.clock(), self._next_edit(),
                                     digest=True)
            self.sent_total += len(group)
            self.metrics.alert_sent(len(group))
            log.info("digest sent chat=%s alerts=%d message_id=%s", chat, len(group),
                     message_id)

    def _refused(self, alert: Alert, exc: SendError) -> None:
        log.error("alert refused alert=%s chat=%s error=%s", alert.id, alert.chat, exc)
        self.store.mark_failed(alert, str(exc))
        if alert.story_id is None:
            return  # a notice to admins that failed is not itself reported
        kind = str(exc).split(":", 1)[0]
        if (alert.chat, kind) in self._reported:
            return
        self._reported.add((alert.chat, kind))
        notice = alert_refused_notice(alert.chat, exc, self.language)
        for admin in self.admins:
            self.store.queue_message(admin, notice, self.clock())

    def _retry_at(self, alert: Alert, error: SendError) -> datetime:
        if error.retry_after is not None:
            self.metrics.rate_limited()
            delay = error.retry_after
        else:
            delay = min(self.config.retry_max, self.config.retry_base * 2 ** alert.attempts)
        return self.clock() + timedelta(seconds=delay)


def pack_digests(alerts: Sequence[Alert], language: str) -> list[tuple[list[Alert], str]]:
    """Alerts packed, in order, into messages within Telegram's limit, split between alerts."""
    messages: list[tuple[list[Alert], str]] = []
    group: list[Alert] = []

    def text(members: list[Alert]) -> str:
        header = bold(t(language, "digest.header", count=len(members)))
        return "\n\n".join([header, *(a.html for a in members)])

    for alert in alerts:
        if visible_length(text([alert])) > MAX_MESSAGE_UTF16:
            # An alert near the limit cannot carry the digest header: it goes as it is.
            if group:
                messages.append((group, text(group)))
                group = []
            messages.append(([alert], alert.html))
            continue
        if group and visible_length(text([*group, alert])) > MAX_MESSAGE_UTF16:
            messages.append((group, text(group)))
            group = []
        group.append(alert)
    if group:
        messages.append((group, text(group)))
    return messages
