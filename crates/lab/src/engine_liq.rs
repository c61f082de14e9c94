//! The engine's own liquidation behind the lab's [`Liquidation`] seam.
//!
//! [`EngineLiquidator`] plays the keeper of `mechanism = "engine_takeover"` or
//! `"engine_auction"`: it reads the engine's `liquidation_queue()` and drives the engine's
//! commands, while the lab keeps the keeper's world rules (online/outage, gas, slippage when it
//! unwinds, capital through the engine's initial-margin check on the liquidator, `min_profit`).
//!
//! - **Takeover** (`Liquidate`): the engine sizes a partial close to `target_buffer`, charges
//!   `penalty + (penalty_max − penalty)·d²` and pays the keeper its share. The keeper acts when
//!   `share·penalty·notional − slippage·notional − gas ≥ min_profit`, then unwinds what it took
//!   against the market maker at `oracle × (1 ∓ slippage)`.
//! - **Dutch auction** (`StartAuction` / `TakeAuction` / `RedoAuction`, Maker Clipper): the
//!   keeper starts an auction for every queued account (paid `tip + chip·value` by the fund),
//!   bids at the first millisecond of the step at which the falling price leaves it
//!   `σ·(oracle·(1 − σ·slippage) − unit)·|q| − gas ≥ min_profit` (σ = +1 long lot, −1 short),
//!   and resets auctions past `tail` or below `cusp × top` when `auction_resets` is on.
//! - A **bankrupt** account (equity < 0) is sent to the engine's waterfall with `Liquidate`
//!   under either mechanism (insurance → ADL → socialized loss → bad debt): settling it is a
//!   protocol duty, done whenever the keeper is online.
//!
//! Metrics come from the engine's events only: `InsuranceDrawn`, `Deleveraged` (haircut),
//! `LossSocialized`, `BadDebt`, `AuctionReset`, `Liquidated`, `AuctionTaken`; refusals typed
//! `Reject::Blocked` (oracle/breaker gates) are counted as blocked actions. The lab's `bad_debt`
//! for these mechanisms is every loss the insurance fund did not cover: ADL haircuts +
//! socialized loss + the engine's recognised bad debt.

use crate::error::LabError;
use crate::keeper::{Liquidation, Slippage, StepContext};
use crate::path::{Loss, LossKind, PathResult};
use crate::scenario::{CurveSpec, LiquidationSpec, MechanismSpec, Scenario};
use crate::world::{usd, House, POOL};
use ballast_engine::command::{Command, Envelope};
use ballast_engine::engine::{auction_price, needs_reset};
use ballast_engine::ids::{AccountId, AuctionId, MarketId};
use ballast_engine::num::{Amount, Price, Ratio, Round, Timestamp};
use ballast_engine::params::{AuctionCurve, LiquidationParams, Mechanism};
use ballast_engine::state::{AuctionState, Lot};
use ballast_engine::{Engine, Event, HealthKind, Reject};

/// Most `Liquidate` calls on one account in one step (partial closes converge in a few).
const MAX_ROUNDS: usize = 12;

