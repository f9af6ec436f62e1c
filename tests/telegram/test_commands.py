"""Chat commands through the local Bot API, in French and English, for readers and admins."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.support.botapi import ApiCall, BotApiStandIn, SentMessage
from tests.support.botprocess import CHAT, TOKEN, bot_running
from tests.support.common import WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, rss_feed
from tests.support.pages import recent_page

ADMIN = 1001
NOW = datetime.now(UTC).replace(microsecond=0)


def story(n: int, title: str, summary: str, hours_ago: float = 1) -> dict[str, object]:
    return {"title": title, "link": f"https://news.example/{n}", "guid": f"urn:x:{n}",
            "summary": summary, "published": NOW - timedelta(hours=hours_ago)}


ITEMS = [
    story(1, "Le colonel Assimi Goïta reçoit les chefs de l'armée à Koulouba",
          "La rencontre a porté sur la sécurité dans le centre du pays.", hours_ago=0.5),
    story(2, "Wagner Group hands its last bases in Mali to Africa Corps",
          "The Russian paramilitaries left Tessalit on Sunday, officials said.", hours_ago=0.75),
    story(3, "Des drones Bayraktar TB2 livrés au Niger",
          "Le lot a été réceptionné à la base aérienne 101 de Niamey."),
    story(4, "Gao : les FAMa sécurisent la foire régionale",
          "Des patrouilles ont été déployées aux entrées de la ville."),
    *[story(10 + n, f"Tombouctou : les FAMa escortent le convoi numéro {n}",
            f"Le convoi {n} a rejoint la ville sans incident, selon l'armée.", hours_ago=2 + n)
      for n in range(8)],
    story(30, "Météo : la saison sèche s'installe à Dakar", "Rien à signaler."),
]


@dataclass
class Bot:
    """The running bot, its Bot API, its feed server and its files."""

    api: BotApiStandIn
    feeds: FeedServer
    watchlists: Path
    log: Path
    db: Path


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("commands")
    watchlists = tmp / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    with FeedServer() as feeds, BotApiStandIn(token=TOKEN) as api:
        feeds.route("/rss", rss_feed("Actu Sahel", ITEMS))
        feeds.route("/extra", rss_feed("Nouveau flux", ITEMS[:2]))
        feeds.route("/private/rss", rss_feed("", ITEMS[:1]))  # a feed without a title
        config = write_config(
            tmp, [{"name": "Actu Sahel", "url": feeds.url("/rss"), "lang": "fr"},
                  {"name": "Flux en panne", "url": feeds.url("/broken"), "lang": "fr"}],
            watchlists=watchlists, polling={"allow_private_feeds": "true"},
            telegram=f'chat = "{CHAT}"\napi_base_url = "{api.base_url}"\nadmins = [{ADMIN}]')
        feeds.route_status("/broken", 500)
        log = tmp / "bot.log"
        with bot_running(config, log, TOKEN):
            api.wait_for_sent(len(ITEMS) - 1, timeout=60)  # the alerts of the first poll
            api.wait_for_calls("deleteWebhook", 1, timeout=30)
            yield Bot(api, feeds, watchlists, log, tmp / "state" / "bot.db")


class Users:
    """A fresh user id for every exchange, so the rate limit is tested on purpose only."""

    next_id = 5000

    @classmethod
    def new(cls) -> int:
        cls.next_id += 1
        return cls.next_id


def ask(bot: Bot, text: str, *, lang: str = "fr", user: int | None = None,
        chat_type: str = "private", chat_id: int | None = None) -> SentMessage:
    """Send ``text`` as a user and return the bot's reply in that chat."""
    user = user or Users.new()
    target = chat_id if chat_id is not None else user
    before = len([m for m in bot.api.sent if m.chat_id == target])
    bot.api.push_message(text, user_id=user, language_code=lang, chat_type=chat_type,  # type: ignore[arg-type]
                         chat_id=chat_id)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        replies = [m for m in bot.api.sent if m.chat_id == target]
        if len(replies) > before:
            return replies[before]
        time.sleep(0.02)
    raise AssertionError(f"no reply to {text!r}; log:\n{bot.log.read_text()[-2000:]}")


