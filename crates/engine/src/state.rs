//! The ledger's state: assets, risk pools, markets, accounts, proposals. Plain data; every
//! change to it happens in [`crate::engine`]. Serializes canonically (vectors and ordered
//! fields only) so its hash is the same on every machine.

use crate::ids::{AccountId, AssetId, MarketId, OwnerId, PoolId, ProposalId, SeriesId};
use crate::num::{Amount, Price, Ratio, Timestamp};

use crate::params::{CollateralParams, LiquidationParams, MarketParams, ParamKey, PoolParams};
use ballast_oracle::aggregate::{Aggregator, OracleStatus};
use ballast_oracle::breaker::{Breaker, ChainSignal};
use ballast_oracle::smooth::StablePrice;
use ballast_oracle::validity::ValidityMatrix;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// A multi-source oracle in front of an asset's price: the aggregate becomes the asset's
/// price, the stable price values new risk, the status gates actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OracleFeed {
    pub aggregator: Aggregator,
    pub stable: StablePrice,
    pub status: OracleStatus,
    /// Age of the held price when the status was computed (for staleness rules).
    pub age_ms: Option<i64>,
    /// Mango v4 stable price in fixed point (`None` until the first trusted aggregate).
    pub stable_price: Option<Price>,
    /// When the held price was computed (ms); with no new quote it ages into `Stale`, then
    /// `NoQuorum`, at the aggregator's limits.
    pub as_of_ms: Option<i64>,
}

impl OracleFeed {
    /// Status and age of the held price at `now`, accounting for time without quotes.
    pub fn status_at(&self, now_ms: i64) -> (OracleStatus, Option<i64>) {
        let Some(as_of) = self.as_of_ms else {
            return (self.status, self.age_ms);
        };
        let age = (now_ms - as_of).max(0);
        let cfg = self.aggregator.config();
        let aged = if age > cfg.max_staleness_ms + cfg.max_hold_ms {
            OracleStatus::NoQuorum
        } else if age > cfg.max_staleness_ms {
            OracleStatus::Stale
        } else {
            OracleStatus::Valid
        };
        (self.status.max(aged), Some(age))
    }
}

/// A token known to the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub symbol: String,
    /// Native units per whole token = 10^decimals (at most [`MAX_DECIMALS`]).
    pub decimals: u8,
    /// Latest price in the quote asset of the pools that use it (one price per asset for now;
    /// an oracle sits in front of this later).
    pub price: Option<Price>,
    pub price_time: Timestamp,
    /// Deposits minus withdrawals (including borrowed amounts taken out), native units.
    pub net_deposits: i128,
    /// Multi-source oracle; `None`: the price comes from `set_price` commands.
    pub oracle: Option<Box<OracleFeed>>,
    /// Implied-volatility surface for options on this asset (validated against arbitrage).
    pub vol_surface: Option<Box<ballast_options::portfolio::BuiltSurface>>,
}

/// Largest supported asset decimals: keeps prices of cheap tokens representable.
pub const MAX_DECIMALS: u8 = 12;

/// Lending state of a pool's quote asset. Interest accrues through two indices; accounts
/// settle lazily against them, and the settlement flows through `interest_clearing` so that
/// every unit stays accounted (borrowers pay in, lenders are paid out, the reserve stays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lending {
    pub deposit_index: i128,
    pub borrow_index: i128,
    pub last_accrual: Timestamp,
    /// Σ of positive balances scaled to index 1.0 (see `Engine::scaled`).
    pub deposits_scaled: i128,
    /// Σ of |negative balances| scaled to index 1.0.
    pub borrows_scaled: i128,
    /// Interest collected from borrowers not yet paid to lenders; its long-run surplus is the
    /// protocol's reserve.
    pub interest_clearing: Amount,
}

