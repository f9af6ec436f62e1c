"""The outbox: alerts and notices owed to Telegram, sent in order and retried."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.storage.base import StoreBase
from bot.storage.records import (
    ALERT_FAILED,
    ALERT_PENDING,
    ALERT_SENT,
    CONSOLE_CHAT,
    Alert,
    RenderedAlert,
    from_iso,
    iso,
)

log = logging.getLogger(__name__)


class OutboxMixin(StoreBase):
    """The alerts table."""

    def upsert_alerts(self, story_id: int, rendered: RenderedAlert, now: datetime,
                      kind: str) -> tuple[int, int]:
        """Create or rewrite the story's alert of ``kind`` in each target; returns how many
        were created and how many rewritten (an unchanged text is left alone). A story has
        one message per target: when its only alert there is of another kind (a
        partnership message, then a watched term), that message is rewritten. Stories
        alerted as two messages before keep both, each edited with its own kind."""
        created = updated = 0
        with self.transaction():
            for chat, thread in rendered.targets:
                rows = self.db.execute(
                    """SELECT id, html, kind FROM alerts WHERE story_id = ? AND chat = ?
                       AND coalesce(thread_id, 0) = ?""",
                    [story_id, chat, thread or 0],
                ).fetchall()
                row = next((r for r in rows if r[2] == kind), rows[0] if len(rows) == 1
                           else None)
                if row is None:
                    self.db.execute(
                        """INSERT INTO alerts (story_id, chat, thread_id, html, silent, status,
                           next_attempt_at, created_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        [story_id, chat, thread, rendered.html, int(rendered.silent),
                         ALERT_PENDING, iso(now), iso(now), kind],
                    )
                    created += 1
                elif row[1] != rendered.html:
                    self.db.execute(
                        "UPDATE alerts SET html = ?, edit_after = coalesce(edit_after, ?) "
                        "WHERE id = ?", [rendered.html, iso(now), row[0]],
                    )
                    updated += 1
        return created, updated

    def queue_message(self, chat: str, html: str, now: datetime, *, silent: bool = False) -> int:
        """Put a message that belongs to no item (a notice to admins) in the outbox."""
        with self.transaction():
            cursor = self.db.execute(
                """INSERT INTO alerts (item_id, chat, html, silent, status, next_attempt_at,
                   created_at) VALUES (NULL, ?, ?, ?, ?, ?, ?)""",
                [chat, html, int(silent), ALERT_PENDING, iso(now), iso(now)],
            )
        return int(cursor.lastrowid or 0)

    def queue_photo(self, chat: str, png: bytes, caption: str, now: datetime, *,
                    key: str, thread_id: int | None = None) -> bool:
        """Put a picture with its caption in the outbox, once per ``key`` (a second call
        with a key already queued, sent or not, adds nothing); whether it was queued."""
        with self.transaction():
            cursor = self.db.execute(
                """INSERT OR IGNORE INTO alerts (item_id, chat, html, silent, status,
                   next_attempt_at, created_at, photo, once_key, thread_id)
                   VALUES (NULL, ?, ?, 0, ?, ?, ?, ?, ?, ?)""",
                [chat, caption, ALERT_PENDING, iso(now), iso(now), png, key, thread_id])
        return cursor.rowcount > 0

    def due_alerts(self, now: datetime, limit: int, *,
                   console: bool | None = None) -> list[Alert]:
        """Outbox work that is due, oldest first: alerts to send, and sent alerts whose
        story changed since (to edit), once their edit pause is over. ``console``: only
        the console's (True), only Telegram's (False), or all (None)."""
        where, params = _scope(console)
        rows = self.db.query(
            f"""SELECT id, story_id, chat, html, silent, attempts, message_id, thread_id,
                  photo FROM alerts WHERE ((status = ? AND next_attempt_at <= ?)
                  OR (status = ? AND digest = 0 AND sent_html IS NOT NULL
                      AND html != sent_html AND edit_after <= ?)){where}
                ORDER BY id LIMIT ?""",
            [ALERT_PENDING, iso(now), ALERT_SENT, iso(now), *params, limit],
        )
        return [Alert(id=r["id"], story_id=r["story_id"], chat=r["chat"], html=r["html"],
                      silent=bool(r["silent"]), attempts=r["attempts"],
                      message_id=r["message_id"], thread_id=r["thread_id"],
                      photo=r["photo"]) for r in rows]

    def pending_sends(self, chat: str, now: datetime) -> int:
        """How many story alerts wait to be sent to ``chat`` (not edits)."""
        row = self.db.execute(
            """SELECT count(*) FROM alerts WHERE status = ? AND chat = ?
               AND story_id IS NOT NULL AND next_attempt_at <= ?""",
            [ALERT_PENDING, chat, iso(now)]).fetchone()
        return int(row[0])

    def pending_alerts(self, chat: str, now: datetime) -> list[Alert]:
        """Every due alert waiting to be sent to ``chat``, oldest first."""
        rows = self.db.query(
            """SELECT id, story_id, chat, html, silent, attempts, message_id, thread_id
               FROM alerts WHERE status = ? AND chat = ? AND next_attempt_at <= ?
               ORDER BY id""", [ALERT_PENDING, chat, iso(now)])
        return [Alert(id=r["id"], story_id=r["story_id"], chat=r["chat"], html=r["html"],
                      silent=bool(r["silent"]), attempts=r["attempts"],
                      message_id=r["message_id"], thread_id=r["thread_id"]) for r in rows]

    def pending_count(self, *, console: bool | None = None) -> int:
        """How many sends and edits wait in the outbox (``console`` as in due_alerts)."""
        where, params = _scope(console)
        row = self.db.execute(
            f"""SELECT count(*) FROM alerts WHERE (status = 'pending' OR (status = 'sent'
                  AND digest = 0 AND sent_html IS NOT NULL AND html != sent_html)){where}""",
            params).fetchone()
        return int(row[0])

    def next_alert_due(self, *, console: bool | None = None) -> datetime | None:
        """When the earliest pending send or edit may next be tried."""
        where, params = _scope(console)
        row = self.db.execute(
            f"""SELECT min(CASE WHEN status = 'pending' THEN next_attempt_at
                  ELSE edit_after END)
                FROM alerts WHERE (status = 'pending' OR (status = 'sent' AND digest = 0
                  AND sent_html IS NOT NULL AND html != sent_html)){where}""",
            params).fetchone()
        return from_iso(row[0]) if row else None

    def mark_sent(self, alert: Alert, message_id: int | None, now: datetime,
                  next_edit: datetime, *, digest: bool = False) -> None:
        """Record a delivered alert (or edit) right after Telegram accepted it."""
        with self.transaction():
            self.db.execute(
                """UPDATE alerts SET status = ?, message_id = coalesce(?, message_id),
                   sent_at = coalesce(sent_at, ?), attempts = attempts + 1, last_error = NULL,
                   sent_html = ?, edit_after = ?, digest = ? WHERE id = ?""",
                [ALERT_SENT, message_id, iso(now), alert.html, iso(next_edit), int(digest),
                 alert.id],
            )

    def mark_retry(self, alert_id: int, error: str, next_attempt: datetime) -> None:
        """Try again later after a transient failure (a send, or an edit)."""
        with self.transaction():
            self.db.execute(
                """UPDATE alerts SET attempts = attempts + 1, last_error = ?,
                   next_attempt_at = CASE WHEN status = 'pending' THEN ? ELSE next_attempt_at END,
                   edit_after = CASE WHEN status = 'sent' THEN ? ELSE edit_after END
                   WHERE id = ?""",
                [error, iso(next_attempt), iso(next_attempt), alert_id],
            )

    def mark_failed(self, alert: Alert, error: str) -> None:
        """Give up on what Telegram refused for good: a send fails the alert; a refused
        edit leaves the sent message as it is."""
        with self.transaction():
            if alert.message_id is None:
                self.db.execute(
                    "UPDATE alerts SET status = ?, attempts = attempts + 1, last_error = ? "
                    "WHERE id = ?", [ALERT_FAILED, error, alert.id])
            else:
                self.db.execute(
                    "UPDATE alerts SET sent_html = ?, last_error = ? WHERE id = ?",
                    [alert.html, error, alert.id])

    def postpone_pending(self, chat: str, until: datetime) -> None:
        """Hold every send and edit for ``chat`` until ``until`` (flood control)."""
        with self.transaction():
            self.db.execute(
                """UPDATE alerts SET next_attempt_at = max(next_attempt_at, ?),
                   edit_after = CASE WHEN edit_after IS NULL THEN NULL ELSE max(edit_after, ?) END
                   WHERE status IN (?, ?) AND chat = ?""",
                [iso(until), iso(until), ALERT_PENDING, ALERT_SENT, chat],
            )


def _scope(console: bool | None) -> tuple[str, list[str]]:
    """The condition on ``chat`` that keeps the console's alerts apart from Telegram's."""
    if console is None:
        return "", []
    return (" AND chat = ?" if console else " AND chat != ?"), [CONSOLE_CHAT]
