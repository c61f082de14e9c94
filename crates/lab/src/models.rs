//! Price models: each turns a standard normal shock (possibly correlated with other assets)
//! and the path's random stream into one step's log return.
//!
//! - GBM: `r = (μ − σ²/2)·dt + σ·√dt·z`, plus optional fixed-size crash jumps
//!   (`+ ln(1 − size)` with probability `λ·dt`, the peer-radCAD rule).
//! - Merton (1976), "Option pricing when underlying stock returns are discontinuous":
//!   `r = (μ − σ²/2 − λκ)·dt + σ·√dt·z + Σ_{i ≤ N} Y_i`, `N ~ Poisson(λ·dt)`,
//!   `Y ~ N(m, s²)`, `κ = e^{m + s²/2} − 1`.
//! - GARCH(1,1), Bollerslev (1986): `h_t = ω + α·ε²_{t−1} + β·h_{t−1}`, `ε_t = √h_t·z`,
//!   `r = μ·dt + ε_t`, with `ω = σ_LR²·dt·(1 − α − β)` so the long-run variance is `σ_LR²·dt`.
//! - Regime switching, Hamilton (1989): a Markov chain over GBM regimes, one transition per step.
//! - Correlation: `z = L·u` with `L` the Cholesky factor of the correlation matrix and `u` iid
//!   normals, one per asset that needs a shock.
//! - Replay: the log returns of a CSV series, one bar per step.
//! - Moving-block bootstrap, Künsch (1989), "The jackknife and the bootstrap for general
//!   stationary observations": blocks of `b` consecutive historical returns, each starting at a
//!   uniform position, concatenated until the horizon is filled.
//!
//! Draw order per step (part of the determinism contract): one normal per asset that needs it,
//! in asset order; then each asset's own extra draws (jump arrival, jump sizes, regime move,
//! block start) in asset order.

use crate::error::LabError;
pub use crate::math::cholesky;
use crate::scenario::{ModelSpec, Scenario};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A prepared model: parameters in per-step units, historical data loaded.
#[derive(Debug, Clone)]
pub enum Model {
    Gbm {
        drift: f64,
        vol: f64,
        jump_p: f64,
        jump_log: f64,
    },
    Merton {
        drift: f64,
        vol: f64,
        lam_dt: f64,
        jump_mean: f64,
        jump_std: f64,
    },
    Garch {
        mu_dt: f64,
        omega: f64,
        alpha: f64,
        beta: f64,
        h0: f64,
    },
    Regime {
        /// (drift, vol) per regime, per step.
        regimes: Vec<(f64, f64)>,
        /// Cumulative transition rows.
        cum: Vec<Vec<f64>>,
        start: usize,
    },
    Replay {
        returns: Arc<Vec<f64>>,
    },
    Bootstrap {
        returns: Arc<Vec<f64>>,
        block: usize,
    },
}

/// Per-path mutable state of a model.
#[derive(Debug, Clone, Default)]
pub struct ModelState {
    h: f64,
    eps: f64,
    regime: usize,
    t: usize,
    pos: usize,
    left: usize,
}

impl Model {
    /// Whether this model consumes a normal shock each step.
    pub fn needs_normal(&self) -> bool {
        !matches!(self, Model::Replay { .. } | Model::Bootstrap { .. })
    }

    pub fn initial_state(&self) -> ModelState {
        match self {
            Model::Garch { h0, .. } => ModelState {
                h: *h0,
                ..Default::default()
            },
            Model::Regime { start, .. } => ModelState {
                regime: *start,
                ..Default::default()
            },
            _ => ModelState::default(),
        }
    }

