//! The vectorised batch agrees with the scalar `libm` pricer to ~1e-12 relative on random
//! inputs, every SIMD path is bit-identical to the portable one, and bad elements are named.

use ballast_options::batch::{
    price_greeks, price_greeks_with, BatchInput, BatchOutput, KernelPath,
};
use ballast_options::pricing::{bsm, BsmParams};
use ballast_options::{OptionKind, OptionsError};
use proptest::prelude::*;

#[path = "../../engine/tests/tally/mod.rs"]
mod tally;
use tally::Tally;

type Row = (f64, f64, f64, f64, f64, f64, bool);

fn row() -> impl Strategy<Value = Row> {
    (
        1.0..100_000.0_f64,
        0.3..3.0_f64,
        0.003..5.0_f64,
        -0.05..0.2_f64,
        -0.05..0.2_f64,
        0.02..3.0_f64,
        any::<bool>(),
    )
        .prop_map(|(s, m, t, r, q, v, c)| (s, s * m, t, r, q, v, c))
}

fn run(path: KernelPath, rows: &[Row]) -> [Vec<f64>; 6] {
    let col = |f: fn(&Row) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let (s, k, t, r, q, v) = (
        col(|x| x.0),
        col(|x| x.1),
        col(|x| x.2),
        col(|x| x.3),
        col(|x| x.4),
        col(|x| x.5),
    );
    let c: Vec<bool> = rows.iter().map(|x| x.6).collect();
    let n = rows.len();
    let mut o: [Vec<f64>; 6] = std::array::from_fn(|_| vec![0.0; n]);
    {
        let [a, b, cc, d, e, f] = &mut o;
        price_greeks_with(
            path,
            &BatchInput {
                spot: &s,
                strike: &k,
                t: &t,
                r: &r,
                q: &q,
                vol: &v,
                is_call: &c,
            },
            &mut BatchOutput {
                price: a,
                delta: b,
                gamma: cc,
                vega: d,
                theta: e,
                rho: f,
            },
        )
        .unwrap();
    }
    o
}

/// Relative agreement 1e-12, with an absolute floor of 1e-12 × the option's natural scale
/// (spot for price/vega/theta/rho, 1 for delta, 1/spot for gamma) where a Greek is itself
/// the difference of two nearly equal terms (price and theta far out of the money).
#[test]
fn batch_matches_scalar() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(64) }, |(rows in proptest::collection::vec(row(), 1..70))| {
        let o = run(KernelPath::best(), &rows);
        for (i, &(s, k, t, r, q, v, c)) in rows.iter().enumerate() {
            let kind = if c { OptionKind::Call } else { OptionKind::Put };
            let g = bsm(kind, &BsmParams::new(s, k, t, r, q, v).unwrap()).unwrap();
            tally.hit("elements");
            tally.hit_if(k > 1.3 * s || k < 0.7 * s, "far from spot");
            let scale = s.max(k);
            let want = [g.price, g.delta, g.gamma, g.vega, g.theta, g.rho];
            let floor = [scale, 1.0, 1.0 / scale, scale, scale, scale * t];
            for j in 0..6 {
                let (a, b) = (o[j][i], want[j]);
                let tol = 1e-12 * a.abs().max(b.abs()) + 1e-12 * floor[j];
                prop_assert!((a - b).abs() <= tol, "elem {i} greek {j}: batch {a} scalar {b} ({:?})", rows[i]);
            }
        }
    });
    tally.check(
        "batch_matches_scalar",
        &[("elements", 700), ("far from spot", 100)],
    );
}

/// Portable, AVX2 and AVX-512 paths produce the same bits.
#[test]
fn paths_are_bit_identical() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(64) }, |(rows in proptest::collection::vec(row(), 1..40))| {
        let base = run(KernelPath::Portable, &rows);
        for path in [KernelPath::Avx2, KernelPath::Avx512] {
            if !path.is_supported() {
                continue;
            }
            let o = run(path, &rows);
            tally.hit(if path == KernelPath::Avx2 { "avx2 compared" } else { "avx512 compared" });
            for j in 0..6 {
                for i in 0..rows.len() {
                    prop_assert_eq!(o[j][i].to_bits(), base[j][i].to_bits(), "{:?} greek {} elem {}", path, j, i);
                }
            }
        }
    });
    // the SIMD paths are compared only where the CPU has them: their counts are printed, and
    // asserted only as far as this machine supports them
    let min = |p: KernelPath| if p.is_supported() { 64 } else { 0 };
    tally.check(
        "paths_are_bit_identical",
        &[
            ("avx2 compared", min(KernelPath::Avx2)),
            ("avx512 compared", min(KernelPath::Avx512)),
        ],
    );
}

#[test]
fn bad_element_is_named_and_outputs_poisoned() {
    let s = [100.0, 100.0, 100.0];
    let k = [90.0, 100.0, 110.0];
    let t = [0.5, -0.1, 0.5];
    let z = [0.0; 3];
    let v = [0.5; 3];
    let c = [true; 3];
    let mut o: [Vec<f64>; 6] = std::array::from_fn(|_| vec![0.0; 3]);
    let [a, b, cc, d, e, f] = &mut o;
    let mut out = BatchOutput {
        price: a,
        delta: b,
        gamma: cc,
        vega: d,
        theta: e,
        rho: f,
    };
    let input = BatchInput {
        spot: &s,
        strike: &k,
        t: &t,
        r: &z,
        q: &z,
        vol: &v,
        is_call: &c,
    };
    let err = price_greeks(&input, &mut out).unwrap_err();
    match err {
        OptionsError::BatchElement { index, source } => {
            assert_eq!(index, 1);
            assert!(matches!(*source, OptionsError::ExpiryNotInFuture { .. }));
        }
        e => panic!("unexpected {e}"),
    }
    assert!(out.price.iter().all(|x| x.is_nan()));
    // Length mismatch.
    let short = [0.5; 2];
    let err = price_greeks(
        &BatchInput {
            vol: &short,
            ..input
        },
        &mut out,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        OptionsError::LengthMismatch { what: "vol", .. }
    ));
}