/// The engine's `LiquidationParams` from the scenario (engine defaults for unset fields);
/// errors name the field.
pub fn liquidation_params(spec: &LiquidationSpec) -> Result<LiquidationParams, LabError> {
    let mut p = LiquidationParams {
        mechanism: match spec.mechanism {
            MechanismSpec::EngineAuction => Mechanism::DutchAuction,
            _ => Mechanism::KeeperTakeover,
        },
        // The lab seeds the initial fund through fees (world::genesis): all fees go to it.
        insurance_fee_share: Ratio::from_f64(1.0).expect("finite"),
        ..LiquidationParams::default()
    };
    let field = |name: &str| format!("protocol.liquidation.{name}");
    let r = |name: &str, x: f64| {
        Ratio::from_f64(x)
            .filter(|_| x.is_finite() && x >= 0.0)
            .ok_or_else(|| LabError::field(field(name), format!("must be a ratio >= 0 (got {x})")))
    };
    let ms = |name: &str, x: f64| {
        if x.is_finite() && x > 0.0 {
            Ok((x * 60_000.0).round() as i64)
        } else {
            Err(LabError::field(
                field(name),
                format!("must be a positive number of minutes (got {x})"),
            ))
        }
    };
    p.penalty = r("penalty", spec.penalty)?;
    macro_rules! set_ratio {
        ($($f:ident),*) => {$(
            if let Some(x) = spec.$f { p.$f = r(stringify!($f), x)?; }
        )*};
    }
    set_ratio!(
        penalty_max,
        liquidator_share,
        liquidator_share_max,
        close_factor,
        full_close_deficit,
        target_buffer,
        insurance_fee_share,
        auction_buf,
        auction_cut,
        auction_cusp,
        auction_floor,
        auction_chip
    );
    if let Some(x) = spec.dust_usd {
        p.dust = usd(r("dust_usd", x)?.to_f64()).0;
    }
    if let Some(x) = spec.auction_tip_usd {
        p.auction_tip = usd(r("auction_tip_usd", x)?.to_f64()).0;
    }
    if let Some(c) = spec.auction_curve {
        p.auction_curve = match c {
            CurveSpec::Linear => AuctionCurve::Linear,
            CurveSpec::Stairstep => AuctionCurve::Stairstep,
            CurveSpec::Exponential => AuctionCurve::Exponential,
        };
    }
    if let Some(x) = spec.auction_tau_min {
        p.auction_tau_ms = ms("auction_tau_min", x)?;
    }
    if let Some(x) = spec.auction_step_min {
        p.auction_step_ms = ms("auction_step_min", x)?;
    }
    if let Some(x) = spec.auction_tail_min {
        p.auction_tail_ms = ms("auction_tail_min", x)?;
    }
    p.validate()
        .map_err(|e| LabError::field("protocol.liquidation", e.to_string()))?;
    Ok(p)
}

/// The keeper of the engine mechanisms (see the module doc).
pub struct EngineLiquidator {
    auction: bool,
    resets: bool,
    lp: LiquidationParams,
    min_profit: f64,
    slippage: Slippage,
    decimals: Vec<u8>,
    buf: Vec<Event>,
    /// `liquidity.max_sell_usd_per_step`, and what is left of it in the current step.
    max_sell: Option<f64>,
    budget: f64,
}

/// Outcome of one engine command.
enum Applied {
    Ok,
    Blocked,
    Refused,
}

impl EngineLiquidator {
    pub fn new(sc: &Scenario) -> Self {
        let lp = liquidation_params(&sc.protocol.liquidation)
            .expect("validated with the scenario (Scenario::validate)");
        EngineLiquidator {
            auction: sc.protocol.liquidation.mechanism == MechanismSpec::EngineAuction,
            resets: sc.protocol.liquidation.auction_resets,
            lp,
            min_profit: sc.keeper.min_profit,
            slippage: Slippage {
                depth_usd: sc.liquidity.depth_usd,
                vol_sensitivity: sc.liquidity.vol_sensitivity,
                max_slippage: sc.liquidity.max_slippage,
            },
            decimals: sc.assets.iter().map(|a| a.decimals).collect(),
            buf: Vec::new(),
            max_sell: sc.liquidity.max_sell_usd_per_step,
            budget: f64::INFINITY,
        }
    }

    /// Applies a command and books its events into the path metrics.
    fn run(&mut self, eng: &mut Engine, t: i64, cmd: Command, m: &mut PathResult) -> Applied {
        self.buf.clear();
        let env = Envelope {
            time: Timestamp(t),
            cmd,
        };
        match eng.apply_into(&env, &mut self.buf) {
            Ok(()) => {
                record(&self.buf, m);
                Applied::Ok
            }
            Err(Reject::Blocked(_)) => {
                m.blocked += 1;
                Applied::Blocked
            }
            Err(_) => {
                m.refused += 1;
                Applied::Refused
            }
        }
    }

