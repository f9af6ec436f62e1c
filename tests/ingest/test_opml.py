"""OPML: reading hostile and real-world files, writing, and importing into config.toml."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.ingest.opml import (
    MAX_NAME_CHARS,
    OpmlFeed,
    import_feeds,
    language_code,
    read_opml,
    url_key,
    write_opml,
)
from bot.settings.config import FeedConfig, load_config
from tests.support.common import NOW, ROOT, SHARED

DATA = Path(__file__).resolve().parents[1] / "data" / "opml"
SHIPPED_CONFIG = ROOT / "config.toml"
CORPORA = SHARED / "corpora"


def opml_file(directory: Path, text: str, name: str = "feeds.opml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def shipped_config(directory: Path) -> Path:
    path = directory / "config.toml"
    shutil.copyfile(SHIPPED_CONFIG, path)
    return path


# Writing, then reading back


TRICKY_FEEDS = [
    FeedConfig("Sahel & Co <Défense> \"quoted\"", "https://a.example.org/rss?x=1&y=2", "fr", 600.0),
    FeedConfig("L'Œil du Niger — édition spéciale", "http://oeil-niger.example.com/feed/", "fr",
               900.0),
    FeedConfig("Sahel Security Monitor", "https://sahelmonitor.example.com/all.atom.xml", "en",
               900.0),
    # A Telegram channel stays a feed with its address.
    FeedConfig("Canal : veille Sahel", "https://t.me/s/example_sahel_channel", "fr", 300.0),
]


def test_export_then_read_gives_the_same_feeds(tmp_path: Path) -> None:
    text = write_opml(TRICKY_FEEDS, "sahel-watch feeds", NOW)
    read = read_opml(opml_file(tmp_path, text))
    assert read.problems == ()
    assert read.title == "sahel-watch feeds"
    assert [(f.name, f.url, f.lang) for f in read.feeds] == [
        (f.name, f.url, f.lang) for f in TRICKY_FEEDS]


def test_export_is_plain_opml_2_for_any_xml_tool() -> None:
    text = write_opml(TRICKY_FEEDS, "Veille & suivi", NOW)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Veille & suivi"
    created = root.findtext("head/dateCreated")
    assert created == "Wed, 25 Nov 2026 12:00:00 GMT"
    assert parsedate_to_datetime(created) == NOW
    outlines = root.findall("body/outline")
    assert outlines[0].attrib == {
        "type": "rss", "text": TRICKY_FEEDS[0].name, "title": TRICKY_FEEDS[0].name,
        "xmlUrl": TRICKY_FEEDS[0].url, "language": "fr"}
    assert len(outlines) == len(TRICKY_FEEDS)


def test_export_drops_characters_xml_cannot_hold(tmp_path: Path) -> None:
    feeds = [OpmlFeed("Bell\x07 and\nnew line", "https://bell.example.org/rss", None)]
    text = write_opml(feeds, "t\x00itle", NOW)
    ET.fromstring(text)  # well-formed
    read = read_opml(opml_file(tmp_path, text))
    assert [(f.name, f.lang) for f in read.feeds] == [("Bell and new line", None)]
    assert read.title == "title"


def test_export_of_no_feeds_is_still_readable(tmp_path: Path) -> None:
    read = read_opml(opml_file(tmp_path, write_opml([], "empty", NOW)))
    assert read.feeds == () and read.problems == ()


def test_export_needs_an_aware_clock() -> None:
    with pytest.raises(ValueError, match="timezone"):
        write_opml(TRICKY_FEEDS, "t", datetime(2026, 11, 25, 12, 0))


# Reading


def test_reader_export_sample_with_nested_folders() -> None:
    path = DATA / "sahel-reader-export.opml"
    read = read_opml(path)
    assert read.title == "Veille Sahel — abonnements"
    by_name = {feed.name: feed for feed in read.feeds}
    assert list(by_name) == [
        "Le Courrier de Bamako", "Radio Niger Bend FM", "Le Républicain du Sahel – Sécurité",
        "Ouaga Hebdo", "Radio Liptako", "Voix du Soum", "Niamey Soir", "Agadez Online",
        "Sahel Security Monitor", "West Africa Defence Review"]
    # A folder's language reaches the feeds two levels down; regions are dropped.
    assert by_name["Radio Liptako"].lang == "fr"
    assert by_name["Le Républicain du Sahel – Sécurité"].lang == "fr"
    assert by_name["Sahel Security Monitor"].lang == "en"
    assert by_name["Agadez Online"].lang is None
    # Lower-case xmlurl is read too; &amp; in an address is one ampersand.
    assert by_name["Radio Niger Bend FM"].url == "http://radio-nigerbend.example.com/rss.xml"
    assert by_name["Voix du Soum"].url.endswith("com_content&format=feed&type=rss")
    assert by_name["Radio Liptako"].line == 27
    # The one outline that is a web link, not a feed, is named with its line.
    assert [(p.line, p.path) for p in read.problems] == [(40, str(path))]
    assert "G5 Sahel documentation centre" in read.problems[0].message


def test_legacy_latin1_opml_1_takes_the_head_language() -> None:
    read = read_opml(DATA / "legacy-opml1.opml")
    assert read.problems == ()
    assert [(f.name, f.url, f.lang) for f in read.feeds] == [
        ("Journal de Gao", "http://journaldegao.example.org/backend.php", "fr"),
        ("L'Écho de Kidal", "http://echo-kidal.example.com/rss/", "fr"),  # was feed://
        ("Tchad Matin", "http://tchadmatin.example.net/spip.php?page=backend", "fr"),
        ("Nouakchott Info (English edition)", "http://en.nouakchott-info.example.com/rss", "en"),
    ]


MIXED = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Mixed</title></head>
  <body>
    <outline type="rss" text="Good" xmlUrl="  https://good.example.org/rss  "/>
    <outline type="rss" text="No address"/>
    <outline type="rss" text="Empty address" xmlUrl="  "/>
    <outline type="rss" text="FTP" xmlUrl="ftp://files.example.org/feed.xml"/>
    <outline type="rss" text="Script" xmlUrl="javascript:alert(1)"/>
    <outline type="rss" text="Relative" xmlUrl="/feed.xml"/>
    <outline type="rss" text="Bad port" xmlUrl="https://example.org:99x/rss"/>
    <outline type="rss" text="Arabic" xmlUrl="https://ar.example.org/rss" language="ar"/>
    <outline type="rss" xmlUrl="https://nameless.example.com/feed"/>
    <outline text="Empty folder"></outline>
  </body>
</opml>
"""


