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
use ballast_engine::num::{div_round, mul_div, Round, RATIO_SCALE, VALUE_SCALE};
use ballast_engine::state::{MarginMode, State};

/// Why the floor check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloorError {
    /// Equity below the base-rate requirement (both in `Value` raw units).
    Below { equity: i128, floor: i128 },
    /// The account's equity (or funding owed, or the floor) does not fit an i128: the checked
    /// engine cannot have computed its health, so it cannot have accepted the fill.
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
    let add = |a: i128, b: i128| of(a.checked_add(b));
    let mut equity = of((acct.quote.amount.0 as i128).checked_mul(VALUE_SCALE))?;
    let mut floor: i128 = 0;
    for p in &acct.positions {
        let m = &st.markets[p.market.idx()];
        let base = &st.assets[m.base.idx()];
        let (Some(px), None) = (base.price, base.oracle.as_ref()) else {
            return Ok(());
        };
        let notional = p.size.0 as i128 * px.raw() as i128;
        let owed = of((m.funding_index.checked_sub(p.funding_snapshot))
            .and_then(|d| d.checked_mul(p.size.0 as i128)))?;
        let funding = -div_round(owed, FUNDING_INDEX_SCALE, Round::Up);
        equity = add(equity, of((p.quote.0 as i128).checked_mul(VALUE_SCALE))?)?;
        equity = add(add(equity, notional)?, funding)?;
        // the requirement is a full-width product divided back (as the engine's `mul_ratio`)
        let rate = m.params.init_margin.0 as i128;
        let req = mul_div(notional.abs(), rate, RATIO_SCALE as i128, Round::Down)
            .map_err(|_| FloorError::Unrepresentable)?;
        floor = add(floor, req)?;
    }
    for (asset, amt) in &acct.collateral {
        let x = &st.assets[asset.idx()];
        if x.oracle.is_some() {
            return Ok(());
        }
        if let Some(px) = x.price {
            equity = add(equity, amt.0 as i128 * px.raw() as i128)?;
        }
    }
    // one quote-native unit per position for rounding
    let slack = VALUE_SCALE * (acct.positions.len() as i128 + 1);
    if equity.saturating_add(slack) < floor {
        return Err(FloorError::Below { equity, floor });
    }
    Ok(())
}