def ask_feed(bot: Bot, text: str, *, lang: str = "fr") -> SentMessage:
    """An admin's /feed add: it says "checking…" at once, then the verdict; the verdict."""
    first = ask(bot, text, user=ADMIN, lang=lang)
    assert first.text in ("Vérification du flux…", "Checking the feed…"), first.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        replies = [m for m in bot.api.sent if m.chat_id == ADMIN]
        later = replies[replies.index(first) + 1:] if first in replies else []
        if later:
            return later[0]
        time.sleep(0.02)
    raise AssertionError(f"no verdict for {text!r}")


def test_help_in_both_languages(bot: Bot) -> None:
    assert "/recent [n] — dernières histoires signalées" in ask(bot, "/help").text
    assert "/search &lt;words&gt;" in ask(bot, "/start", lang="en").text


def test_commands_are_registered_in_both_languages(bot: Bot) -> None:
    french = [c["command"] for c in bot.api.commands_for("fr")]
    english = {c["command"]: c["description"] for c in bot.api.commands_for("en")}
    assert french == list(english) and "recent" in english
    assert english["recent"] == "Latest flagged stories"


def test_recent_lists_stories_newest_first_with_links_and_outlets(bot: Bot) -> None:
    reply = ask(bot, "/recent 3", lang="en")
    assert "Latest flagged stories (3)" in reply.text
    first = reply.text.index("Assimi Goïta reçoit")
    assert '<a href="https://news.example/1">' in reply.text
    assert first < reply.text.index("Wagner Group hands")
    assert "Actu Sahel" in reply.text
    assert "Météo" not in reply.text


def test_recent_in_a_group_with_the_bot_name(bot: Bot) -> None:
    reply = ask(bot, "/recent@sahel_watch_bot 1", chat_type="group", chat_id=-4242)
    assert "Dernières histoires signalées (1)" in reply.text


def test_long_answers_page_with_buttons(bot: Bot) -> None:
    user = Users.new()
    reply = ask(bot, "/recent 12", user=user, lang="en")
    assert "page 1/3" in reply.text
    [[button]] = reply.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert button["text"] == "Next ▶"
    edits = len(bot.api.edits)
    bot.api.push_callback_query(button["callback_data"], reply.message_id, user, user,
                                language_code="en")
    deadline = time.monotonic() + 10
    while len(bot.api.edits) == edits and time.monotonic() < deadline:
        time.sleep(0.02)
    edit = bot.api.edits[-1]
    assert "page 2/3" in edit.text and edit.message_id == reply.message_id
    labels = [b["text"] for b in edit.reply_markup["inline_keyboard"][0]]  # type: ignore[index]
    assert labels == ["◀ Previous", "Next ▶"]


def press(bot: Bot, data: str, message_id: int, chat: int, by: int | None = None) -> ApiCall:
    """Press a button with ``data`` (in ``chat``, by ``by``, its owner by default); the
    bot's answerCallbackQuery call."""
    answers = len([c for c in bot.api.calls if c.method == "answerCallbackQuery"])
    bot.api.push_callback_query(data, message_id, chat, by or chat, language_code="en")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        calls = [c for c in bot.api.calls if c.method == "answerCallbackQuery"]
        if len(calls) > answers:
            return calls[answers]
        time.sleep(0.02)
    raise AssertionError(f"no answer to {data!r}; log:\n{bot.log.read_text()[-2000:]}")


