//! A self-contained HTML stress report: the summary table and interactive charts (zoom by
//! dragging, values under the cursor, event markers), all in one file with no network access.
//!
//! Charts are drawn by uPlot 1.6.32 (MIT), vendored under `assets/` and embedded with
//! `include_str!`. Why uPlot: it is maintained, small (≈ 50 KB, against ≈ 800 KB for
//! Vega-Lite + vega-embed), made for time series (date axes, round ticks, drag-zoom, a live
//! legend) and needs no build step. The chart data come from `figures.rs` (pure: aggregate in,
//! specs out) and `assets/report.js` draws them.

pub mod auctions;
pub mod chart;
pub mod contagion;
pub mod figures;
pub mod headroom;
pub mod oracle;
pub mod steps;

use crate::stats::{Aggregate, Summary};
pub use crate::units::step_length;
use std::fmt::Write;

const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");
const RENDER_JS: &str = include_str!("assets/report.js");

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JSON safe inside a `<script type="application/json">` element.
fn script_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "[]".into())
        .replace("</", "<\\/")
}

/// The page around a list of charts: shared by the stress report, compare and sweep pages.
pub fn page(title: &str, intro: &str, charts: &[chart::Chart], after: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{UPLOT_CSS}
body{{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1280px}}
h1{{font-size:20px}} pre{{background:#f6f6f6;padding:12px;overflow:auto;font-size:12px}}
#charts{{display:grid;grid-template-columns:repeat(auto-fit,minmax(600px,1fr));gap:16px}}
figure.chart{{margin:0;border:1px solid #ddd;padding:4px}} figcaption{{font-size:12px;color:#555;padding:4px}}
table.num td,table.num th{{padding:2px 10px;text-align:right}} table.num td:first-child,table.num th:first-child{{text-align:left}}
#report-status{{font-size:11px;color:#888}}</style>
</head><body><h1>{title}</h1>{intro}
<p id="report-status">charts not drawn (JavaScript is off?)</p><div id="charts"></div>
<script type="application/json" id="ballast-charts">{data}</script>
<script>{UPLOT_JS}</script><script>{RENDER_JS}</script>{after}</body></html>
"##,
        title = esc(title),
        data = script_json(&charts),
    );
    out
}

/// The stress report page; a replay of dated data gets UTC dates on its time axes.
pub fn html(s: &Summary, a: &Aggregate) -> String {
    let json = serde_json::to_string_pretty(s).unwrap_or_default();
    let intro = format!(
        r##"<p>{paths} paths × {steps} steps of {sh}, seed {seed}, {acc} accounts, fingerprint <code>{fp}</code>.
Every figure comes from the real engine driven by commands; see <code>crates/lab/SCENARIOS.md</code>.
Drag across a chart to zoom into a window; double-click to zoom out.</p><pre>{table}</pre>"##,
        paths = s.paths,
        steps = s.steps,
        sh = step_length(s.step_hours),
        seed = s.seed,
        acc = s.accounts,
        fp = esc(&s.fingerprint),
        table = esc(&s.table()),
    );
    let after = format!(
        "{}<h2>summary.json</h2><pre>{}</pre>",
        contagion::section(s.contagion.as_ref()),
        esc(&json)
    );
    let charts = figures::all(s, a);
    page(
        &format!("Ballast stress: {}", s.scenario),
        &intro,
        &charts,
        &after,
    )
}
