//! A self-contained HTML report (no scripts, no external files): the summary table and inline
//! SVG charts drawn from the mergeable aggregate — mean insurance fund by step, cumulative
//! probability of insolvency by step, per-step quantile bands of the insurance fund (5–50–95%)
//! and of cumulative bad debt (50–95–99%, from small per-step log histograms sampled at ≤ 200
//! steps), the distributions of bad debt and of the per-path insurance-fund minimum, the model
//! price of the first few paths (global path indices, so shards merge to the same chart) per
//! asset, and — with breakers — the per-step fraction of paths in each breaker mode.

use crate::stats::{Aggregate, LogHistogram, Summary};
use std::fmt::Write;

const W: f64 = 560.0;
const H: f64 = 220.0;
const PAD_L: f64 = 70.0;
const PAD_B: f64 = 30.0;
const PAD_T: f64 = 28.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn short(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.1}B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 1.0 || a == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

fn frame(
    out: &mut String,
    title: &str,
    y_max: f64,
    x_label: &str,
    x_max: f64,
    y_fmt: &dyn Fn(f64) -> String,
) {
    frame_range(out, title, 0.0, y_max, x_label, x_max, y_fmt)
}

fn frame_range(
    out: &mut String,
    title: &str,
    y_min: f64,
    y_max: f64,
    x_label: &str,
    x_max: f64,
    y_fmt: &dyn Fn(f64) -> String,
) {
    let _ = write!(
        out,
        r##"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>{t}</title><text x="{PAD_L}" y="16" class="t">{t}</text>"##,
        w = W + 10.0,
        h = H + PAD_B + PAD_T,
        t = esc(title)
    );
    let (x0, y0, y1) = (PAD_L, PAD_T + H, PAD_T);
    let _ = write!(
        out,
        r##"<line x1="{x0}" y1="{y0}" x2="{W}" y2="{y0}" class="ax"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" class="ax"/>"##
    );
    for k in 0..=4 {
        let v = y_min + (y_max - y_min) * k as f64 / 4.0;
        let y = y0 - H * k as f64 / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{x0}" y1="{y}" x2="{W}" y2="{y}" class="grid"/><text x="{}" y="{}" class="l" text-anchor="end">{}</text>"##,
            x0 - 4.0,
            y + 4.0,
            esc(&y_fmt(v))
        );
    }
    let _ = write!(
        out,
        r##"<text x="{W}" y="{}" class="l" text-anchor="end">{} {}</text>"##,
        y0 + 27.0,
        esc(x_label),
        esc(&short(x_max))
    );
}

/// Line chart of `ys` against steps 1..=n.
fn line_chart(title: &str, ys: &[f64], y_fmt: &dyn Fn(f64) -> String) -> String {
    let mut out = String::new();
    let y_max = ys.iter().cloned().fold(0.0f64, f64::max).max(1e-12) * 1.05;
    let n = ys.len().max(1);
    frame(&mut out, title, y_max, "step", n as f64, y_fmt);
    let mut pts = String::new();
    for (i, y) in ys.iter().enumerate() {
        let x = PAD_L + (W - PAD_L) * (i + 1) as f64 / n as f64;
        let yy = PAD_T + H - H * y / y_max;
        let _ = write!(pts, "{x:.1},{yy:.1} ");
    }
    let _ = write!(out, r##"<polyline points="{pts}" class="line"/></svg>"##);
    out
}

/// Quantile bands by step: a shaded band between the first and last series and a line for the
/// middle one, against steps `(j+1)·stride`.
fn band_chart(
    title: &str,
    lo: &[f64],
    mid: &[f64],
    hi: &[f64],
    stride: usize,
    y_fmt: &dyn Fn(f64) -> String,
) -> String {
    let mut out = String::new();
    let y_max = hi
        .iter()
        .chain(mid)
        .cloned()
        .fold(0.0f64, f64::max)
        .max(1e-12)
        * 1.05;
    let n = hi.len().max(1);
    frame(&mut out, title, y_max, "step", (n * stride) as f64, y_fmt);
    let xy = |i: usize, y: f64| {
        (
            PAD_L + (W - PAD_L) * (i + 1) as f64 / n as f64,
            PAD_T + H - H * y / y_max,
        )
    };
    let mut band = String::new();
    for (i, y) in hi.iter().enumerate() {
        let (x, yy) = xy(i, *y);
        let _ = write!(band, "{x:.1},{yy:.1} ");
    }
    for (i, y) in lo.iter().enumerate().rev() {
        let (x, yy) = xy(i, *y);
        let _ = write!(band, "{x:.1},{yy:.1} ");
    }
    let mut line = String::new();
    for (i, y) in mid.iter().enumerate() {
        let (x, yy) = xy(i, *y);
        let _ = write!(line, "{x:.1},{yy:.1} ");
    }
    let _ = write!(
        out,
        r##"<polygon points="{band}" class="band"/><polyline points="{line}" class="line"/></svg>"##
    );
    out
}

/// Colours of the sample paths.
const PATH_COLOURS: [&str; 5] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];

