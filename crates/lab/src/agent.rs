//! The one seam every actor of a path sits behind: an [`Agent`] reads a read-only
//! [`StepContext`] and acts by returning engine commands ([`Order`]s), each tagged with its
//! [`Purpose`] so that the recorder (`record`) can turn the engine's answer into metrics.
//!
//! Modelled on nautilus_trader's `SimulationModule::process(ts, &ctx)`: the agent never holds
//! `&mut Engine` and never writes a metric. An agent's turn is a sequence of rounds: the path
//! calls [`Agent::act`] with `round = 0, 1, …`, applies the returned orders in order (telling the
//! agent each outcome through [`Agent::observe`]) and calls again with the engine as it now is;
//! the turn ends when a round returns nothing. A procedure whose next command depends on the
//! answer to the last (a keeper closing, unwinding, then settling) is written as a small state
//! machine over rounds.

use crate::error::LabError;
use crate::scenario::Scenario;
use crate::world::House;
use ballast_engine::command::Command;
use ballast_engine::ids::AccountId;
use ballast_engine::{Engine, Event, Reject};

/// What changes from step to step (everything in it is read-only for agents).
#[derive(Debug, Clone, Copy)]
pub struct Now<'a> {
    pub path: u64,
    pub step: u32,
    /// Start of the step (ms since the epoch).
    pub time_ms: i64,
    /// Length of the step, ms (an agent may act anywhere in `[time_ms, time_ms + step_ms)`).
    pub step_ms: i64,
    /// Prices the agents see (USD): the engine's aggregate with an oracle, else the model's.
    pub prices: &'a [f64],
    /// The exogenous model prices and each asset's running peak.
    pub model_prices: &'a [f64],
    pub peaks: &'a [f64],
    /// This step's log return of each asset (as the liquidity model feels it).
    pub returns: &'a [f64],
    /// False during a keeper outage or a chain halt.
    pub keeper_online: bool,
    /// True while the chain takes no transactions (`[[faults.chain]]`).
    pub chain_halted: bool,
    /// Gas cost of one liquidation, USD.
    pub gas_usd: f64,
    /// The underwater accounts the agent asked for ([`Agent::queue`]) at the start of its turn,
    /// house accounts removed.
    pub queue: &'a [AccountId],
}

/// What an agent sees: the engine (read-only), the world and the step.
#[derive(Clone, Copy)]
pub struct StepContext<'a> {
    pub engine: &'a Engine,
    pub house: &'a House,
    pub scenario: &'a Scenario,
    pub now: Now<'a>,
}

/// What an order is for: tells the recorder what the engine's answer means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Purpose {
    /// Must succeed: a refusal ends the path with an error naming the command.
    Required,
    /// The keeper agent's closing fill (`keeper_fill`): volume and penalty, quote-native.
    KeeperClose {
        volume: i64,
        penalty: i64,
    },
    /// The keeper agent's unwind against the market maker: the slippage it pays.
    KeeperUnwind {
        slippage: i64,
    },
    /// The insurance fund's fee from a closed account with equity left (required).
    FeeToFund {
        fee: i64,
    },
    /// The insurance fund covering a closed account's shortfall (required).
    Cover {
        account: AccountId,
        amount: i64,
    },
    /// An engine liquidation command (`Liquidate`, auctions): refusals typed `Blocked` (oracle
    /// or breaker gate) are counted apart from other refusals.
    Liquidation,
    /// An engine liquidation command of keeper `keeper` (`[[keepers]]` order; 0 for the one
    /// engine keeper): refusals counted as [`Purpose::Liquidation`]'s; accepted, its starts,
    /// resets and takes are booked for that keeper, an auction take with its clearing price
    /// against `oracle` (the oracle price per base-native unit at the take).
    Keeper {
        keeper: u16,
        oracle: Option<ballast_engine::num::Price>,
    },
    /// The engine keeper's unwind of what it took over: the slippage it pays.
    LiquidationUnwind {
        slippage: i64,
    },
    /// Trader rules.
    TraderClose,
    TraderAdd,
    TraderReopen,
    /// The whale's dump.
    WhaleDump,
    /// A lender withdrawing its deposit (quote-native).
    LenderWithdraw {
        amount: i64,
    },
    /// An attacker's command (`attack`): the quote it moves in or out, and the gas it pays
    /// whether or not the engine takes it (quote-native).
    Attack {
        flow: AttackFlow,
        gas: i64,
    },
}

/// What an attacker's command does with its money, for the recorder (quote-native).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackFlow {
    /// Capital paid into one of its accounts.
    In(i64),
    /// Quote taken out (borrowed or withdrawn): what it walks away with.
    Out(i64),
    /// Anything else (opening accounts, its own trades).
    None,
}

/// One engine command an agent wants applied at `time_ms`.
#[derive(Debug, Clone)]
pub struct Order {
    pub time_ms: i64,
    pub cmd: Command,
    pub purpose: Purpose,
}

/// Something an agent decided not to do, or a loss it left where it is: facts the recorder
/// counts that are not the answer to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Accounts (or positions) left open because the keeper was offline.
    MissedOutage(u64),
    /// A position left open because closing it would not pay for gas and slippage.
    MissedUnprofitable,
    /// Notional (quote-native) that had to wait for the sell cap.
    DeferredSell(i64),
    /// A shortfall nobody covered (the keeper's bad debt), quote-native.
    Uncovered { account: AccountId, amount: i64 },
    /// An auction needing a reset that nobody may do.
    AuctionStuck,
    /// An attacker bought `base` (base-native) of asset `asset` on the venues it moves, paying
    /// `spent` at the impact price and `gas` for the trades (quote-native).
    AttackSpot {
        asset: usize,
        spent: i64,
        base: i64,
        gas: i64,
    },
}

/// One thing an agent does in a round.
#[derive(Debug, Clone)]
pub enum Act {
    Send(Order),
    Note(Note),
}

/// The engine's answer to one order.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    Done(&'a [Event]),
    Refused(&'a Reject),
}

impl Outcome<'_> {
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Done(_))
    }
}

/// Which list of underwater accounts an agent wants in [`Now::queue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// None (the default; computing a queue costs a risk query).
    None,
    /// Every account below maintenance, ascending by id (`Engine::below_maintenance`).
    ById,
    /// The engine's liquidation queue, worst first (`Engine::liquidation_queue`).
    WorstFirst,
}

/// An actor of a path (see the module doc).
pub trait Agent: Send {
    /// The underwater accounts this agent needs to see at the start of its turn.
    fn queue(&self) -> Queue {
        Queue::None
    }

    /// Round `round` of this step's turn: what to do given the engine as it is now. An empty
    /// result ends the turn.
    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError>;

    /// The engine's answer to one of this agent's orders (called right after it is applied).
    fn observe(&mut self, _order: &Order, _outcome: Outcome<'_>, _cx: &StepContext<'_>) {}
}

/// `Act::Send` of an order at the step's time.
pub fn send(cx: &StepContext<'_>, cmd: Command, purpose: Purpose) -> Act {
    Act::Send(Order {
        time_ms: cx.now.time_ms,
        cmd,
        purpose,
    })
}
