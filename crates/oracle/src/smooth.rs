//! Slow prices derived from the aggregate: time-weighted EMA and TWAP over irregular intervals, a
//! stable price whose change per interval is bounded (Mango v4), a delayed price (Maker OSM), and
//! the strict asset/liability pricing used for margin on new risk (Mango v4 init health).
//!
//! The raw aggregate is what liquidation checks use; these slower prices are what *opening* risk is
//! measured against, so that a brief spike (or a manipulated venue) cannot mint borrowing power.

use crate::error::{check_price, config, Error};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

fn check_time(last: Option<i64>, now_ms: i64) -> Result<(), Error> {
    match last {
        Some(l) if now_ms < l => Err(Error::TimeWentBackwards {
            last_ms: l,
            got_ms: now_ms,
        }),
        _ => Ok(()),
    }
}

/// Exponential moving average in continuous time: after `dt` the old value keeps weight
/// `2^(−dt/half_life)`, so irregular update intervals are weighted by the time they cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Ema {
    half_life_ms: i64,
    value: Option<f64>,
    last_ms: Option<i64>,
}

impl Ema {
    pub fn new(half_life_ms: i64) -> Result<Self, Error> {
        if half_life_ms <= 0 {
            return Err(config("half_life_ms", "must be > 0"));
        }
        Ok(Self {
            half_life_ms,
            value: None,
            last_ms: None,
        })
    }

    /// Folds in `price` observed at `now_ms`; returns the new value. On error nothing changes.
    pub fn update(&mut self, now_ms: i64, price: f64) -> Result<f64, Error> {
        check_price("ema price", price)?;
        check_time(self.last_ms, now_ms)?;
        let v = match (self.value, self.last_ms) {
            (Some(v), Some(t)) => {
                let keep = libm::exp2(-((now_ms - t) as f64) / self.half_life_ms as f64);
                keep * v + (1.0 - keep) * price
            }
            _ => price,
        };
        self.value = Some(v);
        self.last_ms = Some(now_ms);
        Ok(v)
    }

    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// Time-weighted average price over a trailing window. Each observation holds until the next one
/// (step function), so a price that lasted an hour weighs sixty times one that lasted a minute.
#[derive(Debug, Clone, PartialEq)]
pub struct Twap {
    window_ms: i64,
    samples: VecDeque<(i64, f64)>,
}

impl Twap {
    pub fn new(window_ms: i64) -> Result<Self, Error> {
        if window_ms <= 0 {
            return Err(config("window_ms", "must be > 0"));
        }
        Ok(Self {
            window_ms,
            samples: VecDeque::new(),
        })
    }

    /// Records `price` from `now_ms` on. On error nothing changes.
    pub fn update(&mut self, now_ms: i64, price: f64) -> Result<(), Error> {
        check_price("twap price", price)?;
        check_time(self.samples.back().map(|s| s.0), now_ms)?;
        if let Some(last) = self.samples.back_mut() {
            if last.0 == now_ms {
                last.1 = price;
                return Ok(());
            }
        }
        self.samples.push_back((now_ms, price));
        // Keep one sample at or before the window start: it is the price in force there.
        let start = now_ms - self.window_ms;
        while self.samples.len() >= 2 && self.samples[1].0 <= start {
            self.samples.pop_front();
        }
        Ok(())
    }

