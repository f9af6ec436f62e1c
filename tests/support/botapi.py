"""Local stand-in for the Telegram Bot API, served over HTTP on 127.0.0.1 for PTB-driven tests."""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import math
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, NoReturn, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["ApiCall", "BotApiStandIn", "EditedMessage", "SentMessage", "SentPhoto"]

JSONDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[^/]*)")
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND = re.compile(
    r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])"
)
# Parameters whose values are plain strings; every other form value is JSON-decoded if it can be.
_TEXT_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "language_code",
     "photo", "url", "business_connection_id", "message_effect_id", "secret_token"}
)
_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "code": "code", "pre": "pre",
}
_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SCOPE_TYPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
     "chat_administrators", "chat_member"}
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a previous content and reply markup of the message"
)
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ApiCall:
    """One HTTP request received: canonical method name, decoded parameters, status answered."""

    method: str
    params: JSONDict
    status: int
    received_at: float


@dataclass(frozen=True)
class SentMessage:
    """An accepted sendMessage; ``text`` is as sent, ``plain_text`` with markup removed."""

    chat_id: int | str
    message_id: int
    text: str
    parse_mode: str | None
    disable_notification: bool
    message_thread_id: int | None
    link_preview_options: JSONDict | None
    disable_web_page_preview: bool | None
    reply_markup: JSONDict | None
    received_at: float
    plain_text: str
    entities: list[JSONDict]


@dataclass(frozen=True)
class EditedMessage:
    """An accepted editMessageText."""

    chat_id: int | str
    message_id: int
    text: str
    parse_mode: str | None
    link_preview_options: JSONDict | None
    reply_markup: JSONDict | None
    received_at: float
    plain_text: str


@dataclass(frozen=True)
class SentPhoto:
    """An accepted sendPhoto; ``data`` holds uploaded bytes, ``reference`` a file_id or URL."""

    chat_id: int | str
    message_id: int
    data: bytes | None
    file_name: str | None
    mime_type: str | None
    reference: str | None
    caption: str | None
    parse_mode: str | None
    disable_notification: bool
    message_thread_id: int | None
    reply_markup: JSONDict | None
    received_at: float


# --------------------------------------------------------------------------- internals


class _ApiError(Exception):
    """An error answer in the Bot API envelope."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(HTTPStatus.BAD_REQUEST, f"Bad Request: {detail}")


@dataclass(frozen=True)
class _Upload:
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Fault:
    method: str | None
    error: _ApiError


@dataclass(frozen=True)
class _Delay:
    method: str | None
    seconds: float


@dataclass(frozen=True)
class _HttpRequest:
    target: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class _HttpReply:
    status: int
    payload: JSONDict


Handler = Callable[[JSONDict, dict[str, _Upload]], Any]
_Queued = TypeVar("_Queued", _Fault, _Delay)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class _EntityParseError(Exception):
    """Raised by the HTML parser with Telegram's wording of what is wrong."""