    /// One step's log return given the (correlated) normal shock `z`.
    pub fn step(&self, st: &mut ModelState, z: f64, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Model::Gbm {
                drift,
                vol,
                jump_p,
                jump_log,
            } => {
                let mut r = drift + vol * z;
                if *jump_p > 0.0 && u01(rng) < *jump_p {
                    r += jump_log;
                }
                r
            }
            Model::Merton {
                drift,
                vol,
                lam_dt,
                jump_mean,
                jump_std,
            } => {
                let mut r = drift + vol * z;
                if *lam_dt > 0.0 {
                    let n = crate::math::poisson(rng, *lam_dt);
                    for _ in 0..n {
                        let y: f64 = crate::math::std_normal(rng);
                        r += jump_mean + jump_std * y;
                    }
                }
                r
            }
            Model::Garch {
                mu_dt,
                omega,
                alpha,
                beta,
                ..
            } => {
                if st.t > 0 {
                    st.h = omega + alpha * st.eps * st.eps + beta * st.h;
                }
                st.t += 1;
                st.eps = st.h.sqrt() * z;
                mu_dt + st.eps
            }
            Model::Regime { regimes, cum, .. } => {
                let (d, v) = regimes[st.regime];
                let r = d + v * z;
                let u = u01(rng);
                let row = &cum[st.regime];
                st.regime = row.iter().position(|c| u < *c).unwrap_or(row.len() - 1);
                r
            }
            Model::Replay { returns } => {
                let r = returns[st.t];
                st.t += 1;
                r
            }
            Model::Bootstrap { returns, block } => {
                if st.left == 0 {
                    let max_start = returns.len() - block.min(&returns.len());
                    st.pos = Uniform::new_inclusive(0usize, max_start)
                        .expect("non-empty range")
                        .sample(rng);
                    st.left = (*block).min(returns.len());
                }
                let r = returns[st.pos];
                st.pos += 1;
                st.left -= 1;
                r
            }
        }
    }
}

fn u01(rng: &mut ChaCha8Rng) -> f64 {
    Uniform::new(0.0, 1.0).expect("valid range").sample(rng)
}

/// Closes of one series from a price CSV, with the bar interval.
#[derive(Debug, Clone)]
pub struct Series {
    pub closes: Vec<f64>,
    pub interval_ms: i64,
    pub first_ts_ms: i64,
}

/// Finds a CSV named in a scenario: absolute; else relative to the scenario file's folder, the
/// current folder or any of its ancestors (never the folder the binary was built in: a copied
/// binary must not depend on it; embedded scenarios carry their data instead).
pub fn resolve_csv(csv: &str, base_dir: Option<&Path>) -> Option<PathBuf> {
    let p = Path::new(csv);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Some(b) = base_dir {
        candidates.push(b.join(p));
    }
    if let Ok(cwd) = std::env::current_dir() {
        for a in cwd.ancestors() {
            candidates.push(a.join(p));
        }
    }
    candidates.into_iter().find(|c| c.is_file())
}

/// Reads a price CSV named in a scenario: a file next to the scenario (or an absolute path)
/// first, then the copy embedded in the binary ([`crate::embedded::data`]), then the other
/// places [`resolve_csv`] looks. Returns the rows and the name used in messages.
fn read_csv(
    field: &str,
    csv: &str,
    base_dir: Option<&Path>,
) -> Result<(ballast_data::PriceFile, PathBuf), LabError> {
    let opts = ballast_data::ReadOptions {
        allow_gaps: false,
        bad_bars: ballast_data::BadBarPolicy::Drop,
    };
    let data_err = |e: ballast_data::DataError| LabError::Data {
        field: format!("{field}.csv"),
        message: e.to_string(),
    };
    let local = Path::new(csv).is_absolute() || base_dir.is_some_and(|b| b.join(csv).is_file());
    if !local {
        if let Some(bytes) = crate::embedded::data(csv) {
            let name = format!("embedded:{csv}");
            let file = ballast_data::parse_prices(bytes, &name, opts).map_err(data_err)?;
            return Ok((file, PathBuf::from(name)));
        }
    }
    let path = resolve_csv(csv, base_dir).ok_or_else(|| LabError::Data {
        field: format!("{field}.csv"),
        message: format!("price CSV `{csv}` not found (looked next to the scenario file, in the current folder and its parents)"),
    })?;
    let file = ballast_data::read_prices_with(&path, opts).map_err(data_err)?;
    Ok((file, path))
}