    /// Closes whatever the liquidator holds against the market maker at `oracle × (1 ∓ s)`.
    fn unwind(
        &mut self,
        eng: &mut Engine,
        house: &House,
        cx: &StepContext<'_>,
        t: i64,
        m: &mut PathResult,
    ) {
        let held: Vec<(MarketId, i64)> = eng.state().accounts[house.liquidator.idx()]
            .positions
            .iter()
            .filter(|p| p.size.0 != 0)
            .map(|p| (p.market, p.size.0))
            .collect();
        for (market, size) in held {
            let ai = market.idx();
            if ai >= cx.prices.len() {
                continue;
            }
            let px = cx.prices[ai];
            let mut size = size;
            let mut notional = self.notional(ai, size, px);
            // The sell cap: unwind what fits; the rest stays with the keeper for later steps.
            if notional > self.budget {
                let q = (size as f64 * (self.budget.max(0.0) / notional)) as i64;
                m.deferred_sell += usd(notional * (1.0 - q as f64 / size as f64)).0;
                if q == 0 {
                    continue;
                }
                notional *= q as f64 / size as f64;
                size = q;
            }
            self.budget -= notional;
            let s = self.slippage.fraction(notional, cx.returns[ai]);
            let price = if size > 0 {
                px * (1.0 - s)
            } else {
                px * (1.0 + s)
            };
            let cmd = Command::Fill {
                market,
                taker: house.liquidator,
                maker: house.maker,
                size: Amount(-size),
                price,
            };
            if let Applied::Ok = self.run(eng, t, cmd, m) {
                m.slippage += usd(notional * s).0;
            }
        }
    }

    fn notional(&self, ai: usize, size: i64, px: f64) -> f64 {
        size.unsigned_abs() as f64 / 10f64.powi(self.decimals[ai] as i32) * px
    }

    /// Equity (quote-native) of an account if closed at oracle: health + requirement (quote
    /// collateral has weight 1 in the lab's pools).
    fn equity(eng: &Engine, a: AccountId) -> i128 {
        eng.breakdown(a, HealthKind::Maintenance)
            .map_or(0, |b| b.health.0 + b.requirement.0)
    }

    /// The largest perp lot of an account: (market, size).
    fn largest_lot(eng: &Engine, a: AccountId, cx: &StepContext<'_>) -> Option<(MarketId, i64)> {
        eng.state().accounts[a.idx()]
            .positions
            .iter()
            .filter(|p| p.size.0 != 0 && p.market.idx() < cx.prices.len())
            .max_by(|x, y| {
                let vx = x.size.0.unsigned_abs() as f64 * cx.prices[x.market.idx()];
                let vy = y.size.0.unsigned_abs() as f64 * cx.prices[y.market.idx()];
                vx.total_cmp(&vy).then(y.market.cmp(&x.market))
            })
            .map(|p| (p.market, p.size.0))
    }

    fn takeover(
        &mut self,
        eng: &mut Engine,
        house: &House,
        cx: &StepContext<'_>,
        id: AccountId,
        m: &mut PathResult,
    ) {
        let t = cx.time_ms;
        for _ in 0..MAX_ROUNDS {
            let bankrupt = Self::equity(eng, id) < 0;
            if !bankrupt {
                let Some((market, size)) = Self::largest_lot(eng, id, cx) else {
                    return;
                };
                let ai = market.idx();
                let notional = self.notional(ai, size, cx.prices[ai]);
                let s = self.slippage.fraction(notional, cx.returns[ai]);
                // The engine pays `share × penalty` on what it closes (at least the boundary
                // rate); the keeper's profit rule of keeper.rs with that reward.
                let reward = self.lp.penalty.to_f64() * self.lp.liquidator_share.to_f64();
                if notional * (reward - s) - cx.gas_usd < self.min_profit {
                    m.missed_unprofitable += 1;
                    return;
                }
                // The sell cap: take over no more than the keeper may sell this step.
                if notional > self.budget {
                    let q = (size.unsigned_abs() as f64 * (self.budget.max(0.0) / notional)) as i64;
                    m.deferred_sell += usd(notional - self.budget.max(0.0)).0;
                    if q == 0 {
                        return;
                    }
                    let cmd = Command::Liquidate {
                        liquidator: house.liquidator,
                        account: id,
                        market: Some(market),
                        max_size: Some(Amount(q)),
                    };
                    self.run(eng, t, cmd, m);
                    self.unwind(eng, house, cx, t, m);
                    return;
                }
            }
            let cmd = Command::Liquidate {
                liquidator: house.liquidator,
                account: id,
                market: None,
                max_size: None,
            };
            let ok = matches!(self.run(eng, t, cmd, m), Applied::Ok);
            self.unwind(eng, house, cx, t, m);
            if !ok
                || bankrupt
                || eng
                    .health(id, HealthKind::Maintenance)
                    .map_or(true, |h| h.0 >= 0)
            {
                return;
            }
        }
    }

