//! Liquidation as a pluggable step, and the keeper agent that implements it today.
//!
//! The engine has no liquidation command yet (it is being added in parallel). Until it lands,
//! [`KeeperLiquidator`] closes underwater accounts through commands the engine already has:
//!
//! 1. `below_maintenance()` lists the accounts whose maintenance health is negative.
//! 2. For each position, the keeper checks its profit: `penalty·notional − slippage·notional −
//!    gas ≥ min_profit` (slippage from the liquidity model, gas from the fault model). An
//!    unprofitable or offline keeper leaves the account open: it may sink further.
//! 3. A `Fill` in which the liquidator account takes the other side at `oracle × (1 − penalty)`
//!    for a long (`× (1 + penalty)` for a short). The engine accepts a reducing fill from an
//!    account below margin; the liquidator must pass initial margin on what it takes.
//! 4. The liquidator unwinds at once against the market maker at `oracle × (1 ∓ slippage)`.
//! 5. Waterfall, netted per step as in the peer-radCAD model: a closed account's remaining
//!    equity, if positive, pays `fee_to_fund` of it to the insurance-fund account
//!    (`Withdraw` + `Deposit`); if negative, the insurance fund covers it as far as it can
//!    (`Withdraw` from the fund, `Deposit` into the account, repaying its debt) and the rest is
//!    bad debt (left as the account's negative balance).
//!
//! Swap in the engine's own liquidation by implementing [`Liquidation`] with its commands and
//! reading bad debt from its events.

use crate::error::LabError;
use crate::path::{Loss, LossKind, PathResult};
use crate::scenario::Scenario;
use crate::world::{apply, House, QUOTE};
use ballast_engine::command::Command;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Amount, Round};
use ballast_engine::{Engine, Event, HealthKind};

/// What a liquidation mechanism sees at each step (after the step's prices are in the engine).
#[derive(Debug, Clone, Copy)]
pub struct StepContext<'a> {
    pub path: u64,
    pub step: u32,
    pub time_ms: i64,
    /// Current model price of each asset (USD).
    pub prices: &'a [f64],
    /// This step's log return of each asset.
    pub returns: &'a [f64],
    /// False during a keeper outage.
    pub keeper_online: bool,
    /// Gas cost of one liquidation, USD.
    pub gas_usd: f64,
    /// Length of the step, ms (the keeper may act anywhere in `[time_ms, time_ms + step_ms)`).
    pub step_ms: i64,
}

/// A liquidation mechanism: called once per step; acts on the engine only through commands
/// and records what it did in the path's metrics.
pub trait Liquidation: Send {
    fn on_step(
        &mut self,
        eng: &mut Engine,
        house: &House,
        cx: &StepContext<'_>,
        m: &mut PathResult,
    ) -> Result<(), LabError>;

    /// The insurance fund this mechanism draws on (quote-native): by default the lab's
    /// insurance-fund house account.
    fn fund(&self, eng: &Engine, house: &House) -> i64 {
        KeeperLiquidator::balance(eng, house.fund)
    }
}

/// Builds one path's liquidation mechanism from the scenario.
pub type LiquidationFactory = fn(&Scenario) -> Box<dyn Liquidation>;

/// The scenario's mechanism: the keeper agent (`keeper_fill`, the default) or the engine's
/// own liquidation ([`crate::engine_liq::EngineLiquidator`]).
pub fn keeper_factory(sc: &Scenario) -> Box<dyn Liquidation> {
    if sc.protocol.liquidation.mechanism.is_engine() {
        Box::new(crate::engine_liq::EngineLiquidator::new(sc))
    } else {
        Box::new(KeeperLiquidator::new(sc))
    }
}

/// Slippage model: linear impact, `s = 1% · notional / depth_eff`, with
/// `depth_eff = depth / (1 + vol_sensitivity · |r| / 1%)`, capped at `max_slippage`.
#[derive(Debug, Clone, Copy)]
pub struct Slippage {
    pub depth_usd: Option<f64>,
    pub vol_sensitivity: f64,
    pub max_slippage: f64,
}