def test_forged_or_repeated_buttons_get_an_answer_and_no_traceback(bot: Bot) -> None:
    user = Users.new()
    reply = ask(bot, "/recent 12", user=user, lang="en")
    [[button]] = reply.reply_markup["inline_keyboard"]  # type: ignore[index]
    key = button["callback_data"].split("|")[1]
    for data in ["pg|x", f"pg|{key}|abc", f"pg|{key}|2|9", f"pg|{key}|" + "9" * 5000,
                 "pg|zz|2", f"pg|{key}|²"]:
        answer = press(bot, data, reply.message_id, user, by=ADMIN)  # no rate limit
        assert "expired" in str(answer.params.get("text")), data
    edits = len(bot.api.edits)
    for _ in range(2):  # the same page twice: Telegram says "message is not modified"
        press(bot, button["callback_data"], reply.message_id, user, by=ADMIN)
    assert len(bot.api.edits) == edits + 1
    log = bot.log.read_text(encoding="utf-8")
    assert "Traceback" not in log and "telegram handler failed" not in log


def test_buttons_count_against_the_rate_limit(bot: Bot) -> None:
    user = Users.new()
    reply = ask(bot, "/recent 12", user=user, lang="en")
    [[button]] = reply.reply_markup["inline_keyboard"]  # type: ignore[index]
    edits = len(bot.api.edits)
    answers = [press(bot, button["callback_data"], reply.message_id, user) for _ in range(12)]
    assert len(bot.api.edits) - edits <= 6  # the commands' budget, shared with /recent
    assert any("wait a few seconds" in str(a.params.get("text")) for a in answers)


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("/recent 500", "fr", "Indiquez un nombre entre 1 et 50"),
    ("/recent ²", "fr", "Indiquez un nombre entre 1 et 50"),
    ("/recent ①", "en", "from 1 to 50"),
    ("/hits", "en", "Usage: /hits"),
    ("/hits nope", "fr", "Liste inconnue : « nope ». Listes : canik-academy"),
    ("/hits wagner 5y", "en", "Invalid period: “5y”"),
    ("/hits wagner 400d", "fr", "90 jours au plus"),
    ("/search", "fr", "Usage : /search"),
    ("/search ???", "en", "Usage: /search"),
    ("/stats forever", "en", "Invalid period"),
])
def test_bad_arguments_get_short_helpful_answers(bot: Bot, text: str, lang: str,
                                                 expected: str) -> None:
    assert expected in ask(bot, text, lang=lang).text


def test_hits_for_one_watchlist_over_a_period(bot: Bot) -> None:
    reply = ask(bot, "/hits wagner 24h", lang="en")
    assert "Wagner / Africa Corps — 1 story(ies) in the last 1d" in reply.text
    assert "Wagner Group hands" in reply.text
    assert "Bayraktar" not in reply.text


def test_search_is_accent_insensitive_best_first(bot: Bot) -> None:
    reply = ask(bot, "/search goita koulouba")
    assert "Résultats pour « goita koulouba » (1)" in reply.text
    assert "Assimi Goïta reçoit" in reply.text
    assert "Aucun article" in ask(bot, "/search zanzibar").text


def test_watchlists_and_feeds(bot: Bot) -> None:
    reply = ask(bot, "/watchlists", lang="en")
    assert "<b>Bayraktar TB2</b> (<code>tb2</code>)" in reply.text
    assert "story(ies) in 7 days" in reply.text
    feeds = ask(bot, "/feeds").text
    assert feeds.index("Flux en panne") < feeds.index("Actu Sahel")  # failing feeds first
    assert "❌" in feeds or "⚠️" in feeds
    assert "http-500" in feeds
    assert "<b>Actu Sahel</b> · RSS" in feeds  # what its body was read as


def test_stats_sends_a_real_png_with_totals(bot: Bot) -> None:
    before = len(bot.api.photos)
    user = Users.new()
    bot.api.push_message("/stats 7d", user_id=user, language_code="en")
    deadline = time.monotonic() + 30
    while len(bot.api.photos) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    photo = bot.api.photos[-1]
    assert photo.data is not None
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "PNG" and image.width > 500
    assert photo.caption is not None and "Flagged stories per day, 7d:" in photo.caption
    assert "FAMa: 9" in photo.caption


def test_a_user_who_sends_too_fast_is_slowed_politely(bot: Bot) -> None:
    user = Users.new()
    for _ in range(6):
        ask(bot, "/help", user=user)
    assert "Doucement" in ask(bot, "/help", user=user).text