def test_broken_outlines_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    path = opml_file(tmp_path, MIXED)
    read = read_opml(path)
    assert [(f.name, f.url, f.line) for f in read.feeds] == [
        ("Good", "https://good.example.org/rss", 5),
        ("nameless.example.com", "https://nameless.example.com/feed", 13)]
    problems = {p.line: p.message for p in read.problems}
    assert list(problems) == [6, 7, 8, 9, 10, 11, 12, 14]
    assert "“No address” has no xmlUrl" in problems[6]
    assert "'ftp://files.example.org/feed.xml', not an http or https address" in problems[8]
    assert "'javascript:alert(1)'" in problems[9]
    assert "language 'ar'" in problems[12]
    assert all(str(p).startswith(f"{path}:{p.line}: ") for p in read.problems)


@pytest.mark.parametrize(("text", "line", "message"), [
    ('<?xml version="1.0"?>\n<!DOCTYPE opml [\n<!ENTITY a "aaaaaaaaaa">\n'
     '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
     '<opml><body><outline text="&b;" xmlUrl="https://x.example.org/"/></body></opml>',
     2, "DOCTYPE and entity declarations are not allowed"),
    ('<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
     '<opml><body><outline text="&e;" xmlUrl="https://x.example.org/"/></body></opml>',
     2, "DOCTYPE and entity declarations are not allowed"),
    ('<?xml version="1.0"?>\n\n<!DOCTYPE opml SYSTEM "http://dtd.example.com/opml.dtd">\n'
     "<opml><body/></opml>", 3, "DOCTYPE"),
    ('<opml version="2.0">\n<body>\n<outline text="a" xmlUrl="https://x.example.org/">\n'
     "</body>\n</opml>", 4, "not well-formed XML: mismatched tag"),
    ('<opml>\n<body>\n<outline text="&eacute;" xmlUrl="https://x.example.org/"/>'
     "</body></opml>", 3, "undefined entity"),
    ('<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', 2,
     "not an OPML document: the root element is <rss>"),
    ('<opml version="2.0"><head><title>t</title></head></opml>', None, "no <body>"),
    ('<?xml version="1.0" encoding="big5"?>\n<opml><body/></opml>', 1,
     "unsupported character encoding"),
    ('<?xml version="1.0" encoding="bogus"?>\n<opml><body/></opml>', 1,
     "unsupported character encoding"),
    ("  \n", None, "empty"),
])
def test_unsafe_or_unusable_files_are_refused(tmp_path: Path, text: str, line: int | None,
                                              message: str) -> None:
    path = opml_file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_opml(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert message in caught.value.message


def test_missing_and_oversized_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        read_opml(tmp_path / "absent.opml")
    big = tmp_path / "big.opml"
    big.write_bytes(b"<opml><body>" + b" " * 5_000_001 + b"</body></opml>")
    with pytest.raises(ConfigError, match="larger than"):
        read_opml(big)


def test_long_names_are_shortened_and_outlines_elsewhere_ignored(tmp_path: Path) -> None:
    text = (f'<opml><head><outline text="not in body" xmlUrl="https://h.example.org/"/></head>'
            f'<body><outline text="{"N" * 500}" xmlUrl="https://n.example.org/"/></body></opml>')
    read = read_opml(opml_file(tmp_path, text))
    assert len(read.feeds) == 1
    assert len(read.feeds[0].name) == MAX_NAME_CHARS and read.feeds[0].name.endswith("…")


@pytest.mark.parametrize(("value", "code"), [
    ("fr", "fr"), ("FR-fr", "fr"), ("fr_ML", "fr"), ("French", "fr"), ("français", "fr"),
    ("en", "en"), ("en-GB", "en"), ("English", "en"), (" en-us ", "en"),
    ("ar", None), ("ha", None), ("", None), (None, None),
])
def test_language_code(value: str | None, code: str | None) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://www.rfi.fr/fr/afrique/rss", " HTTPS://WWW.RFI.FR/fr/afrique/rss ", True),
    ("https://www.rfi.fr/fr/afrique/rss", "https://www.rfi.fr:443/fr/afrique/rss", True),
    ("https://example.org", "https://example.org/", True),
    ("https://example.org/Feed", "https://example.org/feed", False),  # paths keep their case
    ("https://example.org/rss?q=A", "https://example.org/rss?q=a", False),
    ("http://example.org/rss", "https://example.org/rss", False),
    ("https://example.org:8443/rss", "https://example.org/rss", False),
])
def test_url_key(a: str, b: str, same: bool) -> None:
    assert (url_key(a) == url_key(b)) is same


