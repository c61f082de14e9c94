//! Which user actions are allowed under each oracle status — a configurable matrix with
//! conservative defaults — and the typed [`Blocked`] reason returned when one is not.
//!
//! Drift v2 gives each action its own oracle tolerance (FORMULAS.md, "validity ladder"); Aave v3's
//! PriceOracleSentinel blocks borrowing and liquidation while the price cannot be trusted. Ballast
//! keeps the same idea as one table: rows are actions, columns are [`OracleStatus`]es. Deposits and
//! repayments only ever reduce risk and are always allowed; the matrix refuses to say otherwise.

use crate::aggregate::{OracleStatus, Reading};
use crate::breaker::Mode;
use crate::error::{config, Error};
use serde::{Deserialize, Serialize};

/// A user or keeper action that depends on a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Add collateral. Always allowed.
    Deposit,
    /// Pay back debt. Always allowed.
    Repay,
    /// A trade that only reduces an existing position (reduce-only).
    ReduceTrade,
    /// A trade that may open or increase risk.
    Trade,
    /// Take collateral out.
    Withdraw,
    /// Open or increase a borrow.
    Borrow,
    /// Liquidate an unhealthy account.
    Liquidate,
    /// Apply funding payments (uses mark/index prices).
    SettleFunding,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Deposit,
        Action::Repay,
        Action::ReduceTrade,
        Action::Trade,
        Action::Withdraw,
        Action::Borrow,
        Action::Liquidate,
        Action::SettleFunding,
    ];

    /// Actions that never add risk and are allowed whatever the oracle or breaker says.
    pub fn always_allowed(self) -> bool {
        matches!(self, Action::Deposit | Action::Repay)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What blocked an action.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Gate {
    /// The oracle status (and the held price's age, for `Stale`).
    Oracle {
        status: OracleStatus,
        age_ms: Option<i64>,
    },
    /// The circuit breaker's mode.
    Breaker { mode: Mode },
}

/// An action refused, with the status that refused it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{action:?} blocked by {status:?}")]
pub struct Blocked {
    pub action: Action,
    pub status: Gate,
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    Allow,
    Deny,
    /// Allowed while the held price is at most this old (used for liquidation on a stale price:
    /// a short outage must not stop liquidations, a long one must not run them on a fiction).
    AllowIfAgeWithin {
        max_age_ms: i64,
    },
}

impl Rule {
    /// Raw value of [`Rule::Deny`]: no price is young enough.
    pub const DENY_RAW: i64 = -1;
    /// Raw value of [`Rule::Allow`]: any price will do (one below `i64::MAX`, so a switch
    /// from deny to allow is one step of `i64::MAX`).
    pub const ALLOW_RAW: i64 = i64::MAX - 1;

    /// The rule as one integer, ordered by permissiveness: the oldest price (ms) the cell
    /// accepts, [`Self::DENY_RAW`] for none and [`Self::ALLOW_RAW`] for any (a governed value).
    pub fn raw(self) -> i64 {
        match self {
            Rule::Deny => Self::DENY_RAW,
            Rule::Allow => Self::ALLOW_RAW,
            Rule::AllowIfAgeWithin { max_age_ms } => max_age_ms.clamp(0, Self::ALLOW_RAW - 1),
        }
    }

    /// Inverse of [`Self::raw`]; any negative value is `Deny`.
    pub fn from_raw(v: i64) -> Rule {
        match v {
            v if v < 0 => Rule::Deny,
            v if v >= Self::ALLOW_RAW => Rule::Allow,
            max_age_ms => Rule::AllowIfAgeWithin { max_age_ms },
        }
    }
}

/// New risk on a price whose sources disagree or lack a quorum: no matrix may allow it.
pub fn never_allowed(action: Action, status: OracleStatus) -> bool {
    matches!(action, Action::Trade | Action::Withdraw | Action::Borrow)
        && matches!(status, OracleStatus::Divergent | OracleStatus::NoQuorum)
}

/// Action × oracle-status table. [`Default`] gives the conservative defaults documented on
/// [`ValidityMatrix::conservative`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidityMatrix {
    rules: [[Rule; 5]; 8],
}

impl Default for ValidityMatrix {
    fn default() -> Self {
        Self::conservative(300_000)
    }
}

impl ValidityMatrix {
    /// Defaults:
    ///
    /// | action | Valid | LowConfidence | Divergent | Stale | NoQuorum |
    /// |---|---|---|---|---|---|
    /// | Deposit, Repay | ✓ | ✓ | ✓ | ✓ | ✓ |
    /// | ReduceTrade | ✓ | ✓ | ✓ | ✓ | ✓ |
    /// | Trade | ✓ | ✗ | ✗ | ✗ | ✗ |
    /// | Withdraw, Borrow | ✓ | ✗ | ✗ | ✗ | ✗ |
    /// | Liquidate | ✓ | ✓ | ✗ | if age ≤ `stale_liquidation_ms` | ✗ |
    /// | SettleFunding | ✓ | ✗ | ✗ | ✗ | ✗ |
    ///
    /// New risk (trade, withdraw, borrow) needs a `Valid` price: the Mango and LUNA losses were
    /// borrowing against a price that was wrong. Liquidation tolerates wide confidence and a short
    /// staleness (an unhealthy account left alone gets worse), but never a divergent price, which is
    /// exactly when a manipulated or frozen source would liquidate healthy accounts.
    pub fn conservative(stale_liquidation_ms: i64) -> Self {
        use Rule::{Allow as A, Deny as D};
        let liq_stale = Rule::AllowIfAgeWithin {
            max_age_ms: stale_liquidation_ms,
        };
        Self {
            rules: [
                [A, A, A, A, A],         // Deposit
                [A, A, A, A, A],         // Repay
                [A, A, A, A, A],         // ReduceTrade
                [A, D, D, D, D],         // Trade
                [A, D, D, D, D],         // Withdraw
                [A, D, D, D, D],         // Borrow
                [A, A, D, liq_stale, D], // Liquidate
                [A, D, D, D, D],         // SettleFunding
            ],
        }
    }

