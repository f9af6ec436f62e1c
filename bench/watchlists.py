"""Loading and checking a watchlist of 1,000 to 20,000 terms: linear in its size."""

from __future__ import annotations

import random
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.matching.watchlists import load_watchlists  # noqa: E402

SIZES = (1_000, 10_000, 20_000)
SEED = 20_261_206
TARGET_SECONDS_PER_1K = 0.2  # linear: about the same per thousand terms at every size


def write_watchlist(directory: Path, terms: int) -> None:
    """One watchlist file of ``terms`` made-up two-word terms, one per line."""
    rng = random.Random(SEED)
    lines = ",\n  ".join(f'"{"".join(rng.choices(string.ascii_lowercase, k=8))} {n}"'
                         for n in range(terms))
    (directory / "big.toml").write_text(f'name = "Big"\nterms = [\n  {lines},\n]\n',
                                        encoding="utf-8")


def main() -> int:
    print("| terms | load and check (s) | per 1,000 terms (s) |")
    print("| ---: | ---: | ---: |")
    worst = 0.0
    for size in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            write_watchlist(Path(tmp), size)
            started = time.perf_counter()
            load_watchlists(Path(tmp))
            seconds = time.perf_counter() - started
        worst = max(worst, seconds / size * 1000)
        print(f"| {size:,} | {seconds:.2f} | {seconds / size * 1000:.3f} |")
    met = "met" if worst <= TARGET_SECONDS_PER_1K else "NOT met"
    print(f"\nworst per 1,000 terms: {worst:.3f} s (target ≤ {TARGET_SECONDS_PER_1K} s: {met})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