@pytest.mark.parametrize("command", ["/watch add fama Kati", "/watch test Goïta",
                                     "/mute wagner 1h", "/unmute wagner",
                                     "/feed remove Actu Sahel", "/feed add https://x.example/"])
@pytest.mark.parametrize("chat_type", ["private", "group"])
def test_admin_commands_refuse_everyone_else(bot: Bot, command: str, chat_type: str) -> None:
    chat_id = -777 if chat_type == "group" else None
    reply = ask(bot, command, lang="en", chat_type=chat_type, chat_id=chat_id)
    assert reply.text == "Sorry, this command is for the bot's maintainers only."
    assert "command refused user=" in bot.log.read_text(encoding="utf-8")


def test_watch_add_test_and_remove_change_the_file_and_apply_at_once(bot: Bot) -> None:
    path = bot.watchlists / "goita.toml"
    before = path.read_text(encoding="utf-8")
    reply = ask(bot, "/watch add goita Colonel Assimi", user=ADMIN)
    assert "Terme « Colonel Assimi » ajouté à Assimi Goïta" in reply.text
    after = path.read_text(encoding="utf-8")
    assert '"Colonel Assimi"' in after and after.startswith(before.split("terms")[0])
    explained = ask(bot, "/watch test le colonel assimi est arrivé", user=ADMIN, lang="en")
    assert "Assimi Goïta: “colonel assimi” matches term “Colonel Assimi”" in explained.text
    # A term found that does not count says why, in the user's language.
    person = ask(bot, "/watch test UN official Markus Wagner visits Gao", user=ADMIN,
                 lang="en")
    assert "“Wagner” does not count as term “Wagner”" in person.text
    assert "(“Markus” beside it), no organisation named" in person.text
    assert "No watchlist matches this text." in person.text
    personne = ask(bot, "/watch test Markus Wagner, officier allemand, à Gao", user=ADMIN)
    assert "« Wagner » ne compte pas pour le terme « Wagner »" in personne.text
    assert "« Markus » à côté" in personne.text
    refused = ask(bot, "/watch add goita colonel assimi", user=ADMIN)
    assert "Modification refusée" in refused.text
    removed = ask(bot, "/watch remove goita Colonel Assimi", user=ADMIN)
    assert "retiré" in removed.text
    assert path.read_text(encoding="utf-8") == before
    import sqlite3
    with sqlite3.connect(bot.db) as db:
        actions = [r[0] for r in db.execute(
            "SELECT action FROM audit WHERE user_id = ? ORDER BY id", [ADMIN])]
    assert actions[:2] == ["watch.add", "watch.remove"]


def test_a_forwarded_command_is_never_run(bot: Bot) -> None:
    """A stranger's "/mute", forwarded by an admin, is a quotation, not an order."""
    stranger = Users.new()
    before = len(bot.api.sent)
    bot.api.push_message("/mute wagner 90d", user_id=ADMIN, language_code="en",
                         forwarded_from=stranger)
    bot.api.push_message("/recent", user_id=stranger, language_code="en", forwarded_from=ADMIN)
    ask(bot, "/help", user=ADMIN, lang="en")  # updates are answered in order: both are done
    assert len(bot.api.sent) == before + 1  # the /help answer only: no reply to forwards
    import sqlite3
    with sqlite3.connect(bot.db) as db:
        assert not db.execute("SELECT * FROM mutes WHERE watchlist = 'wagner'").fetchall()


def test_mute_and_unmute(bot: Bot) -> None:
    reply = ask(bot, "/mute tb2 2h", user=ADMIN, lang="en")
    assert "Bayraktar TB2 muted until" in reply.text
    assert "🔇 muted until" in ask(bot, "/watchlists", lang="en").text
    assert "no longer muted" in ask(bot, "/unmute tb2", user=ADMIN, lang="en").text


