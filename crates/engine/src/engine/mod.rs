//! The engine: `apply(command) -> events | reject`, the one entry point. `dispatch` routes each
//! command, one line per command, to the controller of its domain: `listing` (assets, pools,
//! collateral, markets, accounts), `balances` (deposits, withdrawals, transfers), `lending`
//! (indices, interest, borrowing), `prices` (set prices, TWAPs, funding), `trading` (perp
//! fills and the one perp position update), `governance`, `oracle` (quotes, breakers, gates),
//! `options`, `liquidation`, `auction`, `waterfall` and `settlement`; `health` is the one
//! health computation and `queries` the read-only answers. Each handler works on copies of
//! what it touches and commits only when every check has passed, so a rejected command leaves
//! the state byte-for-byte unchanged.

use crate::command::{Command, Envelope, Scope};
use crate::error::Reject;
use crate::event::Event;
use crate::funding::{self, FUNDING_INDEX_SCALE};
use crate::ids::{AccountId, AssetId, MarketId, OwnerId, PoolId, ProposalId};
use crate::margin::{self, Breakdown, Contribution, HealthKind};
use crate::num::{
    div_round, mul_div, Amount, Overflow, Price, Ratio, Round, Timestamp, Value, MS_PER_HOUR,
    VALUE_SCALE,
};
use crate::params::{CollateralParams, MarketParams, ParamKey, PoolParams};
use crate::rates::{self, INDEX_SCALE};
use crate::risk::RiskIndex;
use crate::state::*;
use smallvec::SmallVec;

mod access;
mod auction;
mod balances;
mod governance;
mod health;
mod lending;
mod liquidation;
mod listing;
mod options;
mod oracle;
mod prices;
mod queries;
mod settlement;
mod trading;
mod waterfall;

pub use auction::{auction_price, needs_reset};
use health::MarginContext;
pub(crate) use lending::{accrued, quote_now};
use lending::{add_quote, settle_interest};
pub use liquidation::{liquidator_share, penalty_rate, size_to_target, QueueEntry};
use listing::MarketListing;
pub use options::BookGreeks;
use options::{OptionTrade, SeriesListing};
pub use oracle::HaltedExposure;
use prices::funding_payment;
pub(crate) use prices::unsettled_funding;
pub use prices::TWAP_WINDOW_MS;
use trading::Trade;

use ballast_oracle::validity::Action;

/// A tentative change to one account: its new quote balance and one position's new state.
#[derive(Debug, Clone, Copy, Default)]
struct Patch {
    quote: QuoteBalance,
    market: MarketId,
    position: Option<Position>,
}

/// The clearing state machine. Owns the ledger [`State`] and a derived risk index (not part of
/// the state hash; rebuilt identically on replay).
#[derive(Debug, Clone, Default)]
pub struct Engine {
    state: State,
    risk: RiskIndex,
    /// Time at which risk is evaluated: the command being applied, else the last accepted one.
    clock: Timestamp,
    /// When recording: every accepted envelope, in order (the journal that rebuilds this state
    /// from an empty engine). Not part of the state or its hash.
    tape: Option<Vec<Envelope>>,
}

/// Longest asset symbol, market symbol or pool name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Latest accepted command time: 9999-12-31T23:59:59.999Z in milliseconds. A microsecond
/// timestamp of today (~1.7e15) is beyond it, so a unit mistake is refused, not accrued.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;

fn bounded_name(what: &'static str, s: &str) -> Result<(), Reject> {
    if s.len() > MAX_NAME_LEN {
        return Err(Reject::TooLong {
            what,
            len: s.len(),
            max: MAX_NAME_LEN,
        });
    }
    Ok(())
}

/// Timestamp sanity: milliseconds since the epoch, not before it, not past year 9999.
fn plausible_time(t: Timestamp) -> Result<(), Reject> {
    if t.0 < 0 {
        return Err(Reject::TimestampNegative(t));
    }
    if t.0 > MAX_TIMESTAMP_MS {
        return Err(Reject::TimestampImplausible {
            got: t,
            max: Timestamp(MAX_TIMESTAMP_MS),
        });
    }
    Ok(())
}

fn positive(amount: Amount) -> Result<(), Reject> {
    if amount.0 > 0 {
        Ok(())
    } else {
        Err(Reject::NonPositiveAmount(amount))
    }
}

impl Engine {
    pub fn new() -> Self {
        Engine::default()
    }

