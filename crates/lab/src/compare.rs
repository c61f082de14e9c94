//! Two summaries side by side (`ballast stress --compare A B`): the same crash under two
//! protocol configurations — bad debt, P(insolvency), what went beyond the insurance fund,
//! breakers — as a terminal table and as a self-contained HTML section.

use crate::stats::Summary;
use std::fmt::Write;

/// `(metric, A, B)` rows.
pub fn rows(a: &Summary, b: &Summary) -> Vec<(String, String, String)> {
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let ci = |p: f64, c: [f64; 2]| format!("{} ({}–{})", pct(p), pct(c[0]), pct(c[1]));
    let usd = |x: f64| format!("{x:.2}");
    let mut r: Vec<(String, String, String)> = Vec::new();
    let mut row = |k: &str, f: &dyn Fn(&Summary) -> String| {
        r.push((k.to_string(), f(a), f(b)));
    };
    row("scenario", &|s| s.scenario.clone());
    row("mechanism", &|s| s.mechanism.clone());
    row("paths", &|s| s.paths.to_string());
    row("P(insolvency)", &|s| {
        ci(s.p_insolvency, s.p_insolvency_ci95)
    });
    row("bad debt mean (USD)", &|s| usd(s.bad_debt.mean));
    row("bad debt VaR99 (USD)", &|s| usd(s.bad_debt.var99));
    row("bad debt CVaR99 (USD)", &|s| usd(s.bad_debt.cvar99));
    row("ADL mean (USD)", &|s| usd(s.adl.mean));
    row("socialized mean (USD)", &|s| usd(s.socialized.mean));
    row("engine bad debt mean (USD)", &|s| {
        usd(s.engine.bad_debt_mean)
    });
    row("P(fund depleted)", &|s| pct(s.insurance_fund.p_depleted));
    row("insurance drawn mean (USD)", &|s| {
        usd(s.insurance_fund.covered_mean)
    });
    row("liquidations / path", &|s| {
        format!("{:.2}", s.liquidations.count_mean)
    });
    row("auction resets / path", &|s| {
        format!("{:.2}", s.engine.auction_resets_mean)
    });
    row("breaker halted", &|s| pct(s.breaker.halted));
    row("breaker recovering", &|s| pct(s.breaker.recovering));
    row("blocked actions / path", &|s| {
        format!("{:.2}", s.breaker.blocked_mean)
    });
    row("capital efficiency", &|s| {
        format!("{:.4}", s.capital_efficiency)
    });
    // Chain faults and the sell cap: only when either side has them.
    let any = |f: &dyn Fn(&Summary) -> f64| f(a) != 0.0 || f(b) != 0.0;
    if any(&|s| s.chain_halted_fraction) {
        row("chain halted", &|s| pct(s.chain_halted_fraction));
    }
    if any(&|s| s.deferred_sell_mean) {
        row("sales deferred (USD·steps)", &|s| usd(s.deferred_sell_mean));
    }
    if any(&|s| s.unsettled_mean) {
        row("unsettled at end (USD)", &|s| usd(s.unsettled_mean));
    }
    r
}

/// The comparison as an aligned terminal table.
pub fn table(a: &Summary, b: &Summary) -> String {
    let r = rows(a, b);
    let w0 = r.iter().map(|x| x.0.chars().count()).max().unwrap_or(0);
    let w1 = r.iter().map(|x| x.1.chars().count()).max().unwrap_or(0);
    let mut s = String::new();
    for (k, x, y) in r {
        let _ = writeln!(s, "{k:<w0$}  {x:<w1$}  {y}");
    }
    s
}

/// What the two columns have in common, stated only when true: the same seed and path count
/// give common random numbers wherever the two scenarios share a price model; otherwise the
/// columns are independent samples.
pub fn sampling_note(a: &Summary, b: &Summary) -> String {
    if a.seed == b.seed && a.paths == b.paths {
        format!(
            "Both columns: seed {}, {} paths. Where the two scenarios share a price model, they \
             see the same price streams (common random numbers).",
            a.seed, a.paths
        )
    } else {
        format!(
            "Independent samples: seed {} with {} paths vs seed {} with {} paths; compare the \
             columns within their confidence intervals.",
            a.seed, a.paths, b.seed, b.paths
        )
    }
}

/// The comparison as a standalone HTML page (one table).
pub fn html(a: &Summary, b: &Summary) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut s = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>ballast compare</title>\
         <style>body{font-family:sans-serif;margin:2em}td,th{padding:3px 10px;text-align:right}\
         td:first-child{text-align:left}</style></head><body><h1>Defences side by side</h1>",
    );
    let _ = write!(s, "<p>{}</p><table>", esc(&sampling_note(a, b)));
    for (k, x, y) in rows(a, b) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k),
            esc(&x),
            esc(&y)
        );
    }
    s.push_str("</table></body></html>\n");
    s
}
