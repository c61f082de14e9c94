//! Batch price + Greeks throughput against the scalar `libm` loop, in the same run.
//!
//! Run: `cargo bench -p ballast-options --bench batch`. Criterion reports elements/second
//! (one element = one option's price and five Greeks) for each variant, on one thread; before
//! that, the bench prints each batch path's throughput as a ratio to the scalar loop, both
//! measured in this run on this thread's CPU time (robust to other processes on the cores).

use ballast_options::batch::{price_greeks_with, BatchInput, BatchOutput, KernelPath};
use ballast_options::pricing::{bsm, BsmParams};
use ballast_options::OptionKind;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const N: usize = 4096;

/// Deterministic pseudo-random inputs (SplitMix64), so every run benches the same options.
fn inputs() -> [Vec<f64>; 6] {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut u = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut v: [Vec<f64>; 6] = Default::default();
    for _ in 0..N {
        let s = 100.0;
        v[0].push(s);
        v[1].push(s * (0.6 + 0.8 * u()));
        v[2].push(0.01 + 2.0 * u());
        v[3].push(0.1 * u());
        v[4].push(0.05 * u());
        v[5].push(0.1 + 1.4 * u());
    }
    v
}

/// On-CPU nanoseconds of this thread (Linux), or None elsewhere.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Evaluations per CPU-second of `f`, which evaluates `per_call` options, run for ~0.5 s.
fn rate(per_call: usize, mut f: impl FnMut()) -> f64 {
    let wall = std::time::Instant::now();
    let c0 = cpu_ns();
    let mut calls = 0;
    while wall.elapsed().as_millis() < 500 {
        f();
        calls += 1;
    }
    let secs = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
        _ => wall.elapsed().as_secs_f64(),
    };
    (calls * per_call) as f64 / secs
}

fn bench(c: &mut Criterion) {
    let [s, k, t, r, q, vol] = inputs();
    let is_call: Vec<bool> = (0..N).map(|i| i % 2 == 0).collect();
    let input = BatchInput {
        spot: &s,
        strike: &k,
        t: &t,
        r: &r,
        q: &q,
        vol: &vol,
        is_call: &is_call,
    };
    let mut o: [Vec<f64>; 6] = std::array::from_fn(|_| vec![0.0; N]);

    let scalar = rate(N, || {
        let mut acc = 0.0;
        for i in 0..N {
            let kind = if is_call[i] {
                OptionKind::Call
            } else {
                OptionKind::Put
            };
            let p = BsmParams {
                spot: s[i],
                strike: k[i],
                t: t[i],
                r: r[i],
                q: q[i],
                vol: vol[i],
            };
            let gr = bsm(kind, black_box(&p)).unwrap();
            acc += gr.price + gr.delta + gr.gamma + gr.vega + gr.theta + gr.rho;
        }
        black_box(acc);
    });
    eprintln!(
        "scalar libm loop: {:.1} M evaluations/s per core",
        scalar / 1e6
    );
    for path in [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512] {
        if !path.is_supported() {
            continue;
        }
        let x = rate(N, || {
            let [p0, p1, p2, p3, p4, p5] = &mut o;
            let mut out = BatchOutput {
                price: p0,
                delta: p1,
                gamma: p2,
                vega: p3,
                theta: p4,
                rho: p5,
            };
            price_greeks_with(path, black_box(&input), &mut out).unwrap();
        });
        eprintln!(
            "batch {path:?}: {:.1} M evaluations/s per core = {:.2}x the scalar loop",
            x / 1e6,
            x / scalar
        );
    }

    let mut g = c.benchmark_group("price_greeks");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("scalar_libm_loop", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for i in 0..N {
                let kind = if is_call[i] {
                    OptionKind::Call
                } else {
                    OptionKind::Put
                };
                let p = BsmParams {
                    spot: s[i],
                    strike: k[i],
                    t: t[i],
                    r: r[i],
                    q: q[i],
                    vol: vol[i],
                };
                let gr = bsm(kind, black_box(&p)).unwrap();
                acc += gr.price + gr.delta + gr.gamma + gr.vega + gr.theta + gr.rho;
            }
            black_box(acc)
        })
    });
    for path in [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512] {
        if !path.is_supported() {
            continue;
        }
        g.bench_function(format!("batch_{path:?}"), |b| {
            b.iter(|| {
                let [p0, p1, p2, p3, p4, p5] = &mut o;
                let mut out = BatchOutput {
                    price: p0,
                    delta: p1,
                    gamma: p2,
                    vega: p3,
                    theta: p4,
                    rho: p5,
                };
                price_greeks_with(path, black_box(&input), &mut out).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
