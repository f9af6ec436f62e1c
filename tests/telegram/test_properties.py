"""Property-based tests: hostile feed text through the formatter, digests, fit, text, matching.

Every message is checked with the Bot API stand-in's validator of Telegram's HTML subset.
Bugs these properties found are pinned by example tests, each with its failing input.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.matching.matcher import Hit, Matcher
from bot.matching.text import (
    WHITESPACE_RE,
    fold,
    html_to_text,
    plain_text,
    tokenize,
    word_forms,
)
from bot.matching.watchlists import load_watchlists
from bot.storage.records import Alert
from bot.stories.fingerprint import fingerprint
from bot.stories.index import StoryIndex
from bot.telegram.alerts import MAX_SOURCE_CHARS, MAX_TITLE_CHARS, AlertContent, format_alert
from bot.telegram.deliver import pack_digests
from bot.telegram.html import (
    MAX_MESSAGE_UTF16,
    attribute,
    escape,
    fit,
    safe_href,
    visible_length,
)
from bot.telegram.i18n import LANGUAGES, t
from tests.support.botapi import _TelegramHtmlParser
from tests.support.common import WATCHLISTS

SHIPPED = load_watchlists(WATCHLISTS)
MATCHER = Matcher(SHIPPED)
NAMES = {w.id: w.name for w in SHIPPED}
THRESHOLDS = {w.id: w.threshold for w in SHIPPED}
TERMS = {w.id: {term.text for term in w.terms} for w in SHIPPED}

FORMATTER_TAGS = {"<b>", "</b>", "<i>", "</i>", "<blockquote>", "</blockquote>", "</a>"}
ENTITY_TYPES = {"bold", "italic", "text_link", "blockquote"}
ANY_TAG_RE = re.compile(r"<[^>]*>")

# Hypothesis budgets: the formatter runs the matcher, the formatter and an HTML parser per
# example on strings up to 20,000 characters, so those tests get fewer examples.
HEAVY = settings(max_examples=150, deadline=None)
MEDIUM = settings(max_examples=200, deadline=None)
LIGHT = settings(max_examples=400, deadline=None)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def collapse(text: str) -> str:
    return WHITESPACE_RE.sub(" ", text)


def parse(message: str) -> tuple[str, list[dict[str, object]]]:
    """Plain text and entities as Telegram derives them; raises on markup Telegram refuses."""
    return _TelegramHtmlParser.parse(message)


# --------------------------------------------------------------------------- strategies

# Any code point but surrogates (a Python str holding one cannot be encoded to UTF-8).
ANY_CHAR = st.characters(exclude_categories=["Cs"])
HOSTILE_PIECES = [
    "<", ">", "&", '"', "'", "<a href=", '<a href="', '<a href="javascript:alert(1)">x</a>',
    "</a>", "<b>", "</b>", "<i>", "</blockquote>", "<blockquote>", "<script>", "</script>",
    "<script>alert(1)</script>", "javascript:", "&amp;", "&amp;lt;", "&#x27;", "&#39;",
    "&lt;", "&gt;", "&quot;", "&#0;", "&#xD800;", "&#x110000;", "&nbsp;", "&", "&;",
    "<!--", "-->", "<![CDATA[", "]]>", "<br/>", "<p>", "</>", "<>", "< b>", "<B>",
    "😀", "👩\u200d👩\u200d👧", "\U0001F1EB\U0001F1F7", "𝔘𝔫𝔦", "𐍈", "\U0010FFFF",
    "\u200f", "\u200e", "\u202e", "\u2066", "\u200d", "\u200b", "\ufeff", "\u00ad",
    "\x00", "\x01", "\x1b", "\x7f", "\r\n", "\n", "\t", "\x0b", "\x0c", "\u2028", "\u2029",
    "\x85", "\xa0", "\u3000", "e\u0301", "i\u0307", "\u0301", "ﬁ", "ß", "İ",
    "Assimi Goïta", "Assimi Goi\u0308ta", "Goita", "GOÏTA", "groupe Wagner", "Wagner", "Mali",
    "FAMa", "FAMA", "Bamako", "TB2", "TB-2", "Bayraktar", "drone", "Canik Academy",
    "Africa Corps", "Вагнер", " ", "  ", ".", ",",
]


def hostile(max_parts: int = 25) -> st.SearchStrategy[str]:
    """Arbitrary Unicode mixed with markup, entities, controls, bidi marks and watch terms."""
    part = st.one_of(st.text(ANY_CHAR, max_size=12), st.sampled_from(HOSTILE_PIECES))
    return st.lists(part, max_size=max_parts).map("".join)


def repeated(seed: st.SearchStrategy[str], max_size: int = 20_000) -> st.SearchStrategy[str]:
    """A hostile seed repeated up to ``max_size`` characters (long without slow generation)."""
    def grow(args: tuple[str, int]) -> str:
        piece, size = args
        return (piece * (size // len(piece) + 1))[:size] if piece else ""

    sizes = st.one_of(st.integers(1, 300), st.integers(300, max_size))  # often long
    return st.tuples(seed.filter(bool), sizes).map(grow)


FIELD = st.one_of(hostile(), st.text(ANY_CHAR, max_size=200), repeated(hostile(8)))
SHORT_FIELD = st.one_of(hostile(6), st.text(ANY_CHAR, max_size=40), repeated(hostile(3), 400))
SCHEMES = ["https://", "http://", "HTTPS://", "hTtP://", " https://", "https:", "https:/",
           "javascript:", "JavaScript:", "data:text/html,", "vbscript:", "ftp://", "//",
           "file:///", "mailto:", ""]
ANY_LINK = st.one_of(
    st.none(),
    FIELD,
    st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(SCHEMES), hostile(10)),
    st.builds(lambda host, rest: f"https://{host}/{rest}",
              st.from_regex(r"[a-z0-9]{1,12}(\.[a-z]{2,5}){1,2}", fullmatch=True), hostile(10)),
)


LINK = ANY_LINK
ZONES = [UTC, ZoneInfo("Africa/Bamako"), ZoneInfo("Europe/Paris"),
         timezone(timedelta(hours=-3, minutes=-30))]
PUBLISHED = st.one_of(st.none(), st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(ZONES)))
WATCHLIST_ID = st.one_of(st.sampled_from(sorted(NAMES)),
                         st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True))


@st.composite
def synthetic_hits(draw: st.DrawFn, summary: str) -> list[Hit]:
    """Hits as a stale store or a buggy caller could give: any text, any positions."""
    hits = []
    for _ in range(draw(st.integers(0, 10))):
        if summary and draw(st.booleans()):  # a consistent slice of the summary
            start = draw(st.integers(0, len(summary)))
            end = draw(st.integers(start, len(summary)))
            text, field = summary[start:end], "summary"
        else:
            start, end = draw(st.integers(-50, 25_000)), draw(st.integers(-50, 25_000))
            text = draw(st.one_of(SHORT_FIELD, repeated(hostile(3), 5_000)))
            field = draw(st.sampled_from(["title", "summary"]))
        hits.append(Hit(draw(WATCHLIST_ID), draw(SHORT_FIELD), text, field,
                        draw(st.integers(0, 100)), start, end))
    return hits


@st.composite
def alert_inputs(draw: st.DrawFn) -> tuple[AlertContent, list[Hit], str]:
    """Content with hostile fields and hits, real (from the shipped watchlists) or synthetic."""
    title, summary, source = draw(FIELD), draw(FIELD), draw(SHORT_FIELD)
    if draw(st.booleans()):
        summary = plain_text(summary)  # what the pipeline stores: collapsed, NFC
    real = draw(st.booleans())
    hits = MATCHER.match(title, summary) if real else draw(synthetic_hits(summary))
    others = draw(st.lists(SHORT_FIELD, max_size=15))
    first_is_source = bool(others) and draw(st.booleans())
    outlets: tuple[str, ...] = (source, *others) if first_is_source else tuple(others)
    summary_hits = tuple(h for h in hits if h.field == "summary") if draw(st.booleans()) else ()
    content = AlertContent(title=title, link=draw(LINK), summary=summary, source=source,
                           published=draw(PUBLISHED), outlets=outlets, summary_hits=summary_hits)
    return content, hits, draw(st.sampled_from(LANGUAGES))


def check_alert(message: str, content: AlertContent, hits: list[Hit], lang: str) -> str:
    """Assert every safety property of one formatted alert; return its visible text."""
    plain, entities = parse(message)  # raises on anything Telegram would refuse
    assert utf16(plain) <= MAX_MESSAGE_UTF16
    assert visible_length(message) == utf16(plain), "the formatter measures what Telegram counts"

    # Feed text never opens or closes a tag: every tag is one the formatter writes.
    href = safe_href(content.link)
    link_tag = f'<a href="{attribute(href)}">' if href else None
    tags = ANY_TAG_RE.findall(message)
    assert set(tags) <= FORMATTER_TAGS | ({link_tag} if link_tag else set())
    assert ">" not in ANY_TAG_RE.sub("", message)
    assert {e["type"] for e in entities} <= ENTITY_TYPES
    links = [e for e in entities if e["type"] == "text_link"]
    if href is None:
        assert not [tag for tag in tags if tag.startswith("<a")]
        assert not links
    else:
        assert urlsplit(href).scheme.lower() in ("http", "https")
        assert tags.count(link_tag) == 1
        assert len(links) <= 1  # none only if the title is empty once collapsed
        assert all(e["url"] == collapse(href) for e in links)

    # Escaping loses nothing: header, title and source read back as given.
    lines = plain.split("\n")
    watchlists = list(dict.fromkeys(h.watchlist for h in hits))
    assert lines[0] == "🔔 " + " · ".join(collapse(NAMES.get(w, w)) for w in watchlists)
    title = content.title or t(lang, "alert.no_title")
    if len(title) <= MAX_TITLE_CHARS:
        assert lines[1] == collapse(title)
    else:
        assert lines[1].endswith("…") and collapse(title).startswith(lines[1][:-1])
    if len(content.source) <= MAX_SOURCE_CHARS:
        assert lines[2] == collapse(content.source) or lines[2].startswith(
            collapse(content.source) + " · ")
    return plain


# --------------------------------------------------------------------------- 1. alerts


HUGE = (AlertContent(title="😀" * 20_000, link='https://ex.org/"><script>', summary="é" * 20_000,
                     source="<b>" * 5_000, published=datetime(2026, 1, 1, tzinfo=UTC),
                     outlets=tuple("𝐎" * 500 for _ in range(20))),
        [Hit("goita", "Goïta", "&" * 3_000, "summary", 90, 10_000, 13_000)] * 8, "fr")


@HEAVY
@given(alert_inputs())
@example(HUGE)
def test_alerts_from_hostile_feeds_are_valid_telegram_html(
        args: tuple[AlertContent, list[Hit], str]) -> None:
    content, hits, lang = args
    check_alert(format_alert(content, hits, NAMES, lang), content, hits, lang)


@MEDIUM
@given(title=hostile(), summary=hostile(40), lang=st.sampled_from(LANGUAGES))
def test_real_matches_show_their_evidence(title: str, summary: str, lang: str) -> None:
    summary = plain_text(summary)
    hits = MATCHER.match(title, summary)
    content = AlertContent(title=title, link="https://ex.org/a?b=1&c=2", summary=summary,
                           source="RFI", published=None)
    plain = check_alert(format_alert(content, hits, NAMES, lang), content, hits, lang)
    for hit in hits[:6]:  # short fields: nothing is dropped for length
        assert f"«{collapse(hit.text)}»" in plain
    first = min((h for h in hits if h.field == "summary"), key=lambda h: h.start, default=None)
    if first is not None:  # the excerpt quotes the summary around the first summary hit
        assert collapse(first.text) in plain.split("\n")[-1]


@settings(max_examples=50, deadline=None)
@given(link=st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(SCHEMES), hostile(6)))
@example(link="ht\ttp://x.org/")
@example(link="https:\n//x.org/")
@example(link="\x01https://x.org/")
def test_linked_url_is_itself_an_absolute_http_url(link: str) -> None:
    content = AlertContent(title="T", link=link, summary="", source="S", published=None)
    _, entities = parse(format_alert(content, [], NAMES, "en"))
    for entity in entities:
        if entity["type"] == "text_link":
            url = str(entity["url"])
            assert re.match(r"(?i)https?://", url) and urlsplit(url).netloc, url


@settings(max_examples=50, deadline=None)
@given(ANY_LINK)
@example("https://[")
@example("https://ex.org\uff0fx")
def test_safe_href_never_raises(link: str | None) -> None:
    href = safe_href(link)
    assert href is None or urlsplit(href).scheme.lower() in ("http", "https")


# --------------------------------------------------------------------------- 2. digests


def as_alerts(htmls: list[str]) -> list[Alert]:
    return [Alert(id=i, story_id=100 + i, chat="-100", html=h, silent=False, attempts=0)
            for i, h in enumerate(htmls)]


@settings(max_examples=60, deadline=None)
@given(st.lists(alert_inputs(), max_size=8), st.sampled_from(LANGUAGES))
def test_digests_keep_every_alert_once_in_order(
        inputs: list[tuple[AlertContent, list[Hit], str]], lang: str) -> None:
    alerts = as_alerts([format_alert(c, h, NAMES, lang) for c, h, _ in inputs])
    packed = pack_digests(alerts, lang)
    assert [a.id for group, _ in packed for a in group] == [a.id for a in alerts]
    assert all(group for group, _ in packed)
    for index, (group, text) in enumerate(packed):
        header = f"<b>{escape(t(lang, 'digest.header', count=len(group)))}</b>"
        expected = "\n\n".join([header, *(a.html for a in group)])
        if len(group) == 1 and visible_length(expected) > MAX_MESSAGE_UTF16:
            expected = group[0].html  # too near the limit for the header: sent as it is
        assert text == expected
        parse(text)  # valid Telegram HTML
        if len(group) > 1:
            assert visible_length(text) <= MAX_MESSAGE_UTF16
        if index + 1 < len(packed):  # a group ends only when the next alert would not fit
            nxt = packed[index + 1][0][0]
            bigger = "\n\n".join([f"<b>{escape(t(lang, 'digest.header', count=len(group) + 1))}"
                                  "</b>", *(a.html for a in [*group, nxt])])
            assert visible_length(bigger) > MAX_MESSAGE_UTF16


def near_limit_alert() -> str:
    """A real format_alert message a few units under Telegram's limit (many long outlets)."""
    best = ""
    for size in range(141):
        summary = "Assimi Goïta " + "𝐱" * size
        content = AlertContent(
            title="𝐓" * 300, link="https://ex.org/a", summary=summary, source="𝐒" * 120,
            published=None, outlets=("𝐒" * 120, *("𝐎" * 120 for _ in range(12))))
        message = format_alert(content, MATCHER.match("", summary), NAMES, "en")
        if visible_length(best) < visible_length(message) <= MAX_MESSAGE_UTF16:
            best = message
    return best


