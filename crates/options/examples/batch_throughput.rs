//! Whole-run throughput of the batch pricer on one thread, per kernel path, next to the scalar
//! `libm` loop: `cargo run --release -p ballast-options --example batch_throughput`.
//! (Criterion figures: `cargo bench -p ballast-options --bench batch`.)

use ballast_options::batch::{price_greeks_with, BatchInput, BatchOutput, KernelPath};
use ballast_options::pricing::{bsm, BsmParams};
use ballast_options::OptionKind;
use std::time::Instant;

/// On-CPU time of this thread in seconds (Linux `/proc/thread-self/schedstat`), so the figures
/// stay meaningful when other processes share the cores; falls back to wall time.
struct Clock(Instant, Option<u64>);

fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Clock {
    fn start() -> Self {
        Clock(Instant::now(), cpu_ns())
    }
    fn secs(&self) -> f64 {
        match (self.1, cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
            _ => self.0.elapsed().as_secs_f64(),
        }
    }
}

fn main() {
    const N: usize = 4096;
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    // Deterministic inputs (SplitMix64).
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut u = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let s = vec![100.0; N];
    let k: Vec<f64> = (0..N).map(|_| 100.0 * (0.6 + 0.8 * u())).collect();
    let t: Vec<f64> = (0..N).map(|_| 0.01 + 2.0 * u()).collect();
    let r: Vec<f64> = (0..N).map(|_| 0.1 * u()).collect();
    let q: Vec<f64> = (0..N).map(|_| 0.05 * u()).collect();
    let v: Vec<f64> = (0..N).map(|_| 0.1 + 1.4 * u()).collect();
    let c: Vec<bool> = (0..N).map(|i| i % 2 == 0).collect();
    let input = BatchInput {
        spot: &s,
        strike: &k,
        t: &t,
        r: &r,
        q: &q,
        vol: &v,
        is_call: &c,
    };
    let mut o: [Vec<f64>; 6] = std::array::from_fn(|_| vec![0.0; N]);

    let start = Clock::start();
    let mut acc = 0.0;
    for _ in 0..reps / 10 {
        for i in 0..N {
            let kind = if c[i] {
                OptionKind::Call
            } else {
                OptionKind::Put
            };
            let g = bsm(
                kind,
                &BsmParams::new(s[i], k[i], t[i], r[i], q[i], v[i]).unwrap(),
            )
            .unwrap();
            acc += g.price + g.delta + g.gamma + g.vega + g.theta + g.rho;
        }
    }
    let scalar = (reps / 10 * N) as f64 / start.secs() / 1e6;
    println!("scalar libm loop: {scalar:8.1} M evaluations/s per core (checksum {acc:.3})");
    for path in [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512] {
        if !path.is_supported() {
            continue;
        }
        let reps = if path == KernelPath::Portable {
            reps / 10
        } else {
            reps
        };
        let start = Clock::start();
        for _ in 0..reps {
            let [a, b, cc, d, e, f] = &mut o;
            let mut out = BatchOutput {
                price: a,
                delta: b,
                gamma: cc,
                vega: d,
                theta: e,
                rho: f,
            };
            price_greeks_with(path, std::hint::black_box(&input), &mut out).unwrap();
        }
        let rate = (reps * N) as f64 / start.secs() / 1e6;
        println!(
            "batch {path:?}: {rate:8.1} M evaluations/s per core ({:.2}x scalar)",
            rate / scalar
        );
    }
}