/// Loads one series with `ballast_data::read_prices_with`: gaps are refused, and so is an
/// impossible OHLC bar inside the chosen series unless `drop_bad_bars` says to skip it (bad bars
/// of other series in the same file never matter).
pub fn load_series(
    field: &str,
    csv: &str,
    venue: Option<&str>,
    symbol: &str,
    base_dir: Option<&Path>,
    drop_bad_bars: bool,
) -> Result<Series, LabError> {
    let (file, path) = read_csv(field, csv, base_dir)?;
    let matches = |r: &ballast_data::PriceRow| {
        (r.symbol == symbol || r.base_asset() == symbol)
            && venue.is_none_or(|v| r.venue.eq_ignore_ascii_case(v))
    };
    let mut series: std::collections::BTreeMap<(String, String), Vec<&ballast_data::PriceRow>> =
        Default::default();
    for r in file.rows.iter().filter(|r| matches(r)) {
        series
            .entry((r.venue.clone(), r.symbol.clone()))
            .or_default()
            .push(r);
    }
    if series.is_empty() {
        return Err(LabError::Data {
            field: format!("{field}.symbol"),
            message: format!(
                "no rows for symbol `{symbol}`{} in {}",
                venue
                    .map(|v| format!(" at venue `{v}`"))
                    .unwrap_or_default(),
                path.display()
            ),
        });
    }
    if series.len() > 1 {
        let names: Vec<String> = series.keys().map(|(v, s)| format!("{v} {s}")).collect();
        return Err(LabError::Data {
            field: format!("{field}.venue"),
            message: format!(
                "`{symbol}` matches several series ({}); name one with `venue`",
                names.join(", ")
            ),
        });
    }
    let rows = series.into_values().next().expect("one series");
    if !drop_bad_bars {
        // The file is sorted by (venue, symbol, time), so a series is one block of lines: a
        // dropped bar whose line falls inside the block belongs to it.
        let (lo, hi) = (rows[0].line, rows[rows.len() - 1].line);
        let line_of = |m: &str| -> Option<usize> {
            let rest = &m[m.find(": line ")? + 7..];
            rest[..rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len())]
                .parse()
                .ok()
        };
        if let Some(bad) = file
            .dropped
            .iter()
            .find(|m| line_of(m).is_some_and(|l| l > lo && l < hi))
        {
            return Err(LabError::Data {
                field: format!("{field}.csv"),
                message: format!("{bad} (set `drop_bad_bars = true` to skip such bars)"),
            });
        }
    }
    if rows.len() < 2 {
        return Err(LabError::Data {
            field: format!("{field}.csv"),
            message: "the series needs at least two bars".into(),
        });
    }
    Ok(Series {
        closes: rows.iter().map(|r| r.close).collect(),
        interval_ms: rows[0].interval_ms,
        first_ts_ms: rows[0].ts_ms,
    })
}

/// A prepared asset: its model, its initial price, and (with `[oracle] sources = "csv"`) the
/// venues of its replayed CSV as oracle sources.
#[derive(Debug, Clone)]
pub struct PreparedAsset {
    pub model: Model,
    pub price0: f64,
    pub venues: Option<Arc<Venues>>,
    /// Unix milliseconds of the first replayed bar (replays only): dates the report's axes.
    pub start_ms: Option<i64>,
}

