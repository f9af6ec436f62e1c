"""PNG charts for Telegram: hits per day per watchlist and a count matrix (pure, no pyplot)."""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from bot.matching.text import clip
from bot.telegram.i18n import DEFAULT_LANGUAGE, LANGUAGES, MONTHS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

FIG_WIDTH_IN = 10.0
FIG_HEIGHT_IN = 5.6
DPI = 100  # 10 x 5.6 inches at 100 dpi: 1000 x 560 px
BACKGROUND = "white"
TEXT_COLOUR = "#222222"
GRID_COLOUR = "#dddddd"
MUTED_COLOUR = "#888888"
TITLE_SIZE = 14
LABEL_SIZE = 11
TICK_SIZE = 10
LEGEND_SIZE = 10

# Okabe & Ito's colour-blind-safe palette, yellow last (weakest on white).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow
)
# Beyond the palette, series still differ by marker and line style (or hatching for bars).
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
LINE_STYLES = ("-", "--", ":")
HATCHES = ("", "//", "..")
LINE_WIDTH = 2.0
THIN_LINE_WIDTH = 1.5
MANY_SERIES = 6  # above this, lines get thinner so they tangle less
MARKER_SIZE = 5.0
SMALL_MARKER_SIZE = 3.0
MANY_DAYS = 45  # above this, markers shrink so the lines stay readable
MAX_BAR_DAYS = 7  # this many days or fewer: grouped bars instead of lines
BAR_GROUP_WIDTH = 0.8  # share of a day taken by one day's group of bars
MAX_DATE_TICKS = 10
MAX_LEGEND_CHARS = 32
MAX_AXIS_LABEL_CHARS = 28
Y_HEADROOM = 1.08  # the tallest value sits a little below the top

Y_LABELS = {"fr": "alertes par jour", "en": "hits per day"}
NO_HITS = {"fr": "aucune alerte sur la période", "en": "no hits in this period"}
FIGURE_PAD_IN = 0.12  # white margin kept around everything by the layout

MATRIX_COLOURMAP = "Blues"  # sequential, near-white at zero
DARK_CELL_LUMINANCE = 0.5  # below this, cell text turns white
LIGHT_TEXT = "white"
DARK_TEXT = "#1a1a1a"
ZERO_TEXT = "#9a9a9a"
COUNT_SIZE = 12
NOTE_SIZE = 9
MIN_COUNT_SIZE = 7
MIN_NOTE_SIZE = 5
CROWDED_CELLS = 60  # above this many cells, cell text shrinks
NOTE_OFFSET = 0.2  # in cell heights: count above the centre, note below
MAX_NOTE_CHARS = 18
MATRIX_AXES_WIDTH_PX = 720  # roughly, after row labels and colour bar
TICK_CHAR_PX = 7  # average width of a tick-label character at TICK_SIZE
COLUMN_LABEL_ROTATION = 30


def hits_per_day_png(
    days: Sequence[date],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    labels: Mapping[str, str] | None = None,
    lang: str = "fr",
) -> bytes:
    """A chart of hits per day, one coloured line (or bar group for short periods) per watchlist.

    ``days`` must be strictly increasing; each series holds one count per day. ``labels`` maps a
    watchlist id to the name shown in the legend. Returns the PNG image, 1000 x 560 px.
    """
    _check_days(days, series)
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    positions = [(day - days[0]).days for day in days]
    names = labels or {}

    fig = _new_figure()
    try:
        ax = fig.add_subplot()
        _style_axes(ax)
        if len(days) <= MAX_BAR_DAYS:
            _draw_bars(ax, positions, series, names)
        else:
            _draw_lines(ax, positions, series, names)
        _date_axis(ax, days, positions, lang, bars=len(days) <= MAX_BAR_DAYS)
        peak = max((max(counts, default=0) for counts in series.values()), default=0)
        _count_axis(ax, peak)
        if peak == 0:
            ax.text(0.5, 0.5, NO_HITS[lang], transform=ax.transAxes, ha="center", va="center",
                    fontsize=LABEL_SIZE, color=MUTED_COLOUR)
        ax.set_ylabel(Y_LABELS[lang], fontsize=LABEL_SIZE, color=TEXT_COLOUR)
        ax.set_title(title, fontsize=TITLE_SIZE, color=TEXT_COLOUR, loc="left", pad=12)
        if series:
            fig.legend(
                loc="outside right upper",
                fontsize=LEGEND_SIZE,
                frameon=False,
                handlelength=2.6,
            )
        return _png(fig)
    finally:
        fig.clear()