# Importing into config.toml


def test_import_keeps_comments_and_loads(tmp_path: Path) -> None:
    config_path = shipped_config(tmp_path)
    original = config_path.read_text(encoding="utf-8")
    before = load_config(config_path)
    read = read_opml(DATA / "sahel-reader-export.opml")
    report = import_feeds(config_path, read.feeds, "en")
    assert report.added_count == len(read.feeds) == 10 and report.duplicate_count == 0
    text = config_path.read_text(encoding="utf-8")
    assert text.startswith(original)  # every comment and value above stays as it was
    assert "\n\n[[feeds]]\nname = \"Le Courrier de Bamako\"\n" in text
    config = load_config(config_path)
    assert len(config.feeds) == len(before.feeds) + 10
    imported = {feed.name: feed for feed in config.feeds[len(before.feeds):]}
    assert imported["Agadez Online"].lang == "en"  # no language in the file: the default
    assert imported["Ouaga Hebdo"].lang == "fr"
    assert imported["Ouaga Hebdo"].interval == config.polling.default_interval
    assert imported["Voix du Soum"].url == (
        "https://voixdusoum.example.com/index.php?option=com_content&format=feed&type=rss")


def test_import_skips_known_addresses_and_numbers_taken_names(tmp_path: Path) -> None:
    config_path = shipped_config(tmp_path)
    feeds = [
        OpmlFeed("RFI", " HTTPS://WWW.RFI.FR/fr/afrique/rss ", "fr", 3),
        OpmlFeed("RFI Afrique", "https://rfi-mirror.example.org/afrique/rss", "fr", 4),
        OpmlFeed("rfi afrique", "https://rfi-mirror.example.org/afrique/rss2", None, 5),
        OpmlFeed("Mirror again", "https://RFI-MIRROR.example.org:443/afrique/rss", "en", 6),
    ]
    report = import_feeds(config_path, feeds, "fr")
    assert [(f.name, f.lang) for f in report.added] == [
        ("RFI Afrique (2)", "fr"), ("rfi afrique (3)", "fr")]
    assert [(d.feed.line, d.existing) for d in report.duplicates] == [
        (3, "RFI Afrique"), (6, "RFI Afrique (2)")]
    names = [feed.name for feed in load_config(config_path).feeds]
    assert names[-2:] == ["RFI Afrique (2)", "rfi afrique (3)"]

    written = config_path.read_bytes()
    again = import_feeds(config_path, feeds, "fr")
    assert again.added_count == 0 and again.duplicate_count == len(feeds)
    assert config_path.read_bytes() == written  # nothing new: the file is not rewritten


