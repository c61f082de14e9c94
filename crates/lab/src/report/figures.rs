//! The charts of a stress report, built from the mergeable aggregate (so shards merge to the
//! same page): insurance fund bands, probability of insolvency so far, cumulative bad-debt
//! bands, the breaker timeline, sample prices, and log-binned distributions of bad debt and
//! of the insurance-fund minimum. Time axes are elapsed time in hours or days, or UTC dates
//! when the run replays dated data. Pure functions: aggregate in, chart specs out.

use super::chart::{Chart, Kind, Marker, Series, Unit, XAxis, PALETTE};
use crate::stats::{Aggregate, BandHist, LogHistogram, Summary};

/// Native quote units per USD (the lab's quote asset has 6 decimals).
pub(super) const NATIVE_PER_USD: f64 = 1e6;
/// Log bins per decade in the distribution charts.
const BINS_PER_DECADE: f64 = 4.0;

/// Where a step sits on the time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Hours per x unit (1 or 24).
    pub unit_h: f64,
    pub step_hours: f64,
    pub axis: XAxis,
}

impl Timeline {
    /// Hours for runs up to three days, days beyond; dated when the start is known.
    pub fn new(steps: u32, step_hours: f64, start_ms: Option<i64>) -> Self {
        let horizon = f64::from(steps) * step_hours;
        let (unit_h, word) = if horizon > 72.0 {
            (24.0, "days")
        } else {
            (1.0, "hours")
        };
        let label = match start_ms {
            Some(_) => "date (UTC)".to_string(),
            None => format!("{word} since start"),
        };
        Self {
            unit_h,
            step_hours,
            axis: XAxis {
                label,
                start_unix_s: start_ms.map(|ms| ms as f64 / 1000.0),
                unit_s: unit_h * 3600.0,
            },
        }
    }

    /// The x of the end of step `s` (1-based).
    pub fn x(&self, s: usize) -> f64 {
        s as f64 * self.step_hours / self.unit_h
    }

    pub(super) fn xs(&self, steps: impl Iterator<Item = usize>) -> Vec<f64> {
        steps.map(|s| self.x(s)).collect()
    }
}

/// An empty line chart over the run's time axis.
pub(super) fn time_chart(
    id: &str,
    title: &str,
    t: &Timeline,
    x: Vec<f64>,
    y: (&str, Unit),
) -> Chart {
    Chart {
        id: id.into(),
        title: title.into(),
        kind: Kind::Line,
        x_axis: t.axis.clone(),
        x,
        x_labels: Vec::new(),
        y_label: y.0.into(),
        y_unit: y.1,
        y_log: false,
        series: Vec::new(),
        markers: Vec::new(),
        note: String::new(),
    }
}

/// Cumulative probability that a path has had bad debt by the end of each step.
pub fn insolvency_so_far(a: &Aggregate, steps: usize) -> Vec<f64> {
    let n = a.paths.max(1) as f64;
    let mut cum = 0u64;
    (0..steps.max(a.first_bad_by_step.len()))
        .map(|i| {
            cum += a.first_bad_by_step.get(i).copied().unwrap_or(0);
            cum as f64 / n
        })
        .collect()
}

/// Event markers on the time axis: the first step any path had bad debt, the first and last
/// steps any path had a halted breaker, and the scenario's fault windows (shaded).
pub fn markers(a: &Aggregate, t: &Timeline) -> Vec<Marker> {
    let mut out = Vec::new();
    if let Some(i) = a.first_bad_by_step.iter().position(|c| *c > 0) {
        out.push(Marker::at(t.x(i + 1), "first bad debt", "#d62728"));
    }
    let halted = |c: &[u64; 4]| c[2] > 0;
    if let Some(i) = a.breaker_by_step.iter().position(halted) {
        out.push(Marker::at(t.x(i + 1), "first halt", "#9467bd"));
        if let Some(j) = a.breaker_by_step.iter().rposition(halted) {
            if j > i {
                out.push(Marker::at(t.x(j + 1), "last halt", "#9467bd"));
            }
        }
    }
    out.extend(super::steps::fault_spans(a, t));
    out
}

