//! Replay of historical bars from several venues through the whole oracle stack: aggregator →
//! smoothing → breaker → validity. This is what `ballast oracle --csv FILE [--symbol S] [--json]`
//! prints (one [`TimelineRow`] per asset and timestamp, JSON = one object per line).
//!
//! * Each `(venue, symbol)` series is one source. Venues quote the same asset against different
//!   quote currencies (`BTC/USDT` on Binance, `BTC/USD` on Gemini, `BTC-USD` on Yahoo): rows are
//!   grouped by base asset (`BTC`), and the symbol filter matches the base asset.
//! * A bar's close is known at `open + interval`, so a source's quote is published at the bar's
//!   close time and every row's `ts` is such a close time: the replay never uses a price before it
//!   existed. Each source quotes its close with confidence `range_confidence · (high − low)`.
//! * Only trusted aggregates (`Valid`, `LowConfidence`) move the slow prices (EMA, TWAP, stable,
//!   delayed); any freshly computed aggregate (including `Divergent`, the median of the surviving
//!   sources) feeds the breaker's move trigger.

use crate::aggregate::{Aggregator, AggregatorConfig, OracleStatus, Quote, SourceId, SourceSpec};
use crate::breaker::{Breaker, BreakerConfig, BreakerInput, Cause, ChainSignal, Mode, Scope};
use crate::error::{config, Error};
use crate::smooth::{
    asset_price, liability_price, DelayedPrice, Ema, StablePrice, StablePriceConfig, Twap,
};
use crate::validity::{Action, ValidityMatrix};
use ballast_data::{format_utc_ms, PriceRow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Replay parameters. [`Default`] is tuned for hourly and minute bars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineConfig {
    /// Keep only this base asset (`BTC`; `BTC/USD` or `btc-usd` also match `BTC`).
    pub symbol: Option<String>,
    /// Aggregation parameters; `max_staleness_ms`, `quorum` and `max_hold_ms` are replaced per
    /// asset by the three fields below.
    pub aggregator: AggregatorConfig,
    /// `None`: 1.5 × the longest bar interval among the asset's venues (every venue can count).
    pub staleness_ms: Option<i64>,
    /// `None`: a majority of the asset's venues (`n/2 + 1`; a single venue gives 1).
    pub quorum: Option<usize>,
    /// How long the last trusted aggregate is shown as `Stale`; `None`: the staleness limit.
    pub hold_ms: Option<i64>,
    /// Source confidence = this × the bar's `high − low`. Finite, ≥ 0.
    pub range_confidence: f64,
    /// Weights by source label (venue, or `venue:symbol` when a venue quotes the asset twice);
    /// unlisted sources weigh 1.
    pub venue_weights: Vec<(String, f64)>,
    pub breaker: BreakerConfig,
    pub stable: StablePriceConfig,
    pub ema_half_life_ms: i64,
    /// Window of the time-weighted average price.
    pub twap_window_ms: i64,
    /// Maker OSM hop.
    pub delay_hop_ms: i64,
    pub validity: ValidityMatrix,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        Self {
            symbol: None,
            aggregator: AggregatorConfig::default(),
            staleness_ms: None,
            quorum: None,
            hold_ms: None,
            range_confidence: 0.1,
            venue_weights: Vec::new(),
            breaker: BreakerConfig::default(),
            stable: StablePriceConfig::default(),
            ema_half_life_ms: 3_600_000,
            twap_window_ms: 3_600_000,
            delay_hop_ms: 3_600_000,
            validity: ValidityMatrix::default(),
        }
    }
}

/// A breaker transition as printed in a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub from: Mode,
    pub to: Mode,
    pub cause: Cause,
    /// Human-readable, e.g. `Normal -> Halted (tripped: move_sigma=9.71, threshold=6, over_ms=3600000)`.
    pub message: String,
}