    /// An engine with non-default governance settings (timelock, grace period).
    pub fn with_governance(governance: GovernanceConfig) -> Self {
        let mut e = Engine::default();
        e.state.governance = governance;
        e
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// An engine resumed from a saved [`State`] (a snapshot taken with [`Engine::state`]). The
    /// derived risk index is rebuilt at its first query, so the result answers and applies
    /// commands exactly as the engine that saved the state (same state hash after each one).
    pub fn from_state(state: State) -> Self {
        let mut e = Engine {
            clock: state.time,
            state,
            risk: RiskIndex::default(),
            tape: None,
        };
        e.risk.resize_assets(e.state.assets.len());
        e.risk.resize_accounts(e.state.accounts.len());
        e.risk.invalidate_all();
        e
    }

    /// Starts recording every accepted envelope from now on (see [`Engine::take_tape`]): a
    /// driver that builds a state by commands (the lab's book genesis) can hand it over as a
    /// journal. Started on an empty engine, the tape replays to this engine's state hash.
    pub fn start_tape(&mut self) {
        self.tape.get_or_insert_with(Vec::new);
    }

    /// The envelopes accepted since [`Engine::start_tape`] (empty if it was never called);
    /// recording stops.
    pub fn take_tape(&mut self) -> Vec<Envelope> {
        self.tape.take().unwrap_or_default()
    }

    /// Canonical hash of the ledger state.
    pub fn state_hash(&self) -> String {
        self.state.hash()
    }

    /// Applies one command, returning its events; on rejection nothing changes.
    pub fn apply(&mut self, env: &Envelope) -> Result<Vec<Event>, Reject> {
        let mut out = Vec::new();
        self.apply_into(env, &mut out)?;
        Ok(out)
    }

    /// As [`Engine::apply`], appending events to a caller-owned buffer (no allocation per
    /// command on the hot path). On rejection `out` is left as it was.
    pub fn apply_into(&mut self, env: &Envelope, out: &mut Vec<Event>) -> Result<(), Reject> {
        let now = env.time;
        plausible_time(now)?;
        if now < self.state.time {
            return Err(Reject::TimeWentBackwards {
                last: self.state.time,
                got: now,
            });
        }
        crate::roles::authorize(&self.state, env.by, &env.cmd)?;
        let mark = out.len();
        self.clock = now;
        let r = self.dispatch(now, &env.cmd, out);
        match r {
            Ok(()) => {
                self.state.time = now;
                self.state.seq += 1;
                if let Some(t) = &mut self.tape {
                    t.push(env.clone());
                }
                Ok(())
            }
            Err(e) => {
                out.truncate(mark);
                self.clock = self.state.time;
                Err(e)
            }
        }
    }

    /// Routes a command to its controller: one arm per command, each handler in the file of
    /// its domain (listing, balances, lending, prices, trading, governance, oracle, options,
    /// liquidation, auction, settlement).
    #[rustfmt::skip] // a routing table: one line per command reads better than rustfmt's layout
    fn dispatch(&mut self, now: Timestamp, cmd: &Command, out: &mut Vec<Event>) -> Result<(), Reject> {
        use Command as C;
        self.check_frozen(cmd)?;
        match *cmd {
            // listing
            C::CreateAsset { ref symbol, decimals, .. } => self.create_asset(symbol, decimals, out),
            C::CreatePool { ref name, quote, ref params, .. } => self.create_pool(now, name, quote, params, out),
            C::AddCollateral { pool, asset, init_weight, maint_weight, .. } => self.add_collateral(pool, asset, init_weight, maint_weight, out),
            C::CreateMarket { ref symbol, pool, base, ref params, .. } => self.create_market(now, &MarketListing { symbol, pool, base, params }, out),
            C::OpenAccount { owner, pool } => self.open_account(owner, pool, out),
            // balances and lending
            C::Deposit { account, asset, amount } => self.deposit(now, account, asset, amount, out),
            C::Withdraw { account, asset, amount } => self.withdraw(now, account, asset, amount, out),
            C::Borrow { account, amount } => self.borrow(now, account, amount, out),
            C::Transfer { from, to, asset, amount } => self.transfer(now, from, to, asset, amount, out),
            // prices, funding, trading
            C::SetPrice { asset, price } => self.set_price(now, asset, price, out),
            C::Fill { market, taker, maker, size, price } => self.fill(now, &Trade { market, taker, maker, size, price }, out),
            C::SettleFunding { market } => self.settle_market_funding(now, market, out),
            C::ConfigureVolMargin { market, ref config, .. } => self.configure_vol_margin(market, config, out),
            // governance
            C::Propose { key, value, .. } => self.propose(now, key, value, out),
            C::Execute { proposal, .. } => self.execute(now, proposal, out),
            C::Cancel { proposal, .. } => self.cancel(proposal, out),
            C::Pause { scope, .. } => self.pause(scope, true, out),
            C::Unpause { scope, .. } => self.pause(scope, false, out),
            // oracle and breakers
            C::ConfigureOracle { asset, ref sources, ref config, ref stable, .. } => self.configure_oracle(asset, sources, config, stable, out),
            C::OracleUpdate { asset, ref quotes } => self.oracle_update(now, asset, quotes, out),
            C::ConfigureBreaker { scope, ref config, .. } => self.configure_breaker(scope, config, out),
            C::ChainStatus { halted, congestion } => self.chain_status(now, halted, congestion, out),
            C::GovernBreaker { scope, mode, .. } => self.govern_breaker(now, scope, mode, out),
            // options
            C::CreateOptionSeries { pool, underlying, kind, strike, expiry, .. } => self.create_series(now, &SeriesListing { pool, underlying, kind, strike, expiry }, out),
            C::SetVolSurface { asset, ref surface } => self.set_vol_surface(asset, surface, out),
            C::OptionFill { series, taker, maker, size, premium } => self.option_fill(now, &OptionTrade { series, taker, maker, size, premium }, out),
            C::ExpireSeries { series } => self.expire_series(now, series, out),
            C::SettleOptions { account } => self.settle_options(now, account, out),
            C::SetMarginMode { account, mode } => self.set_margin_mode(now, account, mode, out),
            // liquidation, auctions, shutdown
            C::ConfigureLiquidation { pool, ref params, .. } => self.configure_liquidation(pool, params, out),
            C::Liquidate { liquidator, account, market, max_size } => self.liquidate(now, liquidator, account, market, max_size, out),
            C::StartAuction { account, keeper } => self.start_auction(now, account, keeper, out),
            C::TakeAuction { auction, bidder, max_amount, price_limit } => self.take_auction(now, auction, bidder, max_amount, price_limit, out),
            C::RedoAuction { auction, keeper } => self.redo_auction(now, auction, keeper, out),
            C::SetAuctionBreaker { pool, level, .. } => self.set_auction_breaker(pool, level, out),
            C::Shutdown { pool, .. } => self.shutdown(now, pool, out),
            C::Claim { account, asset, amount } => self.claim(account, asset, amount, out),
            // roles
            C::SealRoles { ref holders } => self.seal_roles(holders, out),
            C::GrantRole { principal, ref grant } => self.change_role(principal, grant, true, out),
            C::RevokeRole { principal, ref grant } => self.change_role(principal, grant, false, out),
            C::ProposeCommand { ref command, .. } => self.propose_command(now, command, out),
        }
    }

    // ----- lookups -------------------------------------------------------------------------

    fn asset(&self, a: AssetId) -> Result<&Asset, Reject> {
        self.state
            .assets
            .get(a.idx())
            .ok_or(Reject::UnknownAsset(a))
    }
    fn pool(&self, p: PoolId) -> Result<&Pool, Reject> {
        self.state.pools.get(p.idx()).ok_or(Reject::UnknownPool(p))
    }
    fn market(&self, m: MarketId) -> Result<&Market, Reject> {
        self.state
            .markets
            .get(m.idx())
            .ok_or(Reject::UnknownMarket(m))
    }
    fn account(&self, a: AccountId) -> Result<&Account, Reject> {
        self.state
            .accounts
            .get(a.idx())
            .ok_or(Reject::UnknownAccount(a))
    }

    fn check_not_paused(&self, pool: PoolId, market: Option<MarketId>) -> Result<(), Reject> {
        if self.state.paused {
            return Err(Reject::Paused(Scope::Global));
        }
        if self.state.pools[pool.idx()].paused {
            return Err(Reject::Paused(Scope::Pool(pool)));
        }
        if let Some(m) = market {
            if self.state.markets[m.idx()].paused {
                return Err(Reject::Paused(Scope::Market(m)));
            }
        }
        Ok(())
    }

    /// A collateral's weights in effect now: a lowered maintenance weight still ramping in
    /// counts at its ramp value.
    pub(crate) fn collateral_params(
        &self,
        pool: &Pool,
        asset: AssetId,
    ) -> Option<CollateralParams> {
        let mut c = pool.collateral.iter().find(|c| c.asset == asset).copied()?;
        if let Some(r) = pool.maint_ramps.iter().find(|r| r.asset == asset) {
            c.maint_weight = r.at(self.state.time).max(c.maint_weight);
        }
        Some(c)
    }
}