pub(super) fn band_values(v: &[BandHist], q: f64) -> Vec<f64> {
    v.iter().map(|h| h.quantile(q) / NATIVE_PER_USD).collect()
}

/// Insurance fund: the mean at every step, or with bands the 5–50–95 % quantiles at the
/// sampled steps.
pub fn fund(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Chart {
    let n = a.paths.max(1) as f64;
    let title = "Insurance fund (USD)";
    let mut c = if a.fund_bands.is_empty() {
        let mean: Vec<f64> = a
            .fund_by_step
            .iter()
            .map(|x| *x as f64 / NATIVE_PER_USD / n)
            .collect();
        let mut c = time_chart("fund", title, t, t.xs(1..=mean.len()), ("USD", Unit::Usd));
        c.series.push(Series::finite("mean", PALETTE[0], &mean));
        c
    } else {
        let stride = a.band_stride.max(1) as usize;
        let steps: Vec<usize> = (1..=a.fund_bands.len()).map(|j| j * stride).collect();
        let mean: Vec<f64> = steps
            .iter()
            .map(|s| a.fund_by_step.get(s - 1).map_or(f64::NAN, |x| *x as f64) / NATIVE_PER_USD / n)
            .collect();
        let x = t.xs(steps.iter().copied());
        let mut c = time_chart("fund", title, t, x, ("USD", Unit::Usd));
        c.series.push(
            Series::finite(
                "5th percentile",
                PALETTE[0],
                &band_values(&a.fund_bands, 0.05),
            )
            .dashed(),
        );
        c.series.push(
            Series::finite(
                "95th percentile",
                PALETTE[0],
                &band_values(&a.fund_bands, 0.95),
            )
            .dashed()
            .filled_to(0),
        );
        c.series.push(Series::finite(
            "median",
            PALETTE[0],
            &band_values(&a.fund_bands, 0.5),
        ));
        c.series.push(Series::finite("mean", PALETTE[1], &mean));
        c.note = "Shaded: 5–95 % of paths at each sampled step (log-bucket quantiles, ≤ 2.5 % relative error).".into();
        c
    };
    c.markers = marks.to_vec();
    c
}

/// P(a path has had bad debt by this step).
pub fn insolvency(a: &Aggregate, steps: usize, t: &Timeline, marks: &[Marker]) -> Chart {
    let p = insolvency_so_far(a, steps);
    let mut c = time_chart(
        "insolvency",
        "Probability of insolvency so far",
        t,
        t.xs(1..=p.len()),
        ("share of paths", Unit::Percent),
    );
    c.series
        .push(Series::finite("P(bad debt by this step)", PALETTE[3], &p));
    c.markers = marks.to_vec();
    c
}

/// Cumulative bad debt: the 50–95–99 % quantiles over paths at the sampled steps.
pub fn bad_debt_bands(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Option<Chart> {
    if a.bad_bands.is_empty() {
        return None;
    }
    let stride = a.band_stride.max(1) as usize;
    let x = t.xs((1..=a.bad_bands.len()).map(|j| j * stride));
    let mut c = time_chart(
        "bad_debt_bands",
        "Cumulative bad debt (USD)",
        t,
        x,
        ("USD", Unit::Usd),
    );
    c.series
        .push(Series::finite("median", PALETTE[3], &band_values(&a.bad_bands, 0.5)).dashed());
    c.series.push(
        Series::finite(
            "99th percentile",
            PALETTE[3],
            &band_values(&a.bad_bands, 0.99),
        )
        .dashed()
        .filled_to(0),
    );
    c.series.push(Series::finite(
        "95th percentile",
        PALETTE[3],
        &band_values(&a.bad_bands, 0.95),
    ));
    c.note = "Shaded: between the median and the 99th percentile of paths.".into();
    c.markers = marks.to_vec();
    Some(c)
}

/// Share of paths whose most severe breaker is in each mode, stacked to 100 %.
pub fn breakers(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Option<Chart> {
    if a.breaker_by_step.is_empty() {
        return None;
    }
    // Stack order bottom-up; indices into `[Normal, Cautious, Halted, Recovering]`.
    let layers = [
        (0usize, "Normal", "#2ca02c"),
        (1, "Cautious", "#ffbf00"),
        (3, "Recovering", "#9467bd"),
        (2, "Halted", "#d62728"),
    ];
    let x = t.xs(1..=a.breaker_by_step.len());
    let mut c = time_chart(
        "breakers",
        "Breaker mode (share of paths, most severe scope)",
        t,
        x,
        ("share of paths", Unit::Percent),
    );
    let mut base = vec![0.0f64; a.breaker_by_step.len()];
    for (li, (idx, name, colour)) in layers.iter().enumerate() {
        for (b, counts) in base.iter_mut().zip(&a.breaker_by_step) {
            *b += counts[*idx] as f64 / counts.iter().sum::<u64>().max(1) as f64;
        }
        let mut s = Series::finite(*name, colour, &base);
        if li > 0 {
            s = s.filled_to(li - 1);
        }
        c.series.push(s);
    }
    c.note = "Each band's height is the share of paths in that mode; the top edge of a band is the running total.".into();
    c.markers = marks.to_vec();
    Some(c)
}

/// One chart per asset of the sample paths' prices; replays, whose paths are identical, draw
/// one line.
pub fn sample_prices(a: &Aggregate, t: &Timeline) -> Vec<Chart> {
    let Some(first) = a.sample_paths.first() else {
        return Vec::new();
    };
    let assets = first.prices.first().map_or(0, Vec::len);
    let stride = first.stride.max(1) as usize;
    let x = t.xs((0..first.prices.len()).map(|k| k * stride));
    let identical = a.sample_paths.iter().all(|p| p.prices == first.prices);
    (0..assets)
        .map(|ai| {
            let sym = a
                .asset_symbols
                .get(ai)
                .cloned()
                .unwrap_or_else(|| format!("asset {ai}"));
            let id = format!("price_{ai}");
            let title = format!("{sym} model price (USD)");
            let mut c = time_chart(&id, &title, t, x.clone(), ("USD", Unit::Price));
            let paths = if identical {
                &a.sample_paths[..1]
            } else {
                &a.sample_paths[..]
            };
            for (k, sp) in paths.iter().enumerate() {
                let v: Vec<Option<f64>> = sp.prices.iter().map(|p| p.get(ai).copied()).collect();
                let label = if identical {
                    "replayed price (every path)".to_string()
                } else {
                    format!("path {}", sp.path)
                };
                c.series
                    .push(Series::line(label, PALETTE[k % PALETTE.len()], v));
            }
            c
        })
        .collect()
}

/// Lower edge (USD) of log bin `k`: 10^(k / BINS_PER_DECADE).
fn bin_edge(k: i32) -> f64 {
    libm::pow(10.0, f64::from(k) / BINS_PER_DECADE)
}

/// Log bin of a positive USD value.
fn bin_of(usd: f64) -> i32 {
    libm::floor(libm::log10(usd) * BINS_PER_DECADE) as i32
}

/// Short USD text for bin labels: 1.8k, 3.2M.
pub fn short_usd(x: f64) -> String {
    let a = x.abs();
    let (v, s) = match a {
        a if a >= 1e9 => (x / 1e9, "B"),
        a if a >= 1e6 => (x / 1e6, "M"),
        a if a >= 1e3 => (x / 1e3, "k"),
        _ => (x, ""),
    };
    let t = format!("{v:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}{s}")
}

/// Counts per log bin (four per decade, contiguous from the smallest to the largest value),
/// after a bin for zero. Bucket `b` of the histogram falls in the bin of its smallest value.
pub fn log_bins(h: &LogHistogram) -> Vec<(String, u64)> {
    log_bins_over(h, bin_range(&[h]))
}

/// `(bin, count)` of every bucket of `h`.
fn keyed(h: &LogHistogram) -> Vec<(i32, u64)> {
    h.buckets
        .values()
        .map(|b| (bin_of(b.min as f64 / NATIVE_PER_USD), b.count))
        .collect()
}

/// The smallest and largest log bin any of `hs` reaches.
fn bin_range(hs: &[&LogHistogram]) -> Option<(i32, i32)> {
    let all: Vec<i32> = hs.iter().flat_map(|h| keyed(h)).map(|k| k.0).collect();
    Some((*all.iter().min()?, *all.iter().max()?))
}

/// [`log_bins`] over a given bin range, so two histograms share their bars.
fn log_bins_over(h: &LogHistogram, range: Option<(i32, i32)>) -> Vec<(String, u64)> {
    let mut bins = vec![("0".to_string(), h.zeros)];
    let keyed = keyed(h);
    if let Some((lo, hi)) = range {
        for k in lo..=hi {
            let n = keyed.iter().filter(|(b, _)| *b == k).map(|(_, c)| c).sum();
            let label = format!("≥{}", short_usd(bin_edge(k)));
            bins.push((label, n));
        }
    }
    bins
}

/// Bar chart of a per-path distribution on log bins.
pub fn distribution(id: &str, title: &str, what: &str, h: &LogHistogram) -> Chart {
    let bins = log_bins(h);
    Chart {
        id: id.into(),
        title: title.into(),
        kind: Kind::Bars,
        x_axis: XAxis {
            label: format!("{what} (USD; each bar from its label to the next, four per decade)"),
            start_unix_s: None,
            unit_s: 1.0,
        },
        x: (0..bins.len()).map(|i| i as f64).collect(),
        x_labels: bins.iter().map(|b| b.0.clone()).collect(),
        y_label: "paths".into(),
        y_unit: Unit::Count,
        y_log: false,
        series: vec![Series::line(
            "paths",
            PALETTE[3],
            bins.iter().map(|b| Some(b.1 as f64)).collect(),
        )],
        markers: Vec::new(),
        note: format!(
            "{} paths in all; the first bar counts paths with zero.",
            h.count()
        ),
    }
}

/// Bar chart of the per-path bad debt of two runs on shared log bins, as shares of paths.
fn compared_distribution(a: &Aggregate, b: &Aggregate) -> Chart {
    let range = bin_range(&[&a.bad_debt, &b.bad_debt]);
    let (ba, bb) = (
        log_bins_over(&a.bad_debt, range),
        log_bins_over(&b.bad_debt, range),
    );
    let share = |bins: &[(String, u64)], n: u64| -> Vec<Option<f64>> {
        bins.iter()
            .map(|x| Some(x.1 as f64 / n.max(1) as f64))
            .collect()
    };
    let mut c = distribution(
        "bad_debt_dist",
        "Bad debt per path: A and B",
        "bad debt",
        &a.bad_debt,
    );
    c.x = (0..ba.len()).map(|i| i as f64).collect();
    c.x_labels = ba.iter().map(|b| b.0.clone()).collect();
    c.y_label = "share of paths".into();
    c.y_unit = Unit::Percent;
    c.series = vec![
        Series::line("A", PALETTE[0], share(&ba, a.paths)),
        Series::line("B", PALETTE[1], share(&bb, b.paths)),
    ];
    c.note =
        "Shares of each run's paths per bin; the first bin counts paths with no bad debt.".into();
    c
}

/// A chart of run A with run B's series added under the same ids, labels prefixed "A: "/"B: ".
fn overlay(mut ca: Chart, cb: Chart) -> Chart {
    for s in &mut ca.series {
        s.label = format!("A: {}", s.label);
        s.color = PALETTE[0].into();
    }
    let base = ca.series.len();
    for mut s in cb.series {
        s.label = format!("B: {}", s.label);
        s.color = PALETTE[1].into();
        s.fill_to = s.fill_to.map(|i| i + base);
        ca.series.push(s);
    }
    ca.markers.clear();
    ca
}

/// The charts of a comparison: A and B on the same axes where their timelines agree.
pub fn compared(a: (&Summary, &Aggregate), b: (&Summary, &Aggregate)) -> Vec<Chart> {
    let mut out = Vec::new();
    if (a.0.steps, a.0.step_hours) == (b.0.steps, b.0.step_hours) {
        let t = Timeline::new(
            a.0.steps,
            a.0.step_hours,
            a.1.start_ms.filter(|_| a.1.start_ms == b.1.start_ms),
        );
        let steps = a.0.steps as usize;
        let same_x = |x: &Chart, y: &Chart| x.x == y.x;
        let pairs = [
            (
                insolvency(a.1, steps, &t, &[]),
                insolvency(b.1, steps, &t, &[]),
            ),
            (fund(a.1, &t, &[]), fund(b.1, &t, &[])),
        ];
        for (ca, cb) in pairs {
            if same_x(&ca, &cb) {
                out.push(overlay(ca, cb));
            }
        }
        if let (Some(ca), Some(cb)) = (bad_debt_bands(a.1, &t, &[]), bad_debt_bands(b.1, &t, &[])) {
            if same_x(&ca, &cb) {
                out.push(overlay(ca, cb));
            }
        }
    }
    out.push(compared_distribution(a.1, b.1));
    out
}

/// Every chart of a stress report, in page order.
pub fn all(s: &Summary, a: &Aggregate) -> Vec<Chart> {
    let t = Timeline::new(s.steps, s.step_hours, a.start_ms);
    let marks = markers(a, &t);
    let mut out = vec![
        fund(a, &t, &marks),
        insolvency(a, s.steps as usize, &t, &marks),
    ];
    out.extend(bad_debt_bands(a, &t, &marks));
    out.extend(breakers(a, &t, &marks));
    out.extend(sample_prices(a, &t));
    out.extend(super::oracle::charts(a, &t, &marks));
    out.push(distribution(
        "bad_debt_dist",
        "Bad debt per path",
        "bad debt",
        &a.bad_debt,
    ));
    out.push(distribution(
        "fund_min_dist",
        "Insurance fund minimum per path",
        "fund minimum",
        &a.fund_min,
    ));
    out.extend(super::steps::charts(a, &t, &marks));
    out.extend(super::headroom::chart(a));
    out.extend(super::auctions::charts(a, &t));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_bins_keep_every_path_and_are_contiguous() {
        let mut h = LogHistogram::default();
        let values = [0i64, 0, 1_500_000, 2_000_000, 950_000_000, 12_345_678_901];
        for v in values {
            h.add(v);
        }
        let bins = log_bins(&h);
        assert_eq!(bins[0], ("0".to_string(), 2));
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), values.len() as u64);
        // 1.5 USD .. 12.3k USD spans bins 0 ..= 16 (four per decade), all present.
        assert_eq!(bins.len(), 1 + 17, "{bins:?}");
        assert_eq!(bins[1].0, "≥1");
        assert_eq!(bins[2].0, "≥1.78");
        assert_eq!(bins.last().map(|b| b.0.as_str()), Some("≥10k"));
    }

    #[test]
    fn time_axes_read_in_hours_days_or_dates() {
        let t = Timeline::new(48, 1.0, None);
        assert_eq!(
            (t.unit_h, t.axis.label.as_str()),
            (1.0, "hours since start")
        );
        assert_eq!(t.x(12), 12.0);
        let t = Timeline::new(720, 1.0, None);
        assert_eq!(
            (t.unit_h, t.axis.label.as_str()),
            (24.0, "days since start")
        );
        assert_eq!(t.x(36), 1.5);
        let t = Timeline::new(720, 1.0, Some(1_583_971_200_000));
        assert_eq!(t.axis.start_unix_s, Some(1_583_971_200.0));
        assert_eq!(t.axis.unit_s, 86_400.0);
    }

    #[test]
    fn short_usd_is_round() {
        assert_eq!(short_usd(1_778.279), "1.78k");
        assert_eq!(short_usd(3_000_000.0), "3M");
        assert_eq!(short_usd(0.5), "0.5");
    }
}
