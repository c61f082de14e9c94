//! Fixed-point quantities of the ledger.
//!
//! One scale per quantity, documented here and nowhere else:
//!
//! | type        | raw type | unit of one raw step                                         |
//! |-------------|----------|--------------------------------------------------------------|
//! | [`Amount`]  | `i64`    | one native unit of its asset (`10^-decimals` whole tokens)   |
//! | [`Price`]   | `i64`    | `1e-12` quote-native units per base-native unit              |
//! | [`Value`]   | `i128`   | `1e-12` quote-native units (so `Amount × Price = Value` exactly) |
//! | [`Ratio`]   | `i64`    | `1e-9` (so `1.0 = 1_000_000_000`)                            |
//! | [`Timestamp`] | `i64`  | milliseconds since the Unix epoch, UTC                       |
//!
//! Perpetual sizes are [`Amount`]s of the market's base asset, so a position and a collateral
//! balance of the same asset share a unit. Every conversion that loses precision names its
//! rounding direction; the ledger always rounds against the account (in favour of the
//! protocol's solvency). Arithmetic is checked: an overflow becomes [`Overflow`], never a wrap.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Raw steps of [`Price`] and [`Value`] per quote-native unit.
pub const VALUE_SCALE: i128 = 1_000_000_000_000;
/// Raw steps of [`Ratio`] per 1.0.
pub const RATIO_SCALE: i64 = 1_000_000_000;
/// Milliseconds per (365-day) year, the accrual basis for interest rates.
pub const MS_PER_YEAR: i64 = 365 * 24 * 3600 * 1000;
/// Milliseconds per hour, the funding period.
pub const MS_PER_HOUR: i64 = 3600 * 1000;

/// An arithmetic result that does not fit its fixed-point type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// Direction of a lossy conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Towards negative infinity.
    Down,
    /// Towards positive infinity.
    Up,
}

/// `a / b` rounded in the given direction (b > 0).
#[inline(always)]
pub fn div_round(a: i128, b: i128, round: Round) -> i128 {
    debug_assert!(b > 0);
    // One hardware-width division when both fit in 64 bits; one i128 division otherwise
    // (the remainder comes from a multiplication, not a second division).
    let (q, r) = if let (Ok(a64), Ok(b64)) = (i64::try_from(a), i64::try_from(b)) {
        ((a64 / b64) as i128, (a64 % b64) as i128)
    } else {
        let q = a / b;
        (q, a - q * b)
    };
    // Truncation rounds towards zero; adjust to the requested direction.
    match round {
        Round::Down if r < 0 => q - 1,
        Round::Up if r > 0 => q + 1,
        _ => q,
    }
}

/// `a × b / d` rounded in the given direction, exact whenever the result fits (d > 0).
///
/// When `a·b` fits an i128 it is one division; otherwise the product is formed in 256 bits, so
/// the product of two large factors cannot wrap and the result is exact whenever it fits. A
/// result that does not fit is an [`Overflow`].
#[inline(always)]
pub fn mul_div(a: i128, b: i128, d: i128, round: Round) -> Result<i128, Overflow> {
    debug_assert!(d > 0);
    // Fast path: the product fits, so one (usually 64-bit) division is exact.
    if let Some(p) = a.checked_mul(b) {
        return Ok(div_round(p, d, round));
    }
    mul_div_wide(a, b, d, round)
}

/// The slow path of [`mul_div`]: the product in 256 bits (the `ethnum` crate's `I256`, since no
/// standard type holds an i128 × i128 product), one division, rounded as asked, then checked back
/// into an i128.
#[cold]
fn mul_div_wide(a: i128, b: i128, d: i128, round: Round) -> Result<i128, Overflow> {
    use ethnum::I256;
    let p = I256::from(a) * I256::from(b);
    let d = I256::from(d);
    let (q, r) = (p / d, p % d);
    let q = match round {
        Round::Down if r < 0 => q - 1,
        Round::Up if r > 0 => q + 1,
        _ => q,
    };
    i128::try_from(q).map_err(|_| Overflow)
}

