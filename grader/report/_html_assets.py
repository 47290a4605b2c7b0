"""The style sheet and chart script inlined into every HTML report (no network is needed).

The script reads the report's data from ``<script type="application/json" id="ramp-data">``
and draws each ``<figure data-chart=...>`` as inline SVG. Every mark it draws carries a
``data-mark`` attribute and its value in ``data-value``, so a test can check the charts in the
rendered DOM; when it is done, ``<body data-charts-rendered="N">`` says how many it drew.
Text from the ledger is only ever set through ``textContent``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SCRIPT", "STYLE"]

STYLE: Final = """
:root { --ink:#1d2330; --muted:#5d6677; --line:#d9dee7; --bg:#f6f7fa; --card:#fff;
  --pass:#2e7d32; --fail:#c62828; --res:#ef6c00; --reach:#1565c0; --iso:#8e99ab;
  --ok:#4f83cc; --err:#d84315; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); }
.meta { color: var(--muted); margin-bottom: 16px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin: 16px 0; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
  white-space: pre-line; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
td.num { white-space: pre; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
svg .axis { stroke: #9aa3b2; stroke-width: 1; }
svg .grid { stroke: #eceff4; stroke-width: 1; }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px; }
.tag.passed { background: #e3f2e4; color: var(--pass); }
.tag.resurrected { background: #fff0e0; color: var(--res); }
.tag.failed { background: #fde8e8; color: var(--fail); }
.evidence { color: var(--muted); margin: 2px 0 6px 18px; padding: 0; }
.note { color: var(--muted); font-size: 12px; }
"""

SCRIPT: Final = r"""
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var STAGES = ["T0", "T1", "T2", "T3", "T4", "T5"];
  var data = JSON.parse(document.getElementById("ramp-data").textContent);
  var drawn = 0;

  function node(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (attrs[k] !== undefined) { e.setAttribute(k, attrs[k]); } }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function label(parent, x, y, s, attrs) {
    var t = node("text", Object.assign({x: x, y: y}, attrs || {}), parent);
    t.textContent = s;
    return t;
  }
  function tip(mark, s) { node("title", {}, mark).textContent = s; return mark; }
  function canvas(host, w, h) {
    var s = node("svg", {width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img"});
    host.insertBefore(s, host.firstChild);
    drawn += 1;
    return s;
  }
  function fmt(v, d) { return v === null || v === undefined ? "-" : Number(v).toFixed(d); }
  function niceMax(v) {
    if (!(v > 0)) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * p >= v) { return steps[i] * p; } }
    return 10 * p;
  }
  function yAxis(s, x0, y0, h, max, ticks, w) {
    var whole = (max / ticks) % 1 === 0;
    for (var i = 0; i <= ticks; i++) {
      var v = max * i / ticks, y = y0 - h * i / ticks;
      node("line", {x1: x0, x2: x0 + w, y1: y, y2: y, "class": i ? "grid" : "axis"}, s);
      label(s, x0 - 6, y + 4, whole ? v.toFixed(0) : v.toFixed(1), {"text-anchor": "end"});
    }
    node("line", {x1: x0, x2: x0, y1: y0, y2: y0 - h, "class": "axis"}, s);
  }
  function legend(s, x, y, items) {
    items.forEach(function (it, i) {
      node("rect", {x: x + i * 110, y: y - 9, width: 10, height: 10, fill: it[1]}, s);
      label(s, x + i * 110 + 14, y, it[0]);
    });
  }
  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function seconds(iso) { return Date.parse(iso) / 1000; }

  function funnel(host) {
    var runs = data.runs, n = runs.length;
    var w = 520, h = 260, x0 = 40, y0 = 220, ph = 180, pw = w - x0 - 10;
    var s = canvas(host, w, h);
    yAxis(s, x0, y0, ph, Math.max(n, 1), Math.max(1, Math.min(n, 5)), pw);
    var series = [["reached", css("--reach")], ["passed", css("--pass")],
                  ["resurrected", css("--res")]];
    var slot = pw / STAGES.length, bw = (slot - 12) / 3;
    STAGES.forEach(function (stage, i) {
      series.forEach(function (sr, j) {
        var count = runs.filter(function (r) { return r.stages[i][sr[0]]; }).length;
        var bh = n ? ph * count / n : 0;
        tip(node("rect", {x: x0 + i * slot + 6 + j * bw, y: y0 - bh, width: bw - 1,
                          height: bh, fill: sr[1], "data-mark": "funnel-" + sr[0],
                          "data-stage": stage, "data-value": count}, s),
            stage + " " + sr[0] + ": " + count + " of " + n + " run(s)");
      });
      label(s, x0 + i * slot + slot / 2, y0 + 14, stage, {"text-anchor": "middle"});
    });
    legend(s, x0, 14, series);
  }

  function scores(host, run) {
    var w = 520, h = 240, x0 = 40, y0 = 200, ph = 160, pw = w - x0 - 10;
    var s = canvas(host, w, h);
    yAxis(s, x0, y0, ph, 100, 5, pw);
    var slot = pw / STAGES.length, bw = (slot - 16) / 2;
    var series = [["chained_score", "chained", css("--reach")],
                  ["isolated_score", "isolated", css("--iso")]];
    run.stages.forEach(function (st, i) {
      series.forEach(function (sr, j) {
        var v = st[sr[0]];
        if (v === null) { return; }
        var bh = ph * v / 100;
        tip(node("rect", {x: x0 + i * slot + 8 + j * bw, y: y0 - bh, width: bw - 1,
                          height: Math.max(bh, 0.5), fill: sr[2], "data-mark": sr[1],
                          "data-stage": st.stage, "data-value": v}, s),
            st.stage + " " + sr[1] + ": " + fmt(v, 2));
      });
      if (st.chained_score === null && st.isolated_score === null) {
        label(s, x0 + i * slot + slot / 2, y0 - 6, "not graded",
              {"text-anchor": "middle", fill: "#9aa3b2"});
      }
      label(s, x0 + i * slot + slot / 2, y0 + 14, st.stage, {"text-anchor": "middle"});
    });
    var pass = y0 - ph * 0.6;
    node("line", {x1: x0, x2: x0 + pw, y1: pass, y2: pass, stroke: css("--pass"),
                  "stroke-dasharray": "4 3"}, s);
    legend(s, x0, 14, [["chained", css("--reach")], ["isolated", css("--iso")],
                       ["pass mark 60", css("--pass")]]);
  }

  function costAxes(s, x0, y0, ph, pw, h, xmax, title) {
    // Mean reward (0..100) up, cost in USD across: the axes of both cost charts.
    yAxis(s, x0, y0, ph, 100, 5, pw);
    for (var i = 1; i <= 4; i++) {
      var x = x0 + pw * i / 4;
      node("line", {x1: x, x2: x, y1: y0, y2: y0 + 4, "class": "axis"}, s);
      label(s, x, y0 + 16, "$" + Number((xmax * i / 4).toPrecision(3)),
            {"text-anchor": "middle"});
    }
    label(s, x0 + pw / 2, h - 4, title, {"text-anchor": "middle"});
    label(s, 12, 12, "mean reward");
  }

  function scatter(host) {
    var known = data.runs.filter(function (r) { return r.usage.cost_usd !== null; });
    var w = 520, h = 280, x0 = 50, y0 = 240, ph = 210, pw = w - x0 - 20;
    var s = canvas(host, w, h);
    var xmax = niceMax(1.08 * Math.max.apply(null, known.map(function (r) {
      return r.usage.cost_usd; }).concat([0])));
    costAxes(s, x0, y0, ph, pw, h, xmax, "cost (USD)");
    known.forEach(function (r) {
      var cx = x0 + pw * r.usage.cost_usd / xmax, cy = y0 - ph * r.rewards.mean_reward / 100;
      tip(node("circle", {cx: cx, cy: cy, r: 5, fill: css("--reach"), "fill-opacity": 0.75,
                          stroke: "#fff", "data-mark": "run", "data-run": r.run.run_id,
                          "data-value": r.rewards.mean_reward, "data-cost": r.usage.cost_usd}, s),
          r.run.run_id + " (" + r.run.agent + " / " + r.run.model + "): $" +
          fmt(r.usage.cost_usd, 4) + ", mean reward " + fmt(r.rewards.mean_reward, 2));
    });
    if (!known.length) {
      label(s, x0 + pw / 2, y0 - ph / 2, "no run in this report has a known cost",
            {"text-anchor": "middle", fill: "#9aa3b2"});
    }
  }

  function timeline(host, run) {
    var origin = run.elapsed.first_event_at ? seconds(run.elapsed.first_event_at) : null;
    var rows = STAGES.concat(["-"]);
    var w = 900, rh = 22, x0 = 40, top = 24, ph = rows.length * rh, pw = w - x0 - 20;
    var h = top + ph + 34;
    var s = canvas(host, w, h);
    var end = run.elapsed.elapsed_s || 0;
    run.timeline.forEach(function (e) {
      end = Math.max(end, e.offset_s + (e.duration_s || 0));
    });
    var xmax = niceMax(end), scale = pw / xmax;
    function rowY(stage) { var i = rows.indexOf(stage || "-"); return top + i * rh; }
    rows.forEach(function (r, i) {
      label(s, x0 - 6, top + i * rh + 15, r, {"text-anchor": "end"});
      node("line", {x1: x0, x2: x0 + pw, y1: top + (i + 1) * rh, y2: top + (i + 1) * rh,
                    "class": "grid"}, s);
    });
    if (origin !== null) {
      run.stages.forEach(function (st) {
        if (!st.opened_at) { return; }
        var a = Math.max(0, seconds(st.opened_at) - origin);
        var b = st.closed_at ? seconds(st.closed_at) - origin : end;
        node("rect", {x: x0 + a * scale, y: rowY(st.stage) + 2, width: Math.max(0, b - a) * scale,
                      height: rh - 4, fill: "#eef3fb"}, s);
      });
    }
    for (var t = 0; t <= 4; t++) {
      var x = x0 + pw * t / 4;
      node("line", {x1: x, x2: x, y1: top + ph, y2: top + ph + 4, "class": "axis"}, s);
      label(s, x, top + ph + 16, (xmax * t / 4).toFixed(xmax >= 10 ? 0 : 1) + " s",
            {"text-anchor": "middle"});
    }
    node("line", {x1: x0, x2: x0 + pw, y1: top + ph, y2: top + ph, "class": "axis"}, s);
    run.timeline.forEach(function (e) {
      var x = x0 + e.offset_s * scale, y = rowY(e.stage);
      if (e.kind === "tool_call") {
        tip(node("rect", {x: x, y: y + 6, width: Math.max(2, (e.duration_s || 0) * scale),
                          height: rh - 12, fill: e.outcome === "error" ? css("--err") : css("--ok"),
                          "data-mark": "tool_call", "data-stage": e.stage || "-",
                          "data-value": e.tool || ""}, s),
            (e.tool || "tool") + " " + (e.outcome || "") + ", " + fmt(e.duration_s, 3) +
            " s at +" + fmt(e.offset_s, 1) + " s");
      } else if (e.kind === "submission") {
        var fill = e.passed ? css("--pass") : (e.status === "done" ? css("--fail") : "#9aa3b2");
        tip(node("path", {d: "M" + x + " " + (y + 3) + " l6 8 l-6 8 l-6 -8 z", fill: fill,
                          stroke: "#fff", "data-mark": "submission", "data-stage": e.stage,
                          "data-value": e.chained_score === null ? "" : e.chained_score}, s),
            e.stage + " submission " + e.attempt + ": " + e.status + ", chained " +
            fmt(e.chained_score, 2) + ", isolated " + fmt(e.isolated_score, 2));
      } else {
        tip(node("path", {d: "M" + (x - 5) + " " + (y + 6) + " l10 10 m0 -10 l-10 10",
                          stroke: css("--res"), "stroke-width": 2.5, "data-mark": "resurrection",
                          "data-stage": e.stage, "data-value": e.stage}, s),
            e.stage + " resurrected: " + e.reason);
      }
    });
    legend(s, x0, 14, [["tool call", css("--ok")], ["tool error", css("--err")],
                       ["passed", css("--pass")], ["failed", css("--fail")],
                       ["resurrected", css("--res")]]);
  }

  function board(host) {
    var rows = data.rows;
    var w = 760, bh = 18, x0 = 260, top = 24, pw = w - x0 - 50;
    var h = top + rows.length * (bh + 8) + 30;
    var s = canvas(host, w, h);
    rows.forEach(function (r, i) {
      var y = top + i * (bh + 8), m = r.mean_reward;
      label(s, x0 - 8, y + 13, r.agent + " / " + r.model + (r.harness ? " / " + r.harness : ""),
            {"text-anchor": "end"});
      tip(node("rect", {x: x0, y: y, width: pw * m.mean / 100, height: bh, fill: css("--reach"),
                        "data-mark": "mean_reward", "data-value": m.mean}, s),
          "mean reward " + fmt(m.mean, 2) + " over " + r.trials + " trial(s)");
      if (m.n > 1) {
        node("line", {x1: x0 + pw * m.min / 100, x2: x0 + pw * m.max / 100, y1: y + bh / 2,
                      y2: y + bh / 2, stroke: "#5d6677", "stroke-width": 1.5,
                      "data-mark": "spread"}, s);
        hbar(s, x0 + pw * m.ci_low / 100, x0 + pw * m.ci_high / 100, y + bh / 2, 7,
             "#1d2330", {"data-mark": "ci", "data-low": m.ci_low, "data-high": m.ci_high},
             "95% interval of the mean " + fmt(m.ci_low, 2) + " to " + fmt(m.ci_high, 2));
      }
      label(s, x0 + pw + 8, y + 13, fmt(m.mean, 1));
    });
    for (var t = 0; t <= 4; t++) {
      var x = x0 + pw * t / 4, y0 = top + rows.length * (bh + 8);
      label(s, x, y0 + 14, String(25 * t), {"text-anchor": "middle"});
    }
  }

  var PALETTE = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f",
                 "#5d4037", "#ad1457"];
  function rowName(r) { return r.agent + " / " + r.model; }
  function vbar(s, x, y1, y2, cap, color, attrs, text) {
    var g = node("g", attrs, s);
    node("line", {x1: x, x2: x, y1: y1, y2: y2, stroke: color, "stroke-width": 1.5}, g);
    node("line", {x1: x - cap / 2, x2: x + cap / 2, y1: y1, y2: y1, stroke: color}, g);
    node("line", {x1: x - cap / 2, x2: x + cap / 2, y1: y2, y2: y2, stroke: color}, g);
    return tip(g, text);
  }
  function hbar(s, x1, x2, y, cap, color, attrs, text) {
    var g = node("g", attrs, s);
    node("line", {x1: x1, x2: x2, y1: y, y2: y, stroke: color, "stroke-width": 1.5}, g);
    node("line", {x1: x1, x2: x1, y1: y - cap / 2, y2: y + cap / 2, stroke: color}, g);
    node("line", {x1: x2, x2: x2, y1: y - cap / 2, y2: y + cap / 2, stroke: color}, g);
    return tip(g, text);
  }

  function intervals(host) {
    var rows = data.rows, metrics = ["mean_reward"].concat(STAGES);
    var w = 760, h = 300, x0 = 40, y0 = 250, ph = 210, pw = w - x0 - 10;
    var s = canvas(host, w, h);
    yAxis(s, x0, y0, ph, 100, 5, pw);
    var slot = pw / metrics.length, step = (slot - 20) / Math.max(rows.length, 1);
    metrics.forEach(function (metric, i) {
      rows.forEach(function (r, j) {
        var v = metric === "mean_reward" ? r.mean_reward : r.stages[metric];
        var x = x0 + i * slot + 10 + step * (j + 0.5), color = PALETTE[j % PALETTE.length];
        var attrs = {"data-mark": "ci", "data-row": rowName(r), "data-metric": metric,
                     "data-value": v.mean, "data-low": v.ci_low, "data-high": v.ci_high};
        var text = rowName(r) + " " + metric + ": " + fmt(v.mean, 2) + " [" +
                   fmt(v.ci_low, 2) + ", " + fmt(v.ci_high, 2) + "] over " + v.n + " trial(s)";
        vbar(s, x, y0 - ph * v.ci_low / 100, y0 - ph * v.ci_high / 100, 6, color, attrs, text);
        node("circle", {cx: x, cy: y0 - ph * v.mean / 100, r: 3.5, fill: color}, s);
      });
      label(s, x0 + i * slot + slot / 2, y0 + 14, metric === "mean_reward" ? "MR" : metric,
            {"text-anchor": "middle"});
    });
    legend(s, x0, 14, rows.map(function (r, j) {
      return [rowName(r), PALETTE[j % PALETTE.length]];
    }));
  }

  function pareto(host) {
    var known = data.rows.filter(function (r) { return r.cost_usd !== null; });
    var w = 560, h = 300, x0 = 50, y0 = 250, ph = 210, pw = w - x0 - 20;
    var s = canvas(host, w, h);
    var xmax = niceMax(1.08 * Math.max.apply(null, known.map(function (r) {
      return r.cost_usd.ci_high; }).concat([0])));
    costAxes(s, x0, y0, ph, pw, h, xmax, "mean cost per trial (USD)");
    function px(c) { return x0 + pw * c / xmax; }
    function py(v) { return y0 - ph * v / 100; }
    var front = known.filter(function (r) { return r.on_pareto_front; });
    front.sort(function (a, b) { return a.cost_usd.mean - b.cost_usd.mean; });
    if (front.length > 1) {
      node("polyline", {points: front.map(function (r) {
        return px(r.cost_usd.mean) + "," + py(r.mean_reward.mean); }).join(" "),
        fill: "none", stroke: css("--pass"), "stroke-dasharray": "4 3",
        "data-mark": "front", "data-value": front.length}, s);
    }
    data.rows.forEach(function (r, j) {
      if (r.cost_usd === null) { return; }
      var color = PALETTE[j % PALETTE.length], cx = px(r.cost_usd.mean);
      var cy = py(r.mean_reward.mean), m = r.mean_reward, c = r.cost_usd;
      vbar(s, cx, py(m.ci_low), py(m.ci_high), 6, color, {}, "mean reward interval");
      hbar(s, px(c.ci_low), px(c.ci_high), cy, 6, color, {}, "cost interval");
      tip(node("circle", {cx: cx, cy: cy, r: 5, fill: color, stroke: "#fff",
                          "data-mark": "row", "data-row": rowName(r), "data-value": m.mean,
                          "data-cost": c.mean, "data-front": r.on_pareto_front ? "yes" : "no"},
               s),
          rowName(r) + ": $" + fmt(c.mean, 4) + ", mean reward " + fmt(m.mean, 2) +
          (r.on_pareto_front ? " (on the Pareto front)" : ""));
    });
    if (!known.length) {
      label(s, x0 + pw / 2, y0 - ph / 2, "no row in this campaign has a known cost",
            {"text-anchor": "middle", fill: "#9aa3b2"});
    }
  }

  document.querySelectorAll("[data-chart]").forEach(function (host) {
    var kind = host.getAttribute("data-chart");
    var run = data.runs ? data.runs[Number(host.getAttribute("data-run") || 0)] : null;
    if (kind === "funnel") { funnel(host); }
    else if (kind === "scores") { scores(host, run); }
    else if (kind === "scatter") { scatter(host); }
    else if (kind === "timeline") { timeline(host, run); }
    else if (kind === "leaderboard") { board(host); }
    else if (kind === "intervals") { intervals(host); }
    else if (kind === "pareto") { pareto(host); }
  });
  document.body.setAttribute("data-charts-rendered", String(drawn));
})();
"""