/// Line charts of the sample price paths (paths `0..SAMPLE_PATHS` by global index), one chart
/// per asset; empty when the aggregate has none.
pub fn sample_paths_svg(a: &Aggregate) -> String {
    let mut out = String::new();
    let Some(first) = a.sample_paths.first() else {
        return out;
    };
    let assets = first.prices.first().map_or(0, |p| p.len());
    for ai in 0..assets {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for sp in &a.sample_paths {
            for p in &sp.prices {
                if let Some(x) = p.get(ai) {
                    lo = lo.min(*x);
                    hi = hi.max(*x);
                }
            }
        }
        if !(lo.is_finite() && hi.is_finite()) {
            continue;
        }
        let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-6).max(1e-12);
        let (lo, hi) = ((lo - pad).max(0.0), hi + pad);
        let sym = a
            .asset_symbols
            .get(ai)
            .cloned()
            .unwrap_or_else(|| format!("asset {ai}"));
        let paths: Vec<String> = a.sample_paths.iter().map(|p| p.path.to_string()).collect();
        let title = format!(
            "{sym} price (USD), sample paths {} (model price)",
            paths.join(", ")
        );
        let n_pts = first.prices.len().max(2) - 1;
        let x_max = (n_pts as u32 * first.stride) as f64;
        frame_range(&mut out, &title, lo, hi, "step", x_max, &|v| short(v));
        for (k, sp) in a.sample_paths.iter().enumerate() {
            let mut pts = String::new();
            for (i, p) in sp.prices.iter().enumerate() {
                let Some(y) = p.get(ai) else { continue };
                let x = PAD_L + (W - PAD_L) * i as f64 / n_pts as f64;
                let yy = PAD_T + H - H * (y - lo) / (hi - lo);
                let _ = write!(pts, "{x:.1},{yy:.1} ");
            }
            let _ = write!(
                out,
                r##"<polyline points="{pts}" fill="none" stroke="{}" stroke-width="1.2"><title>path {}</title></polyline>"##,
                PATH_COLOURS[k % PATH_COLOURS.len()],
                sp.path
            );
        }
        out.push_str("</svg>");
    }
    out
}

