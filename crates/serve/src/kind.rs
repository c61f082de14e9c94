//! The name of each command type (its JSON `type` tag), for metrics labels and refusals.

use ballast_engine::Command;

/// The `type` tag of a command, without serializing it.
pub fn kind(cmd: &Command) -> &'static str {
    use Command::*;
    match cmd {
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
    }
}
