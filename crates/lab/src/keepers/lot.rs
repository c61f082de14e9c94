//! One auction lot as a keeper prices it: the engine's own price curve
//! (`ballast_engine::engine::auction_price`, `needs_reset`), the keeper's profit on a slice at
//! a given millisecond, and the slice its capital carries.
//!
//! Profit of taking `q` (human units) at unit price `u` with the oracle at `p`, slippage `s`
//! on the unwind and gas `g`: `σ·(p·(1 − σ·s) − u)·q − g`, σ = +1 for a long lot, −1 for a
//! short one (the bidder takes the short and is paid `u`); plus what the keeper already earned
//! on the lot this step (tip + chip of its start or reset, less the gas spent: Maker Clipper
//! `kick`/`redo` incentives, dss `clip.sol`). The capital rule is the engine's initial-margin
//! check on the bidder: after the take it holds `q` marked at `p` with a gain `σ·(p − u)·q`, so
//! `free + σ·(p − u)·q ≥ im·p·q`.

use crate::agent::StepContext;
use crate::liquidity::Slippage;
use ballast_engine::engine::{auction_price, needs_reset};
use ballast_engine::ids::{AuctionId, MarketId};
use ballast_engine::num::Price;
use ballast_engine::params::LiquidationParams;
use ballast_engine::state::{AuctionState, Lot};

/// Share of its free margin a keeper commits to one slice (the rest absorbs the engine's size
/// premium and rounding).
pub const MARGIN_USE: f64 = 0.95;

/// An active perp auction as the keepers see it.
#[derive(Debug, Clone, Copy)]
pub struct LotView {
    pub auction: AuctionId,
    pub market: MarketId,
    /// Asset index (`cx.now.prices`).
    pub ai: usize,
    /// +1 long lot, −1 short lot.
    pub sign: f64,
    /// What is left to sell, base-native units (≥ 1).
    pub q: i64,
    pub start: i64,
    top: Price,
    oracle0: Price,
    dec: u8,
}

/// What a keeper brings to a lot: its free margin, the market's initial-margin rate, the
/// step's gas and the sell cap left, and its profit threshold less what it already made on it.
#[derive(Debug, Clone, Copy)]
pub struct Bidder {
    pub free_usd: f64,
    pub init_margin: f64,
    pub gas: f64,
    pub sell_left: f64,
    pub needs: f64,
    /// Shrinks the slice after a refused take (1 at first).
    pub shrink: f64,
}

impl LotView {
    /// The lot of `auction`, if it is an active perp auction with something left to sell.
    pub fn of(cx: &StepContext<'_>, auction: AuctionId) -> Option<LotView> {
        let st = cx.engine.state();
        let a = st.auctions.get(auction.idx())?;
        let Lot::Perp(market) = a.lot else {
            return None;
        };
        if a.state != AuctionState::Active || market.idx() >= cx.now.prices.len() {
            return None;
        }
        let held = st.accounts[a.account.idx()]
            .positions
            .iter()
            .find(|p| p.market == market)
            .map_or(0, |p| p.size.0);
        if held.signum() != a.size.0.signum() {
            return None;
        }
        let q = held.unsigned_abs().min(a.size.0.unsigned_abs()) as i64;
        (q > 0).then(|| LotView {
            auction,
            market,
            ai: market.idx(),
            sign: if a.size.0 > 0 { 1.0 } else { -1.0 },
            q,
            start: a.start.0,
            top: a.top,
            oracle0: a.oracle,
            dec: cx.scenario.assets[market.idx()].decimals,
        })
    }

    fn scale(&self) -> f64 {
        crate::units::pow10(i32::from(self.dec))
    }

    /// Unit price (human) the bidder pays (long) or is paid (short) at time `t`.
    pub fn unit(&self, lp: &LiquidationParams, t: i64) -> f64 {
        let raw = auction_price(lp, self.top, self.oracle0, t - self.start);
        let qd = crate::units::QUOTE_DECIMALS;
        let p = Price::from_raw(raw.clamp(0, i64::MAX as i128) as i64)
            .map_or(0.0, |p| p.to_human(self.dec, qd));
        if self.sign > 0.0 {
            p
        } else {
            2.0 * self.oracle0.to_human(self.dec, qd) - p
        }
    }

    /// Whether the auction needs a reset at `t` (then no one may take it).
    pub fn stale(&self, lp: &LiquidationParams, t: i64) -> bool {
        let e = t - self.start;
        needs_reset(
            lp,
            self.top,
            auction_price(lp, self.top, self.oracle0, e),
            e,
        )
    }

    /// The slice (base-native) a bidder takes at unit price `u`, and its profit, USD.
    pub fn slice(&self, cx: &StepContext<'_>, b: &Bidder, u: f64, slip: &Slippage) -> (i64, f64) {
        let p = cx.now.prices[self.ai];
        let gain = self.sign * (p - u);
        let need = b.init_margin * p - gain;
        let by_capital = if need > 0.0 {
            (b.free_usd * MARGIN_USE).max(0.0) / need
        } else {
            f64::INFINITY
        };
        let by_cap = b.sell_left.max(0.0) / p;
        let human = (by_capital.min(by_cap) * b.shrink).min(self.q as f64 / self.scale());
        let q = ((human * self.scale()) as i64).min(self.q);
        let qh = q as f64 / self.scale();
        let s = slip.fraction(qh * p, cx.now.returns[self.ai]);
        let profit = self.sign * (p * (1.0 - self.sign * s) - u) * qh - b.gas;
        (q, profit)
    }

    /// Whether a take at `t` pays the bidder (a slice of at least one unit, profit ≥ needs).
    fn pays(&self, cx: &StepContext<'_>, lp: &LiquidationParams, b: &Bidder, t: i64) -> bool {
        let slip = Slippage::new(cx.scenario);
        let (q, profit) = self.slice(cx, b, self.unit(lp, t), &slip);
        q > 0 && profit >= b.needs
    }

    /// The first millisecond in `[from, until)` at which the lot pays the bidder or needs a
    /// reset (both only become true as time passes), and which of the two it is.
    pub fn first_event(
        &self,
        cx: &StepContext<'_>,
        lp: &LiquidationParams,
        b: &Bidder,
        (from, until): (i64, i64),
    ) -> Option<(i64, Turn)> {
        let hit = |t: i64| self.stale(lp, t) || self.pays(cx, lp, b, t);
        if from >= until || !hit(until - 1) {
            return None;
        }
        let (mut lo, mut hi) = (from, until - 1);
        if !hit(lo) {
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if hit(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            lo = hi;
        }
        let turn = if self.stale(lp, lo) {
            Turn::Reset
        } else {
            Turn::Take
        };
        Some((lo, turn))
    }
}

/// What happens to a lot first for one keeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    Take,
    Reset,
}