@settings(max_examples=30, deadline=None)
@given(st.lists(alert_inputs(), max_size=4), st.sampled_from(LANGUAGES))
@example(inputs=[], lang="en")  # stands for [near_limit_alert()]
def test_every_digest_fits_in_one_message(
        inputs: list[tuple[AlertContent, list[Hit], str]], lang: str) -> None:
    htmls = [format_alert(c, h, NAMES, lang) for c, h, _ in inputs] or [near_limit_alert()]
    assert all(visible_length(h) <= MAX_MESSAGE_UTF16 for h in htmls)
    for _, text in pack_digests(as_alerts(htmls), lang):
        assert visible_length(text) <= MAX_MESSAGE_UTF16


# --------------------------------------------------------------------------- 3. fit


@st.composite
def escaped_line(draw: st.DrawFn) -> str:
    """One physical line as the commands build them: escaped text, its tags closed."""
    text = escape(draw(st.one_of(hostile(10), repeated(hostile(3), 1_500))))
    shape = draw(st.sampled_from(["plain", "b", "i", "a"]))
    if shape == "a":
        return f'• <a href="{attribute("https://ex.org/" + draw(hostile(4)))}">{text}</a>'
    return text if shape == "plain" else f"<{shape}>{text}</{shape}>"


@MEDIUM
@given(lines=st.lists(escaped_line(), min_size=1, max_size=40),
       page=st.one_of(st.none(), st.tuples(st.integers(1, 999), st.integers(1, 999))),
       lang=st.sampled_from(LANGUAGES))
