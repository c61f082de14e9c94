//! Events: what happened, with amounts. Everything downstream (journal readers, metrics,
//! reports) reads these and never reaches into engine state.

use crate::command::Scope;
use crate::ids::{AccountId, AssetId, AuctionId, MarketId, OwnerId, PoolId, ProposalId};
use crate::num::{Amount, Price, Ratio, Timestamp, Value};
use crate::params::ParamKey;
use crate::state::Lot;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    AssetCreated {
        asset: AssetId,
        symbol: String,
        decimals: u8,
    },
    PoolCreated {
        pool: PoolId,
        name: String,
        quote: AssetId,
    },
    CollateralAdded {
        pool: PoolId,
        asset: AssetId,
        init_weight: Ratio,
        maint_weight: Ratio,
    },
    MarketCreated {
        market: MarketId,
        symbol: String,
        pool: PoolId,
        base: AssetId,
    },
    AccountOpened {
        account: AccountId,
        owner: OwnerId,
        pool: PoolId,
    },
    Deposited {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    Withdrawn {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    Borrowed {
        account: AccountId,
        amount: Amount,
    },
    Transferred {
        from: AccountId,
        to: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    PriceUpdated {
        asset: AssetId,
        price: Price,
    },
    Filled {
        market: MarketId,
        taker: AccountId,
        maker: AccountId,
        size: Amount,
        price: Price,
        notional: Amount,
        taker_fee: Amount,
        maker_fee: Amount,
    },
    /// PnL moved from a position into the quote balance when size was reduced.
    PnlRealized {
        account: AccountId,
        market: MarketId,
        amount: Amount,
    },
    /// The market's funding index moved by `rate` (per hour) over the elapsed time.
    FundingUpdated {
        market: MarketId,
        rate: Ratio,
        index: i128,
    },
    /// Funding settled into an account (positive: received).
    FundingSettled {
        account: AccountId,
        market: MarketId,
        amount: Amount,
    },
    /// Interest settled into an account's quote balance (positive: earned).
    InterestSettled {
        account: AccountId,
        amount: Amount,
    },
    ParamProposed {
        proposal: ProposalId,
        key: ParamKey,
        value: i64,
        eta: Timestamp,
    },
    ParamExecuted {
        proposal: ProposalId,
        key: ParamKey,
        old: i64,
        new: i64,
    },
    ProposalCancelled {
        proposal: ProposalId,
    },
    /// A listing, install or role change queued behind the timelock (visible before it runs).
    CommandProposed {
        proposal: ProposalId,
        command: Box<crate::command::Command>,
        eta: Timestamp,
    },
    /// A queued command runs now; its own events follow.
    ProposalExecuted {
        proposal: ProposalId,
    },
    /// The role registry was installed: from now on every command is signed and checked.
    RolesSealed {
        holders: Vec<crate::roles::Holder>,
    },
    RoleGranted {
        principal: crate::ids::PrincipalId,
        grant: crate::roles::Grant,
    },
    RoleRevoked {
        principal: crate::ids::PrincipalId,
        grant: crate::roles::Grant,
    },
    Paused {
        scope: Scope,
    },
    Unpaused {
        scope: Scope,
    },
    OracleConfigured {
        asset: AssetId,
        sources: u32,
    },
    /// The oracle's aggregate after a quote: the asset's price (held when not fresh), status,
    /// and the stable price used for new risk.
    OracleUpdated {
        asset: AssetId,
        price: Option<Price>,
        status: ballast_oracle::aggregate::OracleStatus,
        stable: Option<Price>,
    },
    BreakerConfigured {
        scope: Scope,
    },
    /// A breaker changed mode; `cause` names the trigger and the values that tripped it.
    BreakerTransition {
        scope: Scope,
        from: ballast_oracle::breaker::Mode,
        to: ballast_oracle::breaker::Mode,
        cause: ballast_oracle::breaker::Cause,
    },
    ChainStatusChanged {
        halted: bool,
    },
    /// A market's breaker went Halted while this account's debt rests on its unrealized gains
    /// there: without them its maintenance health is negative. Liquidation may be blocked while
    /// the market is halted, so the exposure is reported instead of hidden
    /// (see [`crate::Engine::debt_against_halted`]).
    DebtAgainstHaltedMarket {
        account: AccountId,
        market: MarketId,
        /// The account's quote debt, quote-native units.
        debt: Amount,
        /// Its unrealized gains in the halted market.
        gains: Value,
    },
    VolMarginConfigured {
        market: MarketId,
    },
    /// The market's volatility add-on moved (applies to initial and maintenance rates).
    VolMarginUpdated {
        market: MarketId,
        addon: Ratio,
    },
    SeriesCreated {
        series: crate::ids::SeriesId,
        symbol: String,
    },
    VolSurfaceSet {
        asset: AssetId,
    },
    OptionFilled {
        series: crate::ids::SeriesId,
        taker: AccountId,
        maker: AccountId,
        size: Amount,
        /// Total premium paid by the buyer to the seller (quote-native units).
        premium: Amount,
        /// Taker fee (quote-native units).
        fee: Amount,
    },
    SeriesExpired {
        series: crate::ids::SeriesId,
        settlement: Price,
    },
    /// An option position paid out at settlement (positive: received).
    OptionSettled {
        account: AccountId,
        series: crate::ids::SeriesId,
        amount: Amount,
    },
    MarginModeSet {
        account: AccountId,
        mode: crate::state::MarginMode,
    },
    /// A pool's liquidation parameters were set at genesis.
    LiquidationConfigured {
        pool: PoolId,
    },
    /// Part of a share of trading fees moved from the fee account to the insurance fund.
    InsuranceFunded {
        pool: PoolId,
        amount: Amount,
    },
    /// A keeper took over `size` of `lot` at the oracle `price`; the account paid `penalty`
    /// (`to_liquidator` + `to_insurance`). Health is maintenance health before and after.
    Liquidated {
        account: AccountId,
        liquidator: AccountId,
        lot: Lot,
        size: Amount,
        price: Price,
        penalty: Amount,
        to_liquidator: Amount,
        to_insurance: Amount,
        health_before: Value,
        health_after: Value,
    },
    AuctionStarted {
        auction: AuctionId,
        account: AccountId,
        lot: Lot,
        size: Amount,
        top: Price,
        keeper: AccountId,
        incentive: Amount,
    },
    /// `size` bought for `paid` quote (received, for a short lot); `penalty` went to insurance.
    /// `at_mark` is the same `size` valued at the engine's lot price when it was taken, so
    /// `paid / at_mark` is the clearing price relative to the oracle (Drift v2's
    /// `LiquidationRecord` carries the oracle price for the same reason).
    AuctionTaken {
        auction: AuctionId,
        bidder: AccountId,
        size: Amount,
        paid: Amount,
        penalty: Amount,
        remaining: Amount,
        at_mark: Amount,
    },
    AuctionReset {
        auction: AuctionId,
        keeper: AccountId,
        top: Price,
        incentive: Amount,
    },
    AuctionEnded {
        auction: AuctionId,
        completed: bool,
    },
    AuctionBreakerSet {
        pool: PoolId,
        level: u8,
    },
    /// Waterfall step 0: the account's equity is negative by `deficit` (its own equity is gone).
    Bankrupt {
        account: AccountId,
        deficit: Amount,
    },
    /// Waterfall step 1: the pool's insurance fund paid `amount` of the deficit.
    InsuranceDrawn {
        pool: PoolId,
        account: AccountId,
        amount: Amount,
    },
    /// Waterfall step 2: `account`'s opposite position was reduced by `size` against the
    /// bankrupt account at its bankruptcy price, giving up `haircut` of profit.
    Deleveraged {
        account: AccountId,
        bankrupt: AccountId,
        market: MarketId,
        size: Amount,
        haircut: Amount,
    },
    /// Waterfall step 3: `amount` charged to the pool's quote depositors by lowering the deposit
    /// index (Mango v4 style).
    LossSocialized {
        pool: PoolId,
        account: AccountId,
        amount: Amount,
        deposit_index: i128,
    },
    /// What nothing could cover: recognised in the pool's bad debt.
    BadDebt {
        pool: PoolId,
        account: AccountId,
        amount: Amount,
    },
    /// Emergency shutdown of a pool began (Maker End `cage`).
    ShutdownStarted {
        pool: PoolId,
    },
    /// Settlement price fixed for an asset (Maker End `cage(ilk)`).
    SettlementPrice {
        pool: PoolId,
        asset: AssetId,
        price: Price,
    },
    /// A position closed at the settlement price; `pnl` realized into the quote balance.
    PositionSettled {
        account: AccountId,
        market: MarketId,
        size: Amount,
        pnl: Amount,
    },
    /// Collateral taken from an indebted account to cover `debt` (Maker End `skim`).
    Skimmed {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
        debt: Amount,
    },
    /// An account's final claim after settlement: quote (after haircut) and collateral shares.
    ClaimFixed {
        account: AccountId,
        quote: Amount,
        haircut: Amount,
    },
    /// Collateral from the settlement basket handed to a claimant (Maker End `cash`).
    BasketShare {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
    },
    Claimed {
        account: AccountId,
        asset: AssetId,
        amount: Amount,
    },
}
