//! What a path records, and the one recorder that records it.
//!
//! [`PathResult`] holds a path's metrics (integers in quote-native units, so aggregates are exact
//! and merge in any order). Agents never write it: the path hands every order an agent sent,
//! with the engine's answer (its events or its typed rejection), to [`Recorder::order`], every
//! [`Note`] to [`Recorder::note`], and closes each step with [`Recorder::end_step`]. Liquidation,
//! insurance, ADL, socialized-loss and bad-debt figures of the engine mechanisms come from the
//! engine's events ([`book_events`]); the keeper agent's figures from its orders' purposes.

use crate::agent::{Note, Order, Purpose};
use crate::error::LabError;
use crate::feeds::mode_index;
pub use crate::units::quote_balance;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Amount, Round};
use ballast_engine::state::Lot;
use ballast_engine::{Engine, Event, HealthKind, Reject};
use ballast_oracle::breaker::Mode;
use serde::{Deserialize, Serialize};

/// What one path produced. Money in quote-native units (1e-6 USD); integers so that
/// aggregates are exact and merge in any order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathResult {
    pub path: u64,
    /// Deposits of the remote asset a halted bridge did not deliver (`[bridge]`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bridge_held: u64,
    /// Shortfall not covered by the insurance fund.
    pub bad_debt: i64,
    /// Lowest insurance-fund balance seen at the end of any step (and at start).
    pub fund_min: i64,
    pub fund_final: i64,
    /// Positions closed by the keeper.
    pub liquidations: u64,
    /// Notional closed, at the oracle price.
    pub liq_volume: i64,
    /// Penalty paid by liquidated accounts to the liquidator.
    pub penalties: i64,
    /// Slippage paid by the liquidator when unwinding.
    pub slippage: i64,
    /// Surplus fees paid into the insurance fund.
    pub fees_to_fund: i64,
    /// Shortfalls paid by the insurance fund.
    pub covered: i64,
    /// (account, step) pairs left open because the keeper was offline.
    pub missed_outage: u64,
    /// Positions left open because closing them would not pay for gas and slippage.
    pub missed_unprofitable: u64,
    /// Liquidation or unwind fills the engine refused.
    pub refused: u64,
    /// Initial-margin requirement of the book at t0.
    pub init_margin: i64,
    /// Open interest (Σ |notional| of trader positions) at t0.
    pub open_interest: i64,
    /// Steps with the keeper offline.
    pub outage_steps: u32,
    /// Worst peak-to-trough fall of any asset over the path (fraction).
    pub max_drawdown: f64,
    /// Highest gas cost seen (USD).
    pub max_gas_usd: f64,
    /// First step that ended with bad debt.
    pub first_bad_step: Option<u32>,
    /// Engine mechanisms: profit given up by auto-deleveraged counterparties (`Deleveraged`).
    #[serde(default)]
    pub adl: i64,
    /// Engine mechanisms: loss spread over the pool's deposits (`LossSocialized`).
    #[serde(default)]
    pub socialized: i64,
    /// Engine mechanisms: loss the engine recognised as uncovered (`BadDebt`, pool `bad_debt`).
    #[serde(default)]
    pub engine_bad_debt: i64,
    #[serde(default)]
    pub auctions_started: u64,
    /// `AuctionReset` events.
    #[serde(default)]
    pub auction_resets: u64,
    /// Auction-steps left needing a reset that nobody may do (`auction_resets = false`).
    #[serde(default)]
    pub auctions_stuck: u64,
    /// Liquidation commands refused as `Reject::Blocked` (oracle or breaker gate).
    #[serde(default)]
    pub blocked: u64,
    /// Steps each breaker scope spent in Normal, Cautious, Halted, Recovering (summed over
    /// the configured scopes).
    #[serde(default)]
    pub breaker_steps: [u64; 4],
    /// Breaker scope-steps observed (the denominator of `breaker_steps`).
    #[serde(default)]
    pub breaker_scope_steps: u64,
    /// Lenders: quote withdrawn in the run, refused withdrawal attempts, and what the lenders
    /// lost (deposits − withdrawn − final balances: their share of socialized loss).
    #[serde(default)]
    pub lender_withdrawn: i64,
    #[serde(default)]
    pub lender_refused: u64,
    #[serde(default)]
    pub lender_loss: i64,
    /// Step at which the whale dumped (if it did).
    #[serde(default)]
    pub whale_dump_step: Option<u32>,
    /// Steps with the chain halted (`[[faults.chain]]`).
    #[serde(default)]
    pub chain_halted_steps: u32,
    /// Liquidation sales pushed past `liquidity.max_sell_usd_per_step`: notional (quote-native)
    /// summed over every step it had to wait.
    #[serde(default)]
    pub deferred_sell: i64,
    /// Negative equity (quote-native, ≥ 0) of accounts still holding positions at the horizon:
    /// losses not yet settled (a sell cap or an outage that outlasts the run), not in `bad_debt`.
    #[serde(default)]
    pub unsettled: i64,
    /// Trader rules (`[agents.traders]`): positions closed by take-profit / stop-loss, adds on
    /// dips, reopens, and trader fills the engine refused.
    #[serde(default)]
    pub trader_closes: u64,
    #[serde(default)]
    pub trader_adds: u64,
    #[serde(default)]
    pub trader_reopens: u64,
    #[serde(default)]
    pub trader_refused: u64,
    /// Funding paid by the longs to the shorts (negative: received), quote-native, summed over
    /// the markets' per-step `SettleFunding` (index move × long open interest).
    #[serde(default)]
    pub funding_paid: i64,
    /// Option lots the engine liquidated (`Liquidated` with an option lot).
    #[serde(default)]
    pub option_liquidations: u64,
    /// `bad_debt` split over what the bankrupt accounts held at t0 (perps' notional, options'
    /// marks and requirements, quote borrowed, non-quote collateral value; accounts with none of
    /// them in `bad_debt_unheld`): the parts sum to `bad_debt` exactly.
    #[serde(default)]
    pub bad_debt_perp: i64,
    #[serde(default)]
    pub bad_debt_option: i64,
    #[serde(default)]
    pub bad_debt_borrow: i64,
    #[serde(default)]
    pub bad_debt_collateral: i64,
    #[serde(default)]
    pub bad_debt_unheld: i64,
    /// Auction clearing prices and keeper participation (`clearing`).
    #[serde(default)]
    pub keepers: crate::clearing::KeeperTally,
    /// Model prices of each asset at steps `0, s, 2s, …` (`s` = [`sample_stride`]), recorded
    /// only for the first `stats::SAMPLE_PATHS` paths (the report's sample paths).
    #[serde(skip)]
    pub price_samples: Vec<Vec<f64>>,
    /// Most severe breaker mode (index of `feeds::mode_index`) at the end of each step, when
    /// breakers are configured (for the report's breaker timeline).
    #[serde(skip)]
    pub mode_path: Vec<u8>,
    /// Insurance-fund balance at the end of each step (for the per-step series).
    #[serde(skip)]
    pub fund_path: Vec<i64>,
    /// Cumulative bad debt at the end of each step (for the per-step quantile bands).
    #[serde(skip)]
    pub bad_path: Vec<i64>,
    /// Every loss booked, by the bankrupt account that caused it (for attribution): insurance
    /// draws plus the parts of `bad_debt` (ADL, socialized loss, recognised or uncovered debt).
    #[serde(skip)]
    pub losses: Vec<Loss>,
    /// What an attack cost and earned (`[[agents.attackers]]`; zeros without attackers).
    #[serde(default)]
    pub attack: crate::attack::tally::AttackTally,
    /// What the controller did (`[controller]`; zeros and not serialized without it).
    #[serde(
        default,
        skip_serializing_if = "crate::controller::ControllerTally::is_off"
    )]
    pub controller: crate::controller::ControllerTally,
    /// The book's margin, open interest and equity summed at sampled steps (`efficiency`).
    #[serde(default)]
    pub efficiency: crate::efficiency::EfficiencyTally,
    /// What USDC was worth in USD (`[numeraire]`; not serialized without it).
    #[serde(default, skip_serializing_if = "crate::numeraire::DepegTally::is_off")]
    pub depeg: crate::numeraire::DepegTally,
    /// `bad_debt` split over the assets' markets (index = asset; one more slot for losses of
    /// accounts with no t0 position), by each bankrupt account's t0 notional: sums to
    /// `bad_debt` exactly.
    #[serde(skip)]
    pub bad_debt_by_market: Vec<i64>,
    /// Per-step liquidations, health counts and attacker marks (the report's time charts).
    #[serde(skip)]
    pub steps: crate::step_record::StepRecord,
}