def test_fit_keeps_whole_lines_within_the_limit(lines: list[str], page: tuple[int, int] | None,
                                                lang: str) -> None:
    footer = "" if page is None else \
        f"\n<i>{escape(t(lang, 'cmd.page', page=page[0], pages=page[1]))}</i>"
    fitted = fit("\n".join(lines), footer)
    plain, _ = parse(fitted)
    assert utf16(plain) <= MAX_MESSAGE_UTF16 and visible_length(fitted) == utf16(plain)
    # Only whole lines, from the start, are kept...
    kept = [k for k in range(len(lines) + 1) if "\n".join(lines[:k]) + footer == fitted]
    assert kept, "the result is not a prefix of whole lines plus the footer"
    if max(kept) < len(lines):  # ...and as many as fit
        assert visible_length("\n".join(lines[: max(kept) + 1]) + footer) > MAX_MESSAGE_UTF16


# --------------------------------------------------------------------------- 4. text

MARKUP = st.one_of(st.text(ANY_CHAR, max_size=300), hostile(30))


@LIGHT
@given(MARKUP)
@example("<![ ")
@example("a <![x y")
def test_html_to_text_never_raises(markup: str) -> None:
    html_to_text(markup)


@LIGHT
@given(MARKUP.filter(lambda s: "<![" not in s))
def test_html_to_text_gives_normalised_text(markup: str) -> None:
    text = html_to_text(markup)
    assert plain_text(text) == text  # collapsed, trimmed, NFC
    assert "\n" not in text and text == text.strip()