def matrix_png(
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    notes: Sequence[Sequence[str]] | None = None,
    title: str,
    row_label: str,
    column_label: str,
) -> bytes:
    """A heatmap of ``counts[row][column]``, each cell showing its count and optional note.

    Cells are shaded by count (white at zero, dark blue at the maximum); ``notes`` has the same
    shape as ``counts`` and is printed small under the count (e.g. the dominant kind). Returns
    the PNG image, 1000 x 560 px.
    """
    _check_matrix(rows, columns, counts, notes)
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    peak = max(max(row) for row in counts)
    cmap = colormaps[MATRIX_COLOURMAP]
    norm = Normalize(vmin=0, vmax=max(peak, 1))

    fig = _new_figure()
    try:
        ax = fig.add_subplot()
        image = ax.imshow(
            [list(row) for row in counts], cmap=cmap, norm=norm, aspect="auto",
            interpolation="nearest",
        )
        _cell_texts(ax, counts, notes, cmap, norm)
        _matrix_ticks(ax, rows, columns)
        _cell_grid(ax, len(rows), len(columns))
        ax.set_xlabel(column_label, fontsize=LABEL_SIZE, color=TEXT_COLOUR)
        ax.set_ylabel(row_label, fontsize=LABEL_SIZE, color=TEXT_COLOUR)
        ax.set_title(title, fontsize=TITLE_SIZE, color=TEXT_COLOUR, loc="left", pad=12)
        _colour_bar(fig, ax, image)
        return _png(fig)
    finally:
        fig.clear()


def _cell_texts(ax: Axes, counts: Sequence[Sequence[int]],
                notes: Sequence[Sequence[str]] | None, cmap: Colormap, norm: Normalize) -> None:
    """Each cell's count, and its note below it, in a colour that reads on the cell's shade."""
    cells = len(counts) * len(counts[0])
    shrink = min(1.0, math.sqrt(CROWDED_CELLS / cells))
    count_size = max(MIN_COUNT_SIZE, COUNT_SIZE * shrink)
    note_size = max(MIN_NOTE_SIZE, NOTE_SIZE * shrink)
    for r, row in enumerate(counts):
        for c, value in enumerate(row):
            red, green, blue, _ = cmap(norm(value))
            luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
            colour = LIGHT_TEXT if luminance < DARK_CELL_LUMINANCE else DARK_TEXT
            if value == 0:
                colour = ZERO_TEXT
            note = notes[r][c] if notes is not None else ""
            ax.text(c, r - NOTE_OFFSET if note else r, str(value), ha="center",
                    va="center", fontsize=count_size, fontweight="bold", color=colour)
            if note:
                ax.text(c, r + NOTE_OFFSET, clip(note, MAX_NOTE_CHARS), ha="center",
                        va="center", fontsize=note_size, color=colour)


def _matrix_ticks(ax: Axes, rows: Sequence[str], columns: Sequence[str]) -> None:
    """Row and column names, the column names slanted when they would overlap."""
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels([clip(name, MAX_AXIS_LABEL_CHARS) for name in columns])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([clip(name, MAX_AXIS_LABEL_CHARS) for name in rows])
    widest = max(len(tick.get_text()) for tick in ax.get_xticklabels())
    if widest * TICK_CHAR_PX > MATRIX_AXES_WIDTH_PX / len(columns):
        for tick in ax.get_xticklabels():
            tick.set_rotation(COLUMN_LABEL_ROTATION)
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")
    ax.tick_params(which="major", length=0, labelsize=TICK_SIZE, colors=TEXT_COLOUR)


def _cell_grid(ax: Axes, rows: int, columns: int) -> None:
    """Thin light lines between cells, so white zero cells still read as a grid."""
    ax.set_xticks([c - 0.5 for c in range(1, columns)], minor=True)
    ax.set_yticks([r - 0.5 for r in range(1, rows)], minor=True)
    ax.tick_params(which="minor", length=0)
    ax.grid(which="minor", color=GRID_COLOUR, linewidth=1)
    ax.grid(which="major", visible=False)
    for spine in ax.spines.values():
        spine.set_color(GRID_COLOUR)


def _colour_bar(fig: Figure, ax: Axes, image: AxesImage) -> None:
    """The count scale beside the matrix, whole numbers only."""
    from matplotlib.ticker import MaxNLocator

    colourbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colourbar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    colourbar.ax.tick_params(labelsize=TICK_SIZE - 1, colors=TEXT_COLOUR)
    colourbar.outline.set_visible(False)