class _TelegramHtmlParser(HTMLParser):
    """Validates Telegram's HTML subset and yields plain text plus Bot API message entities.

    html.parser is lenient (it silently drops a stray ``&`` or ``</>``), so every construct it
    reports is checked to start exactly where the previous one ended; any gap is an error.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]
        self._cursor = 0
        self._text: list[str] = []
        self._text_chars = 0
        self._utf16_offset = 0
        self._open: list[tuple[str, JSONDict, int, int]] = []  # tag, entity, offset, text index
        self._entities: list[JSONDict] = []

    @classmethod
    def parse(cls, source: str) -> tuple[str, list[JSONDict]]:
        parser = cls(source)
        parser.feed(source)
        parser.close()
        if parser._cursor != len(source):
            parser._fail_at(parser._cursor)
        if parser._open:
            raise _EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{parser._open[-1][0]}"'
            )
        entities = sorted(parser._entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(parser._text), entities

    # -- position bookkeeping

    def _start(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _consume(self, raw_length: int) -> int:
        start = self._start()
        if start != self._cursor:
            self._fail_at(self._cursor)
        self._cursor = start + raw_length
        return start

    def _byte_offset(self, index: int) -> int:
        return len(self._source[:index].encode("utf-8", "surrogatepass"))

    def _fail_at(self, index: int) -> NoReturn:
        where = f"at byte offset {self._byte_offset(index)}"
        if self._source.startswith("&", index):
            raise _EntityParseError(f"Unsupported HTML entity {where}")
        name = re.match(r"</?([^\s>/]*)", self._source[index:])
        tag = name.group(1) if name else ""
        raise _EntityParseError(f'Unsupported start tag "{tag}" {where}')

    def _append(self, text: str) -> None:
        self._text.append(text)
        self._text_chars += len(text)
        self._utf16_offset += _utf16_len(text)

    # -- html.parser callbacks

    def handle_data(self, data: str) -> None:
        start = self._consume(len(data))
        stray = [i for i in (data.find("<"), data.find("&")) if i >= 0]
        if stray:
            self._fail_at(start + min(stray))
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        start = self._start()
        if name not in _HTML_ENTITIES or not self._source.startswith(";", start + 1 + len(name)):
            self._fail_at(start)
        self._consume(len(name) + 2)
        self._append(_HTML_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        start = self._start()
        if not self._source.startswith(";", start + 2 + len(name)):
            self._fail_at(start)
        code_point = int(name[1:], 16) if name[:1] in "xX" else int(name)
        if not 0 < code_point <= 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
            self._fail_at(start)
        self._consume(len(name) + 3)
        self._append(chr(code_point))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self._consume(len(self.get_starttag_text() or ""))
        entity = self._entity_for(tag, {key: value or "" for key, value in attrs}, start)
        self._open.append((tag, entity, self._utf16_offset, self._text_chars))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail_at(self._start())

    def handle_endtag(self, tag: str) -> None:
        start = self._start()
        end = self._source.find(">", start)
        if end < 0:
            self._fail_at(start)
        self._consume(end + 1 - start)
        where = f"at byte offset {self._byte_offset(start)}"
        if not self._open:
            raise _EntityParseError(f"Unexpected end tag {where}")
        open_tag, entity, offset, text_index = self._open.pop()
        if open_tag != tag:
            raise _EntityParseError(
                f'Unmatched end tag {where}, expected "</{open_tag}>", found "</{tag}>"'
            )
        language = entity.pop("language", None)
        if tag == "code" and language and self._open and self._open[-1][0] == "pre":
            self._open[-1][1]["language"] = language
            return
        if tag == "a" and not entity.get("url"):
            entity["url"] = "".join(self._text)[text_index:]
        length = self._utf16_offset - offset
        if length > 0:
            self._entities.append({**entity, "offset": offset, "length": length})

    def handle_comment(self, data: str) -> None:
        self._fail_at(self._start())

    def handle_decl(self, decl: str) -> None:
        self._fail_at(self._start())

    def handle_pi(self, data: str) -> None:
        self._fail_at(self._start())

    def unknown_decl(self, data: str) -> None:
        self._fail_at(self._start())

    def _entity_for(self, tag: str, attrs: dict[str, str], start: int) -> JSONDict:
        if tag in _SIMPLE_TAGS:
            entity: JSONDict = {"type": _SIMPLE_TAGS[tag]}
            class_name = attrs.get("class", "")
            if tag == "code" and class_name.startswith("language-"):
                entity["language"] = class_name.removeprefix("language-")
            return entity
        if tag == "span":
            if attrs.get("class") != "tg-spoiler":
                raise _EntityParseError('Tag "span" must have class "tg-spoiler"')
            return {"type": "spoiler"}
        if tag == "a":
            return {"type": "text_link", "url": attrs.get("href", "")}
        if tag == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        if tag == "tg-emoji":
            if not attrs.get("emoji-id"):
                raise _EntityParseError("Custom emoji identifier must be specified")
            return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        self._fail_at(start)


def _render(text: str, parse_mode: str | None, entities: object) -> tuple[str, list[JSONDict]]:
    """Return the plain text and entities Telegram would derive from ``text``."""
    if not parse_mode:
        return text, list(entities) if isinstance(entities, list) else []
    mode = parse_mode.lower()
    if mode in ("markdown", "markdownv2"):
        return text, []  # accepted without validation
    if mode != "html":
        raise _bad_request("unsupported parse_mode")
    try:
        return _TelegramHtmlParser.parse(text)
    except _EntityParseError as error:
        raise _bad_request(f"can't parse entities: {error}") from None


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, _Upload]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise _bad_request("invalid multipart/form-data body")
    fields: dict[str, str] = {}
    uploads: dict[str, _Upload] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", "", header="content-disposition"))
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None and "content-type" not in part:
            fields[name] = data.decode(part.get_content_charset() or "utf-8")
        else:
            uploads[name] = _Upload(filename, part.get_content_type(), data)
    return fields, uploads


def _decode_param(name: str, value: str) -> Any:
    if name in _TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_params(
    target: str, content_type: str, body: bytes
) -> tuple[JSONDict, dict[str, _Upload]]:
    """Merge query-string and body parameters (form, multipart or JSON), like the real API."""
    raw = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
    uploads: dict[str, _Upload] = {}
    mime = content_type.split(";")[0].strip().lower()
    if body and mime == "application/json":
        try:
            document = json.loads(body)
        except ValueError:
            raise _bad_request("can't parse JSON object") from None
        if not isinstance(document, dict):
            raise _bad_request("JSON body must be an object")
        raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in document.items()})
    elif body and mime == "multipart/form-data":
        fields, uploads = _parse_multipart(content_type, body)
        raw.update(fields)
    elif body:
        raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return {name: _decode_param(name, value) for name, value in raw.items()}, uploads


def _as_int(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return default


def _as_dict(value: object) -> JSONDict | None:
    return value if isinstance(value, dict) else None


def _as_bool(value: object) -> bool:
    return value is True or value in (1, "true", "True", "1")


class _RateLimiter:
    """Sliding-window flood control: per chat per minute and overall per second."""

    def __init__(self, per_chat_per_minute: int, global_per_second: int,
                 clock: Callable[[], float]) -> None:
        self._per_chat_limit = per_chat_per_minute
        self._global_limit = global_per_second
        self._clock = clock
        self._per_chat: dict[int, deque[float]] = {}
        self._overall: deque[float] = deque()

    def admit(self, chat_id: int) -> None:
        """Record a send to ``chat_id`` or raise a 429 saying how long to wait."""
        now = self._clock()
        chat_window = self._per_chat.setdefault(chat_id, deque())
        wait = max(
            self._wait(chat_window, self._per_chat_limit, 60.0, now),
            self._wait(self._overall, self._global_limit, 1.0, now),
        )
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"Too Many Requests: retry after {retry_after}",
                retry_after,
            )
        chat_window.append(now)
        self._overall.append(now)

    @staticmethod
    def _wait(window: deque[float], limit: int, span: float, now: float) -> float:
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) < limit:
            return 0.0
        return window[len(window) - limit] + span - now


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        with self.server.serving():
            body = self._read_body()
            reply = self.server.respond(
                _HttpRequest(self.path, self.headers.get("Content-Type", ""), body)
            )
            payload = json.dumps(reply.payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (e.g. it timed out) or we are stopping
                self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class _Server(ThreadingHTTPServer):
    """Threaded HTTP server that can finish in-flight replies, then sever idle connections."""

    daemon_threads = True

    def __init__(self, respond: Callable[[_HttpRequest], _HttpReply]) -> None:
        self.respond = respond
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._active = 0
        self._idle = threading.Condition()
        super().__init__(("127.0.0.1", 0), _Handler)

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Mark one request as in flight."""
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout)

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------------- the stand-in


