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

// Coefficients are kept exactly as published (Cody 1969/1993, fdlibm), more digits than f64 holds.
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
    let (nd1, nd2) = cdf2_k(w * d1, e1, w * d2, e2);
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

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969)
// 631-637, as specialised to Φ in Cody's SPECFUN ANORM (ACM TOMS Algorithm 715, 1993).
const CODY_A: [f64; 5] = [
    2.235_252_035_460_683_928_7,
    161.028_231_068_555_878_81,
    1_067.689_485_460_370_958_2,
    18_154.981_253_343_561_249,
    0.065_682_337_918_207_449_113,
];
const CODY_B: [f64; 4] = [
    47.202_581_904_688_241_87,
    976.098_551_737_776_693_22,
    10_260.932_208_618_978_205,
    45_507.789_335_026_729_956,
];
const CODY_C: [f64; 9] = [
    0.398_941_512_088_134_667_64,
    8.883_149_794_388_375_941_2,
    93.506_656_132_177_855_979,
    597.270_276_394_800_262_26,
    2_494.537_585_290_372_671_1,
    6_848.190_450_536_282_332_6,
    11_602.651_437_647_350_124,
    9_842.714_838_383_978_021_8,
    1.076_557_677_372_019_231_7e-8,
];
const CODY_D: [f64; 8] = [
    22.266_688_044_328_115_691,
    235.387_901_782_624_998_61,
    1_519.377_599_407_554_805,
    6_485.558_298_266_760_755,
    18_615.571_640_885_098_091,
    34_900.952_721_145_977_266,
    38_912.003_286_093_271_411,
    19_685.429_676_859_990_727,
];
const CODY_P: [f64; 6] = [
    0.215_898_534_057_956_99,
    0.127_401_161_160_247_363_9,
    0.022_235_277_870_649_807,
    0.001_421_619_193_227_893_466,
    2.911_287_495_116_879_2e-5,
    0.023_073_441_764_940_173_03,
];
const CODY_Q: [f64; 5] = [
    1.284_260_096_144_911_21,
    0.468_238_212_480_865_118,
    0.065_988_137_868_928_551_5,
    0.003_782_396_332_027_582_44,
    7.297_515_550_839_662_05e-5,
];
const SQRT_32: f64 = 5.656_854_249_492_380_2;

/// The three Cody rationals rewritten as degree-8 polynomials (highest degree first) in one
/// variable per region, so a lane picks its coefficients with selects and evaluates a single
/// rational: region 1 in u = x², region 2 in u = |x|, region 3 in u = x² with the polynomials
/// in 1/x² reversed (multiplied through by u⁵).
const R1_N: [f64; 9] = [
    0.0, 0.0, 0.0, 0.0, CODY_A[4], CODY_A[0], CODY_A[1], CODY_A[2], CODY_A[3],
];
const R1_D: [f64; 9] = [
    0.0, 0.0, 0.0, 0.0, 1.0, CODY_B[0], CODY_B[1], CODY_B[2], CODY_B[3],
];
const R2_N: [f64; 9] = [
    CODY_C[8], CODY_C[0], CODY_C[1], CODY_C[2], CODY_C[3], CODY_C[4], CODY_C[5], CODY_C[6],
    CODY_C[7],
];
const R2_D: [f64; 9] = [
    1.0, CODY_D[0], CODY_D[1], CODY_D[2], CODY_D[3], CODY_D[4], CODY_D[5], CODY_D[6], CODY_D[7],
];
const R3_N: [f64; 9] = [
    0.0, 0.0, 0.0, CODY_P[4], CODY_P[3], CODY_P[2], CODY_P[1], CODY_P[0], CODY_P[5],
];
const R3_D: [f64; 9] = [
    0.0, 0.0, 0.0, CODY_Q[4], CODY_Q[3], CODY_Q[2], CODY_Q[1], CODY_Q[0], 1.0,
];

/// Numerator and denominator of the selected Cody rational at `x` (see [`cdf_k`]).
#[inline(always)]
fn cdf_rational(x: f64) -> (f64, f64) {
    let y = x.abs();
    let r1 = y <= 0.674_489_75;
    let r2 = y <= SQRT_32;
    let yc = y.min(40.0);
    let u = if r2 & !r1 { y } else { yc * yc };
    let mut nc = [0.0; 9];
    let mut dc = [0.0; 9];
    for i in 0..9 {
        // Tables are highest degree first; Estrin wants lowest first.
        let j = 8 - i;
        nc[i] = if r1 {
            R1_N[j]
        } else if r2 {
            R2_N[j]
        } else {
            R3_N[j]
        };
        dc[i] = if r1 {
            R1_D[j]
        } else if r2 {
            R2_D[j]
        } else {
            R3_D[j]
        };
    }
    let num = estrin(u, nc);
    let den = estrin(u, dc);
    let ud = u * den;
    let num2 = if r1 {
        x * num
    } else if r2 {
        num
    } else {
        INV_SQRT_2PI.mul_add(ud, -num)
    };
    let den2 = if r1 | r2 { den } else { ud * yc };
    (num2, den2)
}

/// Φ(x) from the rational's value `qv` and `e = exp(−x²/2)`.
#[inline(always)]
fn cdf_finish(x: f64, e: f64, qv: f64) -> f64 {
    let tail = e * qv;
    let cum = if x > 0.0 { 1.0 - tail } else { tail };
    if x.abs() <= 0.674_489_75 {
        0.5 + qv
    } else {
        cum
    }
}

/// Branch-free Φ(x) given `e = exp(−x²/2)` (shared with the density). Cody's three regions
/// (|x| ≤ 0.67448975, ≤ √32, beyond) are evaluated as one selected rational.
#[cfg(test)]
#[inline(always)]
pub(crate) fn cdf_k(x: f64, e: f64) -> f64 {
    let (n, d) = cdf_rational(x);
    cdf_finish(x, e, n / d)
}

/// Φ at two points with one division: `n₁/d₁ = n₁d₂/(d₁d₂)` (every denominator is ≥ 1e4 and
/// ≤ 1e17, so the product neither overflows nor underflows).
#[inline(always)]
fn cdf2_k(x1: f64, e1: f64, x2: f64, e2: f64) -> (f64, f64) {
    let (n1, d1) = cdf_rational(x1);
    let (n2, d2) = cdf_rational(x2);
    let inv = 1.0 / (d1 * d2);
    (
        cdf_finish(x1, e1, n1 * d2 * inv),
        cdf_finish(x2, e2, n2 * d1 * inv),
    )
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

    #[test]
    fn cdf_kernel_matches_erfc() {
        let mut worst: f64 = 0.0;
        let mut x = -37.0;
        while x < 9.0 {
            let e = exp_k(-0.5 * x * x);
            let got = cdf_k(x, e);
            let want = norm_cdf(x);
            // Relative in the lower tail, absolute (to 1) in the upper half.
            let err = if x < 0.0 {
                rel(got, want)
            } else {
                (got - want).abs()
            };
            worst = worst.max(err / (1.0 + 0.5 * x * x * 1e-1));
            x += 0.00731;
        }
        assert!(worst < 1e-14, "worst {worst}");
        assert_eq!(cdf_k(0.0, 1.0), 0.5);
    }
}