@LIGHT
@given(st.text(ANY_CHAR, max_size=300))
def test_plain_text_is_idempotent(text: str) -> None:
    once = plain_text(text)
    assert plain_text(once) == once
    assert unicodedata.is_normalized("NFC", once)


@LIGHT
@given(st.text(ANY_CHAR.filter(lambda c: c not in "&<"), max_size=300))
def test_text_without_markup_is_only_normalised(text: str) -> None:
    # html_to_text decodes entities, so it is not idempotent in general ("&amp;lt;" ->
    # "&lt;"... -> "<"); on text with no '&' and no '<' it is plain_text, hence idempotent.
    once = html_to_text(text)
    assert once == plain_text(text)
    assert html_to_text(once) == once


@LIGHT
@given(st.text(ANY_CHAR, max_size=200))
@example("&amp;")
@example("AT&amp;T")
def test_visible_text_of_escaped_text_is_the_text(text: str) -> None:
    assert html_to_text(html.escape(text)) == plain_text(text)


@LIGHT
@given(st.text(ANY_CHAR, max_size=300))
def test_visible_text_of_escaped_text_without_entities_is_the_text(text: str) -> None:
    # The part of the decoding-once property that holds: no '&' in the text itself.
    text = text.replace("&", "")
    assert html_to_text(html.escape(text)) == plain_text(text)