class BotApiStandIn:
    """A fake Telegram Bot API server that records what a bot sends and feeds it updates.

    Give PTB ``base_url=api.base_url + "/bot"``. All state is guarded by one condition
    variable, so tests may call any method from any thread while the bot is talking to it.
    Injected faults and delays with ``method=None`` also hit ``getUpdates`` of a polling bot:
    pass ``method="sendMessage"`` to aim them. Like Telegram, a newer getUpdates ends an
    older long poll with 409, so a stopped PTB Updater leaves one 409 in ``calls``.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_username: str = "sahel_watch_bot",
        bot_name: str = "Sahel Watch",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self._bot_name = bot_name
        prefix = token.split(":", 1)[0]
        self._bot_id = int(prefix) if prefix.isdigit() else 1

        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        self._calls: list[ApiCall] = []
        self._sent: list[SentMessage] = []
        self._edits: list[EditedMessage] = []
        self._photos: list[SentPhoto] = []
        self._count_429 = 0

        self._chats: dict[int, JSONDict] = {}
        self._chat_ids_by_username: dict[str, int] = {}
        self._channel_ids = itertools.count(-1001000000001, -1)
        self._forbidden: set[int] = set()
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._bot_messages: set[tuple[int, int]] = set()

        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._poll_generation = 0
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._open_callback_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}

        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._rate_limiter: _RateLimiter | None = None

        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "sendPhoto": self._send_photo,
            "answerCallbackQuery": self._answer_callback_query,
            "getUpdates": self._get_updates,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": lambda params, uploads: True,
            "logOut": lambda params, uploads: True,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # -- lifecycle

    def start(self) -> BotApiStandIn:
        if self._server is not None:
            raise RuntimeError("BotApiStandIn is already running")
        self._stopping.clear()
        self._server = _Server(self._respond)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bot-api-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls return at once with what they have."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()
        server.wait_idle(timeout=2.0)
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> BotApiStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; PTB wants ``base_url + "/bot"``."""
        if self._server is None:
            raise RuntimeError("BotApiStandIn is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what the tests read

    @property
    def calls(self) -> list[ApiCall]:
        with self._cond:
            return list(self._calls)

    @property
    def sent(self) -> list[SentMessage]:
        with self._cond:
            return list(self._sent)

    @property
    def edits(self) -> list[EditedMessage]:
        with self._cond:
            return list(self._edits)

    @property
    def photos(self) -> list[SentPhoto]:
        with self._cond:
            return list(self._photos)

    @property
    def count_429(self) -> int:
        """Number of 429 answers given, injected or from enforced rate limits."""
        with self._cond:
            return self._count_429

    def commands_for(
        self, language_code: str = "", scope: Mapping[str, Any] | None = None
    ) -> list[JSONDict]:
        """Commands stored by setMyCommands for this scope (default scope if None) and language."""
        with self._cond:
            key = (_canonical_json(dict(scope or {"type": "default"})), language_code)
            return copy.deepcopy(self._commands.get(key, []))

    def wait_for_sent(self, n: int, timeout: float = 10.0) -> list[SentMessage]:
        """Block until at least ``n`` messages were accepted; return all of them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._sent) >= n, timeout):
                raise AssertionError(
                    f"expected {n} sent message(s) within {timeout}s, got {len(self._sent)}: "
                    f"{[m.text for m in self._sent]!r}; calls: {self._call_summary()}"
                )
            return list(self._sent)

    def wait_for_calls(self, method: str, n: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Block until ``method`` (any case) was requested ``n`` times; return those calls."""
        wanted = method.lower()

        def matching() -> list[ApiCall]:
            return [call for call in self._calls if call.method.lower() == wanted]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= n, timeout):
                raise AssertionError(
                    f"expected {n} {method} call(s) within {timeout}s, got {len(matching())}; "
                    f"calls: {self._call_summary()}"
                )
            return matching()

    def _call_summary(self) -> list[tuple[str, int]]:
        return [(call.method, call.status) for call in self._calls[-20:]]

    # -- test controls

    def forbid_chat(self, chat_id: int | str) -> None:
        """Make every send or edit to this chat answer 403 Forbidden."""
        with self._cond:
            self._forbidden.add(self._public_chat(chat_id)["id"])

    def fail_next(
        self,
        n: int = 1,
        status: int = HTTPStatus.INTERNAL_SERVER_ERROR,
        retry_after: int | None = None,
        method: str | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests (for ``method``, or any) with an error.

        A 429 always carries ``parameters.retry_after`` (1 s unless given); PTB raises
        RetryAfter whenever retry_after is present, whatever the status.
        """
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        if description is None:
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                try:
                    description = HTTPStatus(status).phrase
                except ValueError:
                    description = f"Error {status}"
        fault = _Fault(method.lower() if method else None,
                       _ApiError(status, description, retry_after))
        with self._cond:
            self._faults.extend([fault] * n)

    def clear_faults(self) -> None:
        """Drop every queued failure and delay: the service is healthy again."""
        with self._cond:
            self._faults.clear()
            self._delays.clear()

    def delay_next(self, n: int, seconds: float, method: str | None = None) -> None:
        """Hold back the answers to the next ``n`` requests by ``seconds``.

        The request is processed first (a delayed sendMessage is recorded and delivered), as
        with real Telegram, where a client timeout does not mean the message was not sent.
        """
        delay = _Delay(method.lower() if method else None, seconds)
        with self._cond:
            self._delays.extend([delay] * n)

    def enforce_rate_limits(
        self,
        per_chat_per_minute: int = 20,
        global_per_second: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Answer sendMessage/sendPhoto with 429 when a sliding-window limit would be exceeded."""
        with self._cond:
            self._rate_limiter = _RateLimiter(per_chat_per_minute, global_per_second, clock)

    def push_message(
        self,
        text: str,
        *,
        chat_id: int | None = None,
        user_id: int = 1001,
        language_code: str | None = "fr",
        chat_type: ChatType = "private",
        username: str | None = "reader",
        first_name: str = "Aminata",
        forwarded_from: int | None = None,
    ) -> JSONDict:
        """Queue an Update with a user's message; ``/commands`` get bot_command entities.
        ``forwarded_from``: the message is a forward of what that user wrote.

        ``chat_id`` defaults to ``user_id`` for private chats and a derived negative id
        otherwise. ``chat_type="channel"`` queues a channel_post instead.
        """
        if chat_id is None:
            chat_id = {"private": user_id, "group": -user_id}.get(
                chat_type, -1_000_000_000_000 - user_id
            )
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
            if username:
                chat["username"] = username
        else:
            chat["title"] = f"Test {chat_type}"
        entities = [
            {"type": "bot_command", "offset": _utf16_len(text[: m.start()]),
             "length": _utf16_len(m.group())}
            for m in _BOT_COMMAND.finditer(text)
        ]
        with self._cond:
            self._chats[chat_id] = chat
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "date": int(time.time()),
                "chat": dict(chat),
                "text": text,
            }
            if chat_type == "channel":
                message["sender_chat"] = dict(chat)
            else:
                message["from"] = self._user(user_id, first_name, username, language_code)
            if entities:
                message["entities"] = entities
            if forwarded_from is not None:
                message["forward_origin"] = {
                    "type": "user", "date": int(time.time()) - 60,
                    "sender_user": self._user(forwarded_from, "Stranger", None, "fr")}
            self._messages[(chat_id, message["message_id"])] = message
            kind = "channel_post" if chat_type == "channel" else "message"
            return self._queue_update({kind: copy.deepcopy(message)})

    def push_callback_query(
        self,
        data: str,
        message_id: int,
        chat_id: int | str,
        user_id: int = 1001,
        language_code: str | None = "fr",
        *,
        username: str | None = "reader",
        first_name: str = "Aminata",
    ) -> JSONDict:
        """Queue an Update with a button press on ``message_id`` in ``chat_id``.

        An unknown message is sent as inaccessible (date 0), as Telegram does.
        """
        with self._cond:
            chat = self._public_chat(chat_id)
            message = self._messages.get((chat["id"], message_id)) or {
                "message_id": message_id, "date": 0, "chat": dict(chat),
            }
            query_id = str(next(self._callback_ids))
            self._open_callback_queries.add(query_id)
            return self._queue_update({
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id, first_name, username, language_code),
                    "chat_instance": str(abs(chat["id"]) * 7919),
                    "data": data,
                    "message": copy.deepcopy(message),
                }
            })

    # -- HTTP entry point (runs on server threads)

    def _respond(self, request: _HttpRequest) -> _HttpReply:
        match = _PATH.fullmatch(unquote(urlsplit(request.target).path))
        requested = match["method"] if match else ""
        entry = self._methods.get(requested.lower())
        method = entry[0] if entry else requested
        params: JSONDict = {}
        with self._cond:
            try:
                params, uploads = _parse_params(request.target, request.content_type, request.body)
                result = self._execute(match, entry, params, uploads)
                status, payload = int(HTTPStatus.OK), {"ok": True, "result": result}
            except _ApiError as error:
                status, payload = error.status, error.envelope()
            except Exception as error:  # a stand-in bug: make it visible to the test
                status = int(HTTPStatus.INTERNAL_SERVER_ERROR)
                payload = _ApiError(status, f"stand-in crashed: {error!r}").envelope()
            self._calls.append(ApiCall(method, params, status, time.time()))
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                self._count_429 += 1
            delay = self._pop_matching(self._delays, method)
            self._cond.notify_all()
        if delay is not None:
            self._stopping.wait(delay.seconds)
        return _HttpReply(status, payload)

    def _execute(
        self,
        match: re.Match[str] | None,
        entry: tuple[str, Handler] | None,
        params: JSONDict,
        uploads: dict[str, _Upload],
    ) -> Any:
        if match is None:
            raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found")
        if match["token"] != self.token:
            if _TOKEN_SHAPE.fullmatch(match["token"]):
                raise _ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found")
        if entry is None:
            raise _ApiError(HTTPStatus.NOT_FOUND, "Not Found")
        method, handler = entry
        fault = self._pop_matching(self._faults, method)
        if fault is not None:
            raise fault.error
        return handler(params, uploads)

    @staticmethod
    def _pop_matching(queue: list[_Queued], method: str) -> _Queued | None:
        for index, item in enumerate(queue):
            if item.method in (None, method.lower()):
                return queue.pop(index)
        return None

    # -- chats, users, messages, updates (called with the lock held)

    def _public_chat(self, chat_id: int | str) -> JSONDict:
        try:
            return self._resolve_chat(chat_id)
        except _ApiError as error:
            raise ValueError(f"invalid chat id {chat_id!r}") from error

    def _resolve_chat(self, chat_id: object) -> JSONDict:
        """Map a numeric id or ``@channelname`` to a chat.

        Chats not seen in pushed updates are channels, except positive ids, which Telegram
        only gives to users: those are private chats.
        """
        if isinstance(chat_id, str) and chat_id.startswith("@") and len(chat_id) > 1:
            username = chat_id[1:]
            numeric = self._chat_ids_by_username.get(username.lower())
            if numeric is None:
                numeric = next(self._channel_ids)
                self._chat_ids_by_username[username.lower()] = numeric
                self._chats[numeric] = {
                    "id": numeric, "type": "channel", "title": username, "username": username,
                }
            return self._chats[numeric]
        numeric = _as_int(chat_id, 0)
        if numeric == 0:
            raise _bad_request("chat not found")
        if numeric > 0:
            default: JSONDict = {"id": numeric, "type": "private", "first_name": f"User {numeric}"}
        else:
            default = {"id": numeric, "type": "channel", "title": f"Channel {numeric}"}
        return self._chats.setdefault(numeric, default)

    def _target_chat(self, params: JSONDict) -> JSONDict:
        if params.get("chat_id") in (None, ""):
            raise _bad_request("chat_id is empty")
        chat = self._resolve_chat(params["chat_id"])
        if chat["id"] in self._forbidden:
            reason = {
                "channel": "bot is not a member of the channel chat",
                "private": "bot was blocked by the user",
                "group": "bot was kicked from the group chat",
                "supergroup": "bot was kicked from the supergroup chat",
            }[chat["type"]]
            raise _ApiError(HTTPStatus.FORBIDDEN, f"Forbidden: {reason}")
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _bot_user(self) -> JSONDict:
        return {"id": self._bot_id, "is_bot": True, "first_name": self._bot_name,
                "username": self.bot_username}

    @staticmethod
    def _user(user_id: int, first_name: str, username: str | None,
              language_code: str | None) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _new_bot_message(self, chat: JSONDict, params: JSONDict, content: JSONDict) -> JSONDict:
        """Store and return a message the bot sent; channel posts carry sender_chat, not from."""
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": dict(chat),
        }
        if chat["type"] == "channel":
            message["sender_chat"] = dict(chat)
        else:
            message["from"] = self._bot_user()
        if isinstance(params.get("message_thread_id"), int):
            message["message_thread_id"] = params["message_thread_id"]
        message.update(content)
        markup = _as_dict(params.get("reply_markup"))
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        key = (chat["id"], message["message_id"])
        self._messages[key] = message
        self._bot_messages.add(key)
        return copy.deepcopy(message)

    def _queue_update(self, content: JSONDict) -> JSONDict:
        update = {"update_id": next(self._update_ids), **content}
        self._updates.append(update)
        self._cond.notify_all()
        return copy.deepcopy(update)

    def _admit(self, chat: JSONDict) -> None:
        if self._rate_limiter is not None:
            self._rate_limiter.admit(chat["id"])

    # -- Bot API methods (called with the lock held)

    def _get_me(self, params: JSONDict, uploads: dict[str, _Upload]) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _message_text(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _bad_request("message text is empty")
        plain, entities = _render(text, params.get("parse_mode"), params.get("entities"))
        if not plain.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(plain) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        return plain, entities

    def _send_message(self, params: JSONDict, uploads: dict[str, _Upload]) -> JSONDict:
        chat = self._target_chat(params)
        plain, entities = self._message_text(params)
        self._admit(chat)
        content: JSONDict = {"text": plain}
        if entities:
            content["entities"] = entities
        message = self._new_bot_message(chat, params, content)
        preview = params.get("disable_web_page_preview")
        self._sent.append(SentMessage(
            chat_id=params["chat_id"],
            message_id=message["message_id"],
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            disable_notification=_as_bool(params.get("disable_notification")),
            message_thread_id=params.get("message_thread_id"),
            link_preview_options=_as_dict(params.get("link_preview_options")),
            disable_web_page_preview=None if preview is None else _as_bool(preview),
            reply_markup=_as_dict(params.get("reply_markup")),
            received_at=time.time(),
            plain_text=plain,
            entities=entities,
        ))
        return message

    def _edit_message_text(self, params: JSONDict, uploads: dict[str, _Upload]) -> JSONDict:
        if "inline_message_id" in params:
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(params)
        message_id = _as_int(params.get("message_id"), 0)
        if message_id <= 0:
            raise _bad_request("message identifier is not specified")
        plain, entities = self._message_text(params)
        key = (chat["id"], message_id)
        stored = self._messages.get(key)
        if stored is None:
            raise _bad_request("message to edit not found")
        if key not in self._bot_messages:
            raise _bad_request("message can't be edited")
        if "text" not in stored:
            raise _bad_request("there is no text in the message to edit")
        markup = _as_dict(params.get("reply_markup"))
        new_markup = markup if markup and "inline_keyboard" in markup else None
        if (stored["text"], stored.get("entities", []), stored.get("reply_markup")) == (
            plain, entities, new_markup
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        stored.update(text=plain, edit_date=int(time.time()))
        for name, value in (("entities", entities), ("reply_markup", new_markup)):
            if value:
                stored[name] = value
            else:
                stored.pop(name, None)
        self._edits.append(EditedMessage(
            chat_id=params["chat_id"],
            message_id=message_id,
            text=params["text"],
            parse_mode=params.get("parse_mode"),
            link_preview_options=_as_dict(params.get("link_preview_options")),
            reply_markup=markup,
            received_at=time.time(),
            plain_text=plain,
        ))
        return copy.deepcopy(stored)

    def _send_photo(self, params: JSONDict, uploads: dict[str, _Upload]) -> JSONDict:
        chat = self._target_chat(params)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            upload = uploads.get(photo.removeprefix("attach://"))
        else:
            upload = uploads.get("photo")
        reference = photo if upload is None and isinstance(photo, str) and photo else None
        if upload is None and reference is None:
            raise _bad_request("there is no photo in the request")
        if upload is not None and not upload.data:
            raise _bad_request("file must be non-empty")
        caption = params.get("caption")
        content: JSONDict = {}
        if isinstance(caption, str) and caption:
            plain, entities = _render(caption, params.get("parse_mode"),
                                      params.get("caption_entities"))
            if _utf16_len(plain) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
            content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        self._admit(chat)
        file_id = uuid.uuid4().hex
        size: JSONDict = {"file_id": f"AgAC{file_id}", "file_unique_id": file_id[:16],
                          "width": 320, "height": 180}
        if upload is not None:
            size["file_size"] = len(upload.data)
        message = self._new_bot_message(chat, params, {"photo": [size], **content})
        self._photos.append(SentPhoto(
            chat_id=params["chat_id"],
            message_id=message["message_id"],
            data=upload.data if upload else None,
            file_name=upload.filename if upload else None,
            mime_type=upload.content_type if upload else None,
            reference=reference,
            caption=caption if isinstance(caption, str) else None,
            parse_mode=params.get("parse_mode"),
            disable_notification=_as_bool(params.get("disable_notification")),
            message_thread_id=params.get("message_thread_id"),
            reply_markup=_as_dict(params.get("reply_markup")),
            received_at=time.time(),
        ))
        return message

    def _answer_callback_query(self, params: JSONDict, uploads: dict[str, _Upload]) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._open_callback_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callback_queries.discard(query_id)
        return True

    def _get_updates(self, params: JSONDict, uploads: dict[str, _Upload]) -> list[JSONDict]:
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        timeout = params.get("timeout", 0)
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # A newer getUpdates terminates an older long poll with 409, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise _ApiError(HTTPStatus.CONFLICT, _CONFLICT)
            remaining = deadline - time.monotonic()
            if self._updates or self._stopping.is_set() or remaining <= 0:
                return copy.deepcopy(self._updates[:limit])
            self._cond.wait(remaining)

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise _bad_request("can't parse BotCommandScope")
        language_code = params.get("language_code") or ""
        if not re.fullmatch(r"(?:[a-z]{2})?", language_code):
            raise _bad_request("invalid language code specified")
        return _canonical_json(scope), language_code

    def _set_my_commands(self, params: JSONDict, uploads: dict[str, _Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("parameter \"commands\" is required")
        if len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JSONDict, uploads: dict[str, _Upload]) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: JSONDict, uploads: dict[str, _Upload]) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _delete_webhook(self, params: JSONDict, uploads: dict[str, _Upload]) -> bool:
        if _as_bool(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSONDict, uploads: dict[str, _Upload]) -> JSONDict:
        return {"url": "", "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}


def telegram_plain_text(source: str) -> str:
    """The text Telegram shows for HTML ``source``; ValueError where Telegram refuses it."""
    try:
        return _TelegramHtmlParser.parse(source)[0]
    except _EntityParseError as exc:
        raise ValueError(str(exc)) from None
