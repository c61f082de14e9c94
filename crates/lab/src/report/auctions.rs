//! The report's keeper charts, from the aggregate's auction tallies: the distribution of
//! auction clearing prices against the oracle (where zero bids show up as the first bar), each
//! keeper's takes and kicks, and keeper participation over time.

use super::chart::{Chart, Kind, Series, Unit, XAxis, PALETTE};
use super::figures::{time_chart, Timeline};
use crate::clearing::BUCKETS;
use crate::stats::auctions::AuctionStats;
use crate::stats::Aggregate;

/// Width of a histogram bar, in the tally's 1 % buckets.
const BAR_PCT: usize = 5;

fn bars(id: &str, title: &str, x_label: &str, labels: Vec<String>, y: (&str, Unit)) -> Chart {
    let x = (0..labels.len()).map(|i| i as f64).collect();
    let mut c = time_chart(id, title, &Timeline::new(1, 1.0, None), x, y);
    c.kind = Kind::Bars;
    c.x_axis = XAxis {
        label: x_label.into(),
        start_unix_s: None,
        unit_s: 1.0,
    };
    c.x_labels = labels;
    c
}

/// Takes per clearing-price bar (share of all auction takes).
pub fn clearing(s: &AuctionStats) -> Chart {
    let n = s.priced_takes().max(1) as f64;
    let top = BUCKETS - 1;
    let mut labels = Vec::new();
    let mut shares = Vec::new();
    // The first bar is the zero-bid line (< 1 %), then 1–5 %, then 5 % bars.
    let mut edges = vec![0, 1];
    edges.extend((1..=top / BAR_PCT).map(|i| i * BAR_PCT));
    for w in edges.windows(2) {
        let c: u64 = (w[0]..w[1]).filter_map(|k| s.clearing.get(k)).sum();
        labels.push(format!("{}–{}%", w[0], w[1]));
        shares.push(Some(c as f64 / n));
    }
    labels.push(format!("≥{top}%"));
    shares.push(Some(s.clearing.get(top).copied().unwrap_or(0) as f64 / n));
    let mut c = bars(
        "auction_clearing",
        "Auction clearing price / oracle",
        "price paid per unit over the oracle at the take (short lots mirrored)",
        labels,
        ("share of takes", Unit::Percent),
    );
    c.series = vec![Series::line("takes", PALETTE[4], shares)];
    c.note = format!(
        "{} auction takes over all paths; the first bar (under 1% of the oracle) counts zero bids ({}).",
        s.priced_takes(),
        s.below(1)
    );
    c
}

/// Takes and kicks (starts + resets) per path, by keeper.
pub fn participation(s: &AuctionStats, paths: u64) -> Chart {
    let k = s.takes.len().max(s.kicks.len());
    let n = paths.max(1) as f64;
    let per = |v: &[u64]| -> Vec<Option<f64>> {
        (0..k)
            .map(|i| Some(v.get(i).copied().unwrap_or(0) as f64 / n))
            .collect()
    };
    let mut c = bars(
        "keeper_participation",
        "Keeper participation",
        "keeper (order of [[keepers]])",
        (0..k).map(|i| format!("k{i}")).collect(),
        ("per path", Unit::Count),
    );
    c.series = vec![
        Series::line("takes", PALETTE[0], per(&s.takes)),
        Series::line("starts + resets", PALETTE[1], per(&s.kicks)),
    ];
    c.note = "Takes include partial slices; a keeper that starts or resets an auction is paid tip + chip by the fund.".into();
    c
}

/// Takes and keepers taking per step (mean over paths).
pub fn over_time(s: &AuctionStats, paths: u64, t: &Timeline) -> Chart {
    let n = paths.max(1) as f64;
    let steps = s.takes_by_step.len().max(s.keepers_by_step.len());
    let mean = |v: &[u64]| -> Vec<Option<f64>> {
        (0..steps)
            .map(|i| Some(v.get(i).copied().unwrap_or(0) as f64 / n))
            .collect()
    };
    let x = (1..=steps).map(|i| t.x(i)).collect();
    let title = "Keeper participation over time";
    let mut c = time_chart("keepers_over_time", title, t, x, ("per path", Unit::Count));
    c.series = vec![
        Series::line("takes", PALETTE[0], mean(&s.takes_by_step)),
        Series::line("keepers taking", PALETTE[2], mean(&s.keepers_by_step)),
    ];
    c.note =
        "Mean over paths of the takes in each step and of the keepers that took at least once."
            .into();
    c
}

/// The keeper charts that have data.
pub fn charts(a: &Aggregate, t: &Timeline) -> Vec<Chart> {
    let s = &a.auctions;
    let mut out = Vec::new();
    if s.priced_takes() > 0 {
        out.push(clearing(s));
    }
    if s.takes.iter().chain(&s.kicks).any(|x| *x > 0) {
        out.push(participation(s, a.paths));
    }
    if s.takes_by_step.iter().any(|x| *x > 0) {
        out.push(over_time(s, a.paths, t));
    }
    out
}