@LIGHT
@given(st.one_of(st.text(ANY_CHAR, max_size=300), hostile(20)))
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@LIGHT
@given(st.one_of(st.text(ANY_CHAR, max_size=300), hostile(20)))
def test_composed_and_decomposed_text_give_the_same_tokens(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    tokens = tokenize(unicodedata.normalize("NFC", nfc))
    assert tokenize(unicodedata.normalize("NFC", nfd)).folded == tokens.folded
    for i, word in enumerate(tokens.folded):  # spans and forms agree with word_forms()
        span = tokens.text[tokens.starts[i] : tokens.ends[i]]
        assert span and (tokens.cased[i], word) == word_forms(span)
    assert list(tokens.starts) == sorted(tokens.starts)
    assert all(e <= s for e, s in zip(tokens.ends, tokens.starts[1:], strict=False))


# --------------------------------------------------------------------------- 5. matching


def check_hits(hits: list[Hit], title: str, summary: str) -> None:
    fields = {"title": unicodedata.normalize("NFC", title),
              "summary": unicodedata.normalize("NFC", summary)}
    keys = [(h.watchlist, h.term) for h in hits]
    assert len(keys) == len(set(keys)), "at most one hit per term"
    for hit in hits:
        assert hit.text == fields[hit.field][hit.start : hit.end]
        assert hit.text
        assert 0 <= hit.score <= 100 and hit.score >= THRESHOLDS[hit.watchlist]
        assert hit.term in TERMS[hit.watchlist]


@MEDIUM
@given(title=st.one_of(FIELD, hostile()), summary=st.one_of(FIELD, hostile(40)))
def test_matcher_hits_are_slices_of_the_composed_fields(title: str, summary: str) -> None:
    hits = MATCHER.match(title, summary)
    check_hits(hits, title, summary)
    # Canonically equivalent input gives the same hits.
    nfd = MATCHER.match(unicodedata.normalize("NFD", title), unicodedata.normalize("NFD", summary))
    assert nfd == hits


# Letters, digits, spaces and punctuation: no combining marks or joiners that could glue
# the surrounding text onto the mention, and nothing that is an exclusion (goita has none).
SAFE = st.text(st.characters(categories=("Lu", "Ll", "Nd", "Zs", "Po", "Ps", "Pe", "Pd")),
               max_size=200)
MENTIONS = ["Assimi Goïta", "Assimi Goi\u0308ta", "Assimi Goita", "ASSIMI GOÏTA", "assimi goïta"]


@MEDIUM
@given(before=SAFE, after=SAFE, mention=st.sampled_from(MENTIONS),
       field=st.sampled_from(["title", "summary"]), other=SAFE)
def test_a_true_mention_is_always_found(before: str, after: str, mention: str, field: str,
                                        other: str) -> None:
    text = f"{before} {mention} {after}"
    title, summary = (text, other) if field == "title" else (other, text)
    hits = MATCHER.match(title, summary)
    check_hits(hits, title, summary)
    assert any(h.watchlist == "goita" and h.field == field for h in hits), hits


def test_near_limit_example_is_real() -> None:
    """The digest bug's example is an ordinary alert: valid and within the limit on its own."""
    message = near_limit_alert()
    plain, _ = parse(message)
    header = escape(t("en", "digest.header", count=1))
    assert MAX_MESSAGE_UTF16 - utf16(header) - 2 < utf16(plain) <= MAX_MESSAGE_UTF16


@MEDIUM
@given(title=st.one_of(FIELD, SAFE), summary=st.one_of(FIELD, SAFE))
@example(title="Ménaka : 10 000 déplacés selon l'ONU", summary="Lundi, les FAMa et l'AFP à Gao")
def test_the_fingerprint_from_the_matchers_words_is_the_fingerprint_of_the_text(
        title: str, summary: str) -> None:
    title, summary = plain_text(title), plain_text(summary)  # what the parser hands over
    read = MATCHER.analyse(title, summary)
    index = StoryIndex(timedelta(hours=1))
    assert (index.fingerprint_read(title, summary, read.title_words, read.summary_words)
            == fingerprint(title, summary))


def test_an_alert_too_long_for_the_digest_header_goes_as_it_is() -> None:
    html = near_limit_alert()
    header = f"<b>{escape(t('fr', 'digest.header', count=1))}</b>"
    assert visible_length(f"{header}\n\n{html}") > MAX_MESSAGE_UTF16
    assert pack_digests(as_alerts([html, html]), "fr") == [
        ([alert], html) for alert in as_alerts([html, html])]
