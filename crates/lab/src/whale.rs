//! The whale (`[agents.whale]`): one large long opened at t0 that is dumped at once, the first
//! time its asset trades `dump_drawdown` below its running peak.
//!
//! The dump has two halves. In the price phase, [`Whale::impact`] moves the model price of its
//! asset permanently by the linear impact `s = 1% · notional / depth_eff` (capped at
//! `max_impact`, `depth_eff` as in the liquidity model); in the agents phase the whale, an
//! [`Agent`], sends the sale itself: a `Fill` of its whole position against the market maker at
//! the engine's price.

use crate::agent::{send, Act, Agent, Purpose, StepContext};
use crate::error::LabError;
use crate::scenario::{Impact, Scenario};
use crate::world::{self, House};
use ballast_engine::command::Command;
use ballast_engine::num::Amount;
use ballast_engine::Engine;

/// The whale of one path.
pub struct Whale {
    asset: usize,
    dumped: bool,
    /// Size (base-native) to sell this step, once the impact has been applied.
    pending: Option<i64>,
}

/// What the price phase reads to decide the dump.
#[derive(Debug, Clone, Copy)]
pub struct Market {
    pub asset: usize,
    pub price: f64,
    pub peak: f64,
    /// This step's log return of the asset.
    pub ret: f64,
    pub chain_halted: bool,
}

impl Whale {
    /// The scenario's whale, if it has one.
    pub fn new(sc: &Scenario) -> Option<Whale> {
        sc.whale_asset().map(|asset| Whale {
            asset,
            dumped: false,
            pending: None,
        })
    }

    /// The fraction by which the dump moves the price of `mk.asset` this step (0 when the whale
    /// does not dump now). Marks the dump as done the first time the drawdown is reached, even
    /// with nothing left to sell.
    pub fn impact(
        &mut self,
        sc: &Scenario,
        eng: &Engine,
        house: &House,
        mk: Market,
    ) -> Option<f64> {
        let w = sc.agents.whale.as_ref()?;
        if self.dumped
            || mk.asset != self.asset
            || mk.chain_halted
            || 1.0 - mk.price / mk.peak < w.dump_drawdown
        {
            return None;
        }
        self.dumped = true;
        let id = world::whale_account(sc, house);
        let size = eng.state().accounts[id.idx()]
            .positions
            .iter()
            .find(|p| p.market == house.markets[mk.asset])
            .map_or(0, |p| p.size.0);
        if size == 0 {
            return Some(0.0);
        }
        let notional = size.unsigned_abs() as f64
            / crate::units::pow10(sc.assets[mk.asset].decimals as i32)
            * mk.price;
        self.pending = Some(size);
        let depth = crate::liquidity::Slippage::new(sc);
        Some(depth.impact(Impact::Linear, notional, mk.ret, w.max_impact))
    }
}

impl Agent for Whale {
    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        let Some(size) = self.pending.take().filter(|_| round == 0) else {
            return Ok(Vec::new());
        };
        let i = self.asset;
        let px = crate::feeds::engine_price(cx.engine, i).unwrap_or(cx.now.model_prices[i]);
        let sell = Command::Fill {
            market: cx.house.markets[i],
            taker: world::whale_account(cx.scenario, cx.house),
            maker: cx.house.maker,
            size: Amount(-size),
            price: px,
        };
        Ok(vec![send(cx, sell, Purpose::WhaleDump)])
    }
}