/// The venues of a replayed CSV as oracle sources of one asset: every `(venue, symbol)` series
/// of the replayed series' base asset is one source, laid out by
/// [`ballast_oracle::timeline::SourceLayout`] exactly as `ballast oracle --csv` lays it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Venues {
    pub layout: ballast_oracle::timeline::SourceLayout,
    /// `quotes[step][source]`: `(close, confidence)` of the source's bar that closes when the
    /// replayed series' bar `step` closes (`None`: the venue has no bar closing then).
    pub quotes: Vec<Vec<Option<(f64, f64)>>>,
}

/// Reads the venues of `csv` quoting the base asset of `symbol`, aligned by bar close time to
/// the replayed series `s` (step `k` ↔ the close of `s`'s bar `k`), for `steps + 1` steps.
pub fn load_venues(
    field: &str,
    (csv, symbol): (&str, &str),
    base_dir: Option<&Path>,
    s: &Series,
    (steps, cfg): (usize, &ballast_oracle::timeline::TimelineConfig),
) -> Result<Venues, LabError> {
    let (file, _) = read_csv(field, csv, base_dir)?;
    let base = ballast_data::base_asset(symbol);
    let mut longest: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for r in file.rows.iter().filter(|r| r.base_asset() == base) {
        let e = longest
            .entry((r.venue.clone(), r.symbol.clone()))
            .or_insert(r.interval_ms);
        *e = (*e).max(r.interval_ms);
    }
    let layout = ballast_oracle::timeline::SourceLayout::new(&longest, cfg);
    if layout.config.quorum > layout.labels.len() {
        return Err(LabError::field(
            "oracle.quorum",
            format!(
                "{} but {csv} has only {} venues for {base} ({})",
                layout.config.quorum,
                layout.labels.len(),
                layout.labels.join(", ")
            ),
        ));
    }
    let keys: Vec<&(String, String)> = longest.keys().collect();
    let mut quotes = vec![vec![None; keys.len()]; steps + 1];
    let first_close = s.first_ts_ms + s.interval_ms;
    for r in file.rows.iter().filter(|r| r.base_asset() == base) {
        let Ok(src) = keys.binary_search(&&(r.venue.clone(), r.symbol.clone())) else {
            continue;
        };
        let off = r.close_ms() - first_close;
        if off < 0 || off % s.interval_ms != 0 {
            continue;
        }
        if let Some(row) = quotes.get_mut((off / s.interval_ms) as usize) {
            row[src] = Some((
                r.close,
                ballast_oracle::timeline::bar_confidence(cfg, r.high, r.low),
            ));
        }
    }
    Ok(Venues { layout, quotes })
}

