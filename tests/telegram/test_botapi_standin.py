"""Tests for the local Bot API stand-in, driven by python-telegram-bot's own Bot and Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.support.botapi import BotApiStandIn

TOKEN = "123456:ABC-sahel-test"
CHANNEL = "@sahel_alerts"
T = TypeVar("T")


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with BotApiStandIn(token=TOKEN) as standin:
        yield standin


def make_bot(api: BotApiStandIn, token: str = TOKEN) -> Bot:
    return Bot(
        token,
        base_url=api.base_url + "/bot",
        request=HTTPXRequest(read_timeout=2.0, connect_timeout=1.0),
        get_updates_request=HTTPXRequest(read_timeout=2.0, connect_timeout=1.0),
    )


def run(api: BotApiStandIn, scenario: Callable[[Bot], Coroutine[Any, Any, T]]) -> T:
    """Run ``scenario`` with an initialised PTB Bot pointed at the stand-in."""

    async def main() -> T:
        async with make_bot(api) as bot:
            return await scenario(bot)

    return asyncio.run(main())


# PTB 22 warns (already inside RetryAfter.__init__) that retry_after will become a timedelta.
tolerates_retry_after_int = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


def retry_after_seconds(error: RetryAfter) -> float:
    """PTB 22 gives an int, or a timedelta when PTB_TIMEDELTA=true."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def test_get_me_describes_the_bot(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        me = await bot.get_me()
        assert me.id == 123456
        assert me.is_bot
        assert me.username == "sahel_watch_bot"
        assert me.can_join_groups is True

    run(api, scenario)
    assert [call.method for call in api.calls] == ["getMe", "getMe"]  # initialize + explicit


def test_send_message_with_html_is_recorded(api: BotApiStandIn) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Source", url="https://rfi.fr/a")]])

    async def scenario(bot: Bot) -> None:
        first = await bot.send_message(
            CHANNEL,
            "<b>Mali</b> &amp; <a href=\"https://rfi.fr/a\">Niger</a>: accord",
            parse_mode=ParseMode.HTML,
            disable_notification=True,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_markup=keyboard,
        )
        assert first.message_id == 1
        assert first.text == "Mali & Niger: accord"
        assert [(e.type, e.offset, e.length) for e in first.entities] == [
            ("bold", 0, 4), ("text_link", 7, 5)
        ]
        assert first.chat.type == "channel" and first.chat.username == "sahel_alerts"
        assert first.sender_chat is not None and first.from_user is None  # a channel post
        assert first.reply_markup == keyboard
        second = await bot.send_message(-1001234, "deuxième")
        assert second.message_id == 1  # ids count per chat
        third = await bot.send_message(CHANNEL, "troisième")
        assert third.message_id == 2

    run(api, scenario)
    first, second, third = api.sent
    assert first.chat_id == CHANNEL and second.chat_id == -1001234
    assert first.parse_mode == "HTML" and second.parse_mode is None
    assert first.disable_notification is True and second.disable_notification is False
    assert first.link_preview_options == {"is_disabled": True}
    assert first.reply_markup == {"inline_keyboard": [[{"text": "Source", "url": "https://rfi.fr/a"}]]}
    assert first.plain_text == "Mali & Niger: accord"
    assert third.received_at >= first.received_at


@pytest.mark.parametrize(
    "text",
    ["<b>unclosed", "<div>x</div>", "Tom & Jerry", "1 < 2", "<b>x</i>", "&nbsp;", "x</b>"],
)
def test_invalid_html_is_rejected(api: BotApiStandIn, text: str) -> None:
    async def scenario(bot: Bot) -> None:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(CHANNEL, text, parse_mode=ParseMode.HTML)

    run(api, scenario)
    assert api.sent == []
    assert api.calls[-1].status == 400


