//! Property tests of the scalar pricer and the IV solver: put-call parity, monotonicity in
//! volatility, Greeks equal to central finite differences, IV round trips, typed errors.

use ballast_options::iv::implied_vol_bsm;
use ballast_options::pricing::{bsm, bsm_price, BsmParams};
use ballast_options::{OptionKind, OptionsError};
use proptest::prelude::*;

#[path = "../../engine/tests/tally/mod.rs"]
mod tally;
use tally::Tally;

/// Counts the regions the README claims the properties cover: expiries under a day, crash vols
/// above 150 %, and strikes far from spot.
fn regions(tally: &Tally, p: &BsmParams) {
    tally.hit_if(p.t < 1.0 / 365.0, "expiry under a day");
    tally.hit_if(p.vol > 1.5, "vol above 150 %");
    tally.hit_if(
        p.strike < 0.7 * p.spot || p.strike > 1.4 * p.spot,
        "far from spot",
    );
    tally.hit("cases");
}

/// Minimums for [`regions`] over 512 cases (about a third of what a run reaches).
const REGIONS: [(&str, u64); 4] = [
    ("cases", 512),
    ("expiry under a day", 60),
    ("vol above 150 %", 120),
    ("far from spot", 120),
];

/// Expiries from one hour (crypto dailies and 0DTE) to three years, and vols from calm to
/// crash levels (a 400 % annualized vol is a day of ±25 % moves).
fn params() -> impl Strategy<Value = BsmParams> {
    with(
        prop_oneof![1.0 / 8760.0..1.0 / 365.0, 1.0 / 365.0..0.02, 0.02..3.0_f64].boxed(),
        prop_oneof![0.05..1.5_f64, 1.5..4.0_f64].boxed(),
    )
}

/// The finite-difference check's region (a week to three years, vol ≤ 150 %): with fixed
/// relative bumps, central differences of an hour-to-expiry price at crash vol are dominated by
/// truncation and rounding, not by any error of the Greeks.
fn fd_params() -> impl Strategy<Value = BsmParams> {
    with((0.02..3.0_f64).boxed(), (0.05..1.5_f64).boxed())
}

fn with(t: BoxedStrategy<f64>, vol: BoxedStrategy<f64>) -> impl Strategy<Value = BsmParams> {
    (
        10.0..1000.0_f64,
        0.5..2.0_f64,
        t,
        -0.02..0.15_f64,
        0.0..0.1_f64,
        vol,
    )
        .prop_map(|(s, m, t, r, q, v)| BsmParams {
            spot: s,
            strike: s * m,
            t,
            r,
            q,
            vol: v,
        })
}

/// C − P = S·e^{−qT} − K·e^{−rT}.
#[test]
fn put_call_parity() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(512) }, |(p in params())| {
        regions(&tally, &p);
        let c = bsm_price(OptionKind::Call, &p).unwrap();
        let pu = bsm_price(OptionKind::Put, &p).unwrap();
        let fwd = p.spot * libm::exp(-p.q * p.t) - p.strike * libm::exp(-p.r * p.t);
        prop_assert!((c - pu - fwd).abs() <= 1e-12 * p.spot.max(p.strike));
    });
    tally.check("put_call_parity", &REGIONS);
}

/// Vega > 0, so the price increases with volatility: strictly wherever the change is
/// resolvable in double precision, and never decreases by more than rounding (deep in the
/// money the price is the discounted intrinsic value to the last bit).
#[test]
fn price_increases_with_vol() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(512) }, |(p in params(), bump in 0.01..0.5_f64, call in any::<bool>())| {
        let kind = if call { OptionKind::Call } else { OptionKind::Put };
        regions(&tally, &p);
        let lo = bsm_price(kind, &p).unwrap();
        let hi = bsm_price(kind, &BsmParams { vol: p.vol + bump, ..p }).unwrap();
        prop_assert!(hi >= lo - 4.0 * f64::EPSILON * lo.abs().max(p.spot), "{lo} -> {hi}");
        let vega = bsm(kind, &p).unwrap().vega;
        if vega * bump > 1e-9 * p.spot {
            tally.hit("strict increase checked");
            prop_assert!(hi > lo, "{lo} -> {hi} with vega {vega}");
        }
    });
    tally.check(
        "price_increases_with_vol",
        &[REGIONS.as_slice(), &[("strict increase checked", 250)]].concat(),
    );
}

