//! Listing: the governor's commands that create assets, risk pools, collateral entries and
//! perpetual markets, and the permissionless `open_account`. Each validates its parameters
//! into types that cannot hold an invalid value before anything is pushed.

use super::*;

/// What `create_market` lists: the command's fields, borrowed.
pub(super) struct MarketListing<'a> {
    pub symbol: &'a str,
    pub pool: PoolId,
    pub base: AssetId,
    pub params: &'a MarketParams,
}

impl Engine {
    pub(super) fn create_asset(
        &mut self,
        symbol: &str,
        decimals: u8,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        bounded_name("asset symbol", symbol)?;
        if decimals > MAX_DECIMALS {
            return Err(Reject::DecimalsTooLarge(decimals));
        }
        if self.state.assets.len() >= u16::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = AssetId(self.state.assets.len() as u16);
        self.state.assets.push(Asset {
            symbol: symbol.to_string(),
            decimals,
            price: None,
            price_time: Timestamp(0),
            net_deposits: 0,
            oracle: None,
            vol_surface: None,
        });
        self.risk.resize_assets(self.state.assets.len());
        out.push(Event::AssetCreated {
            asset: id,
            symbol: symbol.to_string(),
            decimals,
        });
        Ok(())
    }

    pub(super) fn create_pool(
        &mut self,
        now: Timestamp,
        name: &str,
        quote: AssetId,
        params: &PoolParams,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        bounded_name("pool name", name)?;
        self.asset(quote)?;
        if let Some(n) = self.state.numeraire {
            if n != quote {
                return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                    "every pool settles in the same quote asset (the numeraire of prices)",
                )));
            }
        }
        params.validate().map_err(Reject::InvalidParams)?;
        if self.state.pools.len() >= u16::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = PoolId(self.state.pools.len() as u16);
        self.state.numeraire = Some(quote);
        self.state.pools.push(Pool {
            name: name.to_string(),
            quote,
            collateral: Vec::new(),
            markets: Vec::new(),
            params: *params,
            lending: Lending {
                deposit_index: INDEX_SCALE,
                borrow_index: INDEX_SCALE,
                last_accrual: now,
                deposits_scaled: 0,
                borrows_scaled: 0,
                interest_clearing: Amount::ZERO,
            },
            insurance_fund: Amount::ZERO,
            fee_account: Amount::ZERO,
            maint_ramps: Vec::new(),
            portfolio: Default::default(),
            option_margin: Default::default(),
            bad_debt: Amount::ZERO,
            paused: false,
            breaker: None,
            liquidation: Default::default(),
        });
        out.push(Event::PoolCreated {
            pool: id,
            name: name.to_string(),
            quote,
        });
        Ok(())
    }

    pub(super) fn add_collateral(
        &mut self,
        pool: PoolId,
        asset: AssetId,
        init_weight: Ratio,
        maint_weight: Ratio,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let p = self.pool(pool)?;
        self.asset(asset)?;
        if p.quote == asset || self.collateral_params(p, asset).is_some() {
            return Err(Reject::DuplicateCollateral { pool, asset });
        }
        let cp = CollateralParams {
            asset,
            init_weight,
            maint_weight,
        };
        cp.validate().map_err(Reject::InvalidParams)?;
        self.state.pools[pool.idx()].collateral.push(cp);
        out.push(Event::CollateralAdded {
            pool,
            asset,
            init_weight,
            maint_weight,
        });
        Ok(())
    }

    pub(super) fn create_market(
        &mut self,
        now: Timestamp,
        listing: &MarketListing<'_>,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let &MarketListing {
            symbol,
            pool,
            base,
            params,
        } = listing;
        bounded_name("market symbol", symbol)?;
        let p = self.pool(pool)?;
        self.asset(base)?;
        if p.quote == base {
            return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                "a perpetual's base cannot be its own quote asset",
            )));
        }
        params.validate().map_err(Reject::InvalidParams)?;
        if self.state.markets.len() >= u16::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = MarketId(self.state.markets.len() as u16);
        self.state.markets.push(Market {
            symbol: symbol.to_string(),
            pool,
            base,
            params: *params,
            funding_index: 0,
            last_funding: now,
            mark_twap: None,
            last_mark: now,
            index_twap: self.state.assets[base.idx()].price,
            last_index: now,
            long_oi: Amount::ZERO,
            short_oi: Amount::ZERO,
            liquidation_window: LiquidationWindow::default(),
            funding_clearing: Amount::ZERO,
            paused: false,
            breaker: None,
            vol_margin: None,
        });
        self.state.pools[pool.idx()].markets.push(id);
        out.push(Event::MarketCreated {
            market: id,
            symbol: symbol.to_string(),
            pool,
            base,
        });
        Ok(())
    }

    pub(super) fn open_account(
        &mut self,
        owner: OwnerId,
        pool: PoolId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        self.pool(pool)?;
        if self.state.accounts.len() >= u32::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = self.state.next_account();
        self.state.accounts.push(Account {
            owner,
            pool,
            quote: QuoteBalance::default(),
            collateral: SmallVec::new(),
            positions: SmallVec::new(),
            options: SmallVec::new(),
            margin_mode: MarginMode::Standard,
        });
        self.risk.resize_accounts(self.state.accounts.len());
        out.push(Event::AccountOpened {
            account: id,
            owner,
            pool,
        });
        Ok(())
    }
}
