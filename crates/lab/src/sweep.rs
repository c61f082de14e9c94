//! Parameter sweeps (`ballast sweep`): a grid of `--set` overrides run on the same seed (common
//! random numbers: every point sees the same price paths), one summary per point, the Pareto
//! frontier between capital efficiency and P(insolvency), and the recommended point under a
//! risk tolerance.
//!
//! - **Capital efficiency** = initial margin required per unit of open interest at t0 (lower
//!   is more efficient: traders post less for the same exposure).
//! - **Frontier**: a point is on it when no other valid point has both lower-or-equal capital
//!   efficiency and lower-or-equal P(insolvency), one of them strictly (Pareto 1906).
//! - **Recommended**: the most capital-efficient point whose P(insolvency) Wilson 95% upper
//!   bound is ≤ the tolerance; ties broken by lower P(insolvency), then lower mean bad debt,
//!   then grid order. Using the upper bound, not the estimate, keeps the choice conservative
//!   when few paths are run.
//!
//! Grid points the scenario rules refuse (e.g. `maint_margin ≥ init_margin`) are kept in the
//! table as invalid, with the reason, and take no part in the frontier.

use crate::embedded;
use crate::error::LabError;
use crate::runner::{self, Prepared, RunConfig};
use crate::stats::Summary;
use serde::{Deserialize, Serialize};

/// One `--grid key=v1,v2,…` axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `key=v1,v2,…`; the error names the flag.
    pub fn parse(spec: &str) -> Result<Axis, LabError> {
        let bad = |m: &str| LabError::Invalid(format!("--grid {spec}: {m}"));
        let (k, v) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected key=v1,v2,..."))?;
        let key = k.trim().to_string();
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        let values: Vec<String> = v
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        if values.is_empty() {
            return Err(bad("no values"));
        }
        Ok(Axis { key, values })
    }
}

/// The result of one grid point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// `(key, value)` per axis, in axis order.
    pub params: Vec<(String, String)>,
    /// `None` when the scenario refused the combination (see `invalid`).
    pub capital_efficiency: Option<f64>,
    pub p_insolvency: Option<f64>,
    pub p_insolvency_ci95: Option<[f64; 2]>,
    pub bad_debt_mean: Option<f64>,
    pub bad_debt_var99: Option<f64>,
    pub invalid: Option<String>,
    pub frontier: bool,
    pub recommended: bool,
}

/// A whole sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    pub scenario: String,
    pub paths: u64,
    pub seed: u64,
    pub max_p_insolvency: f64,
    pub points: Vec<Point>,
    /// Index of the recommended point, if any meets the tolerance.
    pub recommended: Option<usize>,
    pub elapsed_s: f64,
}

/// How to sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepConfig {
    pub threads: usize,
    /// Show a progress bar (one tick per grid point) on stderr.
    pub progress: bool,
    /// Tolerance on P(insolvency) (compared with the Wilson upper bound).
    pub max_p_insolvency: f64,
}

/// Cartesian product of the axes, first axis slowest.
pub fn grid(axes: &[Axis]) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for a in axes {
        let mut next = Vec::with_capacity(out.len() * a.values.len());
        for p in &out {
            for v in &a.values {
                let mut q = p.clone();
                q.push((a.key.clone(), v.clone()));
                next.push(q);
            }
        }
        out = next;
    }
    out
}

/// Marks the frontier and the recommended point; returns the recommended index.
pub fn mark(points: &mut [Point], max_p: f64) -> Option<usize> {
    let valid: Vec<(usize, f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p.capital_efficiency?, p.p_insolvency?)))
        .collect();
    for &(i, ce, p) in &valid {
        let dominated = valid
            .iter()
            .any(|&(j, c2, p2)| j != i && c2 <= ce && p2 <= p && (c2 < ce || p2 < p));
        points[i].frontier = !dominated;
    }
    let best = valid
        .iter()
        .filter(|&&(i, _, _)| points[i].p_insolvency_ci95.is_some_and(|c| c[1] <= max_p))
        .min_by(|a, b| {
            let bd = |i: usize| points[i].bad_debt_mean.unwrap_or(f64::INFINITY);
            a.1.total_cmp(&b.1)
                .then(a.2.total_cmp(&b.2))
                .then(bd(a.0).total_cmp(&bd(b.0)))
                .then(a.0.cmp(&b.0))
        })
        .map(|&(i, _, _)| i);
    if let Some(i) = best {
        points[i].recommended = true;
    }
    best
}

