//! What the clearinghouse owes each account, per asset, in native units, read from the engine.
//!
//! For the tree of asset `A`, account `i`'s liability is:
//! - if `A` is the quote asset of `i`'s pool: the account's quote equity, that is its quote
//!   balance with interest accrued to the ledger's time plus the unrealized PnL (with unsettled
//!   funding) of its perpetuals plus the marks of its options, all as the engine values them at
//!   maintenance (spot) prices ([`Engine::breakdown`]). A positive equity is rounded **up** to
//!   a whole native unit (against the exchange). A negative equity is a liability of 0 and a
//!   *receivable* of its magnitude rounded **down** (again against the exchange), counted on
//!   the asset side (the Hu, Zhang & Guo 2019 treatment of negative balances: never a negative
//!   leaf).
//! - otherwise: the account's collateral balance of `A` (never negative in the engine).
//!
//! The assets of `A` are what the ledger holds, `net_deposits` (deposits minus withdrawals and
//! borrowed amounts taken out), plus the receivables.

use crate::error::ProveError;
use ballast_engine::ids::{AccountId, AssetId};
use ballast_engine::margin::{Breakdown, Contribution};
use ballast_engine::num::VALUE_SCALE;
use ballast_engine::{Engine, HealthKind};

/// Liabilities of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetClaims {
    pub asset: AssetId,
    pub symbol: String,
    pub decimals: u8,
    /// Liability to each account, indexed by account id (0 where it has none).
    pub liabilities: Vec<i128>,
    /// Σ of negative quote equities owed *to* the ledger (magnitudes, rounded down).
    pub receivables: i128,
    /// What the ledger holds of the asset (`net_deposits`).
    pub held: i128,
}

/// Liabilities of every asset, by asset id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub assets: Vec<AssetClaims>,
}

/// An account's quote equity in `VALUE_SCALE` fixed point, from the engine's own breakdown.
pub fn quote_equity(b: &Breakdown) -> Option<i128> {
    let mut v: i128 = 0;
    for line in &b.lines {
        let add = match line {
            Contribution::Quote { value, .. } => value.0,
            Contribution::Perp { unrealized_pnl, .. } => unrealized_pnl.0,
            Contribution::Option { mark, .. } => mark.0,
            Contribution::Portfolio { option_marks, .. } => option_marks.0,
            Contribution::Collateral { .. } => 0,
        };
        v = v.checked_add(add)?;
    }
    Some(v)
}

/// Splits a fixed-point equity into (liability, receivable) in native units, each rounded
/// against the exchange: a claim up, a debt down.
pub fn split_equity(v: i128) -> (i128, i128) {
    let (q, r) = (v / VALUE_SCALE, v % VALUE_SCALE);
    if v >= 0 {
        (q + i128::from(r != 0), 0)
    } else {
        (0, -q)
    }
}

impl Claims {
    /// Reads every account's claims from `engine`.
    pub fn from_engine(engine: &Engine) -> Result<Claims, ProveError> {
        let st = engine.state();
        let n = st.accounts.len();
        let mut assets: Vec<AssetClaims> = st
            .assets
            .iter()
            .enumerate()
            .map(|(i, a)| AssetClaims {
                asset: AssetId(i as u16),
                symbol: a.symbol.clone(),
                decimals: a.decimals,
                liabilities: vec![0; n],
                receivables: 0,
                held: a.net_deposits,
            })
            .collect();
        for (i, acct) in st.accounts.iter().enumerate() {
            let id = AccountId(i as u32);
            let b = engine
                .breakdown(id, HealthKind::Maintenance)
                .map_err(|reject| ProveError::Valuation {
                    account: id,
                    reject,
                })?;
            let quote = st.pools[acct.pool.idx()].quote;
            let overflow = |what| ProveError::Overflow { asset: quote, what };
            let equity = quote_equity(&b).ok_or(overflow("quote equity"))?;
            let (liability, receivable) = split_equity(equity);
            let qa = &mut assets[quote.idx()];
            qa.liabilities[i] = liability;
            qa.receivables = qa
                .receivables
                .checked_add(receivable)
                .ok_or(overflow("receivables"))?;
            for (asset, amount) in &acct.collateral {
                let slot = &mut assets[asset.idx()].liabilities[i];
                *slot = slot
                    .checked_add(i128::from(amount.0))
                    .ok_or(ProveError::Overflow {
                        asset: *asset,
                        what: "collateral claim",
                    })?;
            }
        }
        for a in &assets {
            if a.held < 0 {
                return Err(ProveError::NegativeHoldings {
                    asset: a.asset,
                    held: a.held,
                });
            }
        }
        Ok(Claims { assets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_against_the_exchange() {
        assert_eq!(split_equity(0), (0, 0));
        assert_eq!(split_equity(1), (1, 0));
        assert_eq!(split_equity(VALUE_SCALE), (1, 0));
        assert_eq!(split_equity(VALUE_SCALE + 1), (2, 0));
        assert_eq!(split_equity(-1), (0, 0));
        assert_eq!(split_equity(-VALUE_SCALE - 1), (0, 1));
        assert_eq!(split_equity(-2 * VALUE_SCALE), (0, 2));
    }
}
