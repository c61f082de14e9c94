//! What a trade does to a position: one classification shared by perp fills, option fills and
//! liquidation transfers, so "does this trade add risk?" has one answer for every instrument.
//!
//! After Drift v2 `math/position.rs::get_position_update_type` (Open, Increase, Reduce, Close,
//! Flip).

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

#[cfg(test)]
mod tests {
    use super::PositionUpdate::{self, *};

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
