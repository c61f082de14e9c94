//! Typed rejections. A rejected command changes nothing; the reason says why.

use crate::ids::{AccountId, AssetId, AuctionId, MarketId, PoolId, ProposalId};
use crate::num::{Amount, Overflow, PriceError, Ratio, Timestamp, Value};
use crate::params::{InvariantError, ParamKey};
use serde::Serialize;

/// Who may issue a governance command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Token-holder governance: lists assets and markets, changes parameters through the
    /// timelock, unpauses.
    Governor,
    /// Emergency role: may pause, never move funds or change parameters.
    Guardian,
}

/// A protective mechanism that is installed once and then governed in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Installed {
    Oracle(AssetId),
    MarketBreaker(MarketId),
    PoolBreaker(PoolId),
    VolMargin(MarketId),
}

impl std::fmt::Display for Installed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Installed::Oracle(a) => write!(f, "the oracle of {a}"),
            Installed::MarketBreaker(m) => write!(f, "the circuit breaker of {m}"),
            Installed::PoolBreaker(p) => write!(f, "the circuit breaker of {p}"),
            Installed::VolMargin(m) => write!(f, "the volatility margin of {m}"),
        }
    }
}

/// Why a command was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Reject {
    #[error("time went backwards: last command at {last}, this one at {got}")]
    TimeWentBackwards { last: Timestamp, got: Timestamp },
    #[error("invalid price for {asset}: {reason}")]
    InvalidPrice { asset: AssetId, reason: PriceError },
    #[error("no price yet for {0}")]
    NoPrice(AssetId),
    #[error("unknown asset {0}")]
    UnknownAsset(AssetId),
    #[error("unknown pool {0}")]
    UnknownPool(PoolId),
    #[error("unknown market {0}")]
    UnknownMarket(MarketId),
    #[error("unknown account {0}")]
    UnknownAccount(AccountId),
    #[error("unknown proposal {0}")]
    UnknownProposal(ProposalId),
    #[error("arithmetic overflow: the result does not fit the ledger's fixed-point types")]
    Overflow,
    #[error("{account}'s position in {market} would have a notional of {notional} quote-native units, above the pool's max_position_notional {cap}")]
    PositionTooLarge {
        account: AccountId,
        market: MarketId,
        notional: Amount,
        cap: Amount,
    },
    #[error("{account} would hold {} quote-native units of value, above the pool's max_account_value {cap}", value.0.div_euclid(crate::num::VALUE_SCALE))]
    AccountValueTooLarge {
        account: AccountId,
        value: Value,
        cap: Amount,
    },
    #[error("timestamp {got} ms is beyond {max} ms (9999-12-31): it looks like microseconds or nanoseconds; command times are milliseconds since the Unix epoch")]
    TimestampImplausible { got: Timestamp, max: Timestamp },
    #[error("timestamp {0} ms is before the Unix epoch")]
    TimestampNegative(Timestamp),
    #[error("{what} is {len} bytes long, above the limit of {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("amount must be > 0, got {0}")]
    NonPositiveAmount(Amount),
    #[error("size must be non-zero")]
    ZeroSize,
    #[error("{account} holds {have} of {asset}, cannot take {want}")]
    InsufficientBalance {
        account: AccountId,
        asset: AssetId,
        have: Amount,
        want: Amount,
    },
    #[error("{account} would fall below {kind} margin: health after the command would be {} quote-native units", health.0.div_euclid(crate::num::VALUE_SCALE))]
    InsufficientMargin {
        account: AccountId,
        kind: crate::margin::HealthKind,
        health: Value,
    },
    #[error("pool {pool} lacks liquidity: {available} available, {wanted} wanted")]
    InsufficientLiquidity {
        pool: PoolId,
        available: Amount,
        wanted: Amount,
    },
    #[error("pool {pool} supply cap {cap} would be exceeded")]
    SupplyCapExceeded { pool: PoolId, cap: Amount },
    #[error("pool {pool} borrow cap {cap} would be exceeded")]
    BorrowCapExceeded { pool: PoolId, cap: Amount },
    #[error("fill price deviates {deviation} from index, band is {band}")]
    PriceOutsideBand { deviation: Ratio, band: Ratio },
    #[error("taker and maker are the same account")]
    SelfTrade,
    #[error("{account} is in {actual}, not {expected}")]
    WrongPool {
        account: AccountId,
        expected: PoolId,
        actual: PoolId,
    },
    #[error("{from} and {to} have different owners")]
    NotSameOwner { from: AccountId, to: AccountId },
    #[error("{asset} is not collateral in {pool}")]
    NotCollateral { pool: PoolId, asset: AssetId },
    #[error("{asset} is already collateral in {pool}")]
    DuplicateCollateral { pool: PoolId, asset: AssetId },
    #[error("asset decimals {0} exceed the supported maximum")]
    DecimalsTooLarge(u8),
    #[error("invalid parameters: {0}")]
    InvalidParams(InvariantError),
    #[error("{key} = {value} is outside its bounds [{min}, {max}] (raw units)")]
    ParamOutOfBounds {
        key: ParamKey,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{key}: change {current} → {value} exceeds the max step {max_step} (raw units)")]
    ParamStepTooLarge {
        key: ParamKey,
        current: i64,
        value: i64,
        max_step: i64,
    },
    #[error("{proposal} is time-locked until {eta}")]
    TimelockNotElapsed {
        proposal: ProposalId,
        eta: Timestamp,
    },
    #[error("{proposal} expired at {expired_at}")]
    ProposalExpired {
        proposal: ProposalId,
        expired_at: Timestamp,
    },
    #[error("{0} is not pending")]
    ProposalNotPending(ProposalId),
    /// The issuer lacks the grant the command needs (see [`crate::roles`]). `principal` is the
    /// signer (`None`: unsigned, or the registry is open and only the label counts);
    /// `claimed` is the command's `role` label.
    #[error("{} may not {command}: it needs {needs}", caller(principal, claimed))]
    Unauthorized {
        principal: Option<crate::ids::PrincipalId>,
        claimed: Option<Role>,
        needs: crate::roles::Need,
        command: &'static str,
    },
    #[error("the role registry is already sealed: it changes only through grant_role / revoke_role proposals")]
    RolesAlreadySealed,
    #[error("the role registry is open (genesis mode): seal it with seal_roles before granting or revoking")]
    RolesOpen,
    #[error("role registry: {0}")]
    InvalidRoles(crate::roles::RoleError),
    #[error("{0} cannot be proposed: only listings, installs and role changes go through propose_command")]
    NotProposable(&'static str),
    #[error("{0} is paused")]
    Paused(crate::command::Scope),
    #[error("account {account} has an open position or balance and cannot {action}")]
    NotEmpty {
        account: AccountId,
        action: &'static str,
    },
    /// A breaker mode or an oracle status does not allow this action now.
    #[error("{action:?} blocked by {gate}", action = .0.action, gate = describe_gate(&.0.status))]
    Blocked(ballast_oracle::validity::Blocked),
    /// The oracle refused an input (unknown source, out-of-order quote, bad config...).
    #[error("oracle: {0}")]
    Oracle(ballast_oracle::Error),
    #[error("{0} has a multi-source oracle: its price comes from oracle quotes, not set_price")]
    OracleConfigured(AssetId),
    #[error("{0} has no oracle configured")]
    NoOracle(AssetId),
    #[error("{0} has no circuit breaker configured")]
    NoBreaker(crate::command::Scope),
    #[error("unknown option series {0}")]
    UnknownSeries(crate::ids::SeriesId),
    #[error("expiry {expiry} is not after {now}")]
    ExpiryNotInFuture { expiry: Timestamp, now: Timestamp },
    #[error("{0} has expired")]
    SeriesExpired(crate::ids::SeriesId),
    #[error("{series} expires at {expiry}; it cannot be settled before")]
    SeriesNotExpired {
        series: crate::ids::SeriesId,
        expiry: Timestamp,
    },
    #[error("premium for {0} must be finite and >= 0")]
    InvalidPremium(crate::ids::SeriesId),
    #[error("{0} has no volatility surface: options on it cannot be priced")]
    NoVolSurface(AssetId),
    #[error("{0} holds no settled option position")]
    NothingToSettle(AccountId),
    #[error("options: {0}")]
    Options(ballast_options::OptionsError),
    #[error("invalid volatility margin: {0}")]
    InvalidVolMargin(String),
    #[error("{key}: option margin {rule}")]
    OptionMarginInverted {
        key: ParamKey,
        rule: crate::option_margin::MaintenanceAboveInitial,
    },
    #[error("portfolio margin: {0}")]
    InvalidPortfolio(crate::portfolio::PortfolioError),
    #[error("{market}: long open interest would be {open_interest} base-native units, above the cap {cap}")]
    OpenInterestCap {
        market: MarketId,
        open_interest: Amount,
        cap: Amount,
    },
    #[error("{account}'s position in {market} would be {size} base-native units, above its share of the open-interest cap ({cap})")]
    AccountOpenInterestCap {
        account: AccountId,
        market: MarketId,
        size: Amount,
        cap: Amount,
    },
    #[error("{market}: this window's liquidation capacity of {cap} base-native units is used up; the next window opens at {next_window}")]
    LiquidationCapacity {
        market: MarketId,
        cap: Amount,
        next_window: Timestamp,
    },
    #[error("{0} has no volatility margin configured")]
    NoVolMargin(MarketId),
    #[error("{0} is already installed: change its settings with propose/execute (a re-install would reset its protective state)")]
    AlreadyInstalled(Installed),
    #[error(
        "{key} changed less than the minimum delay ago: the next change may execute at {earliest}"
    )]
    ParamChangeTooSoon { key: ParamKey, earliest: Timestamp },
    #[error("pool {pool} outflow limit: {wanted} quote-native units exceed the remaining buffer")]
    OutflowLimited { pool: PoolId, wanted: Amount },
    #[error("{account} is not liquidatable: maintenance health {} quote-native units", health.0.div_euclid(crate::num::VALUE_SCALE))]
    NotLiquidatable { account: AccountId, health: Value },
    #[error("{account} has nothing to liquidate here")]
    NothingToLiquidate { account: AccountId },
    #[error("{pool} liquidates by {mechanism}")]
    WrongMechanism {
        pool: PoolId,
        mechanism: &'static str,
    },
    #[error("unknown auction {0}")]
    UnknownAuction(AuctionId),
    #[error("{0} is not active")]
    AuctionNotActive(AuctionId),
    #[error("{0} is too old or too cheap: it needs a reset")]
    AuctionNeedsReset(AuctionId),
    #[error("{0} does not need a reset")]
    AuctionNoReset(AuctionId),
    #[error("{account} is back above maintenance (health {} quote-native units): {auction} takes nothing and ends with redo_auction", health.0.div_euclid(crate::num::VALUE_SCALE))]
    AuctionAccountRecovered {
        auction: AuctionId,
        account: AccountId,
        health: Value,
    },
    #[error("{account} already has {auction} running")]
    AuctionRunning {
        account: AccountId,
        auction: AuctionId,
    },
    #[error("auction price {price} is worse than the bidder's limit {limit}")]
    AuctionPriceLimit { price: i64, limit: i64 },
    #[error("{pool} auction breaker at level {level} forbids {action}")]
    AuctionStopped {
        pool: PoolId,
        level: u8,
        action: &'static str,
    },
    #[error("{pool} has {room} of auction room (hole) left")]
    AuctionHoleFull { pool: PoolId, room: Amount },
    #[error("{0} is shut down: only claims are accepted")]
    PoolShutDown(PoolId),
    #[error("{0} is not shut down")]
    NotShutDown(PoolId),
    #[error("{account} claims {claim} of {asset}, cannot withdraw {want}")]
    ClaimExceeded {
        account: AccountId,
        asset: AssetId,
        claim: Amount,
        want: Amount,
    },
    #[error("{0} already has accounts: liquidation parameters change through governance")]
    AlreadyConfigured(PoolId),
}

fn caller(principal: &Option<crate::ids::PrincipalId>, claimed: &Option<Role>) -> String {
    match (principal, claimed) {
        (Some(p), _) => p.to_string(),
        (None, Some(r)) => format!("role {r:?}"),
        (None, None) => "an unsigned caller".into(),
    }
}

fn describe_gate(g: &ballast_oracle::validity::Gate) -> String {
    use ballast_oracle::validity::Gate;
    match g {
        Gate::Oracle {
            status,
            age_ms: Some(age),
        } => format!("oracle status {status:?} (price {age} ms old)"),
        Gate::Oracle {
            status,
            age_ms: None,
        } => format!("oracle status {status:?}"),
        Gate::Breaker { mode } => format!("circuit breaker mode {mode:?}"),
    }
}

impl From<Overflow> for Reject {
    fn from(_: Overflow) -> Self {
        Reject::Overflow
    }
}