impl Slippage {
    pub fn fraction(&self, notional_usd: f64, step_return: f64) -> f64 {
        match self.depth_usd {
            None => 0.0,
            Some(d) => {
                let eff = d / (1.0 + self.vol_sensitivity * step_return.abs() / 0.01);
                (0.01 * notional_usd / eff).min(self.max_slippage)
            }
        }
    }
}

/// The keeper agent (see the module doc).
pub struct KeeperLiquidator {
    penalty: f64,
    fee_to_fund: f64,
    min_profit: f64,
    slippage: Slippage,
    decimals: Vec<i32>,
    /// `liquidity.max_sell_usd_per_step`.
    max_sell: Option<f64>,
    /// Accounts already closed and settled (never processed again).
    done: Vec<bool>,
    buf: Vec<Event>,
    closed: Vec<AccountId>,
}

impl KeeperLiquidator {
    pub fn new(sc: &Scenario) -> Self {
        KeeperLiquidator {
            penalty: sc.protocol.liquidation.penalty,
            fee_to_fund: sc.protocol.liquidation.fee_to_fund,
            min_profit: sc.keeper.min_profit,
            slippage: Slippage {
                depth_usd: sc.liquidity.depth_usd,
                vol_sensitivity: sc.liquidity.vol_sensitivity,
                max_slippage: sc.liquidity.max_slippage,
            },
            decimals: sc.assets.iter().map(|a| a.decimals as i32).collect(),
            max_sell: sc.liquidity.max_sell_usd_per_step,
            done: Vec::new(),
            buf: Vec::new(),
            closed: Vec::new(),
        }
    }

    pub(crate) fn balance(eng: &Engine, a: AccountId) -> i64 {
        // No positions and no collateral: maintenance health is exactly the quote balance.
        eng.health(a, HealthKind::Maintenance)
            .ok()
            .and_then(|v| v.to_quote(Round::Down).ok())
            .map_or(0, |a| a.0)
    }
}

