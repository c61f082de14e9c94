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

use crate::aggregate::{
    Aggregator, AggregatorConfig, OracleStatus, Quote, Reading, SourceId, SourceSpec,
};
use crate::breaker::{
    Breaker, BreakerConfig, BreakerInput, Cause, ChainSignal, Mode, Scope, Transition,
};
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
#[serde(deny_unknown_fields)]
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

/// How one asset's venues become oracle sources, shared by the replay here and by anything
/// else that must aggregate a multi-venue CSV the same way (the stress lab's
/// `[oracle] sources = "csv"`): source `i` is the `i`-th `(venue, symbol)` in sorted order.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceLayout {
    /// Source labels: the venue, or `venue:symbol` when a venue quotes the asset twice.
    pub labels: Vec<String>,
    pub specs: Vec<SourceSpec>,
    /// The aggregator configuration with the per-asset staleness, quorum and hold filled in.
    pub config: AggregatorConfig,
}

impl SourceLayout {
    /// `series`: `(venue, symbol)` → longest bar interval (ms) of one asset's venues.
    pub fn new(series: &BTreeMap<(String, String), i64>, cfg: &TimelineConfig) -> Self {
        let longest = series.values().copied().max().unwrap_or(60_000);
        let venue_count = |v: &str| series.keys().filter(|s| s.0 == v).count();
        let labels: Vec<String> = series
            .keys()
            .map(|(v, s)| {
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
        let staleness = cfg.staleness_ms.unwrap_or(longest * 3 / 2);
        let config = AggregatorConfig {
            max_staleness_ms: staleness,
            quorum: cfg.quorum.unwrap_or(labels.len() / 2 + 1),
            max_hold_ms: cfg.hold_ms.unwrap_or(staleness),
            ..cfg.aggregator
        };
        SourceLayout {
            labels,
            specs,
            config,
        }
    }
}

/// A bar's source confidence: `range_confidence · (high − low)`.
pub fn bar_confidence(cfg: &TimelineConfig, high: f64, low: f64) -> f64 {
    cfg.range_confidence * (high - low).max(0.0)
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

/// One source series of a replay: a venue's symbol and its bar length.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Series {
    pub venue: String,
    pub symbol: String,
    pub interval_ms: i64,
}

impl Series {
    /// The series a row belongs to.
    pub fn of(row: &PriceRow) -> Self {
        Self {
            venue: row.venue.clone(),
            symbol: row.symbol.clone(),
            interval_ms: row.interval_ms,
        }
    }
}

/// Replays `rows` (any order, any mix of venues, symbols and intervals) and returns one row per
/// (timestamp, base asset), sorted by time then asset. Errors: an unknown `symbol` filter, an
/// invalid config, or an invalid price in a row built in code (rows from `ballast_data` are
/// already validated). For input that does not fit in memory, feed a [`Timeline`] instead.
pub fn run_timeline(rows: &[PriceRow], cfg: &TimelineConfig) -> Result<Vec<TimelineRow>, Error> {
    let series: BTreeSet<Series> = rows.iter().map(Series::of).collect();
    let mut tl = Timeline::new(series, cfg)?;
    let mut sorted: Vec<&PriceRow> = rows.iter().collect();
    // Stable: rows of one close time keep their order (the timeline sorts them by source).
    sorted.sort_by_key(|r| r.close_ms());
    let mut out = Vec::new();
    for r in sorted {
        tl.push(r, &mut out)?;
    }
    tl.finish(&mut out)?;
    Ok(out)
}

/// A streaming replay: the series are declared up front (they fix each asset's sources,
/// quorum and staleness), then rows are pushed in non-decreasing bar-close time from any number
/// of files. Memory is one state per asset plus the quotes of one close time, whatever the
/// length of the input; [`run_timeline`] is this over an in-memory slice.
pub struct Timeline {
    cfg: TimelineConfig,
    assets: Vec<AssetState>,
    /// Close time of the quotes in `pending`.
    now_ms: Option<i64>,
    /// `(asset, source, close, confidence)` of the rows closing at `now_ms`.
    pending: Vec<(usize, usize, f64, f64)>,
}

/// Everything one asset's replay carries from one close time to the next.
struct AssetState {
    name: String,
    /// `(venue, symbol)` of each source, sorted: a source's index is its position here.
    series: Vec<(String, String)>,
    labels: Vec<String>,
    agg: Aggregator,
    breaker: Breaker,
    ema: Ema,
    twap: Twap,
    stable: StablePrice,
    delayed: DelayedPrice,
}

impl Timeline {
    /// Sets up one aggregator, breaker and set of smoothers per base asset of `series` (only
    /// the `symbol` filter's asset when there is one). Errors: an unknown `symbol`, an invalid
    /// config.
    pub fn new(
        series: impl IntoIterator<Item = Series>,
        cfg: &TimelineConfig,
    ) -> Result<Self, Error> {
        if !(cfg.range_confidence.is_finite() && cfg.range_confidence >= 0.0) {
            return Err(config("range_confidence", "must be finite and >= 0"));
        }
        // (asset → (venue, symbol) → longest interval): BTreeMaps fix every order.
        let mut by_asset: BTreeMap<String, BTreeMap<(String, String), i64>> = BTreeMap::new();
        for s in series {
            let longest = by_asset
                .entry(ballast_data::base_asset(&s.symbol))
                .or_default()
                .entry((s.venue, s.symbol))
                .or_insert(s.interval_ms);
            *longest = (*longest).max(s.interval_ms);
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
        let assets = by_asset
            .into_iter()
            .enumerate()
            .map(|(no, (name, series))| AssetState::new(no as u32, name, series, cfg))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            cfg: cfg.clone(),
            assets,
            now_ms: None,
            pending: Vec::new(),
        })
    }

    /// Takes one bar. Bars must come in non-decreasing close time (`ts + interval`); when a
    /// later close time arrives, the rows of the previous one are appended to `out` (one per
    /// asset, in asset order). Bars of series not declared to [`Timeline::new`] or of a
    /// filtered-out asset are ignored.
    pub fn push(&mut self, row: &PriceRow, out: &mut Vec<TimelineRow>) -> Result<(), Error> {
        let t = row.close_ms();
        match self.now_ms {
            Some(now) if t < now => {
                return Err(Error::TimeWentBackwards {
                    last_ms: now,
                    got_ms: t,
                })
            }
            Some(now) if t > now => self.flush(out)?,
            _ => {}
        }
        self.now_ms = Some(t);
        let asset = ballast_data::base_asset(&row.symbol);
        let Ok(a) = self.assets.binary_search_by(|s| s.name.cmp(&asset)) else {
            return Ok(());
        };
        let key = (row.venue.clone(), row.symbol.clone());
        if let Ok(src) = self.assets[a].series.binary_search(&key) {
            let conf = bar_confidence(&self.cfg, row.high, row.low);
            self.pending.push((a, src, row.close, conf));
        }
        Ok(())
    }

    /// Appends the rows of the last close time.
    pub fn finish(&mut self, out: &mut Vec<TimelineRow>) -> Result<(), Error> {
        self.flush(out)
    }

    fn flush(&mut self, out: &mut Vec<TimelineRow>) -> Result<(), Error> {
        let Some(t) = self.now_ms else {
            return Ok(());
        };
        // Stable: a source quoting twice at one time (two files) keeps file order.
        self.pending.sort_by_key(|p| (p.0, p.1));
        let mut rest = &self.pending[..];
        while let Some(&(a, ..)) = rest.first() {
            let n = rest.iter().take_while(|p| p.0 == a).count();
            let quotes: Vec<(usize, f64, f64)> =
                rest[..n].iter().map(|&(_, s, p, c)| (s, p, c)).collect();
            out.push(self.assets[a].step(t, &quotes, &self.cfg)?);
            rest = &rest[n..];
        }
        self.pending.clear();
        Ok(())
    }
}

impl AssetState {
    fn new(
        asset_no: u32,
        name: String,
        series: BTreeMap<(String, String), i64>,
        cfg: &TimelineConfig,
    ) -> Result<Self, Error> {
        let layout = SourceLayout::new(&series, cfg);
        let (labels, specs, agg_cfg) = (layout.labels, layout.specs, layout.config);
        let series: Vec<(String, String)> = series.into_keys().collect();
        Ok(Self {
            agg: Aggregator::new(agg_cfg, &specs)?,
            breaker: Breaker::new(Scope::Market(asset_no), cfg.breaker)?,
            ema: Ema::new(cfg.ema_half_life_ms)?,
            twap: Twap::new(cfg.twap_window_ms)?,
            stable: StablePrice::new(cfg.stable)?,
            delayed: DelayedPrice::new(cfg.delay_hop_ms)?,
            name,
            series,
            labels,
        })
    }

