"""report.html: one self-contained page with the plan's summary, charts and explanation.

Charts are inline SVG drawn by matplotlib (no pyplot, so no GUI backend and no global state);
the page loads nothing from the network and needs no JavaScript. Every text is escaped, so a
client or role called `<script>` is shown, never run. A chart whose table is absent is skipped.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optim import __version__
from optim.export import atomic_path, flat_frame

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PLAN_BUDGET = "Plan budget"  # summary label of the annual personnel budget, if the plan has one
MONTHS = "Months"  # summary label of the number of months in the plan

FUNNEL_STAGES = (
    "researched_contacts",
    "dials",
    "conversations",
    "meetings",
    "opportunities",
    "wins",
)
_TABLE_ROWS = 60
_RC: Any = {  # typed loosely: matplotlib stubs want literal keys
    "svg.fonttype": "none",  # text stays text: smaller, searchable, escaped by matplotlib
    "svg.hashsalt": "optim",  # same plan, same bytes
    "text.parse_math": False,  # a "$" in a name is a dollar, not TeX
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2733;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.meta{color:#57606a;font-size:.85rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
th{background:#1f4e78;color:#fff}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg{max-width:100%;height:auto}pre{background:#f6f8fa;padding:1rem;white-space:pre-wrap;
font-size:.85rem}.more{color:#57606a;font-size:.8rem}
"""


# --------------------------------------------------------------------------- formatting


def _short(value: float) -> str:
    """1234567 -> '1.2M': axis labels that fit."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.0f}" if abs(value) >= 10 or value == round(value) else f"{value:.2g}"


def display(label: str, value: Any) -> str:
    """A summary value as people read it."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return str(value)
    words = re.split(r"[^a-z]+", label.lower())
    if "gap" in words or "share" in words:
        return f"{float(value):.3%}"
    if "seconds" in words:
        return f"{float(value):,.2f}"
    if "year" in words or "months" in words:
        return str(value)
    if isinstance(value, float) and abs(value) < 100 and value != round(value):
        return f"{value:,.4g}"
    return f"{float(value):,.0f}"


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return f"<td>{'' if value is None else value}</td>"
    if isinstance(value, int | float | np.number):
        number = float(value)
        if not math.isfinite(number):
            return "<td></td>"
        if number == round(number) or abs(number) >= 100:
            text = f"{number:,.0f}"
        elif abs(number) <= 1:
            text = f"{number:.3f}"
        else:
            text = f"{number:,.2f}"
        return f'<td class="n">{text}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _table(frame: pd.DataFrame, *, max_rows: int = _TABLE_ROWS, note: str = "") -> str:
    shown = frame.head(max_rows).astype(object).where(frame.head(max_rows).notna(), None)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(_cell(v) for v in row) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    more = ""
    if len(frame) > max_rows:
        more = f'<p class="more">First {max_rows} of {len(frame):,} rows. {html.escape(note)}</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


# --------------------------------------------------------------------------- charts


def _svg(draw: Callable[[Axes], None], *, height: float = 3.4) -> str:
    """Draw on a fresh figure and return it as inline SVG (no XML prolog, no metadata)."""
    # matplotlib is imported here, not with the module, so the CLI starts fast
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(9, height), layout="constrained")
        FigureCanvasAgg(fig)  # Agg for this figure only: a notebook's backend stays as it is
        draw(fig.subplots())
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)


def _colours(keys: Sequence[str]) -> dict[str, Any]:
    """One colour per role, the same in every chart."""
    import matplotlib

    palette = matplotlib.colormaps["tab20" if len(keys) > 10 else "tab10"]
    return {k: palette(i % palette.N) for i, k in enumerate(keys)}


def _money_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(lambda v, _: _short(v))


def _stacked_by_month(
    ax: Axes, table: pd.DataFrame, colours: Mapping[str, Any], ylabel: str
) -> None:
    bottom = np.zeros(len(table.index))
    for key in table.columns:
        values = table[key].to_numpy(dtype=float)
        ax.bar(
            table.index.astype(str),
            values,
            bottom=bottom,
            label=str(key),
            color=colours.get(str(key)),
        )
        bottom += values
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def _by_month_and_role(frame: pd.DataFrame, value: str) -> pd.DataFrame | None:
    if not {"month", "role", value} <= set(frame.columns) or frame.empty:
        return None
    table = frame.pivot_table(index="month", columns="role", values=value, aggfunc="sum")
    return table.fillna(0.0).sort_index()


def _headcount_chart(frames: Mapping[str, pd.DataFrame], colours: dict[str, Any]) -> str | None:
    table = _by_month_and_role(frames["headcount"], "headcount") if "headcount" in frames else None
    if table is None:
        return None

    def draw(ax: Axes) -> None:
        _stacked_by_month(ax, table, colours, "people")
        ax.set_title("Headcount by month and role")

    return _svg(draw)


def _budget_chart(
    frames: Mapping[str, pd.DataFrame], colours: dict[str, Any], summary: Mapping[str, Any]
) -> str | None:
    if "budget" not in frames:
        return None
    frame = frames["budget"]
    value = "total_cost" if "total_cost" in frame.columns else "payroll_cost"
    table = _by_month_and_role(frame, value)
    if table is None:
        return None
    budget = summary.get(PLAN_BUDGET)
    months = summary.get(MONTHS) or len(table.index)

    def draw(ax: Axes) -> None:
        _stacked_by_month(ax, table, colours, "cost")
        if isinstance(budget, int | float) and budget > 0 and months:
            ax.axhline(
                budget / months,
                color="black",
                linestyle="--",
                linewidth=1,
                label="plan budget, monthly average",
            )
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        _money_axis(ax)
        ax.set_title("Personnel cost by month and role")

    return _svg(draw)


