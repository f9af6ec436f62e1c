"""End to end: ``python -m bot run`` as a subprocess against a local feed server and Bot API."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.botapi import BotApiStandIn
from tests.support.botprocess import (
    CHAT,
    DRONE_ITEM,
    GOITA_ITEM,
    QUIET_ITEM,
    TOKEN,
    WAGNER_ITEM,
    WHEN,
    bot_env,
    bot_running,
    run_bot,
    telegram_section,
)
from tests.support.common import ROOT, SECRET_TOKENS, WATCHLISTS, write_config
from tests.support.feedserver import FeedServer, atom_feed, rss_feed


def test_without_token_alerts_are_printed_once(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/rss", rss_feed("Local", [GOITA_ITEM, QUIET_ITEM]), etag='"1"')
    config = write_config(tmp_path, [{"name": "Local news", "url": feed_server.url("/rss"),
                                      "lang": "fr"}])
    first = run_bot(config, "--once")
    assert first.returncode == 0, first.stderr
    assert "Assimi Goïta" in first.stdout
    assert "le colonel Assimi Goita" in first.stdout
    assert "https://news.example/afrique/goita-instructeurs?utm_source=rss" in first.stdout
    assert "Termes : «Assimi Goita» (titre), «FAMa» (résumé)" in first.stdout
    assert "pluies" not in first.stdout
    assert "no TELEGRAM_BOT_TOKEN" in first.stderr
    second = run_bot(config, "--once")
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert "not_modified=1" in second.stderr


def test_alerts_reach_telegram_once_across_feeds_and_runs(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn) -> None:
    republished = dict(GOITA_ITEM, guid="other-outlet-42",
                       link="http://www.news.example/afrique/goita-instructeurs/#top")
    feed_server.route("/fr", rss_feed("Actu FR", [GOITA_ITEM, QUIET_ITEM]))
    feed_server.route("/en", atom_feed("News EN", [WAGNER_ITEM, DRONE_ITEM]))
    feed_server.route("/copy", rss_feed("Reprise", [republished]))
    config = write_config(tmp_path, [
        {"name": "Actu FR", "url": feed_server.url("/fr"), "lang": "fr"},
        {"name": "News EN", "url": feed_server.url("/en"), "lang": "en"},
        {"name": "Reprise", "url": feed_server.url("/copy"), "lang": "fr"},
    ], telegram=telegram_section(api))
    first = run_bot(config, "--once", token=TOKEN)
    assert first.returncode == 0, first.stderr
    sent = api.sent
    assert len(sent) == 3, [m.text for m in sent]
    # Goïta and Wagner are high-priority watchlists and notify; TB2 alone arrives silently.
    silent = {m.text.splitlines()[0]: m.disable_notification for m in sent}
    assert silent == {"🔔 <b>Assimi Goïta</b> · <b>FAMa</b>": False,
                      "🔔 <b>Wagner / Africa Corps</b>": False, "🔔 <b>Bayraktar TB2</b>": True}
    assert {m.chat_id for m in sent} == {CHAT}
    assert all(m.parse_mode == "HTML" for m in sent)
    texts = "\n".join(m.text for m in sent)
    assert '<a href="https://news.example/afrique/goita-instructeurs?utm_source=rss">' in texts
    assert "<b>Wagner / Africa Corps</b>" in texts
    assert first.stdout == ""
    second = run_bot(config, "--once", token=TOKEN)
    assert second.returncode == 0, second.stderr
    assert len(api.sent) == 3
    assert TOKEN not in first.stderr + second.stderr


def test_failing_feeds_do_not_stop_the_others(tmp_path: Path, feed_server: FeedServer,
                                              api: BotApiStandIn) -> None:
    feed_server.route("/good", rss_feed("Good", [GOITA_ITEM]))
    feed_server.route_status("/broken", 500)
    feed_server.route("/html", "<html><body>Maintenance</body></html>",
                      content_type="text/html")
    feed_server.route_slow_drip("/slow", total_bytes=1_000_000, bytes_per_second=500)
    feed_server.route_huge("/huge", 300_000_000)
    config = write_config(tmp_path, [
        {"name": "Broken", "url": feed_server.url("/broken"), "lang": "fr"},
        {"name": "Not a feed", "url": feed_server.url("/html"), "lang": "fr"},
        {"name": "Slow", "url": feed_server.url("/slow"), "lang": "fr"},
        {"name": "Huge", "url": feed_server.url("/huge"), "lang": "fr"},
        {"name": "Good", "url": feed_server.url("/good"), "lang": "fr"},
    ], telegram=telegram_section(api),
       polling={"total_timeout": '"3s"', "max_bytes": "2_000_000"})
    result = run_bot(config, "--once", token=TOKEN)
    assert result.returncode == 0, result.stderr
    assert len(api.sent) == 1
    log = result.stderr
    for name, reason in [("Broken", "http-500"), ("Not a feed", "ParseError"),
                         ("Slow", "timeout"), ("Huge", "too-large")]:
        line = next(line for line in log.splitlines() if f"feed failed feed={name} " in line)
        assert f"reason={reason}" in line, line
        assert "url=http://127.0.0.1:" in line
        assert "retry_at=" in line


def test_flood_control_is_waited_out(tmp_path: Path, feed_server: FeedServer,
                                     api: BotApiStandIn) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM, WAGNER_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api))
    api.fail_next(1, status=429, retry_after=1, method="sendMessage")
    result = run_bot(config, "--once", token=TOKEN)
    assert result.returncode == 0, result.stderr
    assert len(api.sent) == 2
    assert "flood control" in result.stderr
    assert "Warning" not in result.stderr
    refused, *_ = [c for c in api.calls if c.method == "sendMessage"]
    assert refused.status == 429


def test_pending_alerts_survive_a_restart(tmp_path: Path, feed_server: FeedServer,
                                          api: BotApiStandIn) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM, WAGNER_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api),
                          delivery={"once_deadline": '"2s"', "retry_base": '"1s"'})
    api.fail_next(100, status=502, method="sendMessage")
    first = run_bot(config, "--once", token=TOKEN)
    assert first.returncode == 2, first.stderr
    assert api.sent == []
    assert "alerts still pending pending=2" in first.stderr
    api.clear_faults()  # Telegram is back
    time.sleep(1.1)
    second = run_bot(config, "--once", token=TOKEN)
    assert second.returncode == 0, second.stderr
    assert [m.text.splitlines()[1] for m in api.sent] == [
        m.text.splitlines()[1] for m in sorted(api.sent, key=lambda m: m.message_id)]
    assert len(api.sent) == 2


@pytest.mark.parametrize("without_token", ["unset", "empty file"])
def test_a_run_without_token_never_consumes_what_the_channel_is_owed(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn, without_token: str) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api),
                          delivery={"once_deadline": '"1s"', "retry_base": '"1s"'})
    api.fail_next(100, status=502, method="sendMessage")
    assert run_bot(config, "--once", token=TOKEN).returncode == 2  # owed to the channel
    api.clear_faults()
    if without_token == "unset":
        console = run_bot(config, "--once")
        assert console.returncode == 0, console.stderr
        assert "Goita" not in console.stdout  # not printed: printing is not delivering
        assert "alerts kept for telegram pending=1" in console.stderr
    else:
        empty = tmp_path / "token.txt"
        empty.write_text("\n", encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(config), "run", "--once"],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
            env=bot_env(None) | {"TELEGRAM_BOT_TOKEN_FILE": str(empty)})
        assert result.returncode == 1
        assert f"error: {empty}: the token file is empty" in result.stderr
    time.sleep(1.1)  # the retry delay
    back = run_bot(config, "--once", token=TOKEN)
    assert back.returncode == 0, back.stderr
    assert len(api.sent) == 1 and "Goita" in api.sent[0].text  # the channel got it


def test_forbidden_channel_is_reported_not_retried(tmp_path: Path, feed_server: FeedServer,
                                                   api: BotApiStandIn) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api))
    api.forbid_chat(CHAT)
    result = run_bot(config, "--once", token=TOKEN)
    assert result.returncode == 0, result.stderr
    assert "alert refused" in result.stderr and "Forbidden" in result.stderr
    sends = [c for c in api.calls if c.method == "sendMessage"]
    assert [(c.params["chat_id"], c.status) for c in sends] == [(CHAT, 403), (1001, 200)]
    assert "Telegram refuse les alertes pour @sahel_test" in sends[1].params["text"]
    again = run_bot(config, "--once", token=TOKEN)
    assert again.returncode == 0, again.stderr
    assert len([c for c in api.calls if c.method == "sendMessage"]) == 2  # not retried


def test_long_run_answers_recent_and_stops_cleanly_on_sigterm(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM, WAGNER_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr", "interval": "1h"}],
                          telegram=telegram_section(api))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
        env=bot_env(TOKEN), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        api.wait_for_sent(2, timeout=30)
        api.wait_for_calls("deleteWebhook", 1, timeout=30)  # polling is about to start
        api.push_message("/recent@sahel_watch_bot 1", user_id=555, language_code="en")
        replies = [m for m in api.wait_for_sent(3, timeout=30) if m.chat_id == 555]
        assert len(replies) == 1
        assert "Latest flagged stories (1)" in replies[0].text
        assert "Africa Corps" in replies[0].text
        commands = [c for c in api.calls if c.method == "setMyCommands"]
        assert {c.params.get("language_code") for c in commands} >= {"fr", "en"}
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "bot stopped" in err
    assert TOKEN not in err + out


def test_sigint_stops_console_mode(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}])
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
        env=bot_env(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Assimi Goita" in line:
                break
        assert any("Assimi Goita" in line for line in lines)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "bot stopped" in err
    assert "Traceback" not in err


WIRE_TITLES = [
    "Mali : Africa Corps reprend les dernières positions de Wagner",
    "Mali: Africa Corps reprend les dernières positions du groupe Wagner",
    "Africa Corps reprend les dernières positions de Wagner au Mali",
    "Mali : l'Africa Corps reprend les dernières positions de Wagner (AFP)",
    "Mali : Africa Corps reprend les ultimes positions de Wagner",
    "MALI - Africa Corps reprend les dernières positions de Wagner",
    "Mali : Africa Corps reprend les dernières positions de Wagner - Sahel Info",
    "Mali : Africa Corps reprend les dernières positions de Wagner à Tessalit",
    "Au Mali, Africa Corps reprend les dernières positions de Wagner",
    "Mali : Africa Corps reprend les dernières positions de Wagner | Journal du Nord",
]
WIRE_SUMMARY = ("BAMAKO (AFP) - Les paramilitaires russes d'Africa Corps ont pris le contrôle des "
                "dernières bases tenues par le groupe Wagner dans le nord du Mali, à Tessalit et "
                "Anéfis, selon des sources sécuritaires maliennes jointes mardi.")


def wire_item(n: int) -> dict[str, object]:
    return {"title": WIRE_TITLES[n], "link": f"https://outlet{n}.example/mali/africa-corps-{n}",
            "guid": f"https://outlet{n}.example/?p={n}", "published": WHEN,
            "summary": WIRE_SUMMARY if n % 3 else WIRE_SUMMARY.split(" selon")[0] + "."}


def test_a_wire_story_in_ten_outlets_is_one_alert_edited_to_list_them(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn) -> None:
    feeds = [{"name": f"Média {n}", "url": feed_server.url(f"/m{n}"), "lang": "fr"}
             for n in range(10)]
    for n in range(10):
        feed_server.route(f"/m{n}", rss_feed(f"Média {n}", [wire_item(n)] if n < 3 else []))
    config = write_config(tmp_path, feeds, telegram=telegram_section(api),
                          delivery={"edit_interval": '"1s"'})
    first = run_bot(config, "--once", token=TOKEN)
    assert first.returncode == 0, first.stderr
    [alert] = api.sent
    # Feeds are polled at once: whichever answered first is the source, the others follow.
    also = next(line for line in alert.text.splitlines() if line.startswith("Aussi"))
    assert also.endswith(" · 3 médias")
    assert sum(f"Média {n}" in alert.text for n in range(3)) == 3
    for n in range(3, 10):
        feed_server.route(f"/m{n}", rss_feed(f"Média {n}", [wire_item(n)]))
    time.sleep(1.1)  # the edit pause of this configuration
    second = run_bot(config, "--once", token=TOKEN)
    assert second.returncode == 0, second.stderr
    assert len(api.sent) == 1  # still one message
    [edit] = api.edits
    assert edit.message_id == alert.message_id
    assert " · 10 médias" in edit.text
    assert all(f"Média {n}" in edit.text for n in range(1, 10))


def test_look_alike_stories_stay_apart(tmp_path: Path, feed_server: FeedServer,
                                       api: BotApiStandIn) -> None:
    attacks = [
        {"title": "Mali : une patrouille des FAMa attaquée près de Gao, 6 soldats tués",
         "link": "https://a.example/gao", "published": WHEN,
         "summary": "Une patrouille des Forces armées maliennes a été visée lundi par des hommes "
                    "armés à 20 km de Gao, a indiqué l'armée, qui fait état de six morts."},
        {"title": "Mali : une patrouille des FAMa attaquée près de Ménaka, 9 soldats tués",
         "link": "https://b.example/menaka", "published": WHEN,
         "summary": "Une patrouille des Forces armées maliennes a été visée lundi par des hommes "
                    "armés à 30 km de Ménaka, a indiqué l'armée, qui fait état de neuf morts."},
    ]
    feed_server.route("/rss", rss_feed("Actu", attacks))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api))
    result = run_bot(config, "--once", token=TOKEN)
    assert result.returncode == 0, result.stderr
    assert len(api.sent) == 2
    assert not any("Aussi rapporté" in m.text for m in api.sent)


def test_a_watchlist_can_route_its_alerts_to_another_chat_and_topic(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn) -> None:
    watchlists = tmp_path / "watchlists"
    shutil.copytree(WATCHLISTS, watchlists)
    goita = watchlists / "goita.toml"
    goita.write_text(goita.read_text(encoding="utf-8").replace(
        'priority = "high"', 'priority = "high"\nchat = "@goita_desk"\ntopic = 42'),
        encoding="utf-8")
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM, WAGNER_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api),
                          watchlists=watchlists)
    result = run_bot(config, "--once", token=TOKEN)
    assert result.returncode == 0, result.stderr
    routed = sorted((str(m.chat_id), m.message_thread_id or 0, m.text.splitlines()[0])
                    for m in api.sent if not m.text.startswith("🤝"))
    # Goïta's story goes to its desk's topic, and also to the channel for FAMa, whose
    # watchlist is not routed; Wagner's story goes to the channel only. (Both stories
    # also report partnerships: their signal alerts go to the channel, see
    # tests/test_partners_e2e.py.)
    assert routed == [
        ("@goita_desk", 42, "🔔 <b>Assimi Goïta</b> · <b>FAMa</b>"),
        (CHAT, 0, "🔔 <b>Assimi Goïta</b> · <b>FAMa</b>"),
        (CHAT, 0, "🔔 <b>Wagner / Africa Corps</b>"),
    ]


def test_a_rejected_token_is_a_clear_error_that_never_shows_the_token(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api))
    wrong = SECRET_TOKENS[1]
    result = run_bot(config, "--once", token=wrong)
    assert result.returncode == 1
    assert "error: TELEGRAM_BOT_TOKEN: Telegram rejected the bot token" in result.stderr
    assert wrong not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_the_token_can_come_from_a_file(tmp_path: Path, feed_server: FeedServer,
                                        api: BotApiStandIn) -> None:
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api))
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    env = bot_env(None) | {"TELEGRAM_BOT_TOKEN_FILE": str(secret)}
    result = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "run",
                             "--once"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                            env=env)
    assert result.returncode == 0, result.stderr
    assert len(api.sent) == 1
    check = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "check"],
                           capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert "token=set" in check.stdout and TOKEN not in check.stdout + check.stderr


def test_a_stop_while_alerts_are_paced_is_clean(tmp_path: Path, feed_server: FeedServer,
                                                api: BotApiStandIn) -> None:
    """SIGTERM while delivery waits for its turn under the pace: no job error, no traceback."""
    feed_server.route("/rss", rss_feed("Actu", [GOITA_ITEM, WAGNER_ITEM, DRONE_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api),
                          delivery={"per_chat_per_minute": "2"})  # 30 s between two sends
    log = tmp_path / "paced.log"
    with bot_running(config, log, TOKEN):
        api.wait_for_sent(1, timeout=30)
        time.sleep(1)  # the next send is now waiting for its turn
    text = log.read_text(encoding="utf-8")
    assert "raised an exception" not in text and "Traceback" not in text, text[-3000:]
    assert "bot stopped" in text


def test_a_token_rejected_while_running_stops_the_bot_with_a_clear_error(
        tmp_path: Path, feed_server: FeedServer, api: BotApiStandIn) -> None:
    """A 401 on getUpdates ends python-telegram-bot's polling for good: the bot must not run
    on, deaf to every command, while its health check still says healthy."""
    feed_server.route("/rss", rss_feed("Actu", [QUIET_ITEM]))
    config = write_config(tmp_path, [{"name": "Actu", "url": feed_server.url("/rss"),
                                      "lang": "fr"}], telegram=telegram_section(api))
    log = tmp_path / "revoked.log"
    # getMe answers (the bot starts); the first getUpdates says the token is revoked.
    api.fail_next(1, status=401, method="getUpdates", description="Unauthorized")
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=ROOT,
            env=bot_env(TOKEN), stdout=subprocess.DEVNULL, stderr=stream)
    try:
        code = process.wait(timeout=60)  # it stops by itself
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text(encoding="utf-8")
    assert code == 1, text[-3000:]
    assert "telegram updates stopped error=InvalidToken" in text
    assert "error: Telegram rejected the bot token while running" in text
    assert "still running" not in text and TOKEN not in text