    pub fn rule(&self, action: Action, status: OracleStatus) -> Rule {
        self.rules[action.index()][status.index()]
    }

    /// Changes one cell. Refuses to restrict `Deposit`/`Repay`, to allow new risk on a
    /// divergent or quorum-less price ([`never_allowed`]), and negative ages.
    pub fn set(&mut self, action: Action, status: OracleStatus, rule: Rule) -> Result<(), Error> {
        if action.always_allowed() && rule != Rule::Allow {
            return Err(config("validity", format!("{action:?} is always allowed")));
        }
        if never_allowed(action, status) && rule != Rule::Deny {
            return Err(config(
                "validity",
                format!("{action:?} is never allowed on {status:?}"),
            ));
        }
        if matches!(rule, Rule::AllowIfAgeWithin { max_age_ms } if max_age_ms < 0) {
            return Err(config("validity", "max_age_ms must be >= 0"));
        }
        self.rules[action.index()][status.index()] = rule;
        Ok(())
    }

    /// Whether `action` may use a price with this status and age.
    pub fn check_status(
        &self,
        action: Action,
        status: OracleStatus,
        age_ms: Option<i64>,
    ) -> Result<(), Blocked> {
        let ok = match self.rule(action, status) {
            Rule::Allow => true,
            Rule::Deny => false,
            Rule::AllowIfAgeWithin { max_age_ms } => age_ms.is_some_and(|a| a <= max_age_ms),
        };
        if ok {
            Ok(())
        } else {
            Err(Blocked {
                action,
                status: Gate::Oracle { status, age_ms },
            })
        }
    }

    /// Whether `action` may use this reading.
    pub fn check(&self, action: Action, reading: &Reading) -> Result<(), Blocked> {
        self.check_status(action, reading.status, reading.age_ms)
    }
}

/// The full gate: the breaker's mode first (coarser, per market/pool), then the oracle matrix.
pub fn gate(
    action: Action,
    matrix: &ValidityMatrix,
    reading: &Reading,
    mode_allows: impl Fn(Action) -> Result<(), Blocked>,
) -> Result<(), Blocked> {
    mode_allows(action)?;
    matrix.check(action, reading)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_conservative() {
        let m = ValidityMatrix::default();
        for s in OracleStatus::ALL {
            assert!(m.check_status(Action::Deposit, s, None).is_ok());
            assert!(m.check_status(Action::Repay, s, None).is_ok());
            if s != OracleStatus::Valid {
                let e = m.check_status(Action::Borrow, s, Some(0)).unwrap_err();
                assert_eq!(e.action, Action::Borrow);
                assert_eq!(
                    e.status,
                    Gate::Oracle {
                        status: s,
                        age_ms: Some(0)
                    }
                );
                assert!(m.check_status(Action::Withdraw, s, Some(0)).is_err());
            }
        }
        let st = OracleStatus::Stale;
        assert!(m.check_status(Action::Liquidate, st, Some(60_000)).is_ok());
        assert!(m
            .check_status(Action::Liquidate, st, Some(600_000))
            .is_err());
        assert!(m
            .check_status(Action::Liquidate, OracleStatus::Divergent, Some(0))
            .is_err());
    }

    #[test]
    fn raw_values_round_trip_in_order_of_permissiveness() {
        let rules = [
            Rule::Deny,
            Rule::AllowIfAgeWithin { max_age_ms: 0 },
            Rule::AllowIfAgeWithin {
                max_age_ms: 300_000,
            },
            Rule::Allow,
        ];
        let raw: Vec<i64> = rules.iter().map(|r| r.raw()).collect();
        assert_eq!(raw, [Rule::DENY_RAW, 0, 300_000, Rule::ALLOW_RAW]);
        for r in rules {
            assert_eq!(Rule::from_raw(r.raw()), r);
        }
    }

    #[test]
    fn new_risk_on_divergent_or_no_quorum_cannot_be_allowed() {
        let mut m = ValidityMatrix::default();
        let mut refused = 0;
        for a in [Action::Trade, Action::Withdraw, Action::Borrow] {
            for s in [OracleStatus::Divergent, OracleStatus::NoQuorum] {
                assert!(m.set(a, s, Rule::Allow).is_err());
                let within = Rule::AllowIfAgeWithin { max_age_ms: 1 };
                assert!(m.set(a, s, within).is_err());
                assert!(m.set(a, s, Rule::Deny).is_ok());
                refused += 2;
            }
        }
        assert_eq!(refused, 12);
        assert_eq!(m, ValidityMatrix::default());
    }

    #[test]
    fn deposit_cannot_be_restricted() {
        let mut m = ValidityMatrix::default();
        assert!(m
            .set(Action::Deposit, OracleStatus::NoQuorum, Rule::Deny)
            .is_err());
        assert!(m
            .set(Action::Borrow, OracleStatus::LowConfidence, Rule::Allow)
            .is_ok());
        assert_eq!(
            m.rule(Action::Borrow, OracleStatus::LowConfidence),
            Rule::Allow
        );
    }
}
