//! The sweep page: every grid point by capital efficiency and P(insolvency), the efficient
//! frontier joined, the recommended point marked, and the grid as a table.

use crate::report::chart::{Chart, Kind, Series, Unit, XAxis, PALETTE};
use crate::report::{esc, page};
use crate::sweep::{Point, Sweep};
use std::fmt::Write;

/// The valid points, sorted by capital efficiency (the chart's x must ascend).
fn valid(s: &Sweep) -> Vec<&Point> {
    let mut v: Vec<&Point> = s
        .points
        .iter()
        .filter(|p| p.capital_efficiency.is_some() && p.p_insolvency.is_some())
        .collect();
    v.sort_by(|a, b| {
        a.capital_efficiency
            .partial_cmp(&b.capital_efficiency)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    v
}

/// The chart library needs a rising x: grid points of equal capital efficiency are spread by
/// 1e-9 each (invisible at the axis' precision, so no point hides another).
fn strictly_rising(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for x in xs {
        let x = match out.last() {
            Some(&prev) if x <= prev => prev + 1e-9,
            _ => x,
        };
        out.push(x);
    }
    out
}

/// Capital efficiency against P(insolvency): all points, the frontier, the recommendation.
pub fn chart(s: &Sweep) -> Chart {
    let pts = valid(s);
    let p = |f: fn(&Point) -> bool| -> Vec<Option<f64>> {
        pts.iter()
            .map(|x| if f(x) { x.p_insolvency } else { None })
            .collect()
    };
    Chart {
        id: "frontier".into(),
        title: format!(
            "Sweep of {}: capital efficiency against P(insolvency)",
            s.scenario
        ),
        kind: Kind::Line,
        x_axis: XAxis {
            label: "capital efficiency (initial margin per unit of open interest)".into(),
            start_unix_s: None,
            unit_s: 1.0,
        },
        x: strictly_rising(pts.iter().filter_map(|x| x.capital_efficiency)),
        x_labels: Vec::new(),
        y_label: "P(insolvency)".into(),
        y_unit: Unit::Percent,
        y_log: false,
        series: vec![
            Series::line("grid point", PALETTE[7], p(|_| true)).points_only(),
            Series::line("efficient frontier", PALETTE[0], p(|x| x.frontier)).span_gaps(),
            Series::line("recommended", PALETTE[3], p(|x| x.recommended)).points_only(),
        ],
        markers: Vec::new(),
        note: format!(
            "{} paths per point, seed {}. Recommended: the most capital-efficient point whose \
             P(insolvency) upper 95% bound is at most {:.2}%.",
            s.paths,
            s.seed,
            s.max_p_insolvency * 100.0
        ),
    }
}

/// The sweep as a standalone page: the frontier chart and the grid table.
pub fn html(s: &Sweep) -> String {
    let mut t = String::from("<pre>");
    t.push_str(&esc(&s.table()));
    t.push_str("</pre>");
    let mut intro = String::new();
    let _ = write!(
        intro,
        "<p>{} grid points of <code>{}</code>; <code>*</code> marks the frontier.</p>",
        s.points.len(),
        esc(&s.scenario)
    );
    page(
        &format!("Ballast sweep: {}", s.scenario),
        &intro,
        &[chart(s)],
        &t,
    )
}