/// Builds every asset's model in per-step units, loading CSVs.
pub fn prepare(sc: &Scenario, base_dir: Option<&Path>) -> Result<Vec<PreparedAsset>, LabError> {
    let dt = sc.dt_years();
    let step_ms = (sc.step_hours * 3_600_000.0).round() as i64;
    let mut out = Vec::new();
    for (i, a) in sc.assets.iter().enumerate() {
        let field = format!("assets[{i}].model");
        let mut start_ms = None;
        let returns_of = |s: &Series| -> Vec<f64> {
            s.closes
                .windows(2)
                .map(|w| libm::log(w[1] / w[0]))
                .collect()
        };
        let check_interval = |s: &Series| -> Result<(), LabError> {
            if s.interval_ms != step_ms {
                return Err(LabError::field(
                    "step_hours",
                    format!(
                        "{} bars of {field} are {} h long but step_hours = {}",
                        a.symbol,
                        s.interval_ms as f64 / 3.6e6,
                        sc.step_hours
                    ),
                ));
            }
            Ok(())
        };
        let mut venues = None;
        let (model, price0) = match &a.model {
            ModelSpec::Gbm {
                mu,
                sigma,
                jump_intensity,
                jump_size,
            } => (
                Model::Gbm {
                    drift: (mu - 0.5 * sigma * sigma) * dt,
                    vol: sigma * dt.sqrt(),
                    jump_p: jump_intensity * dt,
                    jump_log: libm::log(1.0 - jump_size),
                },
                a.price.expect("validated"),
            ),
            ModelSpec::Merton {
                mu,
                sigma,
                jump_intensity,
                jump_mean,
                jump_std,
            } => {
                let kappa = libm::exp(jump_mean + 0.5 * jump_std * jump_std) - 1.0;
                (
                    Model::Merton {
                        drift: (mu - 0.5 * sigma * sigma - jump_intensity * kappa) * dt,
                        vol: sigma * dt.sqrt(),
                        lam_dt: jump_intensity * dt,
                        jump_mean: *jump_mean,
                        jump_std: *jump_std,
                    },
                    a.price.expect("validated"),
                )
            }
            ModelSpec::Garch {
                mu,
                long_run_vol,
                alpha,
                beta,
                initial_vol,
            } => {
                let lr = long_run_vol * long_run_vol * dt;
                let iv = initial_vol.unwrap_or(*long_run_vol);
                (
                    Model::Garch {
                        mu_dt: mu * dt,
                        omega: lr * (1.0 - alpha - beta),
                        alpha: *alpha,
                        beta: *beta,
                        h0: iv * iv * dt,
                    },
                    a.price.expect("validated"),
                )
            }
            ModelSpec::Regime {
                regimes,
                transition,
                start,
            } => {
                let cum = transition
                    .iter()
                    .map(|row| {
                        let mut acc = 0.0;
                        row.iter()
                            .map(|p| {
                                acc += p;
                                acc
                            })
                            .collect()
                    })
                    .collect();
                (
                    Model::Regime {
                        regimes: regimes
                            .iter()
                            .map(|r| ((r.mu - 0.5 * r.sigma * r.sigma) * dt, r.sigma * dt.sqrt()))
                            .collect(),
                        cum,
                        start: *start,
                    },
                    a.price.expect("validated"),
                )
            }
            ModelSpec::Replay {
                csv,
                venue,
                symbol,
                drop_bad_bars,
            } => {
                let s = load_series(
                    &field,
                    csv,
                    venue.as_deref(),
                    symbol,
                    base_dir,
                    *drop_bad_bars,
                )?;
                check_interval(&s)?;
                start_ms = Some(s.first_ts_ms);
                if let Some(o) = sc.oracle.as_ref().filter(|o| o.sources.count().is_none()) {
                    let v = load_venues(
                        &field,
                        (csv, symbol),
                        base_dir,
                        &s,
                        (sc.horizon as usize, &o.timeline_config()),
                    )?;
                    check_fault_sources(sc, i, &v)?;
                    venues = Some(Arc::new(v));
                }
                let returns = returns_of(&s);
                if (sc.horizon as usize) > returns.len() {
                    return Err(LabError::field(
                        "horizon",
                        format!(
                            "{} steps but the replayed {} series has only {} returns",
                            sc.horizon,
                            a.symbol,
                            returns.len()
                        ),
                    ));
                }
                let p0 = a.price.unwrap_or(s.closes[0]);
                (
                    Model::Replay {
                        returns: Arc::new(returns),
                    },
                    p0,
                )
            }
            ModelSpec::Bootstrap {
                csv,
                venue,
                symbol,
                block,
                drop_bad_bars,
            } => {
                let s = load_series(
                    &field,
                    csv,
                    venue.as_deref(),
                    symbol,
                    base_dir,
                    *drop_bad_bars,
                )?;
                check_interval(&s)?;
                (
                    Model::Bootstrap {
                        returns: Arc::new(returns_of(&s)),
                        block: *block,
                    },
                    a.price.expect("validated"),
                )
            }
        };
        out.push(PreparedAsset {
            model,
            price0,
            venues,
            start_ms,
        });
    }
    Ok(out)
}

