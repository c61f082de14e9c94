//! `squeeze` (CRV, 22 Nov 2022): an attacker squeezes the shorts of a thin asset. It goes long
//! a perp against the market maker, buys spot into the thin venues the oracle reads (paying the
//! impact along their depth), so that the short book falls below maintenance; the keepers'
//! forced buying of the liquidated shorts moves the price further (`[liquidity] impact`, the
//! `reflexive` module), and it closes its long at the top and withdraws.
//!
//! The incident (Aave governance post-mortem of the CRV market, Nov 2022; Gauntlet "Aave V2 CRV
//! incident" analysis): A. Eisenberg borrowed ~40 M CRV on Aave v2 against USDC and sold it; CRV
//! holders bought into thin books, CRV rose ~+70 % within hours and the forced unwind of his
//! short (liquidations buying CRV back) added to the rise, leaving Aave ~1.6 M of bad debt.
//! Here the attacker plays the squeezer's side, with its money on the line: its spot buying is
//! the pump of `oracle_pump` (the same constant-product venues), its profit a long perp.
//!
//! Step by step (each an engine command it pays gas for):
//! 1. at `start_step`: open one account, deposit its margin (notional × (initial rate + fee) ×
//!    `margin_buffer`), buy `size_usd` of the perp from the market maker at the engine's price;
//! 2. from the next step, over `ramp_steps`, lift the venues it moves to `pump` × the fair
//!    price within the capital left (`OraclePump::venue_buyer`), and hold for `hold_steps`;
//! 3. on the last held step, before the liquidation agent's turn: sell its whole long to the
//!    market maker at the engine's price and withdraw all it may. A refused close (a breaker
//!    halt, a band) leaves the long open, marked at the horizon.
//!
//! `liquidation_hunt` is the same agent aimed by `hunt`: at `start_step`, before opening, it
//! reads the shorts' liquidation prices and replaces `pump` by the multiple that clears the
//! best cluster (`pump` is then the most it will push); with no short within reach it stays out.

use super::oracle_pump::OraclePump;
use crate::agent::{send, Act, AttackFlow, Order, Outcome, Purpose, StepContext};
use crate::error::LabError;
use crate::scenario::attack::{AttackerSpec, Strategy};
use crate::scenario::Scenario;
use crate::units::{usd, QUOTE};
use ballast_engine::command::Command;
use ballast_engine::ids::{AccountId, OwnerId};
use ballast_engine::num::Amount;

/// Where the squeeze is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Wait,
    Fund,
    Buy,
    Live,
    Withdraw,
    Done,
}

/// One `squeeze` attacker of a path.
pub struct Squeeze {
    spec: AttackerSpec,
    owner: OwnerId,
    asset: usize,
    stage: Stage,
    account: AccountId,
    venues: OraclePump,
}

impl Squeeze {
    pub fn new(sc: &Scenario, spec: &AttackerSpec, index: usize) -> Squeeze {
        Squeeze {
            owner: OwnerId(1_000_000 + index as u32),
            asset: spec.asset_index(sc),
            stage: Stage::Wait,
            account: AccountId(0),
            venues: OraclePump::venue_buyer(sc, spec, index),
            spec: spec.clone(),
        }
    }

    /// Its venue buying (for the venue phase).
    pub fn venues(&mut self) -> &mut OraclePump {
        &mut self.venues
    }

    fn hunting(&self) -> bool {
        self.spec.strategy == Strategy::LiquidationHunt
    }

    fn order(&self, cx: &StepContext<'_>, cmd: Command, flow: AttackFlow) -> Act {
        let gas = usd(self.spec.gas_usd.unwrap_or(cx.now.gas_usd)).0;
        send(cx, cmd, Purpose::Attack { flow, gas })
    }

    fn price(&self, cx: &StepContext<'_>) -> f64 {
        crate::feeds::engine_price(cx.engine, self.asset).unwrap_or(cx.now.model_prices[self.asset])
    }

    /// Its perp position now (base-native, long > 0).
    fn held(&self, cx: &StepContext<'_>) -> i64 {
        let market = cx.house.markets[self.asset];
        cx.engine.state().accounts[self.account.idx()]
            .positions
            .iter()
            .find(|p| p.market == market)
            .map_or(0, |p| p.size.0)
    }

    fn fill(&self, cx: &StepContext<'_>, size: i64) -> Act {
        let cmd = Command::Fill {
            market: cx.house.markets[self.asset],
            taker: self.account,
            maker: cx.house.maker,
            size: Amount(size),
            price: self.price(cx),
        };
        self.order(cx, cmd, AttackFlow::None)
    }

    /// Step 1: open, fund and buy the long (a round each).
    fn open(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        match self.stage {
            Stage::Wait => {
                let (id, open) = super::next_account(cx, self.owner);
                (self.account, self.stage) = (id, Stage::Fund);
                vec![self.order(cx, open, AttackFlow::None)]
            }
            Stage::Fund => {
                self.stage = Stage::Buy;
                let m = usd(self.spec.margin_usd(cx.scenario)).0;
                let cmd = Command::Deposit {
                    account: self.account,
                    asset: QUOTE,
                    amount: Amount(m),
                };
                vec![self.order(cx, cmd, AttackFlow::In(m))]
            }
            Stage::Buy => {
                self.stage = Stage::Live;
                let dec = cx.scenario.assets[self.asset].decimals;
                let q = self.spec.size_usd / self.price(cx) * crate::units::pow10(i32::from(dec));
                vec![self.fill(cx, q.floor() as i64)]
            }
            _ => Vec::new(),
        }
    }

    /// Step 3: sell the long, then withdraw what the engine lets it.
    fn close(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        match self.stage {
            Stage::Live => {
                self.stage = Stage::Withdraw;
                let held = self.held(cx);
                if cx.now.chain_halted || held == 0 {
                    return Vec::new();
                }
                vec![self.fill(cx, -held)]
            }
            Stage::Withdraw => {
                self.stage = Stage::Done;
                let amount = super::borrowable(cx.engine, self.account);
                if amount < usd(1.0).0 || self.held(cx) != 0 {
                    return Vec::new();
                }
                let cmd = Command::Withdraw {
                    account: self.account,
                    asset: QUOTE,
                    amount: Amount(amount),
                };
                vec![self.order(cx, cmd, AttackFlow::Out(amount))]
            }
            _ => Vec::new(),
        }
    }
}

impl crate::agent::Agent for Squeeze {
    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        let mut acts: Vec<Act> = Vec::new();
        if round == 0 {
            acts.extend(self.venues.take_note().map(Act::Note));
        }
        let step = cx.now.step;
        if step == self.spec.start_step && self.stage == Stage::Wait && self.hunting() {
            // `liquidation_hunt`: aim at the shorts' cluster, or stay out.
            let cluster = super::hunt::short_liquidation_multiples(cx, self.asset);
            match super::hunt::target(&cluster, self.spec.pump) {
                Some(m) => self.venues.aim(m),
                None => {
                    self.venues.stop();
                    self.stage = Stage::Done;
                }
            }
        }
        if step == self.spec.start_step {
            acts.extend(self.open(cx));
        } else if step == self.venues.last_pumped() {
            acts.extend(self.close(cx));
        }
        Ok(acts)
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, _cx: &StepContext<'_>) {
        // Refused at the start (a band, a cap, a breaker): no squeeze, no pump.
        let opening = matches!(self.stage, Stage::Fund | Stage::Buy | Stage::Live);
        if opening && !outcome.ok() && !matches!(order.cmd, Command::Withdraw { .. }) {
            self.venues.stop();
            self.stage = Stage::Done;
        }
    }
}
