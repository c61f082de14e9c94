//! Two summaries side by side (`ballast stress --compare A B`): the same crash under two
//! protocol configurations — bad debt, P(insolvency), what went beyond the insurance fund,
//! breakers — as a terminal table and as a self-contained HTML section.

use crate::report::esc;
use crate::stats::{Aggregate, Summary};
use std::fmt::Write;

/// How a compared number is written.
#[derive(Debug, Clone, Copy)]
enum Fmt {
    Int,
    Pct,
    Usd,
    Ratio,
    Count,
}

impl Fmt {
    fn show(self, x: f64) -> String {
        match self {
            Fmt::Int => format!("{x:.0}"),
            Fmt::Pct => format!("{:.2}%", x * 100.0),
            Fmt::Usd => format!("{x:.2}"),
            Fmt::Ratio => format!("{x:.4}"),
            Fmt::Count => format!("{x:.2}"),
        }
    }

    /// The value as printed, so the change column agrees with the two columns: values that
    /// print alike have no change.
    fn shown(self, x: f64) -> f64 {
        let printed = self.show(x);
        match self {
            Fmt::Pct => printed
                .trim_end_matches('%')
                .parse::<f64>()
                .map_or(x, |v| v / 100.0),
            _ => printed.parse().unwrap_or(x),
        }
    }

    /// B − A, in the metric's unit ("pp" for percentages), with the relative change when A ≠ 0.
    fn delta(self, a: f64, b: f64) -> String {
        let (a, b) = (self.shown(a), self.shown(b));
        let d = b - a;
        let abs = match self {
            Fmt::Pct => format!("{:+.2} pp", d * 100.0),
            _ => format!("{:+.2}", d).replace("+-", "-"),
        };
        if a != 0.0 && d != 0.0 {
            format!("{abs} ({:+.0}%)", d / a.abs() * 100.0)
        } else {
            abs
        }
    }
}

/// One compared metric: its name, both values as text and the change B − A.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: String,
    pub a: String,
    pub b: String,
    /// Empty for text rows (scenario, mechanism).
    pub delta: String,
}

