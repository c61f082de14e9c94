//! The health distribution at chosen times: accounts with a maintenance requirement binned by
//! their headroom (maintenance health / requirement; the dashboard's bins, see
//! `step_record::HEADROOM_EDGES`) at three sampled steps — the start, the step with the most
//! accounts below maintenance over all paths, and the last sample — as grouped bars of the
//! share of such accounts. Pure: aggregate in, chart spec out.

use super::chart::{Chart, Kind, Series, Unit, XAxis, PALETTE};
use crate::stats::steps::HEADROOM_LABELS;
use crate::stats::Aggregate;

/// Bar slots per bin: one per time and one gap.
const SLOTS: usize = 4;

/// The sample indices drawn: the first, the one with the most accounts below maintenance
/// (bin 0; the first of ties), and the last; with the step each stands for.
pub fn chosen(headroom: &[[u64; 7]], stride: u32) -> Option<[(usize, u32); 3]> {
    let last = headroom.len().checked_sub(1)?;
    let worst = (0..=last)
        .rev()
        .max_by_key(|&k| headroom[k][0])
        .unwrap_or(0);
    let step = |k: usize| k as u32 * stride;
    Some([(0, 0), (worst, step(worst)), (last, step(last))])
}

/// Grouped bars: for each headroom bin, the share of accounts with a requirement in it at the
/// three [`chosen`] times. Bars sit in slots `SLOTS·bin + time` (uPlot draws one bar per x),
/// the bin's label under its middle bar.
pub fn chart(a: &Aggregate) -> Option<Chart> {
    let s = &a.steps;
    let [t0, worst, end] = chosen(&s.headroom, s.health_stride.max(1))?;
    let names = [
        "start (step 0)".to_string(),
        format!("most below maintenance (step {})", worst.1),
        format!("end (step {})", end.1),
    ];
    let n = HEADROOM_LABELS.len() * SLOTS - 1;
    let mut x_labels = vec![String::new(); n];
    for (b, label) in HEADROOM_LABELS.iter().enumerate() {
        x_labels[b * SLOTS + 1] = (*label).to_string();
    }
    let series = [t0, worst, end]
        .iter()
        .zip(names)
        .enumerate()
        .map(|(k, ((i, _), name))| {
            let bins = &s.headroom[*i];
            let total = bins.iter().sum::<u64>().max(1) as f64;
            let mut v = vec![None; n];
            for (b, c) in bins.iter().enumerate() {
                v[b * SLOTS + k] = Some(*c as f64 / total);
            }
            Series::line(name, PALETTE[[0, 3, 2][k]], v)
        })
        .collect();
    Some(Chart {
        id: "headroom".into(),
        title: "Health distribution: maintenance headroom at three times".into(),
        kind: Kind::Bars,
        x_axis: XAxis {
            label: "maintenance health / maintenance requirement".into(),
            start_unix_s: None,
            unit_s: 1.0,
        },
        x: (0..n).map(|i| i as f64).collect(),
        x_labels,
        y_label: "share of accounts".into(),
        y_unit: Unit::Percent,
        y_log: false,
        series,
        markers: Vec::new(),
        note: "Over all paths, among accounts with a maintenance requirement (a position or a borrow), at the end of the step; the bins are the dashboard's (crates/serve/src/risk.rs).".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_bin_shares_at_the_start_the_worst_step_and_the_end() {
        let mut a = Aggregate::default();
        a.steps.health_stride = 5;
        a.steps.headroom = vec![
            [0, 0, 0, 0, 0, 2, 8],
            [3, 1, 0, 0, 0, 2, 4],
            [5, 1, 1, 1, 0, 1, 1],
            [2, 0, 0, 0, 0, 0, 2],
        ];
        assert_eq!(
            chosen(&a.steps.headroom, 5),
            Some([(0, 0), (2, 10), (3, 15)])
        );
        let c = chart(&a).expect("a headroom chart");
        assert_eq!(c.x.len(), 27);
        assert_eq!(c.x_labels[1], "< 0 (liquidatable)");
        assert_eq!(c.x_labels[25], "≥ 200 %");
        assert_eq!(c.series[1].label, "most below maintenance (step 10)");
        assert_eq!(c.series[2].label, "end (step 15)");
        // Start: 2 of 10 at 100–200 %, 8 of 10 at ≥ 200 %; nothing below.
        assert_eq!(c.series[0].values[20], Some(0.2));
        assert_eq!(c.series[0].values[24], Some(0.8));
        assert_eq!(c.series[0].values[0], Some(0.0));
        // Step 10: 5 of 10 liquidatable, drawn in the second slot of bin 0.
        assert_eq!(c.series[1].values[1], Some(0.5));
        assert_eq!(c.series[1].values[0], None);
        // End: 2 of 4 liquidatable, 2 of 4 at ≥ 200 %.
        assert_eq!(c.series[2].values[2], Some(0.5));
        assert_eq!(c.series[2].values[26], Some(0.5));
        assert!(
            chart(&Aggregate::default()).is_none(),
            "no samples, no chart"
        );
    }

    #[test]
    fn ties_pick_the_first_worst_step() {
        let h = [[0; 7], [4, 0, 0, 0, 0, 0, 0], [4, 0, 0, 0, 0, 0, 0]];
        assert_eq!(chosen(&h, 2), Some([(0, 0), (1, 2), (2, 4)]));
    }
}