/// The oracle's view of one asset at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// ISO-8601 UTC time at which these prices were known (bar close = open + interval).
    pub ts: String,
    pub ts_ms: i64,
    /// Base asset, e.g. `BTC`.
    pub symbol: String,
    /// Aggregate price: fresh (`Valid`/`LowConfidence`/`Divergent`) or the held last trusted one
    /// (`Stale`/`NoQuorum`); `null` before any trusted aggregate.
    pub price: Option<f64>,
    pub status: OracleStatus,
    /// Breaker mode after this row's inputs.
    pub mode: Mode,
    /// Absolute confidence of `price`.
    pub confidence: Option<f64>,
    /// `100 · confidence / price`.
    pub confidence_pct: Option<f64>,
    /// `100 · (max − min)/price` over the sources used (0 when not computed).
    pub spread_pct: f64,
    /// Age of `price` in ms (0 when fresh).
    pub age_ms: Option<i64>,
    /// Sources fresh enough to count.
    pub sources_fresh: u32,
    /// Sources in the median.
    pub sources_used: Vec<String>,
    /// Fresh sources rejected as outliers.
    pub sources_rejected: Vec<String>,
    /// Close of every source whose bar closed at `ts` (the raw inputs of this row).
    pub quotes: BTreeMap<String, f64>,
    /// Time-weighted EMA of trusted aggregates.
    pub ema: Option<f64>,
    /// Time-weighted average of trusted aggregates over `twap_window_ms`.
    pub twap: Option<f64>,
    /// Mango v4 stable price.
    pub stable_price: Option<f64>,
    /// Maker OSM price (one hop old).
    pub delayed_price: Option<f64>,
    /// `min(price, stable)`: how collateral is valued for new risk.
    pub asset_price: Option<f64>,
    /// `max(price, stable)`: how debt is valued for new risk.
    pub liability_price: Option<f64>,
    /// Largest move in the breaker window, in σ (`null` while the estimator warms up).
    pub move_sigma: Option<f64>,
    /// Volatility used for `move_sigma`, relative, per √hour.
    pub sigma_per_sqrt_hour: Option<f64>,
    pub margin_multiplier: f64,
    /// Actions refused right now (breaker mode, then the oracle validity matrix).
    pub blocked: Vec<Action>,
    /// Breaker transitions caused by this row.
    pub events: Vec<TimelineEvent>,
}

/// Replays `rows` (any order, any mix of venues, symbols and intervals) and returns one row per
/// (timestamp, base asset), sorted by time then asset. Errors: an unknown `symbol` filter, an
/// invalid config, or an invalid price in a row built in code (rows from `ballast_data` are
/// already validated).
pub fn run_timeline(rows: &[PriceRow], cfg: &TimelineConfig) -> Result<Vec<TimelineRow>, Error> {
    if !(cfg.range_confidence.is_finite() && cfg.range_confidence >= 0.0) {
        return Err(config("range_confidence", "must be finite and >= 0"));
    }
    let mut by_asset: BTreeMap<String, Vec<&PriceRow>> = BTreeMap::new();
    for r in rows {
        by_asset.entry(r.base_asset()).or_default().push(r);
    }
    if let Some(s) = &cfg.symbol {
        let want = ballast_data::base_asset(s);
        if !by_asset.contains_key(&want) {
            let available: Vec<&str> = by_asset.keys().map(String::as_str).collect();
            return Err(Error::UnknownSymbol {
                symbol: s.clone(),
                available: available.join(", "),
            });
        }
        by_asset.retain(|k, _| *k == want);
    }
    let mut out = Vec::new();
    for (asset_no, (asset, rows)) in by_asset.into_iter().enumerate() {
        run_asset(asset_no as u32, &asset, rows, cfg, &mut out)?;
    }
    // Stable sort: per asset already in time order.
    out.sort_by(|a, b| a.ts_ms.cmp(&b.ts_ms).then_with(|| a.symbol.cmp(&b.symbol)));
    Ok(out)
}