/// Where a booked loss landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossKind {
    /// Paid by the insurance fund.
    Insurance,
    /// Profit taken from auto-deleveraged counterparties.
    Adl,
    /// Spread over the pool's depositors.
    Socialized,
    /// Left uncovered (the engine's recognised bad debt, or the keeper's uncovered shortfall).
    BadDebt,
}

/// One loss booked against the bankrupt account that caused it (quote-native).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    pub account: AccountId,
    pub kind: LossKind,
    pub amount: i64,
}

/// Steps between recorded sample prices: at most ~200 points per path.
pub fn sample_stride(horizon: u32) -> u32 {
    horizon.div_ceil(200).max(1)
}

/// Adds the current mode of every configured breaker to the path's counters; returns the
/// most severe mode (its [`mode_index`]) if any breaker is configured.
pub fn record_modes(eng: &Engine, m: &mut PathResult) -> Option<u8> {
    let st = eng.state();
    let modes = st
        .markets
        .iter()
        .filter_map(|mk| mk.breaker.as_ref())
        .chain(st.pools.iter().filter_map(|p| p.breaker.as_ref()))
        .map(|b| b.mode());
    let mut worst: Option<Mode> = None;
    for mode in modes {
        m.breaker_steps[mode_index(mode)] += 1;
        m.breaker_scope_steps += 1;
        if worst.is_none_or(|w| mode.severity() > w.severity()) {
            worst = Some(mode);
        }
    }
    worst.map(|w| mode_index(w) as u8)
}

