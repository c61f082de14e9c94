//! An independent floor under initial margin, checked on both sides of every accepted fill
//! that added risk: an account's equity at full value (settled quote, position cash flows and
//! PnL at the index price, unsettled funding, collateral at full price) must cover at least
//! `Σ |size × price| × init_margin` (the base rate: the size premium, volatility add-on and
//! breaker multiplier only raise the real requirement, and collateral haircuts only lower the
//! real health). A fill the engine accepts below that floor was let through by arithmetic, not
//! by margin.
//!
//! Only accounts in standard margin mode, without options and with every position on a
//! `set_price` asset (no oracle, so the margin price is the index price) are checked; the
//! others have requirements this floor does not bound.

use ballast_engine::funding::FUNDING_INDEX_SCALE;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{div_round, Round, RATIO_SCALE, VALUE_SCALE};
use ballast_engine::state::{MarginMode, State};

/// Why the floor check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloorError {
    /// Equity below the base-rate requirement (both in `Value` raw units).
    Below { equity: i128, floor: i128 },
    /// `size × price × rate` does not fit an i128: no honest engine can have accepted it.
    Unrepresentable,
}

/// Checks the floor for `a`; `Ok` when it holds or the account is out of scope.
pub fn check(st: &State, a: AccountId) -> Result<(), FloorError> {
    let Some(acct) = st.accounts.get(a.idx()) else {
        return Ok(());
    };
    if acct.margin_mode != MarginMode::Standard || !acct.options.is_empty() {
        return Ok(());
    }
    let of = |x: Option<i128>| x.ok_or(FloorError::Unrepresentable);
    let mut equity = of((acct.quote.amount.0 as i128).checked_mul(VALUE_SCALE))?;
    let mut floor: i128 = 0;
    for p in &acct.positions {
        let m = &st.markets[p.market.idx()];
        let base = &st.assets[m.base.idx()];
        let (Some(px), None) = (base.price, base.oracle.as_ref()) else {
            return Ok(());
        };
        let notional = p.size.0 as i128 * px.raw() as i128;
        let owed = of((p.size.0 as i128).checked_mul(m.funding_index - p.funding_snapshot))?;
        let funding = -div_round(owed, FUNDING_INDEX_SCALE, Round::Up);
        equity += p.quote.0 as i128 * VALUE_SCALE + notional + funding;
        let req = of(notional.abs().checked_mul(m.params.init_margin.0 as i128))?;
        floor += req / RATIO_SCALE as i128;
    }
    for (asset, amt) in &acct.collateral {
        let x = &st.assets[asset.idx()];
        if x.oracle.is_some() {
            return Ok(());
        }
        if let Some(px) = x.price {
            equity += amt.0 as i128 * px.raw() as i128;
        }
    }
    // one quote-native unit per position for rounding
    let slack = VALUE_SCALE * (acct.positions.len() as i128 + 1);
    if equity + slack < floor {
        return Err(FloorError::Below { equity, floor });
    }
    Ok(())
}