/// Delta, gamma, vega, theta, rho against central differences of the price.
#[test]
fn greeks_match_finite_differences() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(512) }, |(p in fd_params(), call in any::<bool>())| {
        let kind = if call { OptionKind::Call } else { OptionKind::Put };
        let g = bsm(kind, &p).unwrap();
        tally.hit(if call { "call" } else { "put" });
        tally.hit_if(p.t < 0.1, "expiry under five weeks");
        let price = |q: BsmParams| bsm_price(kind, &q).unwrap();
        let hs = 1e-4 * p.spot;
        let fd_delta = (price(BsmParams { spot: p.spot + hs, ..p }) - price(BsmParams { spot: p.spot - hs, ..p })) / (2.0 * hs);
        let fd_gamma = (price(BsmParams { spot: p.spot + hs, ..p }) - 2.0 * g.price + price(BsmParams { spot: p.spot - hs, ..p })) / (hs * hs);
        let hv = 1e-5;
        let fd_vega = (price(BsmParams { vol: p.vol + hv, ..p }) - price(BsmParams { vol: p.vol - hv, ..p })) / (2.0 * hv);
        let ht = 1e-5 * p.t;
        let fd_theta = -(price(BsmParams { t: p.t + ht, ..p }) - price(BsmParams { t: p.t - ht, ..p })) / (2.0 * ht);
        let hr = 1e-5;
        let fd_rho = (price(BsmParams { r: p.r + hr, ..p }) - price(BsmParams { r: p.r - hr, ..p })) / (2.0 * hr);
        let scale = p.spot;
        prop_assert!((g.delta - fd_delta).abs() <= 1e-6, "delta {} vs {}", g.delta, fd_delta);
        prop_assert!((g.gamma - fd_gamma).abs() <= 1e-4 * (g.gamma.abs() + 1e-3 / scale), "gamma {} vs {}", g.gamma, fd_gamma);
        prop_assert!((g.vega - fd_vega).abs() <= 1e-6 * scale, "vega {} vs {}", g.vega, fd_vega);
        prop_assert!((g.theta - fd_theta).abs() <= 1e-5 * scale, "theta {} vs {}", g.theta, fd_theta);
        prop_assert!((g.rho - fd_rho).abs() <= 1e-6 * scale * p.t.max(1.0), "rho {} vs {}", g.rho, fd_rho);
    });
    tally.check(
        "greeks_match_finite_differences",
        &[("call", 170), ("put", 170), ("expiry under five weeks", 5)],
    );
}

/// price → implied vol → price reproduces the price (and the vol where vega is material).
#[test]
fn iv_round_trip() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(512) }, |(p in params(), call in any::<bool>())| {
        let kind = if call { OptionKind::Call } else { OptionKind::Put };
        let g = bsm(kind, &p).unwrap();
        // Skip prices indistinguishable from the no-arbitrage bound in double precision.
        prop_assume!(g.vega * p.vol > 1e-9 * p.spot);
        regions(&tally, &p);
        let iv = implied_vol_bsm(kind, g.price, p.spot, p.strike, p.t, p.r, p.q).unwrap();
        let back = bsm_price(kind, &BsmParams { vol: iv, ..p }).unwrap();
        prop_assert!((back - g.price).abs() <= 1e-10 * p.spot, "{} vs {}", back, g.price);
        if g.vega * p.vol > 1e-4 * p.spot {
            tally.hit("vol recovered");
            prop_assert!((iv - p.vol).abs() <= 1e-8, "iv {} vs {}", iv, p.vol);
        }
    });
    tally.check(
        "iv_round_trip",
        &[REGIONS.as_slice(), &[("vol recovered", 200)]].concat(),
    );
}

