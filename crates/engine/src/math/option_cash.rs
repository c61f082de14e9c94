//! Option cash flows in fixed point: premium, taker fee and settlement payoff, each rounded
//! against the account that pays (the buyer pays the premium rounded up and the seller receives
//! the same number; the fee rounds up; a payoff rounds down for the long, so the short pays the
//! ceiling of what it owes).

use crate::num::{Amount, Overflow, Price, Ratio, Round, Value};
use ballast_options::pricing::OptionKind;

/// Premium of `size` options at `premium` per unit (a [`Price`]: quote per base-native unit),
/// in quote-native units, rounded up. Exact: `|size| × premium` is an i64 × i64 product.
#[must_use = "a premium is owed by the buyer and due to the seller"]
pub fn premium(size: Amount, premium: Price) -> Result<Amount, Overflow> {
    Amount(size.0.checked_abs().ok_or(Overflow)?)
        .value(premium)
        .to_quote(Round::Up)
}

/// Taker fee: `min(rate × |size| × spot, cap × premium)`, rounded up (Deribit's option fee
/// schedule: a share of the underlying's notional, capped at a share of the premium).
#[must_use = "a fee is owed to the pool"]
pub fn taker_fee(
    size: Amount,
    spot: Price,
    premium_total: Amount,
    rate: Ratio,
    cap: Ratio,
) -> Result<Amount, Overflow> {
    let notional = Amount(size.0.checked_abs().ok_or(Overflow)?).value(spot);
    let by_notional = notional.mul_ratio(rate, Round::Up)?;
    let by_premium = Value::from_quote(premium_total).mul_ratio(cap, Round::Up)?;
    by_notional.min(by_premium).to_quote(Round::Up)
}

/// Cash payoff at settlement: `size × max(±(settle − strike), 0)`, exact in fixed point and
/// rounded down (longs receive the floor, shorts pay the ceiling).
#[must_use = "a payoff is owed by the short and due to the long"]
pub fn payoff(
    kind: OptionKind,
    size: Amount,
    settle: Price,
    strike: Price,
) -> Result<Amount, Overflow> {
    let diff = match kind {
        OptionKind::Call => settle.raw() as i128 - strike.raw() as i128,
        OptionKind::Put => strike.raw() as i128 - settle.raw() as i128,
    };
    if diff <= 0 {
        return Ok(Amount::ZERO);
    }
    let v = (size.0 as i128).checked_mul(diff).ok_or(Overflow)?;
    Value(v).to_quote(Round::Down)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(human: f64) -> Price {
        // BTC (8 decimals) in USDC (6 decimals)
        Price::from_human(human, 8, 6).unwrap()
    }

    #[test]
    fn premium_and_fee_match_the_schedule() {
        let two_btc = Amount(200_000_000);
        let p = premium(two_btc, px(2_500.0)).unwrap();
        assert_eq!(p, Amount(5_000_000_000));
        // min(0.03% × 2 × 65,000 = 39, 12.5% × 5,000 = 625) = 39 USDC
        let fee = taker_fee(
            two_btc,
            px(65_000.0),
            p,
            Ratio::from_f64(0.0003).unwrap(),
            Ratio::from_f64(0.125).unwrap(),
        )
        .unwrap();
        assert_eq!(fee, Amount(39_000_000));
        // a cheap option: the cap binds (12.5% × 2 × 10 = 2.5 USDC)
        let cheap = premium(two_btc, px(10.0)).unwrap();
        let fee = taker_fee(
            two_btc,
            px(65_000.0),
            cheap,
            Ratio::from_f64(0.0003).unwrap(),
            Ratio::from_f64(0.125).unwrap(),
        )
        .unwrap();
        assert_eq!(fee, Amount(2_500_000));
    }

    #[test]
    fn premium_rounds_up_payoff_rounds_down() {
        // 1 sat at 1 USDC per BTC: 1e-8 USDC → rounds up to 1 µUSDC
        assert_eq!(premium(Amount(1), px(1.0)).unwrap(), Amount(1));
        assert_eq!(
            payoff(OptionKind::Call, Amount(1), px(70_001.0), px(70_000.0)).unwrap(),
            Amount(0)
        );
        assert_eq!(
            payoff(OptionKind::Call, Amount(-1), px(70_001.0), px(70_000.0)).unwrap(),
            Amount(-1)
        );
        assert_eq!(
            payoff(
                OptionKind::Put,
                Amount(100_000_000),
                px(60_000.0),
                px(65_000.0)
            )
            .unwrap(),
            Amount(5_000_000_000)
        );
        assert_eq!(
            payoff(
                OptionKind::Put,
                Amount(100_000_000),
                px(70_000.0),
                px(65_000.0)
            )
            .unwrap(),
            Amount(0)
        );
    }
}