def _funnel_chart(frames: Mapping[str, pd.DataFrame]) -> str | None:
    frame = frames.get("funnel")
    if frame is None:
        return None
    stages = [s for s in FUNNEL_STAGES if s in frame.columns]
    if not stages:
        return None
    totals = frame[stages].sum(numeric_only=True).reindex(stages).fillna(0.0)

    def draw(ax: Axes) -> None:
        labels = [s.replace("_", " ") for s in stages][::-1]
        values = totals.to_numpy(dtype=float)[::-1]
        bars = ax.barh(labels, values, color="#1f4e78")
        if (values > 0).all():
            ax.set_xscale("log")
            # the default log labels are TeX, which a report without mathtext shows raw
            ax.xaxis.set_major_formatter(lambda v, _: _short(v))
            ax.xaxis.set_minor_formatter(lambda v, _: "")
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3)
        ax.set_title("Funnel for the year: volumes by stage")
        ax.set_xlabel("annual total (log scale)" if (values > 0).all() else "annual total")

    return _svg(draw, height=2.8)


def _revenue_chart(frames: Mapping[str, pd.DataFrame]) -> str | None:
    frame = frames.get("revenue")
    if frame is None or "direction" not in frame.columns or frame.empty:
        return None
    parts = [c for c in ("base_revenue", "new_business_revenue") if c in frame.columns]
    if not parts and "total_revenue" in frame.columns:
        parts = ["total_revenue"]
    if not parts:
        return None
    table = frame.groupby("direction", sort=False)[[*parts]].sum()
    target = (
        frame.groupby("direction", sort=False)["target"].sum()
        if "target" in frame.columns
        else None
    )

    def draw(ax: Axes) -> None:
        names = table.index.astype(str)
        bottom = np.zeros(len(table))
        for part, colour in zip(parts, ("#9db9d5", "#1f4e78", "#4c9f70"), strict=False):
            values = table[part].to_numpy(dtype=float)
            ax.bar(names, values, bottom=bottom, label=part.replace("_", " "), color=colour)
            bottom += values
        if target is not None:
            ax.scatter(
                names,
                target.reindex(table.index).to_numpy(dtype=float),
                marker="_",
                s=900,
                linewidths=2.5,
                color="#c0392b",
                label="target",
                zorder=3,
            )
        _money_axis(ax)
        ax.set_title("Revenue vs target by direction")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)

    return _svg(draw)


def workload_per_rep(frames: Mapping[str, pd.DataFrame]) -> pd.Series | None:
    """Each person's workload in hours, from a `workload` or `territories` frame, if any."""
    for name in ("workload", "territories"):
        frame = frames.get(name)
        if frame is None or "rep_id" not in frame.columns:
            continue
        for column in ("workload_hours", "hours", "service_hours"):
            if column in frame.columns and pd.api.types.is_numeric_dtype(frame[column]):
                return frame.groupby("rep_id")[column].sum().sort_values()
    return None


def _workload_chart(frames: Mapping[str, pd.DataFrame]) -> str | None:
    workload = workload_per_rep(frames)
    if workload is None or workload.empty:
        return None

    def draw(ax: Axes) -> None:
        mean = float(workload.mean())
        if len(workload) <= 60:
            ax.bar(workload.index.astype(str), workload.to_numpy(dtype=float), color="#1f4e78")
            ax.tick_params(axis="x", labelrotation=90)
            ax.set_ylabel("hours per year")
        else:
            ax.hist(workload.to_numpy(dtype=float), bins=40, color="#1f4e78")
            ax.set_xlabel("hours per year")
            ax.set_ylabel("people")
        line = ax.axhline if len(workload) <= 60 else ax.axvline
        line(mean, color="black", linestyle="--", linewidth=1, label=f"mean {mean:,.0f} h")
        ax.legend(frameon=False)
        ax.set_title("Workload balance: hours per person")

    return _svg(draw)


# --------------------------------------------------------------------------- the page


def write_report(
    path: Path,
    *,
    title: str,
    summary: Sequence[tuple[str, object]],
    frames: Mapping[str, pd.DataFrame],
    explanation_lines: Sequence[str],
) -> Path:
    """Write report.html: summary, charts of the frames present, tables, explanation."""
    frames = {name: flat_frame(frame) for name, frame in frames.items()}
    by_label = dict(summary)
    roles: set[str] = set()
    for name in ("headcount", "budget"):
        if name in frames and "role" in frames[name].columns:
            roles.update(frames[name]["role"].dropna().astype(str))
    colours = _colours(sorted(roles))
    charts = [
        ("Headcount", _headcount_chart(frames, colours)),
        ("Funnel", _funnel_chart(frames)),
        ("Budget", _budget_chart(frames, colours, by_label)),
        ("Revenue", _revenue_chart(frames)),
        ("Workload balance", _workload_chart(frames)),
    ]
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Written by optim {html.escape(__version__)}.</p>',
        "<h2>Summary</h2><table><tbody>",
        *(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(display(str(k), v))}</td></tr>"
            for k, v in summary
        ),
        "</tbody></table>",
    ]
    for heading, svg in charts:
        if svg is not None:
            parts.append(f"<section><h2>{html.escape(heading)}</h2>{svg}</section>")
    for name, heading in (
        ("revenue", "Revenue"),
        ("hiring", "Hiring plan"),
        ("coverage", "Coverage"),
    ):
        if name in frames:
            note = f"All rows in {name}.csv and plan.xlsx."
            parts.append(f"<h2>{heading}</h2>{_table(frames[name], note=note)}")
    if explanation_lines:
        text = "\n".join(html.escape(line) for line in explanation_lines)
        parts.append(f"<h2>Explanation</h2><pre>{text}</pre>")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)