def test_length_limit_counts_utf16_code_units(api: BotApiStandIn) -> None:
    emoji_4096 = "😀" * 2048  # 2048 code points, 4096 UTF-16 units

    async def scenario(bot: Bot) -> None:
        await bot.send_message(CHANNEL, emoji_4096)
        await bot.send_message(CHANNEL, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
        await bot.send_message(CHANNEL, "&amp;" * 4096, parse_mode="HTML")
        for too_long in (emoji_4096 + "a", "a" * 4097):
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await bot.send_message(CHANNEL, too_long)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(CHANNEL, "<b> </b>", parse_mode="HTML")

    run(api, scenario)
    assert len(api.sent) == 3


@tolerates_retry_after_int
def test_injected_429_raises_retry_after(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        api.fail_next(1, status=429, retry_after=3)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHANNEL, "flood")
        assert retry_after_seconds(caught.value) == 3
        await bot.send_message(CHANNEL, "retried")

    run(api, scenario)
    assert api.count_429 == 1
    assert [m.text for m in api.sent] == ["retried"]


@pytest.mark.parametrize("status", [500, 502])
def test_server_errors_raise_network_error(api: BotApiStandIn, status: int) -> None:
    async def scenario(bot: Bot) -> None:
        api.fail_next(1, status=status)
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(CHANNEL, "x")
        assert type(caught.value) is NetworkError  # not BadRequest / TimedOut subclasses
        await bot.send_message(CHANNEL, "ok")

    run(api, scenario)
    assert [m.text for m in api.sent] == ["ok"]


def test_fail_next_can_target_one_method(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        api.fail_next(2, status=500, method="SendMessage")
        await bot.get_me()
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_message(CHANNEL, "x")
        await bot.send_message(CHANNEL, "ok")

    run(api, scenario)
    assert [(c.method, c.status) for c in api.calls[1:]] == [
        ("getMe", 200), ("sendMessage", 500), ("sendMessage", 500), ("sendMessage", 200)
    ]


def test_forbidden_chat_raises_forbidden(api: BotApiStandIn) -> None:
    api.forbid_chat(CHANNEL)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(Forbidden, match="bot is not a member of the channel chat"):
            await bot.send_message(CHANNEL, "x")
        await bot.send_message("@other_channel", "ok")
        api.forbid_chat(42)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(42, "x")

    run(api, scenario)
    assert [m.chat_id for m in api.sent] == ["@other_channel"]


def test_edit_message_text(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        sent = await bot.send_message(CHANNEL, "<i>brouillon</i>", parse_mode="HTML")
        edited = await bot.edit_message_text("<b>final</b>", CHANNEL, sent.message_id,
                                             parse_mode="HTML")
        assert not isinstance(edited, bool)
        assert edited.text == "final" and edited.edit_date is not None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("<strong>final</strong>", CHANNEL, sent.message_id,
                                        parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", CHANNEL, 999)

    run(api, scenario)
    assert [(e.chat_id, e.message_id, e.text, e.plain_text) for e in api.edits] == [
        (CHANNEL, 1, "<b>final</b>", "final")
    ]


def test_get_updates_honours_offset_and_limit(api: BotApiStandIn) -> None:
    ids = [api.push_message(f"msg {i}")["update_id"] for i in range(3)]

    async def scenario(bot: Bot) -> None:
        assert [u.update_id for u in await bot.get_updates()] == ids
        assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]
        assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
        assert [u.update_id for u in await bot.get_updates()] == ids[1:]  # id 1 confirmed
        assert await bot.get_updates(offset=ids[-1] + 1) == ()

    run(api, scenario)


def test_long_poll_returns_early_when_an_update_arrives(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        threading.Timer(0.2, api.push_message, args=("réveil",)).start()
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        assert time.monotonic() - started < 1.5
        assert [u.message.text for u in updates if u.message] == ["réveil"]

    run(api, scenario)


def test_long_poll_returns_when_the_server_stops(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        threading.Timer(0.2, api.stop).start()
        started = time.monotonic()
        assert await bot.get_updates(timeout=5) == ()
        assert time.monotonic() - started < 1.5

    run(api, scenario)


def test_newer_get_updates_terminates_older_long_poll(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        older = asyncio.create_task(bot.get_updates(timeout=5))
        api.wait_for_calls("getMe", 1)
        await asyncio.sleep(0.2)
        await bot.get_updates(timeout=0)
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await older

    run(api, scenario)


def test_application_command_handler_replies(api: BotApiStandIn) -> None:
    received: list[list[str]] = []

    async def recent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        args = list(context.args or [])
        received.append(args)
        await update.effective_message.reply_text(f"Les {args[0]} dernières alertes")

    async def main() -> None:
        app = Application.builder().token(TOKEN).base_url(api.base_url + "/bot").build()
        app.add_handler(CommandHandler("recent", recent))
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            api.push_message("/recent@other_bot 9", chat_type="group", language_code="en")
            api.push_message("/recent@sahel_watch_bot 5", chat_type="group", language_code="en")
            await asyncio.to_thread(api.wait_for_sent, 1, 5.0)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()

    asyncio.run(main())
    assert received == [["5"]]
    (reply,) = api.sent
    assert reply.chat_id == -1001 and reply.text == "Les 5 dernières alertes"
    methods = {call.method for call in api.calls}
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= methods


@tolerates_retry_after_int
def test_enforced_rate_limit_per_chat_with_real_clock(api: BotApiStandIn) -> None:
    api.enforce_rate_limits(per_chat_per_minute=20)

    async def scenario(bot: Bot) -> None:
        for i in range(20):
            await bot.send_message(CHANNEL, f"alerte {i}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHANNEL, "alerte 21")
        assert 55 <= retry_after_seconds(caught.value) <= 60
        await bot.send_message("@another_channel", "still fine")

    run(api, scenario)
    assert api.count_429 == 1
    assert len(api.sent) == 21


@tolerates_retry_after_int
def test_enforced_rate_limits_slide_with_the_clock(api: BotApiStandIn) -> None:
    now = [0.0]
    api.enforce_rate_limits(per_chat_per_minute=20, global_per_second=30, clock=lambda: now[0])

    async def scenario(bot: Bot) -> None:
        for _ in range(20):
            await bot.send_message(CHANNEL, "x")
            now[0] += 1.0
        with pytest.raises(RetryAfter) as caught:  # at t=20 the first send (t=0) expires at 60
            await bot.send_message(CHANNEL, "x")
        assert retry_after_seconds(caught.value) == 40
        now[0] = 60.0
        await bot.send_message(CHANNEL, "window slid")
        now[0] = 100.0
        for chat in range(30):
            await bot.send_message(-100_000 - chat, "burst")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(-999, "31st this second")
        assert retry_after_seconds(caught.value) == 1

    run(api, scenario)
    assert api.count_429 == 2


def test_wrong_token_is_rejected(api: BotApiStandIn) -> None:
    async def main() -> None:
        with pytest.raises(InvalidToken):
            async with make_bot(api, token="999:WRONG"):
                pass

    asyncio.run(main())
    assert [(c.method, c.status) for c in api.calls] == [("getMe", 401)]


def test_send_photo_stores_uploaded_bytes(api: BotApiStandIn) -> None:
    image = b"\x89PNG\r\n\x1a\n\x00\r\n--not-a-boundary\r\n" + bytes(range(256))

    async def scenario(bot: Bot) -> None:
        message = await bot.send_photo(CHANNEL, image, caption="<b>Carte</b> du Sahel",
                                       parse_mode="HTML", filename="carte.png")
        assert message.caption == "Carte du Sahel" and message.photo
        await bot.send_photo(CHANNEL, "https://example.org/carte.png")

    run(api, scenario)
    uploaded, by_url = api.photos
    assert uploaded.data == image
    assert (uploaded.file_name, uploaded.mime_type) == ("carte.png", "image/png")
    assert uploaded.caption == "<b>Carte</b> du Sahel"
    assert by_url.data is None and by_url.reference == "https://example.org/carte.png"


def test_delayed_reply_times_out_but_message_is_delivered(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        api.delay_next(1, 1.0, method="sendMessage")
        with pytest.raises(TimedOut):
            await bot.send_message(CHANNEL, "lent", read_timeout=0.2)

    run(api, scenario)
    assert [m.text for m in api.sent] == ["lent"]


def test_raw_http_json_get_and_error_envelopes(api: BotApiStandIn) -> None:
    with httpx.Client(base_url=api.base_url, trust_env=False, timeout=2.0) as client:
        reply = client.post(f"/bot{TOKEN}/SENDMESSAGE", json={"chat_id": 7, "text": "json"})
        assert reply.json()["result"]["text"] == "json"
        reply = client.get(f"/bot{TOKEN}/sendMessage", params={"chat_id": "@q", "text": "get"})
        assert reply.json()["ok"] is True
        assert client.get(f"/bot{TOKEN}/getme").json()["result"]["username"] == "sahel_watch_bot"
        unknown = client.post(f"/bot{TOKEN}/sendTelepathy")
        assert (unknown.status_code, unknown.json()) == (
            404, {"ok": False, "error_code": 404, "description": "Not Found"}
        )
        wrong = client.post("/bot1:nope/getMe")
        assert (wrong.status_code, wrong.json()) == (
            401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        )
        api.fail_next(1, status=429, retry_after=7)
        flood = client.post(f"/bot{TOKEN}/sendMessage", data={"chat_id": "1", "text": "x"})
        assert flood.json() == {
            "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    assert [(m.chat_id, m.text) for m in api.sent] == [(7, "json"), ("@q", "get")]
    assert api.calls[0].params == {"chat_id": 7, "text": "json"}


def test_commands_are_stored_per_language_and_scope(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        await bot.set_my_commands([BotCommand("recent", "Dernières alertes")], language_code="fr")
        await bot.set_my_commands([BotCommand("recent", "Latest alerts")],
                                  scope=BotCommandScopeAllPrivateChats(), language_code="en")
        french = await bot.get_my_commands(language_code="fr")
        assert [(c.command, c.description) for c in french] == [("recent", "Dernières alertes")]
        assert await bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Bad Name", "x")])

    run(api, scenario)
    assert api.commands_for("fr") == [{"command": "recent", "description": "Dernières alertes"}]
    assert api.commands_for("en", scope={"type": "all_private_chats"})[0]["description"] == (
        "Latest alerts"
    )


def test_callback_query_round_trip(api: BotApiStandIn) -> None:
    async def scenario(bot: Bot) -> None:
        sent = await bot.send_message(
            42, "Suivre ?", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Oui", callback_data="follow:mali")]]
            )
        )
        assert sent.chat.type == "private" and sent.from_user == await bot.get_me()
        api.push_callback_query("follow:mali", sent.message_id, 42, user_id=7, language_code="en")
        (update,) = await bot.get_updates()
        query = update.callback_query
        assert query is not None and query.data == "follow:mali"
        assert query.from_user.language_code == "en"
        assert query.message is not None and query.message.message_id == sent.message_id
        assert await bot.answer_callback_query(query.id, text="Suivi activé")
        with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
            await bot.answer_callback_query(query.id)

    run(api, scenario)
    (answer,) = api.wait_for_calls("answerCallbackQuery", 2)[:1]
    assert answer.params["text"] == "Suivi activé"


def test_wait_for_sent_reports_what_arrived(api: BotApiStandIn) -> None:
    with pytest.raises(AssertionError, match="expected 1 sent message"):
        api.wait_for_sent(1, timeout=0.05)