fn run_asset(
    asset_no: u32,
    asset: &str,
    mut rows: Vec<&PriceRow>,
    cfg: &TimelineConfig,
    out: &mut Vec<TimelineRow>,
) -> Result<(), Error> {
    // Sources: distinct (venue, symbol), in sorted order.
    let series: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.venue.as_str(), r.symbol.as_str()))
        .collect();
    let series: Vec<(&str, &str)> = series.into_iter().collect();
    let venue_count = |v: &str| series.iter().filter(|s| s.0 == v).count();
    let labels: Vec<String> = series
        .iter()
        .map(|&(v, s)| {
            if venue_count(v) > 1 {
                format!("{v}:{s}")
            } else {
                v.to_string()
            }
        })
        .collect();
    let specs: Vec<SourceSpec> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| SourceSpec {
            id: SourceId(i as u32),
            weight: cfg
                .venue_weights
                .iter()
                .find(|(name, _)| name == l)
                .map_or(1.0, |w| w.1),
        })
        .collect();
    let longest = rows.iter().map(|r| r.interval_ms).max().unwrap_or(60_000);
    let staleness = cfg.staleness_ms.unwrap_or(longest * 3 / 2);
    let agg_cfg = AggregatorConfig {
        max_staleness_ms: staleness,
        quorum: cfg.quorum.unwrap_or(labels.len() / 2 + 1),
        max_hold_ms: cfg.hold_ms.unwrap_or(staleness),
        ..cfg.aggregator
    };
    let mut agg = Aggregator::new(agg_cfg, &specs)?;
    let mut breaker = Breaker::new(Scope::Market(asset_no), cfg.breaker)?;
    let mut ema = Ema::new(cfg.ema_half_life_ms)?;
    let mut twap = Twap::new(cfg.twap_window_ms)?;
    let mut stable = StablePrice::new(cfg.stable)?;
    let mut delayed = DelayedPrice::new(cfg.delay_hop_ms)?;
    let source_of = |r: &PriceRow| {
        series
            .binary_search(&(r.venue.as_str(), r.symbol.as_str()))
            .unwrap_or_default()
    };

    rows.sort_by_key(|r| (r.close_ms(), source_of(r)));
    let mut i = 0;
    while i < rows.len() {
        let t = rows[i].close_ms();
        let mut quotes = BTreeMap::new();
        while i < rows.len() && rows[i].close_ms() == t {
            let r = rows[i];
            let src = source_of(r);
            agg.submit(Quote {
                source: SourceId(src as u32),
                price: r.close,
                confidence: cfg.range_confidence * (r.high - r.low).max(0.0),
                publish_ms: t,
            })?;
            quotes.insert(labels[src].clone(), r.close);
            i += 1;
        }
        let reading = agg.aggregate(t)?;
        let trusted = reading.status <= OracleStatus::LowConfidence;
        if let (true, Some(p)) = (trusted, reading.price) {
            ema.update(t, p)?;
            twap.update(t, p)?;
            stable.update(t, p)?;
            delayed.poke(t, p)?;
        }
        let transitions = breaker.step(BreakerInput {
            now_ms: t,
            price: reading.price.filter(|_| reading.is_fresh()),
            oracle: reading.status,
            chain: ChainSignal::default(),
        })?;
        let names = |mask: u32| -> Vec<String> {
            agg.ids_in(mask)
                .map(|id| labels[id.0 as usize].clone())
                .collect()
        };
        let (asset_px, liability_px) = match (reading.price, stable.value()) {
            (Some(p), Some(s)) => (Some(asset_price(p, s)?), Some(liability_price(p, s)?)),
            _ => (None, None),
        };
        let blocked = Action::ALL
            .into_iter()
            .filter(|&a| {
                crate::validity::gate(a, &cfg.validity, &reading, |a| breaker.allows(a)).is_err()
            })
            .collect();
        out.push(TimelineRow {
            ts: format_utc_ms(t),
            ts_ms: t,
            symbol: asset.to_string(),
            price: reading.price,
            status: reading.status,
            mode: breaker.mode(),
            confidence: reading.confidence,
            confidence_pct: reading
                .confidence
                .zip(reading.price)
                .map(|(c, p)| 100.0 * c / p),
            spread_pct: 100.0 * reading.spread,
            age_ms: reading.age_ms,
            sources_fresh: reading.fresh,
            sources_used: names(reading.accepted_mask),
            sources_rejected: names(reading.rejected_mask),
            quotes,
            ema: ema.value(),
            twap: twap.value(t),
            stable_price: stable.value(),
            delayed_price: delayed.read(),
            asset_price: asset_px,
            liability_price: liability_px,
            move_sigma: breaker.last_move().map(|m| m.move_sigma),
            sigma_per_sqrt_hour: breaker.volatility().sigma_per_sqrt_hour(),
            margin_multiplier: breaker.margin_multiplier(),
            blocked,
            events: transitions
                .into_iter()
                .map(|tr| TimelineEvent {
                    from: tr.from,
                    to: tr.to,
                    cause: tr.cause,
                    message: tr.to_string(),
                })
                .collect(),
        });
    }
    Ok(())
}
