"""Long answers in pages, and the buttons that turn them: /recent, /hits, /search, /feeds."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.settings.durations import format_duration
from bot.storage.listings import FEEDS_WINDOW
from bot.telegram.commands.deps import CommandDeps, watchlist_names
from bot.telegram.commands.listing import feed_entry, listed_line, page_text, story_entry
from bot.telegram.commands.plumbing import reader_language, reply
from bot.telegram.deliver import MESSAGE_NOT_MODIFIED
from bot.telegram.html import escape
from bot.telegram.i18n import t

PAGE_SIZE = 5
RECENT_MAX = 50  # stories in /recent, and search results, at most
PAGED_QUERIES_KEPT = 500  # queries a button can still turn the page of; the oldest go first
CALLBACK_PREFIX = "pg"  # button data: "pg|<query key>|<page number>"
# A button's data as the bot writes it: prefix, query key, page number (a few ASCII digits).
BUTTON_RE = re.compile(r"pg\|([a-z]\d{1,10})\|([0-9]{1,6})")


class PageKind(StrEnum):
    """Which answer is paged; its value begins the query key in a button's data."""

    RECENT = "r"
    HITS = "h"
    SEARCH = "s"
    FEEDS = "f"


@dataclass(frozen=True)
class Page:
    """One page of a long answer, with where the buttons lead."""

    text: str
    number: int
    pages: int
    key: str  # identifies the query, for the next/previous buttons


class Pager:
    """Builds each page from the store and remembers the queries the buttons lead back to."""

    def __init__(self, deps: CommandDeps) -> None:
        self.deps = deps
        self.language = deps.config.telegram.language
        self.timezone = ZoneInfo(deps.config.timezone)
        self._queries: dict[str, tuple[PageKind, str]] = {}

    def page(self, kind: PageKind | str, argument: str, number: int, lang: str) -> Page:
        """Page ``number`` of a paged answer; ``argument`` is what the command was asked:
        the count for /recent, "<watchlist> <seconds>" for /hits, the words for /search."""
        kind = PageKind(kind)
        key = self._remember(kind, argument)
        if kind is PageKind.FEEDS:
            return self._feeds(number, lang, key)
        if kind is PageKind.SEARCH:
            return self._search(argument, number, lang, key)
        if kind is PageKind.HITS:
            return self._hits(argument, number, lang, key)
        return self._recent(int(argument), number, lang, key)

    async def send(self, message: Message, lang: str, page: Page) -> None:
        """Answer ``message`` with ``page`` and its buttons."""
        await reply(message, page.text, buttons(page, lang))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A next or previous button: edit the message to show that page."""
        query = update.callback_query
        if query is None or not query.data:
            return
        lang = reader_language(update, self.language)
        # Button data comes back from the client and may be forged: only the bot's own form
        # is read, and anything else is an expired list.
        found = BUTTON_RE.fullmatch(query.data)
        remembered = self._queries.get(found.group(1)) if found else None
        if found is None or remembered is None:
            await query.answer(t(lang, "cmd.expired"))
            return
        page = self.page(remembered[0], remembered[1], int(found.group(2)), lang)
        await query.answer()
        try:
            await query.edit_message_text(
                page.text, parse_mode=ParseMode.HTML, reply_markup=buttons(page, lang),
                link_preview_options=LinkPreviewOptions(is_disabled=True))
        except BadRequest as exc:
            if MESSAGE_NOT_MODIFIED not in str(exc).lower():  # the same page pressed twice
                raise

    def _recent(self, count: int, number: int, lang: str, key: str) -> Page:
        total = self.deps.store.count_stories(at_most=count)
        if not total:
            return Page(escape(t(lang, "recent.empty")), 1, 1, key)
        number, pages = _turn_to(number, total)
        size = min(PAGE_SIZE, total - (number - 1) * PAGE_SIZE)
        stories = self.deps.store.recent_stories(size, (number - 1) * PAGE_SIZE)
        names = watchlist_names(self.deps)
        entries = [story_entry(s, names, lang, self.timezone) for s in stories]
        header = t(lang, "recent.header_stories", count=total)
        return Page(page_text(header, entries, number, pages, lang), number, pages, key)

    def _hits(self, argument: str, number: int, lang: str, key: str) -> Page:
        watchlist_id, seconds = argument.split(" ")
        since = self.deps.clock() - timedelta(seconds=float(seconds))
        period = format_duration(float(seconds))
        total = self.deps.store.count_stories(watchlist=watchlist_id, since=since)
        names = watchlist_names(self.deps)
        name = names.get(watchlist_id, watchlist_id)
        if not total:
            return Page(escape(t(lang, "hits.empty", name=name, period=period)), 1, 1, key)
        number, pages = _turn_to(number, total)
        stories = self.deps.store.recent_stories(PAGE_SIZE, (number - 1) * PAGE_SIZE,
                                                 watchlist=watchlist_id, since=since)
        entries = [story_entry(s, names, lang, self.timezone) for s in stories]
        header = t(lang, "hits.header", name=name, count=total, period=period)
        return Page(page_text(header, entries, number, pages, lang), number, pages, key)

    def _search(self, words: str, number: int, lang: str, key: str) -> Page:
        found = self.deps.store.search(words, RECENT_MAX)
        number, pages = _turn_to(number, len(found))
        chunk = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        if not chunk:
            return Page(escape(t(lang, "search.empty", query=words)), 1, 1, key)
        header = t(lang, "search.header", query=words, count=len(found))
        entries = [listed_line(r.title, r.link, r.source, r.when, lang, self.timezone)
                   for r in chunk]
        return Page(page_text(header, entries, number, pages, lang), number, pages, key)

    def _feeds(self, number: int, lang: str, key: str) -> Page:
        health = self.deps.store.feed_health(self.deps.clock() - FEEDS_WINDOW)
        number, pages = _turn_to(number, len(health))
        entries = [feed_entry(feed, lang, self.timezone)
                   for feed in health[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]]
        header = t(lang, "feeds.header", count=len(health))
        return Page(page_text(header, entries, number, pages, lang), number, pages, key)

    def _remember(self, kind: PageKind, argument: str) -> str:
        # The kind's value, not the member, is hashed: keys read as they always have.
        key = f"{kind.value}{abs(hash((kind.value, argument))) % 10**10}"
        if len(self._queries) >= PAGED_QUERIES_KEPT:
            self._queries.pop(next(iter(self._queries)))
        self._queries[key] = (kind, argument)
        return key


def buttons(page: Page, lang: str) -> InlineKeyboardMarkup | None:
    """Previous and next buttons, as far as there are pages either side."""
    if page.pages <= 1:
        return None
    row = []
    if page.number > 1:
        row.append(InlineKeyboardButton(
            t(lang, "cmd.previous"),
            callback_data=f"{CALLBACK_PREFIX}|{page.key}|{page.number - 1}"))
    if page.number < page.pages:
        row.append(InlineKeyboardButton(
            t(lang, "cmd.next"),
            callback_data=f"{CALLBACK_PREFIX}|{page.key}|{page.number + 1}"))
    return InlineKeyboardMarkup([row])


def _turn_to(number: int, count: int) -> tuple[int, int]:
    """The page asked for, within the pages ``count`` entries fill (at least one), and how
    many pages there are."""
    pages = max(1, math.ceil(count / PAGE_SIZE))
    return min(max(1, number), pages), pages