fn book_loss(m: &mut PathResult, account: AccountId, kind: LossKind, amount: i64) {
    m.losses.push(Loss {
        account,
        kind,
        amount,
    });
}

/// Books an engine event batch into the path metrics.
pub fn book_events(events: &[Event], m: &mut PathResult) {
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
            Event::Liquidated {
                lot: Lot::Option(_),
                penalty,
                ..
            } => {
                m.option_liquidations += 1;
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

/// Books keeper `k`'s accepted command in step `step`: its starts and resets, and its takes
/// with their clearing price against `oracle` (auction takes) or at the engine's price
/// (takeovers).
fn book_keeper(
    events: &[Event],
    m: &mut PathResult,
    (k, step): (usize, u32),
    oracle: Option<ballast_engine::num::Price>,
) {
    let quote = |a: Amount, p| a.value(p).to_quote(Round::Down).map_or(0, |q| q.0);
    for e in events {
        match e {
            Event::AuctionStarted { incentive, .. } | Event::AuctionReset { incentive, .. } => {
                m.keepers.kick(k, incentive.0)
            }
            Event::AuctionTaken {
                size,
                paid,
                remaining,
                ..
            } => {
                let Some(px) = oracle else { continue };
                m.keepers.partial += u64::from(remaining.0 != 0);
                let at_oracle = quote(Amount(size.0.abs()), px);
                let r = paid.0 as f64 / at_oracle.max(1) as f64;
                let ratio = if size.0 > 0 { r } else { 2.0 - r };
                m.keepers.take(k, step, at_oracle, Some(ratio));
            }
            Event::Liquidated {
                lot: Lot::Perp(_),
                price,
                size,
                ..
            } => m
                .keepers
                .take(k, step, quote(Amount(size.0.abs()), *price), None),
            _ => {}
        }
    }
}

/// Where a path's insurance fund is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundSource {
    /// The lab's insurance-fund house account (`keeper_fill`).
    Account(AccountId),
    /// The engine's pool insurance fund (engine mechanisms).
    Pool(ballast_engine::ids::PoolId),
}

impl FundSource {
    /// The fund's balance now, quote-native.
    pub fn balance(self, eng: &Engine) -> i64 {
        match self {
            FundSource::Account(a) => quote_balance(eng, a),
            FundSource::Pool(p) => eng.state().pools[p.idx()].insurance_fund.0,
        }
    }
}

/// The recorder of one path (see the module doc).
pub struct Recorder {
    pub m: PathResult,
    fund: FundSource,
    /// Liquidations and liquidated volume up to the last closed step.
    liq_seen: (u64, i64),
}

impl Recorder {
    /// Starts recording path `path` whose book has initial margin `im` and open interest `oi`.
    pub fn new(path: u64, eng: &Engine, fund: FundSource, (im, oi): (i64, i64)) -> Recorder {
        let m = PathResult {
            path,
            fund_min: fund.balance(eng),
            init_margin: im,
            open_interest: oi,
            ..Default::default()
        };
        Recorder {
            m,
            fund,
            liq_seen: (0, 0),
        }
    }

    /// The insurance fund now (quote-native).
    pub fn fund(&self, eng: &Engine) -> i64 {
        self.fund.balance(eng)
    }

    /// Books the engine's answer to one order; a refused [`Purpose`] that must succeed is an
    /// error naming the command.
    pub fn order(
        &mut self,
        o: &Order,
        answer: Result<&[Event], &Reject>,
        (path, step): (u64, u32),
    ) -> Result<(), LabError> {
        let m = &mut self.m;
        if let Purpose::Attack { flow, .. } = o.purpose {
            m.attack.exit_at(flow, step);
        }
        let events = match answer {
            Ok(ev) => ev,
            Err(r) => {
                match o.purpose {
                    Purpose::Required | Purpose::FeeToFund { .. } | Purpose::Cover { .. } => {
                        return Err(LabError::Engine {
                            path,
                            step,
                            what: format!("{:?}", o.cmd),
                            reason: r.to_string(),
                        })
                    }
                    Purpose::Liquidation
                    | Purpose::Keeper { .. }
                    | Purpose::LiquidationUnwind { .. } => {
                        if matches!(r, Reject::Blocked(_)) {
                            m.blocked += 1;
                        } else {
                            m.refused += 1;
                        }
                    }
                    Purpose::KeeperClose { .. } | Purpose::KeeperUnwind { .. } => m.refused += 1,
                    Purpose::WhaleDump => m.refused += 1,
                    Purpose::TraderClose | Purpose::TraderAdd | Purpose::TraderReopen => {
                        m.trader_refused += 1
                    }
                    Purpose::LenderWithdraw { .. } => m.lender_refused += 1,
                    Purpose::Attack { flow, gas } => m.attack.order(flow, gas, false),
                }
                return Ok(());
            }
        };
        book_events(events, m);
        if matches!(o.purpose, Purpose::Attack { .. }) {
            m.attack.opened(events);
        }
        m.attack.deleveraged(events);
        match o.purpose {
            Purpose::KeeperClose { volume, penalty } => {
                m.liquidations += 1;
                m.liq_volume += volume;
                m.penalties += penalty;
            }
            Purpose::KeeperUnwind { slippage } | Purpose::LiquidationUnwind { slippage } => {
                m.slippage += slippage
            }
            Purpose::FeeToFund { fee } => m.fees_to_fund += fee,
            Purpose::Cover { account, amount } => {
                m.covered += amount;
                m.losses.push(Loss {
                    account,
                    kind: LossKind::Insurance,
                    amount,
                });
            }
            Purpose::Keeper { keeper, oracle } => {
                book_keeper(events, m, (keeper as usize, step), oracle)
            }
            Purpose::TraderClose => m.trader_closes += 1,
            Purpose::TraderAdd => m.trader_adds += 1,
            Purpose::TraderReopen => m.trader_reopens += 1,
            Purpose::LenderWithdraw { amount } => m.lender_withdrawn += amount,
            Purpose::Attack { flow, gas } => m.attack.order(flow, gas, true),
            Purpose::Required | Purpose::Liquidation | Purpose::WhaleDump => {}
        }
        Ok(())
    }

    /// Books the price phase: the worst drawdown, the whale's dump, a halted chain.
    pub fn prices(&mut self, step: u32, drawdown: f64, whale_dumped: bool, chain_halted: bool) {
        let m = &mut self.m;
        m.max_drawdown = m.max_drawdown.max(drawdown);
        if whale_dumped {
            m.whale_dump_step = Some(step);
        }
        if chain_halted {
            m.chain_halted_steps += 1;
        }
    }

    /// Books the fault phase: the gas cost and a keeper outage.
    pub fn faults(&mut self, gas_usd: f64, outage: bool) {
        self.m.max_gas_usd = self.m.max_gas_usd.max(gas_usd);
        if outage {
            self.m.outage_steps += 1;
        }
    }

    /// Books one market's funding settlement: the index moved from `before` to `after` over
    /// `long_oi` (base-native) open interest.
    pub fn funding(&mut self, before: i128, after: i128, long_oi: i64) {
        let unit = ballast_engine::funding::FUNDING_INDEX_SCALE * ballast_engine::num::VALUE_SCALE;
        let paid = (after - before).saturating_mul(i128::from(long_oi)) / unit;
        self.m.funding_paid = self
            .m
            .funding_paid
            .saturating_add(i64::try_from(paid).unwrap_or(i64::MAX));
    }

    /// Books a fact an agent reported.
    pub fn note(&mut self, n: Note) {
        let m = &mut self.m;
        match n {
            Note::MissedOutage(k) => m.missed_outage += k,
            Note::MissedUnprofitable => m.missed_unprofitable += 1,
            Note::DeferredSell(x) => m.deferred_sell += x,
            Note::Uncovered { account, amount } => {
                m.bad_debt += amount;
                m.losses.push(Loss {
                    account,
                    kind: LossKind::BadDebt,
                    amount,
                });
            }
            Note::AuctionStuck => m.auctions_stuck += 1,
            Note::AttackSpot {
                asset,
                spent,
                base,
                gas,
            } => {
                m.attack.spot(asset, spent, base);
                m.attack.gas += gas;
            }
        }
    }

    /// Counts, at a sampled step, the accounts with a requirement (initial health below
    /// maintenance health: a position or a borrow) and those below their initial and their
    /// maintenance requirement; and bins their maintenance headroom.
    pub fn sample_health(&mut self, eng: &Engine) {
        let mut c: crate::step_record::HealthCount = [0; 3];
        let mut bins: crate::step_record::HeadroomCount = [0; 7];
        for i in 0..eng.state().accounts.len() {
            let id = AccountId(i as u32);
            let (Ok(b), Ok(init)) = (
                eng.breakdown(id, HealthKind::Maintenance),
                eng.health(id, HealthKind::Initial),
            ) else {
                continue;
            };
            bin_headroom(&b, &mut bins);
            let maint = b.health;
            if init.0 >= maint.0 && maint.0 >= 0 {
                continue;
            }
            c[0] += 1;
            c[1] += u32::from(init.0 < 0);
            c[2] += u32::from(maint.0 < 0);
        }
        self.m.steps.health.push(c);
        self.m.steps.headroom.push(bins);
    }

    /// Bins the accounts' maintenance headroom alone (the start of the path).
    pub fn sample_headroom(&mut self, eng: &Engine) {
        let mut bins: crate::step_record::HeadroomCount = [0; 7];
        for i in 0..eng.state().accounts.len() {
            if let Ok(b) = eng.breakdown(AccountId(i as u32), HealthKind::Maintenance) {
                bin_headroom(&b, &mut bins);
            }
        }
        self.m.steps.headroom.push(bins);
    }

    /// Records, on path 0, each source's last quote and the engine's aggregate for the first
    /// assets (`fair`: the model prices).
    pub fn mark_oracle(
        &mut self,
        eng: &Engine,
        feed: &crate::feeds::Feed,
        step: u32,
        fair: &[f64],
    ) {
        let n = fair.len().min(crate::step_record::ORACLE_ASSETS);
        let o = &mut self.m.steps.oracle;
        o.resize(n, Vec::new());
        for (i, marks) in o.iter_mut().enumerate() {
            marks.push(crate::step_record::OracleMark {
                step,
                fair: fair[i],
                aggregate: crate::feeds::engine_price(eng, i),
                quotes: feed.last_quotes(i).to_vec(),
            });
        }
    }

    /// Marks the attackers' books at the end of a step at the fair prices `fair`.
    pub fn mark_attack(&mut self, eng: &Engine, fair: &[f64], decimals: &[u8]) {
        let t = &self.m.attack;
        let mark = crate::step_record::AttackMark {
            deposited: t.deposited,
            spot_spent: t.spot_spent,
            gas: t.gas,
            taken: t.taken,
            notional: t.notional(eng),
            pnl: t.marked_pnl(eng, fair, decimals),
        };
        self.m.steps.attack.push(mark);
    }

    /// Closes a step: breaker modes, the fund's balance and the bad-debt series.
    pub fn end_step(&mut self, eng: &Engine, step: u32) {
        let (n, v) = self.liq_seen;
        let m = &mut self.m;
        m.steps
            .liquidations
            .push(u32::try_from(m.liquidations - n).unwrap_or(u32::MAX));
        m.steps.liq_volume.push(m.liq_volume - v);
        self.liq_seen = (m.liquidations, m.liq_volume);
        if let Some(worst) = record_modes(eng, &mut self.m) {
            self.m.mode_path.push(worst);
        }
        let fund = self.fund(eng);
        let m = &mut self.m;
        m.fund_min = m.fund_min.min(fund);
        m.fund_final = fund;
        m.fund_path.push(fund);
        m.bad_path.push(m.bad_debt);
        if m.bad_debt > 0 && m.first_bad_step.is_none() {
            m.first_bad_step = Some(step);
        }
    }
}

/// Counts an account with a maintenance requirement in its headroom bin (maintenance health /
/// requirement), as the dashboard does (`crates/serve/src/risk.rs`).
fn bin_headroom(
    b: &ballast_engine::margin::Breakdown,
    bins: &mut crate::step_record::HeadroomCount,
) {
    if b.requirement.0 > 0 {
        let h = b.health.0 as f64 / b.requirement.0 as f64;
        bins[crate::step_record::headroom_bin(h)] += 1;
    }
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}