/// Stacked areas: per step, the fraction of paths whose most severe breaker is Normal,
/// Cautious, Recovering or Halted; empty without breakers.
pub fn breaker_timeline_svg(a: &Aggregate) -> String {
    let mut out = String::new();
    if a.breaker_by_step.is_empty() {
        return out;
    }
    let n = a.breaker_by_step.len();
    frame(
        &mut out,
        "Breaker mode by step (fraction of paths, most severe scope)",
        1.0,
        "step",
        n as f64,
        &|v| format!("{:.0}%", v * 100.0),
    );
    // Stack order bottom-up and colours; indices into `[Normal, Cautious, Halted, Recovering]`.
    let layers = [
        (0usize, "Normal", "#2ca02c"),
        (1, "Cautious", "#ffbf00"),
        (3, "Recovering", "#9467bd"),
        (2, "Halted", "#d62728"),
    ];
    let frac: Vec<[f64; 4]> = a
        .breaker_by_step
        .iter()
        .map(|c| {
            let t = c.iter().sum::<u64>().max(1) as f64;
            [
                c[0] as f64 / t,
                c[1] as f64 / t,
                c[2] as f64 / t,
                c[3] as f64 / t,
            ]
        })
        .collect();
    let x = |i: usize| PAD_L + (W - PAD_L) * (i + 1) as f64 / n as f64;
    let y = |v: f64| PAD_T + H - H * v;
    let mut base = vec![0.0f64; n];
    for (li, (idx, name, colour)) in layers.iter().enumerate() {
        let top: Vec<f64> = base.iter().zip(&frac).map(|(b, f)| b + f[*idx]).collect();
        let mut pts = String::new();
        for (i, t) in top.iter().enumerate() {
            let _ = write!(pts, "{:.1},{:.1} ", x(i), y(*t));
        }
        for (i, b) in base.iter().enumerate().rev() {
            let _ = write!(pts, "{:.1},{:.1} ", x(i), y(*b));
        }
        let _ = write!(
            out,
            r##"<polygon points="{pts}" fill="{colour}" opacity=".75" class="mode"><title>{name}</title></polygon><rect x="{:.1}" y="{:.1}" width="10" height="8" fill="{colour}"/><text x="{:.1}" y="{:.1}" class="l">{name}</text>"##,
            PAD_L + 85.0 * li as f64,
            PAD_T + H + 17.0,
            PAD_L + 13.0 + 85.0 * li as f64,
            PAD_T + H + 25.0
        );
        base = top;
    }
    out.push_str("</svg>");
    out
}

