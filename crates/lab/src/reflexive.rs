//! Reflexive liquidity (`[liquidity] impact`): what the liquidation machinery unwinds into the
//! market maker moves the price it is liquidating at.
//!
//! [`Flow`] wraps the liquidation agent for its turn and adds up, per asset, the signed USD
//! notional of every accepted unwind (`KeeperUnwind`, `LiquidationUnwind`: a `Fill` with the
//! market maker; sold < 0, bought > 0). At the end of the step [`Flow::move_prices`] moves each
//! asset's model price permanently by the impact of that net flow on the liquidity model's depth
//! ([`crate::liquidity::Slippage::impact`], the same function as the keepers' slippage and the
//! whale's dump), capped at `max_slippage` per step: selling pushes the price down, buying up.
//! The engine hears the moved price at the next step's oracle phase, so liquidations feed the
//! next step's liquidations — the spiral of the CRV squeeze of 2022-11-22, where forced buying
//! of liquidated CRV shorts on Aave pushed CRV further up.

use crate::agent::{Act, Agent, Order, Outcome, Purpose, Queue, StepContext};
use crate::error::LabError;
use crate::liquidity::Slippage;
use crate::scenario::Scenario;
use ballast_engine::command::Command;

/// Net liquidation flow of one step, USD per asset (sold < 0).
pub struct Flow {
    usd: Vec<f64>,
}

/// The liquidation agent with its unwinds counted into a [`Flow`].
pub struct Counted<'a> {
    inner: &'a mut dyn Agent,
    flow: &'a mut Flow,
}

impl Flow {
    pub fn new(assets: usize) -> Flow {
        Flow {
            usd: vec![0.0; assets],
        }
    }

    /// `agent` for one turn, its accepted unwinds counted here.
    pub fn count<'a>(&'a mut self, agent: &'a mut dyn Agent) -> Counted<'a> {
        Counted {
            inner: agent,
            flow: self,
        }
    }

    /// The step's net flow per asset so far (USD, sold < 0).
    pub fn net(&self) -> &[f64] {
        &self.usd
    }

    /// Moves `prices` by the impact of the step's net flow and starts the next step at zero.
    pub fn move_prices(&mut self, sc: &Scenario, prices: &mut [f64], returns: &[f64]) {
        let shape = sc.liquidity.impact;
        let depth = Slippage::new(sc);
        for (i, q) in self.usd.iter_mut().enumerate() {
            if *q != 0.0 && !shape.is_off() {
                let s = depth.impact(shape, q.abs(), returns[i], depth.max_slippage);
                prices[i] *= 1.0 + s * q.signum();
            }
            *q = 0.0;
        }
    }

    fn add(&mut self, cx: &StepContext<'_>, order: &Order) {
        let Command::Fill {
            market,
            size,
            price,
            ..
        } = order.cmd
        else {
            return;
        };
        let Some(i) = cx.house.markets.iter().position(|m| *m == market) else {
            return;
        };
        let base = size.0 as f64 / crate::units::pow10(cx.scenario.assets[i].decimals as i32);
        self.usd[i] += base * price;
    }
}

impl Agent for Counted<'_> {
    fn queue(&self) -> Queue {
        self.inner.queue()
    }

    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        self.inner.act(cx, round)
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, cx: &StepContext<'_>) {
        let unwind = matches!(
            order.purpose,
            Purpose::KeeperUnwind { .. } | Purpose::LiquidationUnwind { .. }
        );
        if unwind && outcome.ok() {
            self.flow.add(cx, order);
        }
        self.inner.observe(order, outcome, cx);
    }
}
