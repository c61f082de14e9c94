//! The report's per-step charts, from the aggregate's `stats::steps` series: the attacker's
//! timeline (what it has paid, taken and holds, and its marked profit, as 10–50–90 % bands over
//! paths, with markers at the median step of each attack phase), liquidations and liquidated
//! volume per step, and the share of accounts below their initial and maintenance
//! requirements. Also the shaded fault windows every time chart carries. Pure: aggregate in,
//! chart specs out.

use super::chart::{Chart, Marker, Series, Unit, PALETTE};
use super::figures::{time_chart, Timeline, NATIVE_PER_USD};
use crate::stats::steps::{AttackBand, PHASES};
use crate::stats::{Aggregate, BandHist};

/// Colour of the fault-window spans.
const FAULT_COLOUR: &str = "#ff7f0e";

/// One shaded span per fault window: steps `[from, to)` cover x from the end of step
/// `from − 1` to the end of step `to − 1`.
pub fn fault_spans(a: &Aggregate, t: &Timeline) -> Vec<Marker> {
    a.fault_windows
        .iter()
        .filter(|w| w.to_step > w.from_step)
        .map(|w| {
            let from = w.from_step.saturating_sub(1) as usize;
            let to = w.to_step.saturating_sub(1) as usize;
            Marker::span(t.x(from), t.x(to), w.label.clone(), FAULT_COLOUR)
        })
        .collect()
}

/// Markers at the median step of each attack phase over the paths on which it happened.
pub fn phase_markers(a: &Aggregate, t: &Timeline) -> Vec<Marker> {
    (0..PHASES.len())
        .filter_map(|k| {
            let (step, n) = a.steps.phase_median(k)?;
            let label = format!("{} ({n}/{} paths)", PHASES[k], a.attack.paths);
            Some(Marker::at(t.x(step as usize), label, PALETTE[(k + 4) % 8]))
        })
        .collect()
}

/// The 10th, 50th and 90th percentiles of one band series, with the 10–90 % range shaded;
/// `base` is the index of the chart's first series of this group.
fn band_series(name: &str, colour: &str, q: &dyn Fn(f64) -> Vec<f64>, base: usize) -> [Series; 3] {
    [
        Series::finite(format!("{name}: 10th pct"), colour, &q(0.1)).dashed(),
        Series::finite(format!("{name}: 90th pct"), colour, &q(0.9))
            .dashed()
            .filled_to(base),
        Series::finite(format!("{name}: median"), colour, &q(0.5)),
    ]
}

/// Which band histogram of an [`AttackBand`] a series reads.
type Pick = fn(&AttackBand) -> &BandHist;

fn usd_quantiles(bands: &[AttackBand], f: Pick) -> impl Fn(f64) -> Vec<f64> + '_ {
    move |q| {
        bands
            .iter()
            .map(|b| f(b).quantile(q) / NATIVE_PER_USD)
            .collect()
    }
}

/// The x of each attacker band (steps `(j + 1)·band_stride`).
fn band_x(a: &Aggregate, t: &Timeline, n: usize) -> Vec<f64> {
    let stride = a.band_stride.max(1) as usize;
    t.xs((1..=n).map(|j| j * stride))
}

/// An empty USD chart over the attacker bands' steps, with the run's markers and the attack
/// phases; None without attackers.
fn attacker_chart(
    a: &Aggregate,
    t: &Timeline,
    id: &str,
    title: &str,
    marks: &[Marker],
) -> Option<Chart> {
    let n = a.steps.attack.len();
    if n == 0 {
        return None;
    }
    let mut c = time_chart(id, title, t, band_x(a, t, n), ("USD", Unit::Usd));
    c.markers = [marks, &phase_markers(a, t)].concat();
    Some(c)
}

