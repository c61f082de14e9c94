//! The Recovering grace period at its boundary (Aave v3 PriceOracleSentinel: after a halt,
//! liquidation stays closed except for accounts whose health factor is below the governed
//! grace level, 0.95 by default): just below the level an account may be liquidated, just above
//! (and at) it may not, and the level is the configured one, not a literal.

use ballast_oracle::breaker::{Breaker, BreakerConfig, Mode, Scope};
use ballast_oracle::Action;

fn recovering(level: f64) -> Breaker {
    let cfg = BreakerConfig {
        grace_liquidation_health: level,
        ..BreakerConfig::default()
    };
    let mut b = Breaker::new(Scope::Market(1), cfg).unwrap();
    b.govern(Mode::Halted, 0).unwrap();
    b.govern(Mode::Recovering, 1).unwrap();
    assert_eq!(b.mode(), Mode::Recovering);
    b
}

#[test]
fn recovering_liquidates_just_below_the_grace_level_only() {
    assert_eq!(BreakerConfig::default().grace_liquidation_health, 0.95);
    for level in [0.95, 0.8] {
        let b = recovering(level);
        assert!(
            b.allows(Action::Liquidate).is_err(),
            "plain liquidation is closed"
        );
        assert!(
            b.allows_liquidation(0.999 * level).is_ok(),
            "health {} < level {level}: liquidatable",
            0.999 * level
        );
        assert!(b.allows_liquidation(0.949 / 0.95 * level).is_ok());
        assert!(b.allows_liquidation(0.951 / 0.95 * level).is_err());
        assert!(
            b.allows_liquidation(level).is_err(),
            "at the level: still in grace"
        );
        assert!(
            b.allows_liquidation(f64::NAN).is_err(),
            "NaN health never liquidates"
        );
    }
}

#[test]
fn outside_recovering_the_grace_level_does_not_apply() {
    let mut b = Breaker::new(Scope::Market(1), BreakerConfig::default()).unwrap();
    assert!(
        b.allows_liquidation(0.5).is_ok(),
        "normal: liquidation open"
    );
    b.govern(Mode::Halted, 0).unwrap();
    assert!(
        b.allows_liquidation(0.5).is_err(),
        "halted: closed even deep under water"
    );
}