/// With `sources = "csv"`, an oracle fault on asset `i` must name one of its venues.
fn check_fault_sources(sc: &Scenario, i: usize, v: &Venues) -> Result<(), LabError> {
    let sym = &sc.assets[i].symbol;
    let n = v.layout.labels.len() as u32;
    for (k, fault) in sc.faults.oracle.iter().enumerate() {
        let (asset, source, _, _) = fault.parts();
        if asset.as_deref().is_none_or(|a| a == sym) && source >= n {
            return Err(LabError::field(
                format!("faults.oracle[{k}].source"),
                format!(
                    "no source {source} for {sym}: its venues are 0..{n} ({})",
                    v.layout.labels.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cholesky_reproduces_matrix() {
        let c = vec![
            vec![1.0, 0.8, 0.3],
            vec![0.8, 1.0, 0.5],
            vec![0.3, 0.5, 1.0],
        ];
        let l = cholesky(&c).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((s - c[i][j]).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[vec![1.0, 1.2], vec![1.2, 1.0]]).is_none());
    }

    #[test]
    fn gbm_moments_match() {
        let dt = 1.0 / 8760.0;
        let (mu, sigma) = (0.0, 1.0);
        let m = Model::Gbm {
            drift: (mu - 0.5 * sigma * sigma) * dt,
            vol: sigma * f64::sqrt(dt),
            jump_p: 0.0,
            jump_log: 0.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut st = m.initial_state();
        let n = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z: f64 = crate::math::std_normal(&mut rng);
            let r = m.step(&mut st, z, &mut rng);
            s += r;
            s2 += r * r;
        }
        let var = s2 / n as f64 - (s / n as f64) * (s / n as f64);
        assert!(
            (var / dt - 1.0).abs() < 0.02,
            "annualized variance {}",
            var / dt
        );
    }

    #[test]
    fn garch_long_run_variance() {
        let dt = 1.0 / 8760.0;
        let (a, b, lr) = (0.1, 0.85, 0.8);
        let m = Model::Garch {
            mu_dt: 0.0,
            omega: lr * lr * dt * (1.0 - a - b),
            alpha: a,
            beta: b,
            h0: lr * lr * dt,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut st = m.initial_state();
        let n = 400_000;
        let mut s2 = 0.0;
        for _ in 0..n {
            let z: f64 = crate::math::std_normal(&mut rng);
            let r = m.step(&mut st, z, &mut rng);
            s2 += r * r;
        }
        let ann = (s2 / n as f64 / dt).sqrt();
        assert!((ann - lr).abs() < 0.05, "long-run vol {ann}");
    }

    #[test]
    fn merton_compensated_mean() {
        // E[S_T/S_0] = e^{μT} with the compensator: check with μ = 0 over many steps.
        let dt = 1.0 / 365.0;
        let (sigma, lam, m, s) = (0.5, 20.0, -0.1, 0.05);
        let kappa = libm::exp(m + 0.5 * s * s) - 1.0;
        let model = Model::Merton {
            drift: (-0.5 * sigma * sigma - lam * kappa) * dt,
            vol: sigma * f64::sqrt(dt),
            lam_dt: lam * dt,
            jump_mean: m,
            jump_std: s,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut st = model.initial_state();
        let n = 400_000;
        let mut g = 0.0;
        for _ in 0..n {
            let z: f64 = crate::math::std_normal(&mut rng);
            g += libm::exp(model.step(&mut st, z, &mut rng));
        }
        assert!(
            (g / n as f64 - 1.0).abs() < 2e-3,
            "E[gross return] {}",
            g / n as f64
        );
    }

    #[test]
    fn bootstrap_draws_whole_blocks() {
        let returns: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let m = Model::Bootstrap {
            returns: Arc::new(returns),
            block: 4,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut st = m.initial_state();
        let xs: Vec<f64> = (0..40).map(|_| m.step(&mut st, 0.0, &mut rng)).collect();
        for b in xs.chunks(4) {
            for w in b.windows(2) {
                assert_eq!(w[1], w[0] + 1.0, "block {b:?} is not consecutive");
            }
        }
    }
}