/// A token amount in native units of its asset.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[repr(transparent)]
pub struct Amount(pub i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);
    #[inline]
    pub fn checked_add(self, o: Amount) -> Result<Amount, Overflow> {
        self.0.checked_add(o.0).map(Amount).ok_or(Overflow)
    }
    #[inline]
    pub fn checked_sub(self, o: Amount) -> Result<Amount, Overflow> {
        self.0.checked_sub(o.0).map(Amount).ok_or(Overflow)
    }
    #[inline]
    pub fn checked_neg(self) -> Result<Amount, Overflow> {
        self.0.checked_neg().map(Amount).ok_or(Overflow)
    }
    #[inline]
    pub fn abs(self) -> i128 {
        (self.0 as i128).abs()
    }
    #[inline]
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// Value of this amount at `price`: exact, no rounding.
    #[inline]
    pub fn value(self, price: Price) -> Value {
        Value(self.0 as i128 * price.0 as i128)
    }
    /// Amount from an i128, failing when it does not fit.
    #[inline]
    pub fn from_i128(v: i128) -> Result<Amount, Overflow> {
        i64::try_from(v).map(Amount).map_err(|_| Overflow)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Price of one base-native unit in quote-native units, scaled by [`VALUE_SCALE`].
///
/// Always strictly positive: the only constructors validate their input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[repr(transparent)]
pub struct Price(i64);

/// Why a price was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("price is NaN")]
    NaN,
    #[error("price is infinite")]
    Infinite,
    #[error("price must be > 0")]
    NotPositive,
    #[error("price is too large for the fixed-point scale")]
    TooLarge,
    #[error("price is below the fixed-point resolution for these decimals")]
    TooSmall,
}

/// `10^e` for the scales used here. Exact powers of ten up to 10^22 come from a table; other
/// exponents from `libm::pow` (the same bits on every platform, unlike `powi`, whose order of
/// multiplications is unspecified).
#[inline]
pub fn pow10(e: i32) -> f64 {
    const T: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    match usize::try_from(e) {
        Ok(i) if i < T.len() => T[i],
        _ => libm::pow(10.0, f64::from(e)),
    }
}

impl Price {
    /// A raw fixed-point price; must be > 0.
    pub fn from_raw(raw: i64) -> Result<Price, PriceError> {
        if raw <= 0 {
            Err(PriceError::NotPositive)
        } else {
            Ok(Price(raw))
        }
    }
    #[inline]
    pub fn raw(self) -> i64 {
        self.0
    }
    /// Converts a human price (quote whole tokens per base whole token) into the fixed scale,
    /// given the decimals of both assets. Rounds to nearest; refuses NaN, ±inf, ≤ 0, values
    /// that do not fit, and values that would round to zero.
    pub fn from_human(p: f64, base_decimals: u8, quote_decimals: u8) -> Result<Price, PriceError> {
        if p.is_nan() {
            return Err(PriceError::NaN);
        }
        if p.is_infinite() {
            return Err(PriceError::Infinite);
        }
        if p <= 0.0 {
            return Err(PriceError::NotPositive);
        }
        let exp = quote_decimals as i32 - base_decimals as i32 + 12;
        let raw = p * pow10(exp);
        if raw >= i64::MAX as f64 {
            return Err(PriceError::TooLarge);
        }
        let r = raw.round() as i64;
        if r <= 0 {
            return Err(PriceError::TooSmall);
        }
        Ok(Price(r))
    }
    /// Back to a human price (for display and float risk models only).
    pub fn to_human(self, base_decimals: u8, quote_decimals: u8) -> f64 {
        let exp = quote_decimals as i32 - base_decimals as i32 + 12;
        self.0 as f64 / pow10(exp)
    }
    /// Relative distance `|self − other| / other` as a [`Ratio`], rounded up.
    pub fn deviation_from(self, other: Price) -> Ratio {
        let d = (self.0 as i128 - other.0 as i128).abs() * RATIO_SCALE as i128;
        Ratio(div_round(d, other.0 as i128, Round::Up).min(i64::MAX as i128) as i64)
    }
}

