//! Commands: the only way in. Each arrives with its time; the engine turns it into events or
//! a typed rejection. A journal is a sequence of [`Envelope`]s, one JSON object per line.

use crate::error::Role;
use crate::ids::{
    AccountId, AssetId, AuctionId, MarketId, OwnerId, PoolId, PrincipalId, ProposalId,
};
use crate::num::{Amount, Ratio, Timestamp};
use crate::params::{LiquidationParams, MarketParams, ParamKey, PoolParams};
use serde::{Deserialize, Serialize};

/// What a pause applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    Global,
    Pool(PoolId),
    Market(MarketId),
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Global => write!(f, "the protocol"),
            Scope::Pool(p) => write!(f, "{p}"),
            Scope::Market(m) => write!(f, "{m}"),
        }
    }
}

/// Every state change the engine accepts. Amounts are native units of their asset; prices are
/// human prices (quote tokens per base token) checked and converted to fixed point on entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// List a token. Its id is the next free asset id.
    CreateAsset {
        role: Role,
        symbol: String,
        decimals: u8,
    },
    /// Create a risk pool whose quote (settlement and lending) asset is `quote`.
    CreatePool {
        role: Role,
        name: String,
        quote: AssetId,
        params: PoolParams,
    },
    /// Accept a non-quote asset as collateral in a pool, with haircuts.
    AddCollateral {
        role: Role,
        pool: PoolId,
        asset: AssetId,
        init_weight: Ratio,
        maint_weight: Ratio,
    },
    /// Create a perpetual market on `base`, settled in the pool's quote asset.
    CreateMarket {
        role: Role,
        symbol: String,
        pool: PoolId,
        base: AssetId,
        params: MarketParams,
    },
    /// Open a sub-account for `owner` in `pool`. Its id is the next free account id.
    OpenAccount {
        owner: OwnerId,
        pool: PoolId,
    },
    Deposit {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    /// Take tokens out; allowed only if initial margin still holds afterwards.
    Withdraw {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    /// Borrow the pool's quote asset against collateral and take it out.
    Borrow {
        account: AccountId,
        amount: Amount,
    },
    /// Move tokens between two sub-accounts of the same owner.
    Transfer {
        from: AccountId,
        to: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    /// A new price for an asset (the seam where a multi-source oracle plugs in).
    SetPrice {
        asset: AssetId,
        price: f64,
    },
    /// A matched trade: the taker buys `size` (sells if negative) from the maker at `price`.
    Fill {
        market: MarketId,
        taker: AccountId,
        maker: AccountId,
        size: Amount,
        price: f64,
    },
    /// Advance the market's cumulative funding index from its mark/index premium.
    SettleFunding {
        market: MarketId,
    },
    /// Propose a parameter change; executable after the timelock.
    Propose {
        role: Role,
        key: ParamKey,
        value: i64,
    },
    Execute {
        role: Role,
        proposal: ProposalId,
    },
    Cancel {
        role: Role,
        proposal: ProposalId,
    },
    /// Emergency stop of trading, withdrawals and borrowing (deposits and repayments go on).
    Pause {
        role: Role,
        scope: Scope,
    },
    Unpause {
        role: Role,
        scope: Scope,
    },
    /// Put a multi-source oracle in front of an asset (replaces `set_price` for it).
    ConfigureOracle {
        role: Role,
        asset: AssetId,
        sources: Vec<ballast_oracle::aggregate::SourceSpec>,
        config: ballast_oracle::aggregate::AggregatorConfig,
        stable: ballast_oracle::smooth::StablePriceConfig,
    },
    /// Prices from one or more sources for an asset, published at the command's time, then one
    /// aggregate (as Maker's Median `poke` takes every signed value at once).
    OracleUpdate {
        asset: AssetId,
        quotes: Vec<SourceQuote>,
    },
    /// Install or replace the circuit breaker of a market or pool (governance).
    ConfigureBreaker {
        role: Role,
        scope: Scope,
        config: ballast_oracle::breaker::BreakerConfig,
    },
    /// Chain health from the environment (sequencer/L1 monitor): fed to every breaker.
    ChainStatus {
        halted: bool,
        congestion: f64,
    },
    /// Governance override of a breaker's mode, within the breaker's rules.
    GovernBreaker {
        role: Role,
        scope: Scope,
        mode: ballast_oracle::breaker::Mode,
    },
    /// Add a volatility-driven add-on to a market's margin rates (governance).
    ConfigureVolMargin {
        role: Role,
        market: MarketId,
        config: crate::volmargin::VolMarginConfig,
    },
    /// List a European option series (cash-settled in the pool's quote asset).
    CreateOptionSeries {
        role: Role,
        pool: PoolId,
        underlying: AssetId,
        kind: ballast_options::pricing::OptionKind,
        strike: f64,
        expiry: Timestamp,
    },
    /// New implied-volatility surface for an asset's options (market data, like a price).
    SetVolSurface {
        asset: AssetId,
        surface: ballast_options::portfolio::SurfaceSpec,
    },
    /// A matched option trade: the taker buys `size` (sells if negative) at `premium` per whole
    /// underlying unit.
    OptionFill {
        series: crate::ids::SeriesId,
        taker: AccountId,
        maker: AccountId,
        size: Amount,
        premium: f64,
    },
    /// At or after expiry: fix the settlement price from the underlying's price.
    ExpireSeries {
        series: crate::ids::SeriesId,
    },
    /// Pay out an account's positions in settled series.
    SettleOptions {
        account: AccountId,
    },
    /// Choose standard or portfolio margin for an account.
    SetMarginMode {
        account: AccountId,
        mode: crate::state::MarginMode,
    },
    /// Set a pool's liquidation parameters at genesis (before its first account opens);
    /// afterwards each one changes only through `Propose`/`Execute`.
    ConfigureLiquidation {
        role: Role,
        pool: PoolId,
        params: LiquidationParams,
    },
    /// Keeper takeover of part of an account below maintenance (pool mechanism
    /// `keeper_takeover`); on a bankrupt account it runs the loss waterfall under either
    /// mechanism. `market` picks the position (default: the largest lot); `max_size` caps the
    /// base amount taken.
    Liquidate {
        liquidator: AccountId,
        account: AccountId,
        market: Option<MarketId>,
        max_size: Option<Amount>,
    },
    /// Start a Dutch auction of an account's largest lot (pool mechanism `dutch_auction`).
    StartAuction {
        account: AccountId,
        keeper: AccountId,
    },
    /// Buy up to `max_amount` of an auction's lot at its current price, if that price is no
    /// worse for the bidder than `price_limit` (human price: at most this for a long or
    /// collateral lot, at least this for a short lot).
    TakeAuction {
        auction: AuctionId,
        bidder: AccountId,
        max_amount: Amount,
        price_limit: f64,
    },
    /// Restart an auction that is too old or too cheap at the current oracle price.
    RedoAuction {
        auction: AuctionId,
        keeper: AccountId,
    },
    /// Raise a pool's auction breaker level 0–3 (Maker Clipper `stopped`), as the guardian or
    /// the governor; lowering it goes through `propose` on `auction_breaker` and the timelock.
    SetAuctionBreaker {
        role: Role,
        pool: PoolId,
        level: u8,
    },
    /// Emergency shutdown of a pool (Maker End): freeze, fix prices, cancel auctions, close
    /// every position, apply the waterfall, leave each account a claim.
    Shutdown {
        role: Role,
        pool: PoolId,
    },
    /// Withdraw part of an account's settlement claim after shutdown.
    Claim {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    /// Install the role registry, once (see [`crate::roles`]): until then the engine is open
    /// and trusts `role` labels; from then on every command must be signed (`by`) by a
    /// principal holding a grant that permits it.
    SealRoles {
        holders: Vec<crate::roles::Holder>,
    },
    /// Give `principal` a grant (OpenZeppelin `grantRole`, Maker `rely`). Runs only as the
    /// payload of an executed `propose_command`, on a sealed registry.
    GrantRole {
        principal: PrincipalId,
        grant: crate::roles::Grant,
    },
    /// Take a grant from `principal` (`revokeRole`, Maker `deny`); never the last governor.
    RevokeRole {
        principal: PrincipalId,
        grant: crate::roles::Grant,
    },
    /// Queue a listing, an install or a role change behind the timelock: `execute` runs
    /// `command` after it, `cancel` (governor or guardian) vetoes it. Checked when proposed
    /// and again when executed.
    ProposeCommand {
        role: Role,
        command: Box<Command>,
    },
}

impl Command {
    /// The `type` tag of a command, without serializing it (metrics labels, refusals).
    pub fn kind(&self) -> &'static str {
        use Command::*;
        match self {
            CreateAsset { .. } => "create_asset",
            CreatePool { .. } => "create_pool",
            AddCollateral { .. } => "add_collateral",
            CreateMarket { .. } => "create_market",
            OpenAccount { .. } => "open_account",
            Deposit { .. } => "deposit",
            Withdraw { .. } => "withdraw",
            Borrow { .. } => "borrow",
            Transfer { .. } => "transfer",
            SetPrice { .. } => "set_price",
            Fill { .. } => "fill",
            SettleFunding { .. } => "settle_funding",
            Propose { .. } => "propose",
            Execute { .. } => "execute",
            Cancel { .. } => "cancel",
            Pause { .. } => "pause",
            Unpause { .. } => "unpause",
            ConfigureOracle { .. } => "configure_oracle",
            OracleUpdate { .. } => "oracle_update",
            ConfigureBreaker { .. } => "configure_breaker",
            ChainStatus { .. } => "chain_status",
            GovernBreaker { .. } => "govern_breaker",
            ConfigureVolMargin { .. } => "configure_vol_margin",
            CreateOptionSeries { .. } => "create_option_series",
            SetVolSurface { .. } => "set_vol_surface",
            OptionFill { .. } => "option_fill",
            ExpireSeries { .. } => "expire_series",
            SettleOptions { .. } => "settle_options",
            SetMarginMode { .. } => "set_margin_mode",
            ConfigureLiquidation { .. } => "configure_liquidation",
            Liquidate { .. } => "liquidate",
            StartAuction { .. } => "start_auction",
            TakeAuction { .. } => "take_auction",
            RedoAuction { .. } => "redo_auction",
            SetAuctionBreaker { .. } => "set_auction_breaker",
            Shutdown { .. } => "shutdown",
            Claim { .. } => "claim",
            SealRoles { .. } => "seal_roles",
            GrantRole { .. } => "grant_role",
            RevokeRole { .. } => "revoke_role",
            ProposeCommand { .. } => "propose_command",
        }
    }

    /// The `role` label a governance command carries (`None` for every other command).
    pub fn claimed_role(&self) -> Option<Role> {
        use Command::*;
        match self {
            CreateAsset { role, .. }
            | CreatePool { role, .. }
            | AddCollateral { role, .. }
            | CreateMarket { role, .. }
            | Propose { role, .. }
            | Execute { role, .. }
            | Cancel { role, .. }
            | Pause { role, .. }
            | Unpause { role, .. }
            | ConfigureOracle { role, .. }
            | ConfigureBreaker { role, .. }
            | GovernBreaker { role, .. }
            | ConfigureVolMargin { role, .. }
            | CreateOptionSeries { role, .. }
            | ConfigureLiquidation { role, .. }
            | SetAuctionBreaker { role, .. }
            | Shutdown { role, .. }
            | ProposeCommand { role, .. } => Some(*role),
            _ => None,
        }
    }
}

/// One source's price and confidence (same unit as the price).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceQuote {
    pub source: u32,
    pub price: f64,
    pub confidence: f64,
}

/// A command with its time and, once the role registry is sealed, its signer: one line of a
/// journal. `by` is omitted while absent, so unsigned journals read and hash as before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub time: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<PrincipalId>,
    pub cmd: Command,
}
