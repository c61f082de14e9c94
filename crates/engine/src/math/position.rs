//! What a trade does to a position: one classification shared by perp fills, option fills and
//! liquidation transfers, so "does this trade add risk?" has one answer for every instrument.
//!
//! After Drift v2 `math/position.rs::get_position_update_type` (Open, Increase, Reduce, Close,
//! Flip), and the one position update [`apply_trade`] that perp fills and liquidation
//! transfers both call (Drift's `update_position_and_market` plays the same role).

use crate::num::{div_round, Overflow, Round};

/// How a signed size change `delta` moves a position of size `old`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionUpdate {
    /// From flat to a position.
    Open,
    /// Same side, larger.
    Increase,
    /// Same side, smaller, not flat.
    Reduce,
    /// To exactly flat.
    Close,
    /// Through zero to the other side.
    Flip,
}

impl PositionUpdate {
    /// Classifies `old → new` (sizes in native units; `new = old + delta`).
    pub fn classify(old: i64, new: i64) -> PositionUpdate {
        match (old, new) {
            (0, _) => PositionUpdate::Open,
            (_, 0) => PositionUpdate::Close,
            (o, n) if (o > 0) != (n > 0) => PositionUpdate::Flip,
            (o, n) if n.unsigned_abs() > o.unsigned_abs() => PositionUpdate::Increase,
            _ => PositionUpdate::Reduce,
        }
    }

    /// Whether the trade opens new risk (initial margin must hold afterwards). Reducing and
    /// closing never do: they are accepted whenever maintenance permits the account to trade.
    pub fn adds_risk(self) -> bool {
        matches!(
            self,
            PositionUpdate::Open | PositionUpdate::Increase | PositionUpdate::Flip
        )
    }
}

/// A position after a trade: its new size and cost basis, the profit or loss the trade
/// realized, and how the trade moved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeOutcome {
    /// New signed size (native base units).
    pub size: i64,
    /// New cost basis: the quote cash the open part of the position has received (negative
    /// for a long that paid for it).
    pub basis: i64,
    /// Realized profit (positive) or loss of the closed part.
    pub realized: i128,
    /// Basis left over when the position closes to flat (zero by construction up to
    /// rounding); the caller books it with the realized amount.
    pub residue: i128,
    pub update: PositionUpdate,
}

/// Applies a trade of `delta` (signed, native base units) for quote cash `cash` (received:
/// positive when selling) to a position of `size` with cost basis `basis`.
///
/// Increasing adds the cash to the basis. Reducing or flipping realizes the closed fraction:
/// the basis kept for the remaining size and the share of the cash that opens the new side
/// both round down (against the account, in favour of the ledger), and the realized amount is
/// the rest, so `basis + cash = new basis + realized + residue` exactly.
#[must_use = "the realized amount and residue must be booked on the quote balance"]
pub fn apply_trade(
    size: i64,
    basis: i64,
    delta: i64,
    cash: i128,
) -> Result<TradeOutcome, Overflow> {
    let new_size = size.checked_add(delta).ok_or(Overflow)?;
    let update = PositionUpdate::classify(size, new_size);
    let (mut new_basis, realized) = if size == 0 || (size > 0) == (delta > 0) {
        (basis as i128 + cash, 0)
    } else {
        let abs_s = size.unsigned_abs() as i128;
        let abs_d = delta.unsigned_abs() as i128;
        let closed = abs_s.min(abs_d);
        let remaining = div_round(basis as i128 * (abs_s - closed), abs_s, Round::Down);
        let cash_open = div_round(cash * (abs_d - closed), abs_d, Round::Down);
        let realized = (basis as i128 - remaining) + (cash - cash_open);
        (remaining + cash_open, realized)
    };
    let new_basis_i64 = i64::try_from(new_basis).map_err(|_| Overflow)?;
    let residue = if new_size == 0 {
        std::mem::replace(&mut new_basis, 0)
    } else {
        0
    };
    Ok(TradeOutcome {
        size: new_size,
        basis: if new_size == 0 { 0 } else { new_basis_i64 },
        realized,
        residue,
        update,
    })
}

#[cfg(test)]
mod tests {
    use super::PositionUpdate::{self, *};
    use super::{apply_trade, TradeOutcome};
    use proptest::prelude::*;

    #[test]
    fn a_reduction_realizes_the_closed_fraction() {
        // Long 4 bought for 400; sell 1 for 150: 100 of basis closes, 50 realized.
        let t = apply_trade(4, -400, -1, 150).unwrap();
        assert_eq!(
            t,
            TradeOutcome {
                size: 3,
                basis: -300,
                realized: 50,
                residue: 0,
                update: Reduce
            }
        );
        // Flip: sell 6 for 900 — 4 close (basis −400, cash 600: +200), 2 open short at 300.
        let t = apply_trade(4, -400, -6, 900).unwrap();
        assert_eq!(
            (t.size, t.basis, t.realized, t.update),
            (-2, 300, 200, Flip)
        );
        // Increase: no realization.
        let t = apply_trade(-2, 300, -1, 140).unwrap();
        assert_eq!(
            (t.size, t.basis, t.realized, t.update),
            (-3, 440, 0, Increase)
        );
    }

    #[test]
    fn a_basis_that_does_not_fit_is_an_overflow() {
        assert!(apply_trade(1, i64::MAX, 1, 1).is_err());
        assert!(apply_trade(i64::MAX, 0, 1, 0).is_err());
    }

    proptest! {
        /// Cash is conserved: the old basis plus the cash is the new basis plus what was
        /// realized plus the residue, and a flat position keeps no basis.
        #[test]
        fn cash_is_conserved(size in -1_000_000i64..1_000_000, basis in -1_000_000_000i64..1_000_000_000,
                             delta in -1_000_000i64..1_000_000, cash in -1_000_000_000i128..1_000_000_000) {
            prop_assume!(delta != 0);
            let t = apply_trade(size, basis, delta, cash).unwrap();
            prop_assert_eq!(basis as i128 + cash, t.basis as i128 + t.realized + t.residue);
            prop_assert_eq!(t.size, size + delta);
            if t.size == 0 { prop_assert_eq!(t.basis, 0); }
            if t.residue != 0 { prop_assert_eq!(t.size, 0); }
        }
    }

    #[test]
    fn every_case_is_classified() {
        assert_eq!(PositionUpdate::classify(0, 5), Open);
        assert_eq!(PositionUpdate::classify(0, -5), Open);
        assert_eq!(PositionUpdate::classify(5, 8), Increase);
        assert_eq!(PositionUpdate::classify(-5, -8), Increase);
        assert_eq!(PositionUpdate::classify(5, 2), Reduce);
        assert_eq!(PositionUpdate::classify(-5, -2), Reduce);
        assert_eq!(PositionUpdate::classify(5, 0), Close);
        assert_eq!(PositionUpdate::classify(-5, 0), Close);
        assert_eq!(PositionUpdate::classify(5, -1), Flip);
        assert_eq!(PositionUpdate::classify(-5, 1), Flip);
    }

    #[test]
    fn closing_a_long_does_not_add_risk() {
        // The bug this replaces: `(old > 0) != (new > 0)` called 5 → 0 a flip.
        assert!(!PositionUpdate::classify(5, 0).adds_risk());
        assert!(!PositionUpdate::classify(5, 3).adds_risk());
        assert!(PositionUpdate::classify(5, -3).adds_risk());
        assert!(PositionUpdate::classify(0, 3).adds_risk());
    }
}