def _check_days(days: Sequence[date], series: Mapping[str, Sequence[int]]) -> None:
    if not days:
        raise ValueError("hits_per_day_png needs at least one day")
    for earlier, later in itertools.pairwise(days):
        if later <= earlier:
            raise ValueError(f"days must be strictly increasing: {later} follows {earlier}")
    for key, counts in series.items():
        if len(counts) != len(days):
            raise ValueError(
                f"series {key!r} has {len(counts)} counts for {len(days)} days"
            )
        if any(value < 0 for value in counts):
            raise ValueError(f"series {key!r} has a negative count")


def _check_matrix(
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Sequence[Sequence[int]],
    notes: Sequence[Sequence[str]] | None,
) -> None:
    if not rows or not columns:
        raise ValueError("matrix_png needs at least one row and one column")
    grids = [("counts", counts)] + ([("notes", notes)] if notes is not None else [])
    for name, grid in grids:
        if len(grid) != len(rows):
            raise ValueError(f"{name} has {len(grid)} rows for {len(rows)} row labels")
        for index, row in enumerate(grid):
            if len(row) != len(columns):
                raise ValueError(
                    f"{name} row {index} has {len(row)} cells for {len(columns)} column labels"
                )
    if any(value < 0 for row in counts for value in row):
        raise ValueError("counts must not be negative")


def _new_figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fig = Figure(
        figsize=(FIG_WIDTH_IN, FIG_HEIGHT_IN), dpi=DPI, facecolor=BACKGROUND,
        layout=ConstrainedLayoutEngine(w_pad=FIGURE_PAD_IN, h_pad=FIGURE_PAD_IN),
    )
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Software": None})
    return buffer.getvalue()


def _style_axes(ax: Axes) -> None:
    ax.set_facecolor(BACKGROUND)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED_COLOUR)
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=TICK_SIZE, colors=TEXT_COLOUR)


def _draw_lines(
    ax: Axes, positions: Sequence[int], series: Mapping[str, Sequence[int]],
    names: Mapping[str, str],
) -> None:
    marker_size = SMALL_MARKER_SIZE if len(positions) > MANY_DAYS else MARKER_SIZE
    line_width = THIN_LINE_WIDTH if len(series) > MANY_SERIES else LINE_WIDTH
    for index, (key, counts) in enumerate(series.items()):
        ax.plot(
            positions, list(counts),
            color=PALETTE[index % len(PALETTE)],
            linestyle=LINE_STYLES[(index // len(PALETTE)) % len(LINE_STYLES)],
            marker=MARKERS[index % len(MARKERS)],
            markersize=marker_size,
            linewidth=line_width,
            label=clip(names.get(key, key), MAX_LEGEND_CHARS),
        )


def _draw_bars(
    ax: Axes, positions: Sequence[int], series: Mapping[str, Sequence[int]],
    names: Mapping[str, str],
) -> None:
    width = BAR_GROUP_WIDTH / max(len(series), 1)
    for index, (key, counts) in enumerate(series.items()):
        offset = (index - (len(series) - 1) / 2) * width
        ax.bar(
            [position + offset for position in positions], list(counts), width=width,
            color=PALETTE[index % len(PALETTE)],
            hatch=HATCHES[(index // len(PALETTE)) % len(HATCHES)],
            edgecolor=BACKGROUND, linewidth=0.5,
            label=clip(names.get(key, key), MAX_LEGEND_CHARS),
        )


def _date_axis(
    ax: Axes, days: Sequence[date], positions: Sequence[int], lang: str, *, bars: bool
) -> None:
    step = math.ceil(len(days) / MAX_DATE_TICKS)
    shown = list(range(0, len(days), step))
    several_years = days[0].year != days[-1].year
    tick_labels = []
    previous_year = None
    for i in shown:
        tick_labels.append(_day_label(days[i], lang,
                                      with_year=several_years and days[i].year != previous_year))
        previous_year = days[i].year
    ax.set_xticks([positions[i] for i in shown])
    ax.set_xticklabels(tick_labels)
    margin = 0.5 if bars else 0.5 + len(days) / 100
    ax.set_xlim(positions[0] - margin, positions[-1] + margin)
    ax.tick_params(axis="x", length=0 if bars else 3.5)


def _day_label(day: date, lang: str, *, with_year: bool) -> str:
    label = f"{day.day} {MONTHS[lang][day.month - 1]}"
    return f"{label}\n{day.year}" if with_year else label


def _count_axis(ax: Axes, peak: int) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
    ax.set_ylim(0, max(peak * Y_HEADROOM, 1))
