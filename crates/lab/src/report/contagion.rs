//! The report's contagion section: the shared-exposure graph of the scenario's t0 book (path
//! 0's engine before any price move) and what a −30 % move of the first asset costs each pool,
//! market and asset — both computed by `ballast-solvency`'s contagion module
//! (`Graph::from_state`, `apply_shock` through a clone of the engine), here only turned into
//! rows in USD and a table. Carried in the summary (`contagion`) and in every shard file (a merge keeps the first's).

use crate::path::PathSetup;
use ballast_solvency::contagion::{apply_shock, Graph, NodeRef, Shock, ShockReport};
use std::fmt::Write;

/// The shock the report applies, percent.
pub const SHOCK_PCT: f64 = -30.0;

pub use crate::stats::contagion::{ContagionView, EdgeRow, LossRow};

fn rows(g: &Graph, r: &ShockReport, usd: impl Fn(i128) -> f64) -> (Vec<EdgeRow>, Vec<LossRow>) {
    let edges = g
        .edges
        .iter()
        .map(|e| EdgeRow {
            kind: e.kind.name().into(),
            a: g.name(e.a).into(),
            b: g.name(e.b).into(),
            via: e.via.map(|v| g.name(NodeRef::Asset(v)).into()),
            weight_usd: usd(e.weight),
        })
        .collect();
    let losses = r
        .losses
        .iter()
        .map(|l| LossRow {
            node: g.name(l.node).into(),
            accounts: l.after.accounts,
            below_maintenance_after: l.after.below_maintenance,
            bad_debt_before_usd: usd(l.before.bad_debt),
            bad_debt_after_usd: usd(l.after.bad_debt),
            loss_usd: usd(l.loss),
        })
        .collect();
    (edges, losses)
}

/// The view of `prep`'s t0 book (`None` if the map or the shock cannot be computed: the
/// report then has no contagion section).
pub fn of_book(setup: &PathSetup<'_>) -> Option<ContagionView> {
    let (eng, _) = crate::path::path_book(setup, 0).ok()?;
    let g = Graph::from_state(eng.state()).ok()?;
    let shock = Shock {
        asset: ballast_engine::ids::AssetId(1),
        pct: SHOCK_PCT,
    };
    let r = apply_shock(&eng, shock).ok()?;
    let (edges, losses) = rows(&g, &r, crate::units::to_usd);
    Some(ContagionView {
        shocked: g.name(NodeRef::Asset(shock.asset)).into(),
        pct: SHOCK_PCT,
        edges,
        losses,
    })
}

fn table(out: &mut String, head: &[&str], body: impl Iterator<Item = Vec<String>>) {
    out.push_str("<table class=\"num\"><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", super::esc(h));
    }
    out.push_str("</tr>");
    for r in body {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", super::esc(&c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

/// The HTML section (empty without a view).
pub fn section(v: Option<&ContagionView>) -> String {
    let Some(v) = v else {
        return String::new();
    };
    let mut out = String::from(
        "<h2 id=\"contagion\">Contagion map of the t0 book (path 0)</h2>\
         <p>Shared exposure between pools, markets and collateral assets (USD at spot), from \
         <code>ballast-solvency</code>'s contagion module.</p>",
    );
    table(
        &mut out,
        &["edge", "a", "b", "via", "weight (USD)"],
        v.edges.iter().map(|e| {
            let via = e.via.clone().unwrap_or_else(|| "–".into());
            vec![
                e.kind.clone(),
                e.a.clone(),
                e.b.clone(),
                via,
                format!("{:.2}", e.weight_usd),
            ]
        }),
    );
    let _ = write!(
        out,
        "<p>Loss per node for a {:+.0} % move of {} (through a clone of the engine):</p>",
        v.pct,
        super::esc(&v.shocked)
    );
    table(
        &mut out,
        &[
            "node",
            "accounts",
            "below maintenance after",
            "bad debt before (USD)",
            "bad debt after (USD)",
            "loss (USD)",
        ],
        v.losses.iter().map(|l| {
            vec![
                l.node.clone(),
                l.accounts.to_string(),
                l.below_maintenance_after.to_string(),
                format!("{:.2}", l.bad_debt_before_usd),
                format!("{:.2}", l.bad_debt_after_usd),
                format!("{:.2}", l.loss_usd),
            ]
        }),
    );
    out
}