#[test]
fn bad_inputs_give_typed_errors() {
    let ok = BsmParams::new(100.0, 100.0, 1.0, 0.01, 0.0, 0.5).unwrap();
    let call = OptionKind::Call;
    assert!(matches!(
        bsm(call, &BsmParams { vol: -0.2, ..ok }),
        Err(OptionsError::InvalidInput { field: "vol", .. })
    ));
    assert!(matches!(
        bsm(call, &BsmParams { vol: 0.0, ..ok }),
        Err(OptionsError::InvalidInput { field: "vol", .. })
    ));
    assert!(matches!(
        bsm(
            call,
            &BsmParams {
                t: -1.0 / 365.0,
                ..ok
            }
        ),
        Err(OptionsError::ExpiryNotInFuture { .. })
    ));
    assert!(matches!(
        bsm(call, &BsmParams { t: 0.0, ..ok }),
        Err(OptionsError::ExpiryNotInFuture { .. })
    ));
    assert!(matches!(
        bsm(call, &BsmParams { strike: 0.0, ..ok }),
        Err(OptionsError::InvalidInput {
            field: "strike",
            ..
        })
    ));
    assert!(matches!(
        bsm(call, &BsmParams { strike: -5.0, ..ok }),
        Err(OptionsError::InvalidInput {
            field: "strike",
            ..
        })
    ));
    // IV: a call priced below its discounted intrinsic value / above the spot.
    assert!(matches!(
        implied_vol_bsm(call, 0.5, 110.0, 100.0, 1.0, 0.0, 0.0),
        Err(OptionsError::PriceOutsideBounds { .. })
    ));
    assert!(matches!(
        implied_vol_bsm(call, 120.0, 110.0, 100.0, 1.0, 0.0, 0.0),
        Err(OptionsError::PriceOutsideBounds { .. })
    ));
    // Error messages say what is wrong.
    let msg = bsm(call, &BsmParams { t: -0.5, ..ok })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("expiry"), "{msg}");
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => any::<f64>(),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => -1e3..1e3_f64,
        // often a valid input, so the finite-result side is reached too
        8 => 0.01..1e3_f64,
    ]
}

/// Arbitrary inputs (NaN, ±∞, zero, negative, huge) never panic: either a typed error or a
/// finite result.
#[test]
fn arbitrary_inputs_never_panic() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(1024) }, |(s in any_f64(), k in any_f64(), t in any_f64(), r in any_f64(), q in any_f64(),
        v in any_f64(), price in any_f64(), call in any::<bool>())| {
        let kind = if call { OptionKind::Call } else { OptionKind::Put };
        let p = BsmParams { spot: s, strike: k, t, r, q, vol: v };
        let priced = bsm(kind, &p);
        tally.hit(if priced.is_ok() { "priced" } else { "typed error" });
        if let Ok(g) = priced {
            for x in [g.price, g.delta, g.gamma, g.vega, g.theta, g.rho] {
                prop_assert!(x.is_finite());
            }
        }
        if let Ok(iv) = implied_vol_bsm(kind, price, s, k, t, r, q) {
            tally.hit("implied vol found");
            prop_assert!(iv.is_finite() && iv > 0.0);
        }
        if let Ok(iv) = ballast_options::iv::implied_vol_black76(kind, price, s, k, t, r) {
            prop_assert!(iv.is_finite() && iv > 0.0);
        }
    });
    tally.check(
        "arbitrary_inputs_never_panic",
        // (an implied vol is found for a random price only rarely: printed, not asserted)
        &[("priced", 30), ("typed error", 300)],
    );
}

#[test]
fn black76_implied_vol_round_trip() {
    use ballast_options::iv::implied_vol_black76;
    use ballast_options::pricing::{black76, Black76Params};
    let p = Black76Params {
        forward: 620.0,
        strike: 600.0,
        t: 0.5,
        r: 0.05,
        vol: 0.2,
    };
    let price = black76(OptionKind::Call, &p).unwrap().price;
    let iv = implied_vol_black76(OptionKind::Call, price, 620.0, 600.0, 0.5, 0.05).unwrap();
    assert!((iv - 0.2).abs() < 1e-12, "{iv}");
}