    /// TWAP over `[now − window, now]` (or since the first sample, if later); `None` before any
    /// sample or if `now` precedes the last sample.
    pub fn value(&self, now_ms: i64) -> Option<f64> {
        let &(last_t, last_p) = self.samples.back()?;
        if now_ms < last_t {
            return None;
        }
        let start = (now_ms - self.window_ms).max(self.samples[0].0);
        if now_ms == start {
            return Some(last_p);
        }
        let mut area = 0.0;
        for (i, &(t, p)) in self.samples.iter().enumerate() {
            let end = self.samples.get(i + 1).map_or(now_ms, |s| s.0);
            let a = t.max(start);
            if end > a {
                area += p * (end - a) as f64;
            }
        }
        Some(area / (now_ms - start) as f64)
    }
}

/// Parameters of the stable price (defaults: Mango v4's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StablePriceConfig {
    /// Length of one delay interval (Mango: 1 h).
    pub delay_interval_ms: i64,
    /// Number of delay intervals kept: the delay price is that many intervals old (Mango: 24).
    pub delay_intervals: usize,
    /// Largest relative change of the delay price per interval (Mango: 6 %).
    pub delay_growth_limit: f64,
    /// Largest relative change of the stable price per second, before the delay factor
    /// (Mango: 0.0003/s).
    pub stable_growth_limit_per_s: f64,
    /// Updates closer than this to the previous one are ignored (Mango: 10 s).
    pub min_dt_ms: i64,
    /// Longer gaps count as this long (Mango: 600 s), so a pause does not unlock a jump.
    pub max_dt_ms: i64,
}

impl Default for StablePriceConfig {
    fn default() -> Self {
        Self {
            delay_interval_ms: 3_600_000,
            delay_intervals: 24,
            delay_growth_limit: 0.06,
            stable_growth_limit_per_s: 0.0003,
            min_dt_ms: 10_000,
            max_dt_ms: 600_000,
        }
    }
}

impl StablePriceConfig {
    pub fn validate(&self) -> Result<(), Error> {
        if self.delay_interval_ms <= 0 {
            return Err(config("delay_interval_ms", "must be > 0"));
        }
        if self.delay_intervals == 0 || self.delay_intervals > 1024 {
            return Err(config("delay_intervals", "must be in 1..=1024"));
        }
        for (f, v) in [
            ("delay_growth_limit", self.delay_growth_limit),
            ("stable_growth_limit_per_s", self.stable_growth_limit_per_s),
        ] {
            if !(v.is_finite() && v > 0.0 && v < 1.0) {
                return Err(config(f, "must be in (0, 1)"));
            }
        }
        if self.min_dt_ms < 0 || self.max_dt_ms <= 0 || self.min_dt_ms > self.max_dt_ms {
            return Err(config(
                "min_dt_ms/max_dt_ms",
                "need 0 <= min_dt_ms <= max_dt_ms, max > 0",
            ));
        }
        Ok(())
    }
}

/// A price that follows the oracle with a bounded relative speed — Mango v4 stable price model
/// (FORMULAS.md): per update with `dt` clamped to `[min_dt, max_dt]`,
/// `f = min(delay, prev)/max(delay, prev)`, `g = growth_limit · f² · dt`,
/// `stable' = clamp(oracle, prev·(1 − g), prev·(1 + g))`. The delay price is a ring of per-interval
/// averages, each moving at most `delay_growth_limit` from the previous one, read `delay_intervals`
/// back: when the stable price has already run far from where the market was a day ago, `f` falls
/// and it slows down further.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StablePrice {
    cfg: StablePriceConfig,
    stable: Option<f64>,
    last_update_ms: i64,
    delay_prices: Vec<f64>,
    /// Index of the newest delay price in the ring.
    delay_index: usize,
    acc_price_time: f64,
    acc_time: f64,
    interval_no: i64,
}

