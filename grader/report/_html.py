"""One self-contained HTML file per report: tables written here, charts drawn by inline script.

Nothing is fetched: the style sheet, the chart script and the data are all inlined. The
tables are static HTML (readable without script); the charts are inline SVG drawn from the
embedded JSON, which is the report's JSON document itself.
"""

from __future__ import annotations

import html

from grader.report import _format as fmt
from grader.report._campaign import CampaignReport
from grader.report._campaign_sections import campaign_blocks
from grader.report._html_assets import SCRIPT, STYLE
from grader.report._leaderboard import Leaderboard
from grader.report._model import ReportDocument
from grader.report._sections import (
    Block,
    Bullets,
    Facts,
    Table,
    leaderboard_blocks,
    run_blocks,
    run_title,
    summary_table,
)

__all__ = ["campaign_html", "leaderboard_html", "report_html"]


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _script_json(payload: str) -> str:
    """JSON safe inside ``<script>``: no ``</script>`` or ``<!--`` can appear in it."""
    return payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _table(block: Table, level: str) -> str:
    head = "".join(
        f'<th class="num">{_e(c)}</th>' if i in block.numeric else f"<th>{_e(c)}</th>"
        for i, c in enumerate(block.columns)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(c)}</td>' if i in block.numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in block.rows
    )
    note = f'<p class="note">{_e(block.note)}</p>' if block.note else ""
    return (
        f"<{level}>{_e(block.title)}</{level}><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{note}"
    )


def _facts(block: Facts, level: str) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in block.items)
    return f"<{level}>{_e(block.title)}</{level}><table>{rows}</table>"


def _bullets(block: Bullets, level: str) -> str:
    if not block.items:
        items = f"<li>{_e(block.empty)}</li>"
    else:
        items = "".join(
            f"<li><strong>{_e(headline)}</strong>"
            + (
                '<ul class="evidence">' + "".join(f"<li>{_e(e)}</li>" for e in evidence) + "</ul>"
                if evidence
                else ""
            )
            + "</li>"
            for headline, evidence in block.items
        )
    return f"<{level}>{_e(block.title)}</{level}><ul>{items}</ul>"


def _block(block: Block, level: str) -> str:
    if isinstance(block, Table):
        return _table(block, level)
    if isinstance(block, Facts):
        return _facts(block, level)
    return _bullets(block, level)


def _figure(chart: str, caption: str, run: int | None = None) -> str:
    which = "" if run is None else f' data-run="{run}"'
    return f'<figure data-chart="{chart}"{which}><figcaption>{_e(caption)}</figcaption></figure>'


def _page(title: str, body: str, data_json: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}"
        "<noscript><p>The charts need JavaScript; the tables above say the same.</p></noscript>"
        f'<script type="application/json" id="ramp-data">{_script_json(data_json)}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def report_html(document: ReportDocument) -> str:
    """The report as one page; the JSON document is embedded for the charts to draw from."""
    runs = document.runs
    parts = [
        "<h1>RAMP run report</h1>",
        f'<p class="meta">{len(runs)} run(s), generated {_e(fmt.when(document.generated_at))}</p>',
        '<section class="card"><h2>Across the runs</h2><div class="charts">',
        _figure(
            "funnel", "Stage funnel: runs that reached, passed and were resurrected at each stage"
        ),
        _figure("scatter", "Cost against mean reward, one point per run with a known cost"),
        "</div>",
    ]
    if len(runs) > 1:
        parts.append(_table(summary_table(runs), "h3"))
    parts.append("</section>")
    for index, run in enumerate(runs):
        blocks = run_blocks(run)
        parts.append(f'<section class="card" id="{_e(run.run.run_id)}">')
        parts.append(f"<h2>{_e(run_title(run))}</h2>")
        parts.append(_block(blocks[0], "h3"))
        parts.append('<div class="charts">')
        parts.append(_figure("scores", "Chained and isolated score per stage", index))
        parts.append("</div>")
        parts.extend(_block(block, "h3") for block in blocks[1:])
        parts.append(
            _figure(
                "timeline",
                "Time line: tool calls and submissions, on the row of the stage open at the "
                "time (shaded: while the stage was open; '-': outside every stage)",
                index,
            )
        )
        parts.append("</section>")
    return _page("RAMP run report", "".join(parts), document.model_dump_json())


def leaderboard_html(board: Leaderboard) -> str:
    """The leaderboard, with a chart of each row's mean reward and its min-max spread."""
    body = "".join(
        [
            "<h1>RAMP leaderboard</h1>",
            f'<p class="meta">{board.runs} run(s), generated {_e(fmt.when(board.generated_at))}'
            "</p>",
            '<section class="card">',
            _figure(
                "leaderboard",
                "Mean reward per agent and model (thin line: min-max over trials; "
                "error bar: 95% bootstrap interval of the mean)",
            ),
            *(_block(block, "h2") for block in leaderboard_blocks(board)),
            "</section>",
        ]
    )
    return _page("RAMP leaderboard", body, board.model_dump_json())


def campaign_html(report: CampaignReport) -> str:
    """The campaign report as one page: interval charts drawn from the embedded JSON."""
    blocks = campaign_blocks(report)
    body = "".join(
        [
            f"<h1>RAMP campaign {_e(report.campaign)}</h1>",
            f'<p class="meta">generated {_e(fmt.when(report.generated_at))}</p>',
            '<section class="card">',
            _block(blocks[0], "h2"),
            '<div class="charts">',
            _figure(
                "intervals",
                f"Mean reward and stage scores per agent and model: mean with its "
                f"{report.level:.0%} bootstrap interval (error bar)",
            ),
            _figure(
                "pareto",
                "Mean cost against mean reward (error bars: both intervals); the line joins "
                "the rows no other row beats on both",
            ),
            "</div>",
            *(_block(block, "h2") for block in blocks[1:]),
            "</section>",
        ]
    )
    return _page(f"RAMP campaign {report.campaign}", body, report.model_dump_json())