/// A quote value in quote-native units scaled by [`VALUE_SCALE`]: exact product of an
/// [`Amount`] and a [`Price`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[repr(transparent)]
pub struct Value(pub i128);

impl Value {
    pub const ZERO: Value = Value(0);
    /// A quote-native amount as a value (exact).
    #[inline]
    pub fn from_quote(a: Amount) -> Value {
        Value(a.0 as i128 * VALUE_SCALE)
    }
    /// To quote-native units, rounded in the given direction.
    #[inline]
    pub fn to_quote(self, round: Round) -> Result<Amount, Overflow> {
        Amount::from_i128(div_round(self.0, VALUE_SCALE, round))
    }
    /// `self × r`, rounded in the given direction; exact (no intermediate product), failing only
    /// when the result itself does not fit.
    #[inline]
    pub fn mul_ratio(self, r: Ratio, round: Round) -> Result<Value, Overflow> {
        mul_div(self.0, r.0 as i128, RATIO_SCALE as i128, round).map(Value)
    }
    #[inline]
    pub fn checked_add(self, o: Value) -> Result<Value, Overflow> {
        self.0.checked_add(o.0).map(Value).ok_or(Overflow)
    }
    #[inline]
    pub fn checked_sub(self, o: Value) -> Result<Value, Overflow> {
        self.0.checked_sub(o.0).map(Value).ok_or(Overflow)
    }
    #[inline]
    pub fn checked_neg(self) -> Result<Value, Overflow> {
        self.0.checked_neg().map(Value).ok_or(Overflow)
    }
    /// `|self|`, failing only for `i128::MIN`.
    #[inline]
    pub fn checked_abs(self) -> Result<Value, Overflow> {
        self.0.checked_abs().map(Value).ok_or(Overflow)
    }
    /// Checked sum of several values.
    #[inline]
    pub fn sum<I: IntoIterator<Item = Value>>(items: I) -> Result<Value, Overflow> {
        items
            .into_iter()
            .try_fold(Value::ZERO, |acc, v| acc.checked_add(v))
    }
    /// `self += o`, checked.
    #[inline]
    pub fn add_assign(&mut self, o: Value) -> Result<(), Overflow> {
        *self = self.checked_add(o)?;
        Ok(())
    }
    /// `self -= o`, checked.
    #[inline]
    pub fn sub_assign(&mut self, o: Value) -> Result<(), Overflow> {
        *self = self.checked_sub(o)?;
        Ok(())
    }
    /// Human quote units (display only).
    pub fn to_human(self, quote_decimals: u8) -> f64 {
        self.0 as f64 / VALUE_SCALE as f64 / pow10(i32::from(quote_decimals))
    }
}

/// A dimensionless fraction scaled by [`RATIO_SCALE`] (rates, weights, fees).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[repr(transparent)]
pub struct Ratio(pub i64);

impl Ratio {
    pub const ZERO: Ratio = Ratio(0);
    pub const ONE: Ratio = Ratio(RATIO_SCALE);
    /// From a float fraction, rounded to nearest; refuses non-finite input.
    pub fn from_f64(x: f64) -> Option<Ratio> {
        if !x.is_finite() || x.abs() > 9.0e9 {
            return None;
        }
        Some(Ratio((x * RATIO_SCALE as f64).round() as i64))
    }
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / RATIO_SCALE as f64
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_f64())
    }
}

