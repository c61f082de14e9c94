//! Prices and funding: governor-set prices (assets without an oracle), the index TWAP and the
//! volatility margin add-on they feed, and the funding index of each perpetual (settled per
//! position when it trades or is liquidated).

use super::*;

/// Window of the mark and index TWAPs used for funding.
pub const TWAP_WINDOW_MS: i64 = MS_PER_HOUR;

/// Unsettled funding of a position as a value (negative: owed), rounded against the account.
pub(crate) fn unsettled_funding(p: &Position, m: &Market) -> Result<Value, Overflow> {
    if m.funding_index == p.funding_snapshot {
        return Ok(Value::ZERO);
    }
    let owed = funding_owed(p.size, m.funding_index, p.funding_snapshot)?;
    Ok(Value(-div_round(owed, FUNDING_INDEX_SCALE, Round::Up)))
}

/// `size × (index − snapshot)`, checked: funding owed in `Value × FUNDING_INDEX_SCALE` units.
fn funding_owed(size: Amount, index: i128, snapshot: i128) -> Result<i128, Overflow> {
    index
        .checked_sub(snapshot)
        .and_then(|d| d.checked_mul(size.0 as i128))
        .ok_or(Overflow)
}

/// Funding owed to (positive) or by (negative) a position since its last settlement, rounded
/// against the account (payers round up, receivers down); moves the snapshot to `index`. The
/// caller books the amount against the market's funding clearing account.
#[must_use = "funding moved: book it on the quote balance and the clearing account"]
pub(super) fn funding_payment(p: &mut Position, index: i128) -> Result<Amount, Reject> {
    let owed = funding_owed(p.size, index, p.funding_snapshot)?;
    p.funding_snapshot = index;
    if owed == 0 {
        return Ok(Amount::ZERO);
    }
    let unit = FUNDING_INDEX_SCALE * VALUE_SCALE;
    // Payers (owed > 0) round up in magnitude, receivers down: both are floor of −owed.
    let paid = div_round(owed.checked_neg().ok_or(Overflow)?, unit, Round::Down);
    Ok(Amount::from_i128(paid)?)
}

impl Engine {
    pub(super) fn set_price(
        &mut self,
        now: Timestamp,
        asset: AssetId,
        price: f64,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let a = self.asset(asset)?;
        let numeraire = match self.state.numeraire {
            Some(n) if n == asset => {
                return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                    "the quote asset is the numeraire; its price is 1 by definition",
                )))
            }
            Some(n) => n,
            None => return Err(Reject::NoPrice(asset)),
        };
        if a.oracle.is_some() {
            return Err(Reject::OracleConfigured(asset));
        }
        let p = Price::from_human(
            price,
            a.decimals,
            self.state.assets[numeraire.idx()].decimals,
        )
        .map_err(|reason| Reject::InvalidPrice { asset, reason })?;
        out.push(Event::PriceUpdated { asset, price: p });
        self.apply_price(now, asset, p, out);
        Ok(())
    }

    /// Makes `p` the asset's price and feeds the index TWAP and volatility add-on of its markets.
    pub(super) fn apply_price(
        &mut self,
        now: Timestamp,
        asset: AssetId,
        p: Price,
        out: &mut Vec<Event>,
    ) {
        let a = &mut self.state.assets[asset.idx()];
        a.price = Some(p);
        a.price_time = now;
        let decimals = a.decimals;
        let quote_decimals = self.quote_decimals();
        let mut moved = false;
        for (i, m) in self.state.markets.iter_mut().enumerate() {
            if m.base != asset {
                continue;
            }
            m.index_twap = Some(match m.index_twap {
                Some(t) => funding::twap_step(t, p, now.0 - m.last_index.0, TWAP_WINDOW_MS),
                None => p,
            });
            m.last_index = now;
            let vol = m.vol_margin.as_mut();
            if let Some(addon) =
                vol.and_then(|v| v.observe(now.0, p.to_human(decimals, quote_decimals)))
            {
                out.push(Event::VolMarginUpdated {
                    market: MarketId(i as u16),
                    addon,
                });
                moved = true;
            }
        }
        if moved {
            // Margin rates changed: every liquidation price may have moved.
            self.risk.invalidate_all();
        }
    }

    pub(super) fn configure_vol_margin(
        &mut self,
        market: MarketId,
        config: &crate::volmargin::VolMarginConfig,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if self.market(market)?.vol_margin.is_some() {
            return Err(Reject::AlreadyInstalled(
                crate::error::Installed::VolMargin(market),
            ));
        }
        let v =
            crate::volmargin::VolMargin::new(*config).map_err(|e| Reject::InvalidVolMargin(e.0))?;
        self.state.markets[market.idx()].vol_margin = Some(v);
        self.risk.invalidate_all();
        out.push(Event::VolMarginConfigured { market });
        Ok(())
    }

    pub(super) fn settle_market_funding(
        &mut self,
        now: Timestamp,
        market: MarketId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let m = self.market(market)?;
        let index = self.state.assets[m.base.idx()]
            .price
            .ok_or(Reject::NoPrice(m.base))?;
        self.gate_market(now, market, Action::SettleFunding)?;
        let index_twap = m.index_twap.unwrap_or(index);
        let mark_twap = m.mark_twap.unwrap_or(index_twap);
        let rate = funding::hourly_rate(mark_twap, index_twap, m.params.funding_cap);
        let delta = funding::index_delta(rate, index, now.0.saturating_sub(m.last_funding.0))?;
        let new_index = m.funding_index.checked_add(delta).ok_or(Reject::Overflow)?;
        let m = &mut self.state.markets[market.idx()];
        m.funding_index = new_index;
        m.last_funding = now;
        if delta != 0 {
            self.risk.funding_moved(market);
        }
        out.push(Event::FundingUpdated {
            market,
            rate,
            index: new_index,
        });
        Ok(())
    }
}