/// A risk pool: a silo with its own markets, collateral list, insurance fund and fee account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    pub name: String,
    pub quote: AssetId,
    pub collateral: Vec<CollateralParams>,
    pub markets: Vec<MarketId>,
    pub params: PoolParams,
    pub lending: Lending,
    pub insurance_fund: Amount,
    pub fee_account: Amount,
    /// Losses recognised as uncovered (quote units).
    pub bad_debt: Amount,
    pub paused: bool,
    /// Pool-wide circuit breaker (outflow limiter, chain signals, oracle status of its assets).
    pub breaker: Option<Breaker>,
    /// Liquidation parameters and state; omitted from the canonical form while untouched, so
    /// ledgers that never liquidate keep their hashes.
    #[serde(default, skip_serializing_if = "PoolLiquidation::is_initial")]
    pub liquidation: PoolLiquidation,
    /// Lowered maintenance weights on their way down (one per asset at most).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maint_ramps: Vec<WeightRamp>,
    /// Portfolio-margin inputs; omitted from the canonical form while at their defaults.
    #[serde(
        default,
        skip_serializing_if = "crate::portfolio::PortfolioParams::is_default"
    )]
    pub portfolio: crate::portfolio::PortfolioParams,
    /// Standard option-margin α/β; omitted from the canonical form while at their defaults.
    #[serde(
        default,
        skip_serializing_if = "crate::option_margin::OptionMarginParams::is_default"
    )]
    pub option_margin: crate::option_margin::OptionMarginParams,
}

/// A lowered collateral maintenance weight that ramps in linearly instead of jumping, so
/// accounts are not made liquidatable by a governance vote at once (Euler v2 `setLTV`: the
/// liquidation LTV ramps down over `rampDuration`, the borrow LTV changes immediately).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightRamp {
    pub asset: AssetId,
    pub from: Ratio,
    pub to: Ratio,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl WeightRamp {
    /// The weight at `t`: `from` at the start, `to` from the end on, linear in between
    /// (rounded toward `to`, the new setting).
    pub fn at(&self, t: Timestamp) -> Ratio {
        if t >= self.end || self.end <= self.start {
            return self.to;
        }
        let done = (t.0.max(self.start.0) - self.start.0) as i128;
        let span = (self.end.0 - self.start.0) as i128;
        let drop = (self.from.0 as i128 - self.to.0 as i128) * done;
        // ceil(drop / span): toward `to` (drop ≥ 0 for a lowering).
        let step = (drop + span - 1).div_euclid(span);
        Ratio((self.from.0 as i128 - step).max(self.to.0 as i128) as i64)
    }
}

/// A perpetual futures market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Market {
    pub symbol: String,
    pub pool: PoolId,
    pub base: AssetId,
    pub params: MarketParams,
    /// Cumulative funding per base-native unit (see [`crate::funding::FUNDING_INDEX_SCALE`]);
    /// longs pay when it rises.
    pub funding_index: i128,
    pub last_funding: Timestamp,
    /// One-hour time-weighted average of fill prices.
    pub mark_twap: Option<Price>,
    pub last_mark: Timestamp,
    /// One-hour time-weighted average of the index (oracle) price.
    pub index_twap: Option<Price>,
    pub last_index: Timestamp,
    pub long_oi: Amount,
    pub short_oi: Amount,
    /// Funding paid by payers not yet collected by receivers (rounding keeps it ≥ 0 overall).
    pub funding_clearing: Amount,
    pub paused: bool,
    /// Market circuit breaker (k·σ moves, oracle status of the base asset, chain signals).
    pub breaker: Option<Breaker>,
    /// Volatility add-on to both margin rates; `None`: static rates.
    pub vol_margin: Option<crate::volmargin::VolMargin>,
    /// Keeper takeovers in the current liquidation-capacity window: (window number, base
    /// amount taken).
    #[serde(default, skip_serializing_if = "LiquidationWindow::is_empty")]
    pub liquidation_window: LiquidationWindow,
}

/// How much of a market's liquidation capacity the current window has used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidationWindow {
    pub window: i64,
    pub used: Amount,
}

impl LiquidationWindow {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A perpetual position inside an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub market: MarketId,
    /// Signed size in base-native units (long > 0).
    pub size: Amount,
    /// Quote cash flow of the open size (negative of its entry cost): `pnl = quote + size·price`.
    pub quote: Amount,
    /// Funding index at the last settlement.
    pub funding_snapshot: i128,
}

/// A European option series: cash-settled at expiry against the underlying's price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionSeries {
    pub symbol: String,
    pub pool: PoolId,
    pub underlying: AssetId,
    pub kind: ballast_options::pricing::OptionKind,
    pub strike: Price,
    pub expiry: Timestamp,
    /// Fixed by `expire_series` at or after expiry; positions then settle at intrinsic value.
    pub settlement: Option<Price>,
    /// Σ of long sizes (= Σ of short sizes).
    pub long_oi: Amount,
    /// Payoffs collected from shorts not yet paid to longs (rounding keeps it ≥ 0 overall).
    pub clearing: Amount,
}