impl StablePrice {
    pub fn new(cfg: StablePriceConfig) -> Result<Self, Error> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            stable: None,
            last_update_ms: 0,
            delay_prices: vec![0.0; cfg.delay_intervals],
            delay_index: 0,
            acc_price_time: 0.0,
            acc_time: 0.0,
            interval_no: 0,
        })
    }

    /// Current stable price (`None` before the first update).
    pub fn value(&self) -> Option<f64> {
        self.stable
    }

    /// The delay price the growth factor is computed against.
    pub fn delay_price(&self) -> Option<f64> {
        self.stable?;
        Some(self.delay_prices[(self.delay_index + 1) % self.delay_prices.len()])
    }

    /// Folds in the oracle price at `now_ms` and returns the stable price. On error nothing changes.
    pub fn update(&mut self, now_ms: i64, oracle: f64) -> Result<f64, Error> {
        check_price("stable oracle price", oracle)?;
        let Some(prev) = self.stable else {
            self.stable = Some(oracle);
            self.last_update_ms = now_ms;
            self.delay_prices.iter_mut().for_each(|p| *p = oracle);
            self.interval_no = now_ms.div_euclid(self.cfg.delay_interval_ms);
            return Ok(oracle);
        };
        check_time(Some(self.last_update_ms), now_ms)?;
        let dt_ms = now_ms - self.last_update_ms;
        if dt_ms < self.cfg.min_dt_ms {
            return Ok(prev); // Mango: too-frequent updates are ignored
        }
        self.last_update_ms = now_ms;
        let dt_s = dt_ms.min(self.cfg.max_dt_ms) as f64 / 1000.0;

        // Delay price: average the oracle over each interval; on entering a new interval, push the
        // average, moved at most delay_growth_limit per elapsed interval from the newest entry.
        self.acc_price_time += oracle * dt_s;
        self.acc_time += dt_s;
        let interval_no = now_ms.div_euclid(self.cfg.delay_interval_ms);
        if interval_no > self.interval_no {
            let elapsed = (interval_no - self.interval_no) as f64;
            let newest = self.delay_prices[self.delay_index];
            let avg = self.acc_price_time / self.acc_time;
            let g = (self.cfg.delay_growth_limit * elapsed).min(0.99);
            let next = avg.clamp(newest * (1.0 - g), newest * (1.0 + g));
            self.delay_index = (self.delay_index + 1) % self.delay_prices.len();
            self.delay_prices[self.delay_index] = next;
            self.acc_price_time = 0.0;
            self.acc_time = 0.0;
            self.interval_no = interval_no;
        }
        let delay = self.delay_prices[(self.delay_index + 1) % self.delay_prices.len()];

        // Mango v4 stable price model (FORMULAS.md).
        let f = delay.min(prev) / delay.max(prev);
        let g = (self.cfg.stable_growth_limit_per_s * f * f * dt_s).min(0.99);
        let next = oracle.clamp(prev * (1.0 - g), prev * (1.0 + g));
        self.stable = Some(next);
        Ok(next)
    }
}

/// Maker OSM (Oracle Security Module, FORMULAS.md): consumers read the price one `hop` old; the
/// next price is visible in advance (`peek_next`) so breakers can act before it takes effect.
#[derive(Debug, Clone, PartialEq)]
pub struct DelayedPrice {
    hop_ms: i64,
    cur: Option<f64>,
    nxt: Option<f64>,
    /// Start of the hop in which the last poke happened (OSM `zzz`), aligned to `hop_ms`.
    zzz: Option<i64>,
}

impl DelayedPrice {
    pub fn new(hop_ms: i64) -> Result<Self, Error> {
        if hop_ms <= 0 {
            return Err(config("hop_ms", "must be > 0"));
        }
        Ok(Self {
            hop_ms,
            cur: None,
            nxt: None,
            zzz: None,
        })
    }

    /// OSM `poke`: once per hop, `cur ← nxt`, `nxt ← price`. Returns whether it advanced (calls
    /// within the same hop are ignored, as in the OSM). On error nothing changes.
    pub fn poke(&mut self, now_ms: i64, price: f64) -> Result<bool, Error> {
        check_price("delayed price", price)?;
        check_time(self.zzz, now_ms)?;
        let era = now_ms - now_ms.rem_euclid(self.hop_ms);
        if matches!(self.zzz, Some(z) if era < z + self.hop_ms) {
            return Ok(false);
        }
        self.cur = self.nxt;
        self.nxt = Some(price);
        self.zzz = Some(era);
        Ok(true)
    }

    /// The price consumers use: one hop old (`None` until two hops have been poked).
    pub fn read(&self) -> Option<f64> {
        self.cur
    }