def test_feed_add_checks_the_feed_first_and_remove_stops_it(bot: Bot) -> None:
    refused = ask_feed(bot, "/feed add ftp://files.example/feed", lang="en")
    assert "Address refused" in refused.text
    for url in ("http://127.0.0.1:99999/rss", "http://[::1/x", "https://[fe80::1%eth0/x"):
        assert "Address refused" in ask_feed(bot, f"/feed add {url}", lang="en").text
    broken = ask_feed(bot, f"/feed add {bot.feeds.url('/broken')}", lang="en")
    assert "could not be read" in broken.text and "http-500" in broken.text
    added = ask_feed(bot, f"/feed add {bot.feeds.url('/extra')} Nouveau flux")
    assert "Flux « Nouveau flux » ajouté : 2 articles, dont 2 auraient été signalés." in (
        added.text)
    assert "Nouveau flux" in ask(bot, "/feeds").text
    assert "retiré" in ask(bot, "/feed remove Nouveau flux", user=ADMIN).text
    assert "Aucun flux actif" in ask(bot, "/feed remove Nouveau flux", user=ADMIN).text


def test_feed_add_takes_a_public_channel_page(bot: Bot) -> None:
    bot.feeds.route("/s/sahelveille", recent_page(), content_type="text/html; charset=utf-8")
    added = ask_feed(bot, f"/feed add {bot.feeds.url('/s/sahelveille')}", lang="en")
    assert "Sahel Veille" in added.text and "4 items" in added.text, added.text
    deadline = time.monotonic() + 15  # a poll or two of the new feed
    while "feed polled feed=Sahel Veille" not in bot.log.read_text() \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "<b>Sahel Veille</b> · Telegram channel" in ask(bot, "/feeds", lang="en").text
    ask(bot, "/feed remove Sahel Veille", user=ADMIN)


def test_a_feed_address_with_a_password_never_shows_it(bot: Bot) -> None:
    url = bot.feeds.url("/private/rss").replace("://", "://reader:s3cret-pw@", 1)
    added = ask_feed(bot, f"/feed add {url}", lang="en")
    assert "127.0.0.1/private/rss" in added.text and "s3cret" not in added.text
    deadline = time.monotonic() + 15  # a poll or two of the new feed
    while "feed polled feed=127.0.0.1/private/rss" not in bot.log.read_text() \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    listed = ask(bot, "/feeds", lang="en")
    assert "127.0.0.1/private/rss" in listed.text and "s3cret" not in listed.text
    assert "feed polled feed=127.0.0.1/private/rss" in bot.log.read_text()
    assert "s3cret" not in bot.log.read_text()
    ask(bot, "/feed remove 127.0.0.1/private/rss", user=ADMIN)


def test_a_slow_feed_check_does_not_hold_up_other_commands(bot: Bot) -> None:
    bot.feeds.route("/slow", rss_feed("Lent", ITEMS[:1]), delay=4)
    first = ask(bot, f"/feed add {bot.feeds.url('/slow')} Lent", user=ADMIN, lang="en")
    assert first.text == "Checking the feed…"
    started = time.monotonic()
    assert "/recent" in ask(bot, "/help", lang="en").text  # answered during the check
    assert time.monotonic() - started < 3
    verdict = [m for m in bot.api.wait_for_sent(len(bot.api.sent) + 1, timeout=30)
               if m.chat_id == ADMIN][-1]
    assert "Feed “Lent” added" in verdict.text
    ask(bot, "/feed remove Lent", user=ADMIN)


def test_a_reply_answered_429_is_sent_again_after_the_wait(bot: Bot) -> None:
    bot.api.fail_next(1, status=429, retry_after=1, method="sendMessage")
    started = time.monotonic()
    reply = ask(bot, "/help", lang="en")  # the first try was refused: this is the second
    assert "/recent" in reply.text and time.monotonic() - started >= 1


def test_arguments_have_a_length_limit(bot: Bot) -> None:
    reply = ask(bot, "/search " + "mot " * 200, lang="en")
    assert reply.text == "Argument too long (at most 300 characters)."