LAID_OUT = """# Sahel watch test settings.\r
watchlists_dir = "watchlists"\r
\r
[[feeds]]\r
name = "Existing"   # keep this note\r
url = "https://existing.example.org/rss"\r
lang = "fr"\r
# a comment about the feed above\r
\r
# Daily report: this comment belongs to the table below.\r
[reports]\r
daily_at = "off"\r
"""


def test_import_goes_after_the_last_feed_and_keeps_crlf(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_bytes(LAID_OUT.encode("utf-8"))
    import_feeds(config_path, [OpmlFeed("New", "https://new.example.org/rss", "en")], "fr")
    text = config_path.read_bytes().decode("utf-8")
    assert text == LAID_OUT.replace(
        'lang = "fr"\r\n',
        'lang = "fr"\r\n\r\n[[feeds]]\r\nname = "New"\r\nurl = "https://new.example.org/rss"\r\n'
        'lang = "en"\r\n')
    assert [f.name for f in load_config(config_path).feeds] == ["Existing", "New"]


def test_import_into_a_config_without_feeds(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text('timezone = "UTC"\n\n[reports]\ndaily_at = "off"', encoding="utf-8")
    feed = OpmlFeed('Name "with" quotes\\', "https://q.example.org/rss", None)
    import_feeds(config_path, [feed], "en")
    text = config_path.read_text(encoding="utf-8")
    assert text.startswith('timezone = "UTC"\n\n[reports]\ndaily_at = "off"\n\n[[feeds]]\n')
    [loaded] = load_config(config_path).feeds
    assert (loaded.name, loaded.url, loaded.lang) == (feed.name, feed.url, "en")


@pytest.mark.parametrize(("text", "message"), [
    ('[[feeds]]\nname = "A"\nurl = "not a url"\n', "not an http or https address"),
    ('feeds = [{name = "A", url = "https://a.example.org/"}]\n', "add the new feeds by hand"),
    # A header-like line inside a multi-line string: the edit is checked and refused.
    ('[[feeds]]\nname = "A"\nurl = "https://a.example.org/"\n\n'
     '[storage]\npath = """state/\n[[feeds]]\nx\n# y.db"""\n', "cannot edit safely"),
])
def test_import_refuses_a_config_it_cannot_edit_and_leaves_it(tmp_path: Path, text: str,
                                                              message: str) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        import_feeds(config_path, [OpmlFeed("B", "https://b.example.org/rss", "fr")], "fr")
    assert config_path.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left


def test_import_needs_a_language_the_bot_reads(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="default_lang"):
        import_feeds(shipped_config(tmp_path), [], "de")


# Files nobody on this team wrote


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"shared corpora not found at {CORPORA}")
def test_hostile_xml_from_the_shared_corpora_never_crashes_the_reader() -> None:
    """The corpora hold feeds, not OPML: each must be refused with a ConfigError or read."""
    files = [p for p in sorted(CORPORA.rglob("*")) if p.is_file() and p.name != "README.md"]
    assert files
    crashes: list[str] = []
    refused: dict[str, str] = {}
    for path in files:
        try:
            read_opml(path)
        except ConfigError as exc:
            assert exc.path == str(path)
            refused[path.relative_to(CORPORA).as_posix()] = exc.message
        except Exception as exc:  # any other exception is a bug in the reader
            crashes.append(f"{path}: {exc!r}")
    assert not crashes, "\n".join(crashes[:10])
    for name in ("feedparser/wellformed/rss/entity_in_doctype.xml",
                 "feedparser/wellformed/rdf/doctype_contains_entity_decl.xml"):
        if name in refused:
            assert "DOCTYPE" in refused[name]