/// Bar chart of a histogram: the zero bucket and up to 24 log-spaced groups of buckets.
fn histogram_chart(title: &str, h: &LogHistogram) -> String {
    let mut bins: Vec<(String, u64)> = Vec::new();
    if h.zeros > 0 {
        bins.push(("0".into(), h.zeros));
    }
    if let (Some(lo), Some(hi)) = (h.buckets.keys().next(), h.buckets.keys().last()) {
        let span = (hi - lo + 1) as usize;
        let per = span.div_ceil(24).max(1);
        let mut group: Vec<(i64, u64)> = Vec::new();
        for (k, b) in &h.buckets {
            let g = ((k - lo) as usize) / per;
            if group.len() <= g {
                group.resize(g + 1, (0, 0));
            }
            group[g].0 = group[g].0.max(b.max);
            group[g].1 += b.count;
        }
        for (max, count) in group {
            if count > 0 {
                bins.push((format!("≤{}", short(max as f64 / 1e6)), count));
            }
        }
    }
    let mut out = String::new();
    let y_max = bins.iter().map(|b| b.1).max().unwrap_or(1) as f64 * 1.05;
    frame(&mut out, title, y_max, "paths:", h.count() as f64, &|v| {
        short(v)
    });
    let n = bins.len().max(1) as f64;
    let bw = (W - PAD_L) / n;
    for (i, (label, c)) in bins.iter().enumerate() {
        let x = PAD_L + bw * i as f64;
        let bh = H * *c as f64 / y_max;
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" class="bar"><title>{} USD: {c} paths</title></rect>"##,
            x + 1.0,
            PAD_T + H - bh,
            (bw - 2.0).max(1.0),
            esc(label)
        );
        if bins.len() <= 12 || i % 3 == 0 {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{}" class="l" text-anchor="middle">{}</text>"##,
                x + bw / 2.0,
                PAD_T + H + 12.0,
                esc(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The report page.
pub fn html(s: &Summary, a: &Aggregate) -> String {
    let n = a.paths.max(1) as f64;
    let fund: Vec<f64> = a.fund_by_step.iter().map(|x| *x as f64 / 1e6 / n).collect();
    let mut cum = 0u64;
    let steps = (s.steps as usize).max(a.first_bad_by_step.len());
    let insolvent: Vec<f64> = (0..steps)
        .map(|i| {
            cum += a.first_bad_by_step.get(i).copied().unwrap_or(0);
            cum as f64 / n
        })
        .collect();
    let json = serde_json::to_string_pretty(s).unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ballast stress: {name}</title>
<style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}}
h1{{font-size:20px}} pre{{background:#f6f6f6;padding:12px;overflow:auto;font-size:12px}}
.grid-2{{display:grid;grid-template-columns:repeat(auto-fit,minmax(580px,1fr));gap:12px}}
svg{{background:#fff;border:1px solid #ddd}} .t{{font-weight:600;font-size:13px}} .l{{font-size:10px;fill:#555}}
.ax{{stroke:#444}} .grid{{stroke:#eee}} .line{{fill:none;stroke:#1f77b4;stroke-width:1.5}} .band{{fill:#1f77b4;opacity:.2;stroke:none}} .bar{{fill:#d62728;opacity:.8}}</style>
</head><body><h1>Ballast stress run: {name}</h1>
<p>{paths} paths × {steps} steps of {sh}, seed {seed}, {acc} accounts, fingerprint <code>{fp}</code>.
Every figure comes from the real engine driven by commands; see <code>crates/lab/SCENARIOS.md</code>.</p>
<pre>{table}</pre><div class="grid-2">"##,
        name = esc(&s.scenario),
        paths = s.paths,
        steps = s.steps,
        sh = step_length(s.step_hours),
        seed = s.seed,
        acc = s.accounts,
        fp = esc(&s.fingerprint),
        table = esc(&s.table()),
    );
    out.push_str(&line_chart(
        "Mean insurance fund (USD) by step",
        &fund,
        &|v| short(v),
    ));
    out.push_str(&line_chart(
        "P(insolvency so far) by step",
        &insolvent,
        &|v| format!("{:.1}%", v * 100.0),
    ));
    if !a.fund_bands.is_empty() {
        let q = |v: &[crate::stats::BandHist], p: f64| -> Vec<f64> {
            v.iter().map(|h| h.quantile(p) / 1e6).collect()
        };
        let stride = a.band_stride.max(1) as usize;
        out.push_str(&band_chart(
            "Insurance fund (USD) by step: median, 5–95% band",
            &q(&a.fund_bands, 0.05),
            &q(&a.fund_bands, 0.5),
            &q(&a.fund_bands, 0.95),
            stride,
            &|v| short(v),
        ));
        out.push_str(&band_chart(
            "Cumulative bad debt (USD) by step: 95th percentile, 50–99% band",
            &q(&a.bad_bands, 0.5),
            &q(&a.bad_bands, 0.95),
            &q(&a.bad_bands, 0.99),
            stride,
            &|v| short(v),
        ));
    }
    out.push_str(&breaker_timeline_svg(a));
    out.push_str(&sample_paths_svg(a));
    out.push_str(&histogram_chart("Bad debt per path (USD)", &a.bad_debt));
    out.push_str(&histogram_chart(
        "Insurance fund minimum per path (USD)",
        &a.fund_min,
    ));
    let _ = write!(
        out,
        r##"</div><h2>summary.json</h2><pre>{}</pre></body></html>{}"##,
        esc(&json),
        '\n'
    );
    out
}

/// A step length for people: "1 min", "15 min", "1 h", "4 h", "1 d" (never "0.0166… h").
pub fn step_length(hours: f64) -> String {
    let minutes = hours * 60.0;
    if hours >= 24.0 && (hours / 24.0).fract() == 0.0 {
        format!("{} d", hours / 24.0)
    } else if hours >= 1.0 && hours.fract() == 0.0 {
        format!("{hours} h")
    } else if (minutes - libm::round(minutes)).abs() < 1e-6 {
        format!("{} min", libm::round(minutes))
    } else if minutes < 1.0 {
        format!("{:.0} s", minutes * 60.0)
    } else {
        format!("{hours:.3} h")
    }
}

#[cfg(test)]
mod step_tests {
    use super::step_length;

    #[test]
    fn step_lengths_read_as_people_write_them() {
        assert_eq!(step_length(1.0 / 60.0), "1 min");
        assert_eq!(step_length(0.25), "15 min");
        assert_eq!(step_length(1.0), "1 h");
        assert_eq!(step_length(4.0), "4 h");
        assert_eq!(step_length(24.0), "1 d");
        assert_eq!(step_length(1.5), "90 min");
    }
}