/// Milliseconds since the Unix epoch (UTC). Arrives with every command; never read from a clock.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl fmt::Display for Timestamp {
    /// ISO-8601 UTC with milliseconds (civil-from-days: H. Hinnant, "chrono-Compatible
    /// Low-Level Date Algorithms").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow10_table_matches_correctly_rounded_pow() {
        for e in -3..30 {
            assert_eq!(pow10(e), libm::pow(10.0, f64::from(e)), "10^{e}");
        }
    }

    #[test]
    fn timestamp_displays_iso() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_583_971_200_123).to_string(),
            "2020-03-12T00:00:00.123Z"
        );
    }

    #[test]
    fn mul_div_is_exact_where_the_naive_product_wraps() {
        let a = 9_000_000_000_000_000_000i128 * 10_000_000; // 9e25
        let b = 3_600_000_000_000i128; // 3.6e12: a·b ≈ 3.2e38 > i128::MAX
        let d = 3_600_000_000_000_000i128;
        assert_eq!(mul_div(a, b, d, Round::Down), Ok(a / 1000));
        assert_eq!(mul_div(-a, b, d, Round::Down), Ok(-a / 1000));
        assert_eq!(mul_div(7, 1, 2, Round::Down), Ok(3));
        assert_eq!(mul_div(-7, 1, 2, Round::Down), Ok(-4));
        assert_eq!(mul_div(7, 1, 2, Round::Up), Ok(4));
        assert_eq!(mul_div(-7, 1, 2, Round::Up), Ok(-3));
        assert_eq!(mul_div(i128::MAX, 2, 1, Round::Down), Err(Overflow));
        // Both factors and the divisor beyond √i128::MAX (a borrow index past 13×): the fuzzer's
        // case, where splitting `a = q·d + r` still overflowed in `r·b`.
        let idx = 14 * 1_000_000_000_000_000_000i128;
        let stored = 13 * 1_000_000_000_000_000_000i128 + 7;
        assert_eq!(
            mul_div(-1_000_000, idx, stored, Round::Down),
            Ok(-((1_000_000i128 * idx + stored - 1) / stored))
        );
        assert_eq!(mul_div(i128::MAX, 3, 3, Round::Down), Ok(i128::MAX));
    }

    #[test]
    fn div_round_directions() {
        assert_eq!(div_round(7, 2, Round::Down), 3);
        assert_eq!(div_round(7, 2, Round::Up), 4);
        assert_eq!(div_round(-7, 2, Round::Down), -4);
        assert_eq!(div_round(-7, 2, Round::Up), -3);
        assert_eq!(div_round(6, 2, Round::Up), 3);
        assert_eq!(div_round(-6, 2, Round::Down), -3);
        let big = 7 * (1i128 << 80) + 3;
        assert_eq!(div_round(big, 1 << 80, Round::Down), 7);
        assert_eq!(div_round(big, 1 << 80, Round::Up), 8);
        assert_eq!(div_round(-big, 1 << 80, Round::Down), -8);
        assert_eq!(div_round(-big, 1 << 80, Round::Up), -7);
    }

    #[test]
    fn price_from_human_scales_and_rejects() {
        // BTC (8 decimals) at $65,000 in USDC (6 decimals): 1 sat = 0.00065 USDC = 650 µUSDC.
        let p = Price::from_human(65_000.0, 8, 6).unwrap();
        assert_eq!(p.raw(), 650 * 1_000_000_000_000);
        assert_eq!(
            Amount(100_000_000).value(p),
            Value::from_quote(Amount(65_000_000_000))
        );
        assert_eq!(Price::from_human(f64::NAN, 8, 6), Err(PriceError::NaN));
        assert_eq!(
            Price::from_human(f64::INFINITY, 8, 6),
            Err(PriceError::Infinite)
        );
        assert_eq!(Price::from_human(-1.0, 8, 6), Err(PriceError::NotPositive));
        assert_eq!(Price::from_human(0.0, 8, 6), Err(PriceError::NotPositive));
        assert_eq!(Price::from_human(1e30, 8, 6), Err(PriceError::TooLarge));
        assert_eq!(Price::from_human(1e-20, 8, 6), Err(PriceError::TooSmall));
    }

    #[test]
    fn value_rounding_is_directional() {
        let v = Value(VALUE_SCALE + 1);
        assert_eq!(v.to_quote(Round::Down).unwrap(), Amount(1));
        assert_eq!(v.to_quote(Round::Up).unwrap(), Amount(2));
        assert_eq!(Value(-1).to_quote(Round::Down).unwrap(), Amount(-1));
        assert_eq!(
            Value(5).mul_ratio(Ratio(RATIO_SCALE / 2), Round::Up),
            Ok(Value(3))
        );
    }
}
