"""The Store: every read and write of the bot's SQLite database, composed by domain."""

from __future__ import annotations

from bot.storage.exports import ExportsMixin
from bot.storage.feeds import FeedsMixin
from bot.storage.items import ItemsMixin
from bot.storage.listings import ListingsMixin
from bot.storage.outbox import OutboxMixin
from bot.storage.rehits import RehitsMixin
from bot.storage.stories import StoriesMixin
from bot.storage.upkeep import UpkeepMixin

COUNTED_TABLES = ("feeds", "items", "hits", "alerts")


class Store(ItemsMixin, FeedsMixin, StoriesMixin, OutboxMixin, ListingsMixin, UpkeepMixin,
            ExportsMixin, RehitsMixin):
    """All reads and writes of the bot's SQLite database.

    Each part owns its tables: feeds, items (with hits and signals), stories, the outbox,
    the command listings, upkeep (mutes, audit, pruning, cycles), exports and rematches.
    A write that must not be
    seen half done (a feed's new items with their hits and alerts) is one transaction.
    """

    def health(self) -> dict[str, object]:
        """What ``check`` says of the database: integrity, schema, sizes, the outbox."""
        integrity = self.db.execute("PRAGMA quick_check").fetchone()[0]
        return {"integrity": integrity, "schema": self.schema_version()[-1:],
                "journal": self.db.execute("PRAGMA journal_mode").fetchone()[0],
                **self.counts(), "pending": self.pending_count()}

    def counts(self) -> dict[str, int]:
        """Row counts per table, for logs and checks."""
        return {table: int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in COUNTED_TABLES}