/// Runs the grid over `scenario` (a file or embedded name) with `base_sets` applied first.
pub fn run(
    scenario: &str,
    base_sets: &[String],
    axes: &[Axis],
    cfg: &SweepConfig,
) -> Result<Sweep, LabError> {
    if axes.is_empty() {
        return Err(LabError::Invalid(
            "sweep: give at least one --grid key=v1,v2,...".into(),
        ));
    }
    let t0 = std::time::Instant::now();
    // The base scenario must load on its own (its errors are the user's to fix first).
    let (base, _) = embedded::load(scenario, base_sets)?;
    let combos = grid(axes);
    let bar = cfg.progress.then(|| {
        let b = indicatif::ProgressBar::new(combos.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "sweep {bar:30} {pos}/{len} points  {elapsed_precise} (eta {eta})",
            )
            .expect("template"),
        );
        b
    });
    let mut points = Vec::with_capacity(combos.len());
    for params in combos {
        let mut sets = base_sets.to_vec();
        sets.extend(params.iter().map(|(k, v)| format!("{k}={v}")));
        let loaded =
            embedded::load(scenario, &sets).and_then(|(sc, dir)| Prepared::new(sc, dir.as_deref()));
        let point = match loaded {
            Err(e @ (LabError::Override { .. } | LabError::Toml { .. })) => return Err(e),
            Err(e) => Point {
                params,
                capital_efficiency: None,
                p_insolvency: None,
                p_insolvency_ci95: None,
                bad_debt_mean: None,
                bad_debt_var99: None,
                invalid: Some(e.to_string()),
                frontier: false,
                recommended: false,
            },
            Ok(prep) => {
                let s: Summary = runner::run(
                    &prep,
                    &RunConfig {
                        threads: cfg.threads,
                        ..Default::default()
                    },
                )?
                .summary;
                Point {
                    params,
                    capital_efficiency: Some(s.capital_efficiency),
                    p_insolvency: Some(s.p_insolvency),
                    p_insolvency_ci95: Some(s.p_insolvency_ci95),
                    bad_debt_mean: Some(s.bad_debt.mean),
                    bad_debt_var99: Some(s.bad_debt.var99),
                    invalid: None,
                    frontier: false,
                    recommended: false,
                }
            }
        };
        points.push(point);
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let recommended = mark(&mut points, cfg.max_p_insolvency);
    Ok(Sweep {
        scenario: base.name.clone(),
        paths: base.paths,
        seed: base.seed,
        max_p_insolvency: cfg.max_p_insolvency,
        points,
        recommended,
        elapsed_s: t0.elapsed().as_secs_f64(),
    })
}

impl Sweep {
    /// The sweep as a terminal table: `*` marks the frontier, `<=` the recommended point.
    pub fn table(&self) -> String {
        let keys: Vec<String> = self
            .points
            .first()
            .map(|p| p.params.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        let mut header: Vec<String> = keys.clone();
        for h in [
            "cap.eff",
            "P(insolv)",
            "95% CI",
            "bad debt mean",
            "VaR99",
            "",
        ] {
            header.push(h.to_string());
        }
        let mut rows: Vec<Vec<String>> = vec![header];
        for p in &self.points {
            let mut r: Vec<String> = p.params.iter().map(|(_, v)| v.clone()).collect();
            match (
                p.capital_efficiency,
                p.p_insolvency,
                p.p_insolvency_ci95,
                p.bad_debt_mean,
                p.bad_debt_var99,
            ) {
                (Some(ce), Some(pi), Some(ci), Some(bm), Some(v)) => {
                    r.push(format!("{ce:.4}"));
                    r.push(format!("{:.2}%", pi * 100.0));
                    r.push(format!("{:.2}–{:.2}%", ci[0] * 100.0, ci[1] * 100.0));
                    r.push(format!("{bm:.2}"));
                    r.push(format!("{v:.2}"));
                    let mut tag = String::new();
                    if p.frontier {
                        tag.push('*');
                    }
                    if p.recommended {
                        tag.push_str(" <= recommended");
                    }
                    r.push(tag);
                }
                _ => {
                    for _ in 0..5 {
                        r.push("-".into());
                    }
                    r.push(format!(
                        "invalid: {}",
                        p.invalid.as_deref().unwrap_or("refused")
                    ));
                }
            }
            rows.push(r);
        }
        let n = rows[0].len();
        let widths: Vec<usize> = (0..n)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut s = format!(
            "sweep of {} ({} paths, seed {}), {} points, tolerance P(insolvency) upper CI ≤ {:.2}%\n",
            self.scenario,
            self.paths,
            self.seed,
            self.points.len(),
            self.max_p_insolvency * 100.0
        );
        for r in rows {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                let pad = widths[c] - cell.chars().count();
                line.push_str(cell);
                if c + 1 < n {
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            s.push_str(line.trim_end());
            s.push('\n');
        }
        s.push_str("(* = Pareto frontier of capital efficiency vs P(insolvency); cap.eff = initial margin per unit of open interest)\n");
        match self.recommended {
            Some(i) => {
                let p = &self.points[i];
                let params: Vec<String> =
                    p.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                s.push_str(&format!("recommended: {}\n", params.join(" ")));
            }
            None => s.push_str("recommended: none meets the tolerance\n"),
        }
        s.push_str(&format!("elapsed {:.2} s\n", self.elapsed_s));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(ce: f64, p: f64, hi: f64) -> Point {
        Point {
            params: vec![],
            capital_efficiency: Some(ce),
            p_insolvency: Some(p),
            p_insolvency_ci95: Some([0.0, hi]),
            bad_debt_mean: Some(0.0),
            bad_debt_var99: Some(0.0),
            invalid: None,
            frontier: false,
            recommended: false,
        }
    }

    #[test]
    fn frontier_and_recommendation() {
        let mut v = vec![
            pt(0.05, 0.30, 0.35),
            pt(0.05, 0.20, 0.25), // dominates the first
            pt(0.10, 0.05, 0.08),
            pt(0.10, 0.05, 0.08), // equal twins: both on the frontier
            pt(0.15, 0.06, 0.09), // dominated by (0.10, 0.05)
            pt(0.20, 0.00, 0.01),
        ];
        let r = mark(&mut v, 0.10);
        let f: Vec<bool> = v.iter().map(|p| p.frontier).collect();
        assert_eq!(f, [false, true, true, true, false, true]);
        assert_eq!(r, Some(2));
        assert_eq!(mark(&mut v.clone(), 0.005), None);
    }

    #[test]
    fn grid_is_the_cartesian_product_in_order() {
        let a = Axis::parse("x=1,2").unwrap();
        let b = Axis::parse("y = a, b ,c").unwrap();
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(
            g[1],
            vec![("x".into(), "1".into()), ("y".into(), "b".into())]
        );
        assert!(Axis::parse("novalue")
            .unwrap_err()
            .to_string()
            .contains("--grid novalue"));
        assert!(Axis::parse("k=").is_err());
    }
}