    /// Submits the `(source, close, confidence)` quotes published at `t`, aggregates, and steps
    /// the smoothers (trusted aggregates only) and the breaker (any fresh aggregate).
    fn observe(
        &mut self,
        t: i64,
        quotes: &[(usize, f64, f64)],
    ) -> Result<(Reading, Vec<Transition>), Error> {
        for &(src, price, confidence) in quotes {
            self.agg.submit(Quote {
                source: SourceId(src as u32),
                price,
                confidence,
                publish_ms: t,
            })?;
        }
        let reading = self.agg.aggregate(t)?;
        let trusted = reading.status <= OracleStatus::LowConfidence;
        if let (true, Some(p)) = (trusted, reading.price) {
            self.ema.update(t, p)?;
            self.twap.update(t, p)?;
            self.stable.update(t, p)?;
            self.delayed.poke(t, p)?;
        }
        let transitions = self.breaker.step(BreakerInput {
            now_ms: t,
            price: reading.price.filter(|_| reading.is_fresh()),
            oracle: reading.status,
            chain: ChainSignal::default(),
        })?;
        Ok((reading, transitions))
    }

    /// [`AssetState::observe`], then the oracle's view after it as a row.
    fn step(
        &mut self,
        t: i64,
        quotes: &[(usize, f64, f64)],
        cfg: &TimelineConfig,
    ) -> Result<TimelineRow, Error> {
        let (reading, transitions) = self.observe(t, quotes)?;
        let shown: BTreeMap<String, f64> = quotes
            .iter()
            .map(|&(src, price, _)| (self.labels[src].clone(), price))
            .collect();
        let names = |mask: u32| -> Vec<String> {
            self.agg
                .ids_in(mask)
                .map(|id| self.labels[id.0 as usize].clone())
                .collect()
        };
        let (asset_px, liability_px) = match (reading.price, self.stable.value()) {
            (Some(p), Some(s)) => (Some(asset_price(p, s)?), Some(liability_price(p, s)?)),
            _ => (None, None),
        };
        let blocked = Action::ALL
            .into_iter()
            .filter(|&a| {
                crate::validity::gate(a, &cfg.validity, &reading, |a| self.breaker.allows(a))
                    .is_err()
            })
            .collect();
        Ok(TimelineRow {
            ts: format_utc_ms(t),
            ts_ms: t,
            symbol: self.name.clone(),
            price: reading.price,
            status: reading.status,
            mode: self.breaker.mode(),
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
            quotes: shown,
            ema: self.ema.value(),
            twap: self.twap.value(t),
            stable_price: self.stable.value(),
            delayed_price: self.delayed.read(),
            asset_price: asset_px,
            liability_price: liability_px,
            move_sigma: self.breaker.last_move().map(|m| m.move_sigma),
            sigma_per_sqrt_hour: self.breaker.volatility().sigma_per_sqrt_hour(),
            margin_multiplier: self.breaker.margin_multiplier(),
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
        })
    }
}