/// An option position: signed size in underlying native units (long > 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionPosition {
    pub series: SeriesId,
    pub size: Amount,
    /// Premium cash flow of the open size (negative of its cost for a long), for reporting.
    pub premium: Amount,
}

/// How an account's requirement is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginMode {
    /// Per-position rates (size premium, option short rule).
    #[default]
    Standard,
    /// Whole-portfolio revaluation under correlated spot × vol shocks (Derive v2 PMRM style).
    Portfolio,
}

/// Signed quote balance: > 0 is a deposit earning the supply index, < 0 a borrow owing the
/// borrow index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QuoteBalance {
    pub amount: Amount,
    /// Index (deposit or borrow, by sign) at the last settlement.
    pub index: i128,
    /// This balance's contribution to the pool's scaled totals.
    pub scaled: i128,
}

/// A margin account (sub-account). Cross-margined within itself, isolated from the owner's
/// other sub-accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub owner: OwnerId,
    pub pool: PoolId,
    pub quote: QuoteBalance,
    /// Non-quote collateral balances (never negative), sorted by asset id.
    pub collateral: SmallVec<[(AssetId, Amount); 2]>,
    /// Open positions, sorted by market id.
    pub positions: SmallVec<[Position; 2]>,
    /// Option positions, sorted by series id.
    pub options: SmallVec<[OptionPosition; 1]>,
    pub margin_mode: MarginMode,
}

/// Governance settings fixed at genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceConfig {
    /// Delay between proposal and earliest execution.
    pub timelock_ms: i64,
    /// After `eta + grace_ms` an unexecuted proposal expires.
    pub grace_ms: i64,
    /// Least time between two executed changes of the same key (Aave Risk Stewards'
    /// `minDelay`): a governed value moves at most one max step per this delay.
    #[serde(default = "default_min_delay")]
    pub min_delay_ms: i64,
    /// A lowered collateral maintenance weight ramps in over this long (Euler v2
    /// `rampDuration`). Documented default when absent: one day.
    #[serde(default = "default_ramp")]
    pub ramp_ms: i64,
}

fn default_min_delay() -> i64 {
    24 * 3600 * 1000
}

fn default_ramp() -> i64 {
    24 * 3600 * 1000
}

impl Default for GovernanceConfig {
    fn default() -> Self {
        GovernanceConfig {
            timelock_ms: 24 * 3600 * 1000,
            grace_ms: 7 * 24 * 3600 * 1000,
            min_delay_ms: default_min_delay(),
            ramp_ms: default_ramp(),
        }
    }
}

/// Where a proposal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    Pending,
    Executed,
    Cancelled,
}

/// When a governed key last changed (for the minimum delay between changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamChange {
    pub key: ParamKey,
    pub at: Timestamp,
}

/// A proposed parameter change or queued command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Flattened: a parameter proposal serializes as `key`, `value` (as before commands could
    /// be proposed), a command proposal as `command`.
    #[serde(flatten)]
    pub change: Change,
    pub proposed_at: Timestamp,
    /// Earliest execution time.
    pub eta: Timestamp,
    pub state: ProposalState,
}

/// What a proposal changes when executed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Change {
    /// One governed setting to `value` (raw units, see [`ParamKey::format_value`]).
    Param { key: ParamKey, value: i64 },
    /// A listing, install or role change (see [`crate::roles::through_timelock`]).
    Command {
        command: Box<crate::command::Command>,
    },
}

impl Change {
    /// The governed setting a parameter proposal changes.
    pub fn key(&self) -> Option<&ParamKey> {
        match self {
            Change::Param { key, .. } => Some(key),
            Change::Command { .. } => None,
        }
    }
}

