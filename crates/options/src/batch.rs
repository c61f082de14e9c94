//! Batch pricing: price and all Greeks of many generalised-BSM options at once, from
//! structure-of-arrays input into structure-of-arrays output.
//!
//! Why a separate path: the scalar [`crate::pricing`] calls `libm` (`exp`, `ln`, `erfc`) whose
//! branches stop LLVM from vectorising a loop. Here every transcendental is a branch-free kernel
//! (range reduction by bit manipulation, polynomial or rational approximation, lane-wise
//! selects instead of branches), so the per-option body vectorises to 4 (AVX2) or 8 (AVX-512)
//! lanes. Accuracy stays at double precision: each kernel is within a few ulp of the true
//! function (tested against `libm`), and the batch agrees with the scalar pricer to ~1e-12
//! relative (property test in `tests/batch.rs`).
//!
//! Determinism: the same generic body is compiled three times (portable, `avx2,fma`,
//! `avx512f,avx512dq,fma`) and picked at run time with `is_x86_feature_detected!`. Every
//! multiply-add that could be fused is written as an explicit `f64::mul_add` (one rounding on
//! every path; Rust never contracts `a * b + c` on its own), and no path uses approximate
//! reciprocal or square-root instructions, so the three paths are bit-identical (tested).

// Coefficients keep every digit of their source (fdlibm, mpmath fits), more than f64 holds.
#![allow(clippy::excessive_precision)]

use crate::error::{OptionsError, Result};
use crate::pricing::{BsmParams, INV_SQRT_2PI};

/// Structure-of-arrays input: element `i` is one option. All slices must have the same length.
#[derive(Debug, Clone, Copy)]
pub struct BatchInput<'a> {
    /// Spot prices, > 0.
    pub spot: &'a [f64],
    /// Strikes, > 0.
    pub strike: &'a [f64],
    /// Times to expiry in years, > 0.
    pub t: &'a [f64],
    /// Risk-free rates.
    pub r: &'a [f64],
    /// Dividend yields (cost of carry b = r − q).
    pub q: &'a [f64],
    /// Volatilities, > 0.
    pub vol: &'a [f64],
    /// `true` for a call, `false` for a put.
    pub is_call: &'a [bool],
}

/// Structure-of-arrays output, same length as the input; units as in [`crate::pricing`].
#[derive(Debug)]
pub struct BatchOutput<'a> {
    /// Present values.
    pub price: &'a mut [f64],
    /// ∂V/∂S.
    pub delta: &'a mut [f64],
    /// ∂²V/∂S².
    pub gamma: &'a mut [f64],
    /// ∂V/∂σ per 1.00 of vol.
    pub vega: &'a mut [f64],
    /// −∂V/∂T per year.
    pub theta: &'a mut [f64],
    /// ∂V/∂r per 1.00 of rate.
    pub rho: &'a mut [f64],
}

/// Which compiled variant of the kernel runs. All produce bit-identical results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelPath {
    /// Baseline x86-64 / any architecture (`mul_add` may be a library call: slow but exact).
    Portable,
    /// AVX2 + FMA, 4 lanes.
    Avx2,
    /// AVX-512F/DQ + FMA, 8 lanes.
    Avx512,
}