    /// Earliest time in `[t, t + step)` at which taking the auction pays the keeper, or
    /// `None` (too expensive all step, or it needs a reset first).
    fn bid_time(
        &self,
        eng: &Engine,
        auction: AuctionId,
        cx: &StepContext<'_>,
        step_ms: i64,
    ) -> Option<(i64, f64)> {
        let a = &eng.state().auctions[auction.idx()];
        let Lot::Perp(market) = a.lot else {
            return None;
        };
        let ai = market.idx();
        let held = eng.state().accounts[a.account.idx()]
            .positions
            .iter()
            .find(|p| p.market == market)
            .map_or(0, |p| p.size.0);
        let q = held.unsigned_abs().min(a.size.0.unsigned_abs()) as i64;
        if q == 0 {
            return None;
        }
        let bd = self.decimals[ai];
        let qd = crate::world::QUOTE_DECIMALS;
        let px = cx.prices[ai];
        let notional = self.notional(ai, q, px);
        let s = self.slippage.fraction(notional, cx.returns[ai]);
        let sign = if a.size.0 > 0 { 1.0 } else { -1.0 };
        let oracle0 = a.oracle.to_human(bd, qd);
        // (profitable?, unit price) at `elapsed`; profitability only grows with time.
        let pays = |elapsed: i64| {
            let raw = auction_price(&self.lp, a.top, a.oracle, elapsed);
            let p = Price::from_raw(raw.clamp(0, i64::MAX as i128) as i64)
                .map_or(0.0, |p| p.to_human(bd, qd));
            // Short lots are mirrored: the bidder receives `2·oracle_start − price`.
            let unit = if sign > 0.0 { p } else { 2.0 * oracle0 - p };
            let profit = sign * (px * (1.0 - sign * s) - unit) * q as f64 / 10f64.powi(bd as i32)
                - cx.gas_usd;
            (profit >= self.min_profit, unit)
        };
        let stale = |elapsed: i64| {
            let raw = auction_price(&self.lp, a.top, a.oracle, elapsed);
            needs_reset(&self.lp, a.top, raw, elapsed)
        };
        let e0 = cx.time_ms - a.start.0;
        if let (true, unit) = pays(e0) {
            return (!stale(e0)).then_some((cx.time_ms, unit));
        }
        // The price only falls with time: binary search the first paying millisecond; the
        // take happens then unless the auction needs a reset by that time (tail, cusp).
        let (mut lo, mut hi) = (e0, e0 + step_ms - 1);
        if !pays(hi).0 {
            return None;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if pays(mid).0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        (!stale(hi)).then(|| (a.start.0 + hi, pays(hi).1))
    }

    fn auctions(
        &mut self,
        eng: &mut Engine,
        house: &House,
        cx: &StepContext<'_>,
        queue: &[AccountId],
        step_ms: i64,
        m: &mut PathResult,
    ) {
        let t = cx.time_ms;
        // Start auctions (or settle bankruptcies) for the queue.
        for &id in queue {
            let running = eng.state().pools[POOL.idx()]
                .liquidation
                .active
                .binary_search_by_key(&id, |(a, _)| *a)
                .is_ok();
            if running {
                continue;
            }
            if Self::equity(eng, id) < 0 {
                self.takeover_bankrupt(eng, house, cx, id, m);
                continue;
            }
            let cmd = Command::StartAuction {
                account: id,
                keeper: house.liquidator,
            };
            self.run(eng, t, cmd, m);
        }
        // Resets, then bids in time order.
        let active: Vec<(AccountId, AuctionId)> =
            eng.state().pools[POOL.idx()].liquidation.active.clone();
        let mut bids: Vec<(i64, AuctionId, f64)> = Vec::new();
        for (_, auction) in active {
            let a = &eng.state().auctions[auction.idx()];
            if a.state != AuctionState::Active {
                continue;
            }
            let elapsed = t - a.start.0;
            let raw = auction_price(&self.lp, a.top, a.oracle, elapsed);
            if needs_reset(&self.lp, a.top, raw, elapsed) {
                if !self.resets {
                    m.auctions_stuck += 1;
                    continue;
                }
                let cmd = Command::RedoAuction {
                    auction,
                    keeper: house.liquidator,
                };
                if !matches!(self.run(eng, t, cmd, m), Applied::Ok) {
                    continue;
                }
                if eng.state().auctions[auction.idx()].state != AuctionState::Active {
                    continue;
                }
            }
            match self.bid_time(eng, auction, cx, step_ms) {
                Some((at, unit)) => bids.push((at, auction, unit)),
                None => m.missed_unprofitable += 1,
            }
        }
        bids.sort_by_key(|b| (b.0, b.1));
        for (at, auction, unit) in bids {
            let a = &eng.state().auctions[auction.idx()];
            if a.state != AuctionState::Active {
                continue;
            }
            let limit = if a.size.0 > 0 {
                unit * (1.0 + 1e-9) + 1e-9
            } else {
                (unit * (1.0 - 1e-9)).max(1e-12)
            };
            let mut amount = a.size.0.unsigned_abs() as i64;
            // The sell cap: bid for no more than the keeper may sell this step.
            if let Lot::Perp(market) = a.lot {
                let ai = market.idx();
                let notional = self.notional(ai, amount, cx.prices[ai]);
                if notional > self.budget {
                    let q = (amount as f64 * (self.budget.max(0.0) / notional)) as i64;
                    m.deferred_sell += usd(notional - self.budget.max(0.0)).0;
                    if q == 0 {
                        continue;
                    }
                    amount = q;
                }
            }
            let cmd = Command::TakeAuction {
                auction,
                bidder: house.liquidator,
                max_amount: Amount(amount),
                price_limit: limit,
            };
            self.run(eng, at, cmd, m);
            self.unwind(eng, house, cx, at, m);
        }
    }

    fn takeover_bankrupt(
        &mut self,
        eng: &mut Engine,
        house: &House,
        cx: &StepContext<'_>,
        id: AccountId,
        m: &mut PathResult,
    ) {
        let cmd = Command::Liquidate {
            liquidator: house.liquidator,
            account: id,
            market: None,
            max_size: None,
        };
        self.run(eng, cx.time_ms, cmd, m);
        self.unwind(eng, house, cx, cx.time_ms, m);
    }
}

fn book_loss(m: &mut PathResult, account: AccountId, kind: LossKind, amount: i64) {
    m.losses.push(Loss {
        account,
        kind,
        amount,
    });
}

/// Books an engine event batch into the path metrics.
pub fn record(events: &[Event], m: &mut PathResult) {
    for e in events {
        match e {
            Event::Liquidated {
                lot: Lot::Perp(_),
                price,
                size,
                penalty,
                ..
            } => {
                m.liquidations += 1;
                m.liq_volume += Amount(size.0.abs())
                    .value(*price)
                    .to_quote(Round::Down)
                    .map_or(0, |a| a.0);
                m.penalties += penalty.0;
            }
            Event::AuctionStarted { .. } => m.auctions_started += 1,
            Event::AuctionTaken { paid, penalty, .. } => {
                m.liquidations += 1;
                m.liq_volume += paid.0;
                m.penalties += penalty.0;
            }
            Event::AuctionReset { .. } => m.auction_resets += 1,
            Event::InsuranceDrawn {
                amount, account, ..
            } => {
                m.covered += amount.0;
                book_loss(m, *account, LossKind::Insurance, amount.0);
            }
            // A loss past the insurance fund means the fund ran dry inside the step (penalties
            // may refill it before the step ends): count it as a depletion.
            Event::Deleveraged {
                haircut, bankrupt, ..
            } if haircut.0 > 0 => {
                m.adl += haircut.0;
                m.bad_debt += haircut.0;
                m.fund_min = m.fund_min.min(0);
                book_loss(m, *bankrupt, LossKind::Adl, haircut.0);
            }
            Event::LossSocialized {
                amount, account, ..
            } if amount.0 > 0 => {
                m.socialized += amount.0;
                m.bad_debt += amount.0;
                m.fund_min = m.fund_min.min(0);
                book_loss(m, *account, LossKind::Socialized, amount.0);
            }
            Event::BadDebt {
                amount, account, ..
            } if amount.0 > 0 => {
                m.engine_bad_debt += amount.0;
                m.bad_debt += amount.0;
                m.fund_min = m.fund_min.min(0);
                book_loss(m, *account, LossKind::BadDebt, amount.0);
            }
            _ => {}
        }
    }
}

impl Liquidation for EngineLiquidator {
    fn on_step(
        &mut self,
        eng: &mut Engine,
        house: &House,
        cx: &StepContext<'_>,
        m: &mut PathResult,
    ) -> Result<(), LabError> {
        let queue: Vec<AccountId> = eng
            .liquidation_queue()
            .into_iter()
            .map(|e| e.account)
            .filter(|a| !house.is_house(*a))
            .collect();
        let active = !eng.state().pools[POOL.idx()].liquidation.active.is_empty();
        self.budget = self.max_sell.unwrap_or(f64::INFINITY);
        if !cx.keeper_online {
            m.missed_outage += queue.len() as u64;
            return Ok(());
        }
        // An unwind refused earlier (e.g. a halted market) is retried first.
        if eng.state().accounts[house.liquidator.idx()]
            .positions
            .iter()
            .any(|p| p.size.0 != 0)
        {
            self.unwind(eng, house, cx, cx.time_ms, m);
        }
        if queue.is_empty() && !active {
            return Ok(());
        }
        if self.auction {
            self.auctions(eng, house, cx, &queue, cx.step_ms, m);
        } else {
            for id in queue {
                self.takeover(eng, house, cx, id, m);
            }
        }
        Ok(())
    }

    fn fund(&self, eng: &Engine, _house: &House) -> i64 {
        eng.state().pools[POOL.idx()].insurance_fund.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_from_scenario_name_the_field() {
        let mut spec = LiquidationSpec {
            mechanism: MechanismSpec::EngineAuction,
            auction_tail_min: Some(45.0),
            auction_cusp: Some(0.6),
            ..LiquidationSpec::default()
        };
        let p = liquidation_params(&spec).unwrap();
        assert_eq!(p.mechanism, Mechanism::DutchAuction);
        assert_eq!(p.auction_tail_ms, 45 * 60_000);
        assert_eq!(p.auction_cusp, Ratio::from_f64(0.6).unwrap());
        spec.close_factor = Some(-0.5);
        let e = liquidation_params(&spec).unwrap_err().to_string();
        assert!(e.contains("protocol.liquidation.close_factor"), "{e}");
        spec.close_factor = Some(0.01); // below the engine's 10% bound
        let e = liquidation_params(&spec).unwrap_err().to_string();
        assert!(e.contains("protocol.liquidation"), "{e}");
    }
}