/// The attacker's books over the path: capital paid in (deposits, spot bought, gas), quote
/// taken out (borrows and withdrawals) and the notional it holds in the engine.
pub fn attacker_books(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Option<Chart> {
    let bands = &a.steps.attack;
    let title = "Attacker: capital spent, quote taken, position notional (USD)";
    let mut c = attacker_chart(a, t, "attacker_books", title, marks)?;
    let groups: [(&str, Pick); 3] = [
        ("capital spent", |b| &b.spent),
        ("borrowed + withdrawn", |b| &b.taken),
        ("position notional", |b| &b.notional),
    ];
    for (k, (name, f)) in groups.into_iter().enumerate() {
        let base = c.series.len();
        let q = usd_quantiles(bands, f);
        c.series.extend(band_series(name, PALETTE[k % 8], &q, base));
    }
    c.note = "Cumulative per path (spent: deposits + spot bought at the impact price + gas; taken: quote borrowed or withdrawn; notional: its perps and non-quote collateral at the engine's prices). Shaded: 10–90 % of attacked paths; markers: median step of each attack phase.".into();
    Some(c)
}

/// The attacker's profit if it walked away at each step (every cost in it), 10–50–90 %.
pub fn attacker_profit(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Option<Chart> {
    let bands = &a.steps.attack;
    let title = "Attacker: cumulative profit if it walked away now (USD)";
    let mut c = attacker_chart(a, t, "attacker_profit", title, marks)?;
    let q = |q: f64| -> Vec<f64> {
        bands
            .iter()
            .map(|b| b.pnl.quantile(q) / NATIVE_PER_USD)
            .collect()
    };
    c.series.extend(band_series("profit", PALETTE[2], &q, 0));
    c.note = "Quote taken + its accounts' positive equity + its spot at the fair price − capital spent; the horizon value is the summary's attacker profit. Shaded: 10–90 % of attacked paths.".into();
    Some(c)
}

/// Mean liquidations per path in each step, and the mean liquidated notional.
pub fn liquidations(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Vec<Chart> {
    let s = &a.steps;
    if s.liquidations.iter().all(|n| *n == 0) {
        return Vec::new();
    }
    let n = a.paths.max(1) as f64;
    let count: Vec<f64> = s.liquidations.iter().map(|x| *x as f64 / n).collect();
    let volume: Vec<f64> = s
        .liq_volume
        .iter()
        .map(|x| *x as f64 / NATIVE_PER_USD / n)
        .collect();
    // One line per chart: (id, title, y axis, series label, colour, values).
    let specs = [
        (
            "liquidations",
            "Liquidations per step (mean per path)",
            ("liquidations", Unit::Count),
            "liquidations",
            PALETTE[3],
            count,
        ),
        (
            "liq_volume",
            "Liquidated notional per step (mean per path, USD)",
            ("USD", Unit::Usd),
            "liquidated notional",
            PALETTE[1],
            volume,
        ),
    ];
    specs
        .into_iter()
        .map(|(id, title, y, label, colour, v)| {
            let mut c = time_chart(id, title, t, t.xs(1..=v.len()), y);
            c.series.push(Series::finite(label, colour, &v));
            c.note =
                "The summary's liquidation count and volume, step by step, averaged over paths."
                    .into();
            c.markers = marks.to_vec();
            c
        })
        .collect()
}

/// Share of accounts with a requirement that are below initial and below maintenance, at the
/// sampled steps.
pub fn health(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Option<Chart> {
    let s = &a.steps;
    if s.health.is_empty() || s.health_stride == 0 {
        return None;
    }
    let share = |k: usize| -> Vec<f64> {
        s.health
            .iter()
            .map(|h| h[k] as f64 / h[0].max(1) as f64)
            .collect()
    };
    let stride = s.health_stride as usize;
    let mut c = time_chart(
        "health",
        "Accounts below their margin requirements (share)",
        t,
        t.xs((1..=s.health.len()).map(|j| j * stride)),
        ("share of accounts", Unit::Percent),
    );
    c.series
        .push(Series::finite("below initial", PALETTE[1], &share(1)));
    c.series.push(Series::finite(
        "below maintenance (liquidatable)",
        PALETTE[3],
        &share(2),
    ));
    c.note = "Over all paths, among accounts with a requirement (initial health below maintenance health: a position or a borrow), at the end of each sampled step, after the keepers acted.".into();
    c.markers = marks.to_vec();
    Some(c)
}

/// The per-step charts in page order.
pub fn charts(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Vec<Chart> {
    let mut out = Vec::new();
    out.extend(attacker_books(a, t, marks));
    out.extend(attacker_profit(a, t, marks));
    out.extend(liquidations(a, t, marks));
    out.extend(health(a, t, marks));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::steps::{FaultWindow, StepAgg, StepRecord};

    fn agg() -> Aggregate {
        let mut a = Aggregate {
            paths: 2,
            band_stride: 2,
            fault_windows: vec![FaultWindow {
                from_step: 3,
                to_step: 7,
                label: "keeper outage".into(),
            }],
            ..Default::default()
        };
        a.attack.paths = 2;
        let mut s = StepAgg::default();
        for k in 1..=2 {
            let r = StepRecord {
                liquidations: vec![0, 2 * k, 0, 1],
                liq_volume: vec![0, 3_000_000 * i64::from(k), 0, 1_000_000],
                health: vec![[10, 4, k], [10, 0, 0]],
                ..Default::default()
            };
            s.add(&r, 2, 2);
        }
        a.steps = s;
        a
    }

    #[test]
    fn liquidation_charts_are_per_path_means_per_step() {
        let a = agg();
        let t = Timeline::new(4, 1.0, None);
        let c = liquidations(&a, &t, &[]);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].x, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            c[0].series[0].values,
            [Some(0.0), Some(3.0), Some(0.0), Some(1.0)]
        );
        // (3 + 6) M native / 2 paths = 4.5 USD.
        assert_eq!(c[1].series[0].values[1], Some(4.5));
        let none = Aggregate::default();
        assert!(
            liquidations(&none, &t, &[]).is_empty(),
            "no liquidation, no chart"
        );
    }

    #[test]
    fn health_shares_are_over_accounts_with_a_requirement() {
        let a = agg();
        let t = Timeline::new(4, 1.0, None);
        let c = health(&a, &t, &[]).expect("a health chart");
        assert_eq!(c.x, [2.0, 4.0]);
        assert_eq!(
            c.series[0].values,
            [Some(0.4), Some(0.0)],
            "8 of 20 below initial"
        );
        assert_eq!(
            c.series[1].values,
            [Some(0.15), Some(0.0)],
            "3 of 20 below maintenance"
        );
    }

    #[test]
    fn fault_windows_shade_their_steps() {
        let a = agg();
        let t = Timeline::new(10, 1.0, None);
        // Steps 3..=6 are the hours from the end of step 2 to the end of step 6.
        assert_eq!(
            fault_spans(&a, &t),
            [Marker::span(2.0, 6.0, "keeper outage", FAULT_COLOUR)]
        );
        let all = super::super::figures::markers(&a, &t);
        assert!(all.iter().any(|m| m.to_x == Some(6.0)), "{all:?}");
    }

    #[test]
    fn attacker_charts_draw_bands_and_phase_markers() {
        use crate::stats::steps::AttackMark;
        let mut a = agg();
        for k in 1..=2i64 {
            let mark = |taken: i64, pnl: i64| AttackMark {
                deposited: 1_000_000 * k,
                spot_spent: 0,
                gas: 0,
                taken,
                notional: 5_000_000,
                pnl,
            };
            let r = StepRecord {
                attack: vec![
                    mark(0, 0),
                    mark(0, -1_000_000),
                    mark(4_000_000, 2_000_000 * k),
                    mark(4_000_000, 2_000_000 * k),
                ],
                ..Default::default()
            };
            a.steps.add(&r, 2, 2);
        }
        let t = Timeline::new(4, 1.0, None);
        let books = attacker_books(&a, &t, &[]).expect("an attacker chart");
        assert_eq!(books.x, [2.0, 4.0]);
        assert_eq!(books.series.len(), 9, "three bands of three lines");
        let labels: Vec<&str> = books.markers.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "capital in (2/2 paths)",
                "first borrow (2/2 paths)",
                "last take (2/2 paths)"
            ]
        );
        assert_eq!(books.markers[1].x, 3.0);
        let profit = attacker_profit(&a, &t, &[]).expect("a profit chart");
        // At step 2 both paths are at −1 USD (within the band histogram's 2.5 %).
        let low = profit.series[0].values[0].expect("a value");
        assert!((low + 1.0).abs() < 0.025, "{low}");
        let hi = profit.series[1].values[1].expect("a value");
        assert!(
            (hi - 4.0).abs() < 0.1,
            "90th pct at the end is path 2's 4 USD: {hi}"
        );
        assert!(
            attacker_books(&agg(), &t, &[]).is_none(),
            "no attacker, no chart"
        );
    }
}