type Metric = (&'static str, Fmt, fn(&Summary) -> f64);

/// The numeric rows, in order; chain faults and the sell cap are appended when either side
/// has them.
const METRICS: [Metric; 21] = [
    ("paths", Fmt::Int, |s| s.paths as f64),
    ("P(insolvency)", Fmt::Pct, |s| s.p_insolvency),
    ("bad debt mean (USD)", Fmt::Usd, |s| s.bad_debt.mean),
    ("bad debt VaR99 (USD)", Fmt::Usd, |s| s.bad_debt.var99),
    ("bad debt CVaR99 (USD)", Fmt::Usd, |s| s.bad_debt.cvar99),
    ("ADL mean (USD)", Fmt::Usd, |s| s.adl.mean),
    ("socialized mean (USD)", Fmt::Usd, |s| s.socialized.mean),
    ("engine bad debt mean (USD)", Fmt::Usd, |s| {
        s.engine.bad_debt_mean
    }),
    ("P(fund depleted)", Fmt::Pct, |s| {
        s.insurance_fund.p_depleted
    }),
    ("insurance drawn mean (USD)", Fmt::Usd, |s| {
        s.insurance_fund.covered_mean
    }),
    ("liquidations / path", Fmt::Count, |s| {
        s.liquidations.count_mean
    }),
    ("auction resets / path", Fmt::Count, |s| {
        s.engine.auction_resets_mean
    }),
    ("auction takes below 10% of oracle", Fmt::Pct, |s| {
        s.auctions.as_ref().map_or(0.0, |a| a.below_10)
    }),
    ("zero bids / path", Fmt::Count, |s| {
        s.auctions.as_ref().map_or(0.0, |a| a.zero_bids_mean)
    }),
    ("breaker halted", Fmt::Pct, |s| s.breaker.halted),
    ("breaker recovering", Fmt::Pct, |s| s.breaker.recovering),
    ("blocked actions / path", Fmt::Count, |s| {
        s.breaker.blocked_mean
    }),
    ("capital efficiency", Fmt::Ratio, |s| s.capital_efficiency),
    ("IM / OI over the path", Fmt::Ratio, |s| {
        s.im_per_oi_over_path
    }),
    ("IM / equity over the path", Fmt::Ratio, |s| {
        s.im_per_equity_over_path
    }),
    ("trader penalties / path (USD)", Fmt::Usd, |s| {
        s.liquidations.penalties_mean
    }),
];

const OPTIONAL: [Metric; 3] = [
    ("chain halted", Fmt::Pct, |s| s.chain_halted_fraction),
    ("sales deferred (USD·steps)", Fmt::Usd, |s| {
        s.deferred_sell_mean
    }),
    ("unsettled at end (USD)", Fmt::Usd, |s| s.unsettled_mean),
];

/// Cost and profit of attack, shown when either side has attackers (0 for a side without).
const ATTACK: [Metric; 4] = [
    ("P(attack profitable)", Fmt::Pct, |s| {
        s.attack.as_ref().map_or(0.0, |a| a.p_profitable)
    }),
    ("attacker profit mean (USD)", Fmt::Usd, |s| {
        s.attack.as_ref().map_or(0.0, |a| a.profit_mean)
    }),
    ("protocol loss mean (USD)", Fmt::Usd, |s| {
        s.attack.as_ref().map_or(0.0, |a| a.protocol_loss_mean)
    }),
    ("attacker took out mean (USD)", Fmt::Usd, |s| {
        s.attack.as_ref().map_or(0.0, |a| a.taken_mean)
    }),
];

/// What the controller did, per controlled path (0 for a side without `[controller]`).
const CONTROLLER: [Metric; 4] = [
    ("controller moves / path", Fmt::Count, |s| {
        per_path(s, |t| t.executed)
    }),
    ("controller refused / path", Fmt::Count, |s| {
        per_path(s, |t| t.refused + t.execute_refused)
    }),
    ("accounts flagged / path", Fmt::Count, |s| {
        per_path(s, |t| t.flagged)
    }),
    ("attacker accounts flagged / path", Fmt::Count, |s| {
        per_path(s, |t| t.flagged_attackers)
    }),
];

fn per_path(s: &Summary, count: fn(&crate::controller::ControllerTally) -> u64) -> f64 {
    s.controller
        .as_ref()
        .map_or(0.0, |t| count(t) as f64 / t.on.max(1) as f64)
}

fn numeric(r: &mut Vec<Row>, a: &Summary, b: &Summary, (k, f, get): &Metric) {
    let (x, y) = (get(a), get(b));
    r.push(Row {
        metric: k.to_string(),
        a: f.show(x),
        b: f.show(y),
        delta: f.delta(x, y),
    });
}

/// The compared rows: text first, then every metric with its change.
pub fn rows(a: &Summary, b: &Summary) -> Vec<Row> {
    let text = |k: &str, f: fn(&Summary) -> String| Row {
        metric: k.into(),
        a: f(a),
        b: f(b),
        delta: String::new(),
    };
    let ci = |s: &Summary| {
        let c = s.p_insolvency_ci95;
        format!("{:.2}%–{:.2}%", c[0] * 100.0, c[1] * 100.0)
    };
    let mut r = vec![
        text("scenario", |s| s.scenario.clone()),
        text("mechanism", |s| s.mechanism.clone()),
    ];
    for m in &METRICS {
        numeric(&mut r, a, b, m);
        if m.0 == "P(insolvency)" {
            r.push(Row {
                metric: "P(insolvency) 95% CI".into(),
                a: ci(a),
                b: ci(b),
                delta: String::new(),
            });
        }
    }
    for m in &OPTIONAL {
        if m.2(a) != 0.0 || m.2(b) != 0.0 {
            numeric(&mut r, a, b, m);
        }
    }
    if a.attack.is_some() || b.attack.is_some() {
        for m in &ATTACK {
            numeric(&mut r, a, b, m);
        }
    }
    if a.controller.is_some() || b.controller.is_some() {
        for m in &CONTROLLER {
            numeric(&mut r, a, b, m);
        }
    }
    r
}

/// The comparison as an aligned terminal table.
pub fn table(a: &Summary, b: &Summary) -> String {
    let r = rows(a, b);
    let w = |f: fn(&Row) -> &str| r.iter().map(|x| f(x).chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (w(|x| &x.metric), w(|x| &x.a), w(|x| &x.b));
    let mut s = String::new();
    let _ = writeln!(s, "{:<w0$}  {:<w1$}  {:<w2$}  B − A", "", "A", "B");
    for x in r {
        let line = format!("{:<w0$}  {:<w1$}  {:<w2$}  {}", x.metric, x.a, x.b, x.delta);
        let _ = writeln!(s, "{}", line.trim_end());
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

/// One side of a comparison: its summary and the aggregate its charts come from.
pub type Side<'a> = (&'a Summary, &'a Aggregate);

/// The comparison as a standalone HTML page: the table with a B − A column, then A and B
/// overlaid on the same axes.
pub fn html(a: Side<'_>, b: Side<'_>) -> String {
    let mut t = String::from(
        "<table class=\"num\"><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr>",
    );
    for r in rows(a.0, b.0) {
        let _ = write!(
            t,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.metric),
            esc(&r.a),
            esc(&r.b),
            esc(&r.delta)
        );
    }
    t.push_str("</table>");
    let intro = format!("<p>{}</p>{t}", esc(&sampling_note(a.0, b.0)));
    let charts = crate::report::figures::compared(a, b);
    crate::report::page("Ballast: defences side by side", &intro, &charts, "")
}

#[cfg(test)]
mod tests {
    use super::Fmt;

    #[test]
    fn the_change_column_agrees_with_the_printed_values() {
        // Both print as 0.00: no change, and no "-100%" from a rounding residue.
        assert_eq!(Fmt::Usd.delta(1e-9, 0.0), "+0.00");
        assert_eq!(Fmt::Usd.delta(200.0, 150.0), "-50.00 (-25%)");
        assert_eq!(Fmt::Pct.delta(0.5, 0.25), "-25.00 pp (-50%)");
        assert_eq!(Fmt::Int.delta(6.0, 6.0), "+0.00");
    }
}