/// The whole ledger.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct State {
    pub time: Timestamp,
    /// Number of commands accepted so far.
    pub seq: u64,
    pub governance: GovernanceConfig,
    pub paused: bool,
    /// The quote asset every pool settles in; asset prices are quoted in it.
    pub numeraire: Option<AssetId>,
    pub assets: Vec<Asset>,
    pub pools: Vec<Pool>,
    pub markets: Vec<Market>,
    pub accounts: Vec<Account>,
    pub proposals: Vec<Proposal>,
    /// Last execution time of each governed key that has changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_changes: Vec<ParamChange>,
    /// Which actions each oracle status allows.
    pub validity: ValidityMatrix,
    /// Latest chain-health signal (halt, congestion) fed to every breaker.
    pub chain: ChainSignal,
    pub series: Vec<OptionSeries>,
    /// Dutch auctions, by id (finished ones stay, so ids are stable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auctions: Vec<Auction>,
    /// The role registry; omitted while open (genesis mode), so unsealed ledgers keep their
    /// hashes.
    #[serde(default, skip_serializing_if = "crate::roles::Roles::is_open")]
    pub roles: crate::roles::Roles,
}

impl Account {
    pub fn position(&self, m: MarketId) -> Option<&Position> {
        self.positions.iter().find(|p| p.market == m)
    }
    pub fn collateral_amount(&self, a: AssetId) -> Amount {
        self.collateral
            .iter()
            .find(|(x, _)| *x == a)
            .map(|(_, v)| *v)
            .unwrap_or(Amount::ZERO)
    }
}

impl State {
    /// Canonical hash of the whole state (BLAKE3 over its JSON form).
    pub fn hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("state serializes");
        blake3::hash(&bytes).to_hex().to_string()
    }
    /// The account id that the next `OpenAccount` will get.
    pub fn next_account(&self) -> AccountId {
        AccountId(self.accounts.len() as u32)
    }
    pub fn proposal(&self, id: ProposalId) -> Option<&Proposal> {
        self.proposals.get(id.idx())
    }
}

/// Liquidation state of one pool: its parameters, the auction breaker, the value in auction,
/// when each account's liquidation began, and emergency settlement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PoolLiquidation {
    pub params: LiquidationParams,
    /// Auction breaker (Maker Clipper `stopped`): 0 none, 1 no new auctions, 2 also no resets,
    /// 3 also no takes.
    pub breaker: u8,
    /// Quote value of lots in active auctions (Maker Dog `dirt`), capped by `auction_hole`.
    pub dirt: Amount,
    /// Accounts whose liquidation has begun and when, sorted by account (drives the
    /// liquidator reward's rise with time).
    pub since: Vec<(AccountId, Timestamp)>,
    /// Running auctions by account (at most one each), sorted by account.
    pub active: Vec<(AccountId, crate::ids::AuctionId)>,
    /// Set by emergency shutdown; from then on only claims are accepted.
    pub shutdown: Option<Shutdown>,
    /// Collateral skimmed from indebted accounts at shutdown not yet handed to claimants
    /// (rounding remainder), per asset, sorted.
    pub basket: Vec<(AssetId, Amount)>,
}

impl PoolLiquidation {
    pub fn is_initial(&self) -> bool {
        *self == PoolLiquidation::default()
    }
}

/// A pool's emergency settlement (Maker End): when it was caged and its fixed prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shutdown {
    pub at: Timestamp,
    /// Settlement price of each collateral and market base asset, sorted by asset.
    pub prices: Vec<(AssetId, Price)>,
}

/// What a liquidation sells: a slice of a perpetual position or a collateral balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Lot {
    Perp(MarketId),
    Collateral(AssetId),
    /// An option position: taken over at the model mark (issue 10: options in every defence).
    Option(crate::ids::SeriesId),
}

/// Where an auction is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuctionState {
    Active,
    /// Fully taken.
    Done,
    /// Ended without completing (account restored, lot gone, waterfall or shutdown).
    Cancelled,
}

/// A Dutch auction of one lot of one account (Maker Clipper `sales`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auction {
    pub pool: crate::ids::PoolId,
    pub account: AccountId,
    pub lot: Lot,
    /// Remaining size, signed as the account holds it (short perp lots are negative).
    pub size: Amount,
    /// Oracle price when the auction (re)started.
    pub oracle: Price,
    /// Start price `buf × oracle`.
    pub top: Price,
    pub start: Timestamp,
    /// Quote value this auction adds to the pool's `dirt`.
    pub dirt: Amount,
    pub state: AuctionState,
}