    /// The price that becomes current at the next hop.
    pub fn peek_next(&self) -> Option<f64> {
        self.nxt
    }
}

/// Price at which *assets* are valued for margin on new risk: `min(spot, stable)`
/// (Mango v4 init health, FORMULAS.md) — a spike up does not add borrowing power.
pub fn asset_price(spot: f64, stable: f64) -> Result<f64, Error> {
    Ok(check_price("spot", spot)?.min(check_price("stable", stable)?))
}

/// Price at which *liabilities* are valued for margin on new risk: `max(spot, stable)`
/// (Mango v4 init health) — a dip does not make a debt look smaller.
pub fn liability_price(spot: f64, stable: f64) -> Result<f64, Error> {
    Ok(check_price("spot", spot)?.max(check_price("stable", stable)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_weights_by_elapsed_time() {
        let mut e = Ema::new(1_000).unwrap();
        assert_eq!(e.update(0, 100.0).unwrap(), 100.0);
        // One half-life later, halfway to the new price.
        assert!((e.update(1_000, 200.0).unwrap() - 150.0).abs() < 1e-9);
        // Two half-lives in one step: 3/4 of the way.
        assert!((e.update(3_000, 150.0).unwrap() - 150.0).abs() < 1e-9);
        assert!(e.update(2_000, 1.0).is_err());
        assert!(e.update(4_000, f64::NAN).is_err());
        assert!((e.value().unwrap() - 150.0).abs() < 1e-9);
    }

    #[test]
    fn twap_is_time_weighted() {
        let mut t = Twap::new(10_000).unwrap();
        t.update(0, 100.0).unwrap();
        t.update(9_000, 200.0).unwrap(); // 100 held for 9 s, 200 for 1 s
        assert!((t.value(10_000).unwrap() - 110.0).abs() < 1e-9);
        // Window slides: at 19 s only 200 remains in [9, 19].
        assert!((t.value(19_000).unwrap() - 200.0).abs() < 1e-9);
        t.update(19_000, 100.0).unwrap();
        assert!((t.value(19_000).unwrap() - 200.0).abs() < 1e-9);
        assert!(t.update(1, 1.0).is_err());
    }

    #[test]
    fn stable_price_moves_at_bounded_speed() {
        let mut s = StablePrice::new(StablePriceConfig::default()).unwrap();
        s.update(0, 100.0).unwrap();
        // A ×25 spike 60 s later moves the stable price by at most 0.0003·60 = 1.8 %.
        let v = s.update(60_000, 2_500.0).unwrap();
        assert!((v - 101.8).abs() < 1e-9, "{v}");
        // Ignored if within 10 s.
        assert_eq!(s.update(65_000, 2_500.0).unwrap(), v);
        // A long pause counts as 600 s at most: ≤ 18 % even after a day.
        let before = s.value().unwrap();
        let v2 = s.update(86_400_000 + 60_000, 2_500.0).unwrap();
        assert!(v2 <= before * 1.18 + 1e-9);
        assert!(s.update(0, 1.0).is_err());
    }

    #[test]
    fn delayed_price_is_one_hop_old() {
        let mut d = DelayedPrice::new(3_600_000).unwrap();
        assert!(d.poke(10, 100.0).unwrap());
        assert_eq!((d.read(), d.peek_next()), (None, Some(100.0)));
        assert!(!d.poke(1_000, 50.0).unwrap()); // same hop: ignored
        assert!(d.poke(3_600_000, 90.0).unwrap());
        assert_eq!((d.read(), d.peek_next()), (Some(100.0), Some(90.0)));
    }

    #[test]
    fn strict_prices() {
        assert_eq!(asset_price(10.0, 8.0).unwrap(), 8.0);
        assert_eq!(liability_price(10.0, 8.0).unwrap(), 10.0);
        assert!(asset_price(f64::NAN, 8.0).is_err());
        assert!(liability_price(1.0, -1.0).is_err());
    }
}