impl KernelPath {
    /// The fastest path this CPU supports.
    pub fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512dq")
                && std::is_x86_feature_detected!("fma")
            {
                return KernelPath::Avx512;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return KernelPath::Avx2;
            }
        }
        KernelPath::Portable
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            KernelPath::Portable => true,
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => {
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => {
                std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512dq")
                    && std::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// Prices every option of `input` and writes price and Greeks into `out`, using the fastest
/// kernel this CPU supports.
///
/// Slice lengths are checked before anything is written. Element values are checked inside the
/// kernel (a separate pass would cost a quarter of the throughput); if any element is invalid,
/// every output slice is filled with NaN and the error names the first offending element.
/// The kernel's domain is [`BATCH_DOMAIN`] (every realistic option; it keeps all intermediate
/// products finite and non-zero).
pub fn price_greeks(input: &BatchInput<'_>, out: &mut BatchOutput<'_>) -> Result<()> {
    price_greeks_with(KernelPath::best(), input, out)
}

/// As [`price_greeks`], on an explicitly chosen kernel path (for tests and benchmarks).
/// Asking for a path the CPU lacks is an error, never undefined behaviour.
pub fn price_greeks_with(
    path: KernelPath,
    input: &BatchInput<'_>,
    out: &mut BatchOutput<'_>,
) -> Result<()> {
    check_lengths(input, out)?;
    if !path.is_supported() {
        return Err(OptionsError::InvalidInput {
            field: "kernel path",
            value: f64::NAN,
            rule: "requested SIMD path is not supported by this CPU",
        });
    }
    let all_ok = match path {
        KernelPath::Portable => run(input, out),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_supported` checked the required CPU features just above.
        KernelPath::Avx2 => unsafe { run_avx2(input, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `is_supported` checked the required CPU features just above.
        KernelPath::Avx512 => unsafe { run_avx512(input, out) },
        #[cfg(not(target_arch = "x86_64"))]
        _ => run(input, out),
    };
    if all_ok {
        return Ok(());
    }
    // Rare path: poison every output so no half-valid result can be used, then name the culprit.
    for o in [
        &mut *out.price,
        &mut *out.delta,
        &mut *out.gamma,
        &mut *out.vega,
        &mut *out.theta,
        &mut *out.rho,
    ] {
        o.fill(f64::NAN);
    }
    Err(first_invalid(input))
}

fn check_lengths(input: &BatchInput<'_>, out: &BatchOutput<'_>) -> Result<()> {
    let n = input.spot.len();
    let lens: [(&'static str, usize); 12] = [
        ("strike", input.strike.len()),
        ("t", input.t.len()),
        ("r", input.r.len()),
        ("q", input.q.len()),
        ("vol", input.vol.len()),
        ("is_call", input.is_call.len()),
        ("price", out.price.len()),
        ("delta", out.delta.len()),
        ("gamma", out.gamma.len()),
        ("vega", out.vega.len()),
        ("theta", out.theta.len()),
        ("rho", out.rho.len()),
    ];
    for (what, got) in lens {
        if got != n {
            return Err(OptionsError::LengthMismatch {
                what,
                got,
                expected: n,
            });
        }
    }
    Ok(())
}

fn first_invalid(input: &BatchInput<'_>) -> OptionsError {
    let n = input.spot.len();
    for i in 0..n {
        let p = BsmParams {
            spot: input.spot[i],
            strike: input.strike[i],
            t: input.t[i],
            r: input.r[i],
            q: input.q[i],
            vol: input.vol[i],
        };
        let res = p.validate().and_then(|_| {
            if lane_ok(p.spot, p.strike, p.t, p.r, p.q, p.vol) {
                Ok(())
            } else {
                Err(OptionsError::InvalidInput {
                    field: "batch element",
                    value: f64::NAN,
                    rule: BATCH_DOMAIN,
                })
            }
        });
        if let Err(e) = res {
            return OptionsError::BatchElement {
                index: i,
                source: Box::new(e),
            };
        }
    }
    // Unreachable in practice: the kernel's check and this scan apply the same rules.
    OptionsError::InvalidInput {
        field: "batch",
        value: f64::NAN,
        rule: "an element failed validation",
    }
}

/// The batch kernel's domain (narrower than the scalar pricer's, so no intermediate product in
/// the kernel can overflow or underflow to zero): spot and strike in [1e-100, 1e100], T in
/// (0, 1000] years, vol in [1e-6, 100], r and q finite with |r|·T ≤ 200 and |q|·T ≤ 200.
pub const BATCH_DOMAIN: &str = "spot, strike in [1e-100, 1e100]; 0 < T <= 1000; 1e-6 <= vol <= 100; |r|*T <= 200; |q|*T <= 200";

#[inline(always)]
fn lane_ok(s: f64, k: f64, t: f64, r: f64, q: f64, v: f64) -> bool {
    (1e-100..=1e100).contains(&s)
        & (1e-100..=1e100).contains(&k)
        & (t > 0.0)
        & (t <= 1000.0)
        & (1e-6..=100.0).contains(&v)
        & ((r * t).abs() <= 200.0)
        & ((q * t).abs() <= 200.0)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(input: &BatchInput<'_>, out: &mut BatchOutput<'_>) -> bool {
    run(input, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
unsafe fn run_avx512(input: &BatchInput<'_>, out: &mut BatchOutput<'_>) -> bool {
    run(input, out)
}

/// The loop every path compiles; `inline(always)` so it inherits the caller's target features.
/// The body is branch-free (selects only), so LLVM's loop vectoriser turns it into 4- or
/// 8-lane code; validation is fused in as an OR-reduction of per-element failure flags.
/// Returns whether every element passed validation.
#[inline(always)]
fn run(input: &BatchInput<'_>, out: &mut BatchOutput<'_>) -> bool {
    let n = input.spot.len();
    let (s, k, t, r, q, v, c) = (
        &input.spot[..n],
        &input.strike[..n],
        &input.t[..n],
        &input.r[..n],
        &input.q[..n],
        &input.vol[..n],
        &input.is_call[..n],
    );
    let price = &mut out.price[..n];
    let delta = &mut out.delta[..n];
    let gamma = &mut out.gamma[..n];
    let vega = &mut out.vega[..n];
    let theta = &mut out.theta[..n];
    let rho = &mut out.rho[..n];
    let mut bad = 0_u64;
    for i in 0..n {
        bad |= u64::from(!lane_ok(s[i], k[i], t[i], r[i], q[i], v[i]));
        let w = if c[i] { 1.0 } else { -1.0 };
        let g = lane(s[i], k[i], t[i], r[i], q[i], v[i], w);
        price[i] = g[0];
        delta[i] = g[1];
        gamma[i] = g[2];
        vega[i] = g[3];
        theta[i] = g[4];
        rho[i] = g[5];
    }
    bad == 0
}

/// Prices only (the Greeks' extra work is dead code LLVM removes); used by portfolio
/// revaluation. Same kernel and dispatch as [`price_greeks`], so the prices are bit-identical
/// to its `price` output. Inputs must have equal lengths (checked).
pub(crate) fn prices_only(input: &BatchInput<'_>, price: &mut [f64]) -> Result<()> {
    let n = input.spot.len();
    for (what, got) in [
        ("strike", input.strike.len()),
        ("t", input.t.len()),
        ("r", input.r.len()),
        ("q", input.q.len()),
        ("vol", input.vol.len()),
        ("is_call", input.is_call.len()),
        ("price", price.len()),
    ] {
        if got != n {
            return Err(OptionsError::LengthMismatch {
                what,
                got,
                expected: n,
            });
        }
    }
    let ok = match KernelPath::best() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `best` only returns a path whose features the CPU has.
        KernelPath::Avx512 => unsafe { run_prices_avx512(input, price) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        KernelPath::Avx2 => unsafe { run_prices_avx2(input, price) },
        _ => run_prices(input, price),
    };
    if ok {
        Ok(())
    } else {
        price.fill(f64::NAN);
        Err(first_invalid(input))
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_prices_avx2(input: &BatchInput<'_>, price: &mut [f64]) -> bool {
    run_prices(input, price)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
unsafe fn run_prices_avx512(input: &BatchInput<'_>, price: &mut [f64]) -> bool {
    run_prices(input, price)
}

#[inline(always)]
fn run_prices(input: &BatchInput<'_>, price: &mut [f64]) -> bool {
    let n = input.spot.len();
    let (s, k, t, r, q, v, c) = (
        &input.spot[..n],
        &input.strike[..n],
        &input.t[..n],
        &input.r[..n],
        &input.q[..n],
        &input.vol[..n],
        &input.is_call[..n],
    );
    let price = &mut price[..n];
    let mut bad = 0_u64;
    for i in 0..n {
        bad |= u64::from(!lane_ok(s[i], k[i], t[i], r[i], q[i], v[i]));
        let w = if c[i] { 1.0 } else { -1.0 };
        price[i] = lane(s[i], k[i], t[i], r[i], q[i], v[i], w)[0];
    }
    bad == 0
}

/// One option, branch-free; same formulas as [`crate::pricing`] (Haug 2007 §1.1.6, §2.1).
#[inline(always)]
fn lane(s: f64, k: f64, t: f64, r: f64, q: f64, vol: f64, w: f64) -> [f64; 6] {
    let sqt = t.sqrt();
    let vs = vol * sqt;
    // One division serves d1 and gamma: 1/(S·σ√T), then 1/(σ√T) = S/(S·σ√T).
    let inv_svs = 1.0 / (s * vs);
    let inv_vs = s * inv_svs;
    let drift = (0.5 * vol).mul_add(vol, r - q);
    let d1 = drift.mul_add(t, ln_k(s / k)) * inv_vs;
    let d2 = d1 - vs;
    let dfq = exp_k(-q * t);
    let dfr = exp_k(-r * t);
    let sq = s * dfq;
    let kr = k * dfr;
    // exp(−d²/2) for both d1 and d2 from one exponential: φ(d2)/φ(d1) = Se^{−qT}/(Ke^{−rT})
    // (Haug 2007 §2.1). Take the exponential of the smaller |d| and scale it by the ratio
    // oriented to be ≤ 1, so the other factor can only underflow, never overflow.
    let d1_smaller = d1.abs() <= d2.abs();
    let dm = if d1_smaller { d1 } else { d2 };
    let em = exp_k(-0.5 * dm * dm);
    let ratio = if d1_smaller { sq / kr } else { kr / sq };
    let eo = em * ratio;
    let e1 = if d1_smaller { em } else { eo };
    let e2 = if d1_smaller { eo } else { em };
    let n1 = INV_SQRT_2PI * e1;
    let n2 = INV_SQRT_2PI * e2;
    let (nd1, nd2) = cdf2_k(w * d1, n1, w * d2, n2);
    let sqn1 = sq * n1;
    let price = w * sq.mul_add(nd1, -(kr * nd2));
    let delta = w * dfq * nd1;
    let gamma = dfq * n1 * inv_svs;
    let vega = sqn1 * sqt;
    let theta = -(sqn1 * (0.5 * vol * vol * inv_vs)) + w * (q * sq).mul_add(nd1, -(r * kr * nd2));
    let rho = w * k * t * dfr * nd2;
    [price, delta, gamma, vega, theta, rho]
}

/// Estrin's scheme for `Σ c[i]·xⁱ` (coefficients lowest degree first): pairs are combined with
/// x, then x², x⁴, … so the dependency chain is ⌈log₂N⌉ multiply-adds deep instead of N (Horner),
/// which lets consecutive vector iterations overlap (Estrin 1960; Knuth TAOCP vol. 2 §4.6.4).
#[inline(always)]
fn estrin<const N: usize>(x: f64, c: [f64; N]) -> f64 {
    let mut a = c;
    let mut len = N;
    let mut xp = x;
    while len > 1 {
        let half = len.div_ceil(2);
        for i in 0..half {
            a[i] = if 2 * i + 1 < len {
                a[2 * i + 1].mul_add(xp, a[2 * i])
            } else {
                a[2 * i]
            };
        }
        len = half;
        xp *= xp;
    }
    a[0]
}

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1; // fdlibm ln2_hi (low 32 bits zero)
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10; // fdlibm ln2_lo
const MAGIC_ROUND: f64 = 6_755_399_441_055_744.0; // 1.5·2^52: adding it rounds to an integer

/// Branch-free eˣ: Cody-Waite reduction `x = n·ln2 + r`, |r| ≤ ln2/2 (Cody & Waite 1980,
/// *Software Manual for the Elementary Functions*, ch. 6), a near-minimax polynomial for eʳ
/// (evaluated by [`estrin`]), then scaling by 2ⁿ built directly in the exponent bits.
/// Exactly 0 below −708 (where the true value is < 3.3e-308), saturated above 709 (never
/// reached by validated inputs).
#[inline(always)]
pub(crate) fn exp_k(x: f64) -> f64 {
    let xc = x.clamp(-708.0, 709.0);
    let tt = xc.mul_add(std::f64::consts::LOG2_E, MAGIC_ROUND);
    let nf = tt - MAGIC_ROUND;
    let ni = (tt.to_bits() as i64).wrapping_sub(MAGIC_ROUND.to_bits() as i64);
    let r = nf.mul_add(-LN2_LO, nf.mul_add(-LN2_HI, xc));
    // eʳ = 1 + r + r²·Q(r); Q is the degree-9 Chebyshev (near-minimax) fit of (eʳ − 1 − r)/r²
    // on |r| ≤ ln2/2 + 1e-6, max error 1.0e-16 on Q, i.e. < 2e-17 relative on eʳ (coefficients
    // computed for this crate with mpmath `chebyfit`; lowest degree first).
    const Q: [f64; 10] = [
        0.500_000_000_000_000_102_11,
        0.166_666_666_666_666_674_52,
        0.041_666_666_666_624_160_921,
        0.008_333_333_333_330_064_374,
        0.001_388_888_891_719_720_941_1,
        0.000_198_412_698_630_409_223_46,
        0.000_024_801_521_321_606_648_323,
        2.755_726_847_972_400_284_8e-6,
        2.762_007_624_252_725_348_8e-7,
        2.510_037_611_136_142_008_4e-8,
    ];
    let p = (r * r).mul_add(estrin(r, Q), r) + 1.0;
    let scale = f64::from_bits(((ni + 1023) << 52) as u64);
    let y = p * scale;
    if x < -708.0 {
        0.0
    } else {
        y
    }
}

/// Branch-free natural log for positive normal `x`: `x = 2ᵉ·m`, m ∈ [√½, √2), and
/// `ln m = 2·atanh(s) = 2s + 2s·z·P(z)`, `s = (m−1)/(m+1)`, `z = s²`, |s| ≤ 0.1716;
/// `e·ln2` added in two parts (fdlibm `e_log.c` splitting).
#[inline(always)]
pub(crate) fn ln_k(x: f64) -> f64 {
    let bits = x.to_bits();
    let m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    // Exponent field to f64 without an int→float conversion (absent before AVX-512DQ).
    let ef =
        f64::from_bits(0x4330_0000_0000_0000 | (bits >> 52)) - (4_503_599_627_370_496.0 + 1023.0);
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let ef = if big { ef + 1.0 } else { ef };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    // P(z) ≈ (atanh(√z)/√z − 1)/z = Σ zʲ/(2j+3): degree-6 Chebyshev fit on [0, 0.02944]
    // (z = s², s ≤ (√2−1)/(√2+1)), max error 1.6e-16 on P, < 5e-18 relative on ln m
    // (mpmath `chebyfit`, lowest degree first; plays the role of fdlibm's Lg1..Lg7).
    const C: [f64; 7] = [
        0.333_333_333_333_333_484_31,
        0.199_999_999_999_497_519_39,
        0.142_857_143_129_878_813_52,
        0.111_111_055_673_748_674_06,
        0.090_914_445_642_827_543_671,
        0.076_658_607_453_693_217_242,
        0.073_082_255_212_170_834_897,
    ];
    let p = estrin(z, C);
    let two_s = 2.0 * s;
    let ln_m = (two_s * z).mul_add(p, two_s);
    ef.mul_add(LN2_HI, ef.mul_add(LN2_LO, ln_m))
}

// Normal tail Φ(−y) = φ(y)·M(y) with M the Mills ratio. With t = 5/(5 + y) ∈ [5/43, 1] for
// y ∈ [0, 38], G(t) = M(y)/t is smooth and bounded, so one polynomial covers the whole line with
// no branches and no per-lane coefficient selects: G(t) ≈ Σ gᵢ sⁱ, s = (2t − 48/43)/(38/43) ∈
// [−1, 1], a degree-20 Chebyshev fit (max relative error 8e-17; mpmath `chebyfit`, script in
// `tools/fit_normal_cdf.py`). The same construction as the erfc of Numerical Recipes, 3rd ed.,
// §6.2.2 (Chebyshev series in t = 2/(2 + z)); the scale 5 and degree were chosen for this crate.
const MILLS_SCALE: f64 = 5.0;
const MILLS_Y_MAX: f64 = 38.0;
const MILLS_S_MUL: f64 = 43.0 / 19.0;
const MILLS_S_ADD: f64 = -24.0 / 19.0;
const MILLS_G: [f64; 21] = [
    4.280_241_588_034_340_849_41e-1,
    3.519_406_957_763_721_588_43e-1,
    2.424_309_675_989_379_242_46e-1,
    1.385_018_217_198_904_499_91e-1,
    6.407_997_372_404_582_170_36e-2,
    2.280_371_820_124_223_875_00e-2,
    5.457_659_603_244_516_960_40e-3,
    4.174_007_378_479_844_881_59e-4,
    -2.592_029_622_611_764_371_09e-4,
    -9.423_189_632_975_949_162_67e-5,
    2.460_288_029_590_538_308_15e-6,
    8.671_267_116_698_796_282_72e-6,
    8.680_982_744_294_274_767_44e-7,
    -7.689_242_534_509_863_360_69e-7,
    -1.383_709_344_355_067_949_50e-7,
    7.642_506_501_904_763_551_13e-8,
    1.610_899_361_107_908_520_19e-8,
    -8.056_271_417_045_138_439_33e-9,
    -1.539_320_424_964_650_380_75e-9,
    6.177_825_420_078_343_748_71e-10,
    9.459_396_617_793_489_425_08e-11,
];

/// Φ(x) from `n = φ(x)` and `t = 5/(5 + min(|x|, 38))`.
#[inline(always)]
fn cdf_from_t(x: f64, n: f64, t: f64) -> f64 {
    let s = t.mul_add(MILLS_S_MUL, MILLS_S_ADD);
    let tail = n * (t * estrin(s, MILLS_G));
    if x > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// Branch-free Φ(x) given `e = exp(−x²/2)` (shared with the density).
#[cfg(test)]
#[inline(always)]
pub(crate) fn cdf_k(x: f64, e: f64) -> f64 {
    let y = x.abs().min(MILLS_Y_MAX);
    cdf_from_t(x, INV_SQRT_2PI * e, MILLS_SCALE / (MILLS_SCALE + y))
}

/// Φ at two points given their densities `n1 = φ(x1)`, `n2 = φ(x2)`, with one division:
/// `5/(5+y₁) = 5(5+y₂)/((5+y₁)(5+y₂))` (both factors lie in [5, 43]).
#[inline(always)]
fn cdf2_k(x1: f64, n1: f64, x2: f64, n2: f64) -> (f64, f64) {
    let p1 = MILLS_SCALE + x1.abs().min(MILLS_Y_MAX);
    let p2 = MILLS_SCALE + x2.abs().min(MILLS_Y_MAX);
    let inv = MILLS_SCALE / (p1 * p2);
    (cdf_from_t(x1, n1, p2 * inv), cdf_from_t(x2, n2, p1 * inv))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::norm_cdf;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            (a - b).abs() / a.abs().max(b.abs())
        }
    }

    #[test]
    fn exp_kernel_matches_libm() {
        let mut worst: f64 = 0.0;
        let mut x = -707.0;
        while x < 709.0 {
            worst = worst.max(rel(exp_k(x), libm::exp(x)));
            x += 0.0137;
        }
        assert!(worst < 6e-16, "worst {worst}");
        assert_eq!(exp_k(-800.0), 0.0);
        assert_eq!(exp_k(0.0), 1.0);
    }

    #[test]
    fn ln_kernel_matches_libm() {
        let mut worst: f64 = 0.0;
        let mut x = 1e-300;
        while x < 1e300 {
            worst = worst.max((ln_k(x) - libm::log(x)).abs() / libm::log(x).abs().max(1.0));
            x *= 1.0173;
        }
        let mut y = 0.5;
        while y < 2.0 {
            worst = worst.max(rel(ln_k(y), libm::log(y)));
            y += 1e-4 + 1e-9;
        }
        assert!(worst < 4e-16, "worst {worst}");
        assert_eq!(ln_k(1.0), 0.0);
    }

    /// Agreement with ½·erfc(−x/√2) from libm, by band of |x|: both sides carry a relative
    /// error of about x²·2⁻⁵³ from rounding x² (ours) or x/√2 (libm's), which dominates in the tails.
    #[test]
    fn cdf_kernel_matches_erfc() {
        let bounds = [
            (1.0, 2e-15),
            (5.0, 1e-14),
            (10.0, 5e-14),
            (f64::INFINITY, 5e-13),
        ];
        let mut x = -37.0;
        while x < 9.0 {
            let got = cdf_k(x, exp_k(-0.5 * x * x));
            let want = norm_cdf(x);
            // Relative in the lower tail, absolute (to 1) in the upper half.
            let err = if x < 0.0 {
                rel(got, want)
            } else {
                (got - want).abs()
            };
            let tol = bounds.iter().find(|b| x.abs() < b.0).unwrap().1;
            assert!(err <= tol, "x = {x}: {got} vs {want} (err {err:e})");
            x += 0.000731;
        }
        assert!((cdf_k(0.0, 1.0) - 0.5).abs() <= f64::EPSILON);
    }
}