impl Liquidation for KeeperLiquidator {
    fn on_step(
        &mut self,
        eng: &mut Engine,
        house: &House,
        cx: &StepContext<'_>,
        m: &mut PathResult,
    ) -> Result<(), LabError> {
        let under = eng.below_maintenance();
        if under.is_empty() {
            return Ok(());
        }
        let n = eng.state().accounts.len();
        if self.done.len() < n {
            self.done.resize(n, false);
        }
        let t = cx.time_ms;
        self.closed.clear();
        // What the keeper may still sell this step (the sell cap); the rest waits.
        let mut budget = self.max_sell.unwrap_or(f64::INFINITY);
        for id in under {
            if house.is_house(id) || self.done[id.idx()] {
                continue;
            }
            let positions: Vec<_> = eng.state().accounts[id.idx()]
                .positions
                .iter()
                .map(|p| (p.market, p.size))
                .collect();
            if !positions.is_empty() && !cx.keeper_online {
                m.missed_outage += 1;
                continue;
            }
            let mut all_closed = true;
            for (market, size) in positions {
                let ai = market.idx();
                let px = cx.prices[ai];
                let notional = size.0.unsigned_abs() as f64 / 10f64.powi(self.decimals[ai]) * px;
                let s = self.slippage.fraction(notional, cx.returns[ai]);
                let profit = notional * (self.penalty - s) - cx.gas_usd;
                if profit < self.min_profit {
                    m.missed_unprofitable += 1;
                    all_closed = false;
                    continue;
                }
                // The sell cap: close what fits, defer the rest to later steps.
                let mut size = size;
                let mut notional = notional;
                let mut s = s;
                if notional > budget {
                    let q = (size.0 as f64 * (budget / notional)) as i64;
                    m.deferred_sell +=
                        crate::world::usd(notional * (1.0 - q as f64 / size.0 as f64)).0;
                    all_closed = false;
                    if q == 0 {
                        continue;
                    }
                    notional *= q as f64 / size.0 as f64;
                    size = Amount(q);
                    s = self.slippage.fraction(notional, cx.returns[ai]);
                }
                budget -= notional;
                let long = size.0 > 0;
                let fill_px = if long {
                    px * (1.0 - self.penalty)
                } else {
                    px * (1.0 + self.penalty)
                };
                let close = Command::Fill {
                    market,
                    taker: id,
                    maker: house.liquidator,
                    size: Amount(-size.0),
                    price: fill_px,
                };
                if apply(eng, &mut self.buf, t, close, cx.path, cx.step).is_err() {
                    m.refused += 1;
                    all_closed = false;
                    continue;
                }
                m.liquidations += 1;
                m.liq_volume += crate::world::usd(notional).0;
                m.penalties += crate::world::usd(notional * self.penalty).0;
                // Unwind what the liquidator took over.
                let unwind_px = if long { px * (1.0 - s) } else { px * (1.0 + s) };
                let unwind = Command::Fill {
                    market,
                    taker: house.liquidator,
                    maker: house.maker,
                    size: Amount(-size.0),
                    price: unwind_px,
                };
                if apply(eng, &mut self.buf, t, unwind, cx.path, cx.step).is_ok() {
                    m.slippage += crate::world::usd(notional * s).0;
                } else {
                    m.refused += 1;
                }
            }
            if all_closed {
                self.closed.push(id);
            }
        }
        if self.closed.is_empty() {
            return Ok(());
        }
        // Waterfall, netted over the step: surplus fees first, then shortfalls.
        let equities: Vec<(AccountId, i64)> = self
            .closed
            .iter()
            .map(|&id| (id, Self::balance(eng, id)))
            .collect();
        for &(id, d) in &equities {
            self.done[id.idx()] = true;
            let fee = (d as f64 * self.fee_to_fund).floor() as i64;
            if d > 0 && fee > 0 {
                let amount = Amount(fee);
                apply(
                    eng,
                    &mut self.buf,
                    t,
                    Command::Withdraw {
                        account: id,
                        asset: QUOTE,
                        amount,
                    },
                    cx.path,
                    cx.step,
                )?;
                apply(
                    eng,
                    &mut self.buf,
                    t,
                    Command::Deposit {
                        account: house.fund,
                        asset: QUOTE,
                        amount,
                    },
                    cx.path,
                    cx.step,
                )?;
                m.fees_to_fund += fee;
            }
        }
        let mut fund = Self::balance(eng, house.fund);
        for &(id, d) in &equities {
            if d >= 0 {
                continue;
            }
            let need = -d;
            let cover = need.min(fund.max(0));
            if cover > 0 {
                let amount = Amount(cover);
                apply(
                    eng,
                    &mut self.buf,
                    t,
                    Command::Withdraw {
                        account: house.fund,
                        asset: QUOTE,
                        amount,
                    },
                    cx.path,
                    cx.step,
                )?;
                apply(
                    eng,
                    &mut self.buf,
                    t,
                    Command::Deposit {
                        account: id,
                        asset: QUOTE,
                        amount,
                    },
                    cx.path,
                    cx.step,
                )?;
                fund -= cover;
                m.covered += cover;
                m.losses.push(Loss {
                    account: id,
                    kind: LossKind::Insurance,
                    amount: cover,
                });
            }
            m.bad_debt += need - cover;
            if need > cover {
                m.losses.push(Loss {
                    account: id,
                    kind: LossKind::BadDebt,
                    amount: need - cover,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slippage_is_linear_capped_and_falls_with_depth() {
        let s = Slippage {
            depth_usd: Some(1e6),
            vol_sensitivity: 1.0,
            max_slippage: 0.05,
        };
        assert!((s.fraction(1e6, 0.0) - 0.01).abs() < 1e-12);
        assert!((s.fraction(1e6, 0.01) - 0.02).abs() < 1e-12);
        assert_eq!(s.fraction(1e9, 0.0), 0.05);
        let none = Slippage {
            depth_usd: None,
            vol_sensitivity: 1.0,
            max_slippage: 0.05,
        };
        assert_eq!(none.fraction(1e9, 0.3), 0.0);
    }
}
