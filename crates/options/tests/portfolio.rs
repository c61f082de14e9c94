//! Portfolio margin behaviour: hedging reduces margin, vol raises a short strangle's margin,
//! correlation lowers a long/short pair's margin, and bad inputs give typed errors.

use ballast_options::portfolio::{
    aggregate_greeks, compute_margin, margin_from_json, Correlation, MarginParams, PortfolioFile,
    Position, UnderlyingMarket,
};
use ballast_options::pricing::{bsm, BsmParams};
use ballast_options::{OptionKind, OptionsError};

mod pm_support;
use pm_support::market;

#[path = "../../engine/tests/tally/mod.rs"]
mod tally;

fn option(u: &str, kind: OptionKind, strike: f64, tau: f64, qty: f64) -> Position {
    Position::Option {
        underlying: u.into(),
        kind,
        strike,
        expiry_years: tau,
        quantity: qty,
        vol: None,
    }
}

fn file(market: Vec<UnderlyingMarket>, positions: Vec<Position>) -> PortfolioFile {
    PortfolioFile {
        market,
        correlation: None,
        positions,
        params: MarginParams::default(),
    }
}

#[test]
fn delta_hedged_call_needs_far_less_than_standalone_sum() {
    let (s, k, tau, vol) = (60_000.0, 60_000.0, 30.0 / 365.0, 0.6);
    let delta = bsm(
        OptionKind::Call,
        &BsmParams::new(s, k, tau, 0.0, 0.0, vol).unwrap(),
    )
    .unwrap()
    .delta;
    let f = file(
        vec![market("BTC", s, vol)],
        vec![
            option("BTC", OptionKind::Call, k, tau, 1.0),
            Position::Perp {
                underlying: "BTC".into(),
                size: -delta,
            },
        ],
    );
    let r = compute_margin(&f).unwrap();
    assert!(
        r.requirement < 0.5 * r.sum_of_standalone,
        "hedged {} vs standalone sum {}",
        r.requirement,
        r.sum_of_standalone
    );
    assert!(r.greeks.total.delta.abs() < 1e-9);
}

#[test]
fn short_strangle_margin_grows_with_volatility() {
    let strangle = |vol: f64| {
        let f = file(
            vec![market("BTC", 60_000.0, vol)],
            vec![
                option("BTC", OptionKind::Call, 66_000.0, 14.0 / 365.0, -1.0),
                option("BTC", OptionKind::Put, 54_000.0, 14.0 / 365.0, -1.0),
            ],
        );
        compute_margin(&f).unwrap().requirement
    };
    let (low, high) = (strangle(0.4), strangle(0.9));
    assert!(high > low, "low-vol {low}, high-vol {high}");
}

#[test]
fn long_short_pair_needs_less_under_high_correlation() {
    let pair = |rho: f64| {
        let mut f = file(
            vec![market("BTC", 60_000.0, 0.5), market("ETH", 3_000.0, 0.7)],
            vec![
                Position::Perp {
                    underlying: "BTC".into(),
                    size: 1.0,
                },
                Position::Perp {
                    underlying: "ETH".into(),
                    size: -20.0,
                },
            ],
        );
        f.correlation = Some(Correlation {
            underlyings: vec!["ETH".into(), "BTC".into()],
            matrix: vec![vec![1.0, rho], vec![rho, 1.0]],
        });
        compute_margin(&f).unwrap()
    };
    let (hi, lo) = (pair(0.9), pair(0.1));
    assert!(
        hi.requirement < lo.requirement,
        "rho 0.9: {}, rho 0.1: {}",
        hi.requirement,
        lo.requirement
    );
    // Each leg alone is stressed to its full range whatever the correlation.
    for r in [&hi, &lo] {
        assert!((r.positions[0].standalone_requirement - 0.2 * 60_000.0).abs() < 1e-6);
        assert!((r.positions[1].standalone_requirement - 0.2 * 60_000.0).abs() < 1e-6);
    }
    // The worst scenario names both legs' shocks.
    assert_eq!(hi.worst_scenario.shocks.len(), 2);
}

#[test]
fn example_file_parses_and_reports() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/portfolio_example.json"
    ))
    .unwrap();
    let r = margin_from_json(&text).unwrap();
    assert!(r.requirement > 0.0);
    assert!((r.requirement - r.scenario_loss - r.contingency_total).abs() < 1e-9);
    assert_eq!(r.positions.len(), 5);
    // Worst-scenario PnL is the sum of the per-position PnLs in it.
    let sum: f64 = r.positions.iter().map(|p| p.pnl_in_worst).sum();
    assert!((sum - r.worst_scenario.pnl).abs() < 1e-6);
    assert!(r.contingencies.iter().any(|c| c.amount > 0.0));
    let json = serde_json::to_string_pretty(&r).unwrap();
    assert!(json.contains("worst_scenario") && json.contains("standalone_requirement"));
    let g = aggregate_greeks(&serde_json::from_str::<PortfolioFile>(&text).unwrap()).unwrap();
    assert_eq!(g.per_underlying.len(), 2);
}

#[test]
fn bad_portfolio_inputs_are_typed_errors() {
    let mut f = file(
        vec![market("BTC", 60_000.0, 0.5), market("ETH", 3_000.0, 0.7)],
        vec![option("BTC", OptionKind::Call, 60_000.0, 0.1, 1.0)],
    );
    // Not PSD: three assets with pairwise −0.9 would be impossible; with two, |ρ| > 1.
    f.correlation = Some(Correlation {
        underlyings: vec!["BTC".into(), "ETH".into()],
        matrix: vec![vec![1.0, 1.2], vec![1.2, 1.0]],
    });
    assert!(matches!(
        compute_margin(&f),
        Err(OptionsError::InvalidCorrelation { .. })
    ));
    let mut g = file(
        vec![
            market("A", 1.0, 0.5),
            market("B", 1.0, 0.5),
            market("C", 1.0, 0.5),
        ],
        vec![],
    );
    g.correlation = Some(Correlation {
        underlyings: vec!["A".into(), "B".into(), "C".into()],
        matrix: vec![
            vec![1.0, -0.9, -0.9],
            vec![-0.9, 1.0, -0.9],
            vec![-0.9, -0.9, 1.0],
        ],
    });
    let err = compute_margin(&g).unwrap_err();
    assert!(
        matches!(&err, OptionsError::InvalidCorrelation { detail } if detail.contains("positive semi-definite")),
        "{err}"
    );
    // Expired option, unknown underlying, bad vol.
    f.correlation = None;
    f.market.pop();
    f.positions = vec![option("BTC", OptionKind::Put, 60_000.0, -0.01, 1.0)];
    assert!(matches!(
        compute_margin(&f),
        Err(OptionsError::ExpiryNotInFuture { .. })
    ));
    f.positions = vec![option("DOGE", OptionKind::Put, 1.0, 0.1, 1.0)];
    assert!(matches!(
        compute_margin(&f),
        Err(OptionsError::UnknownUnderlying(_))
    ));
    // A vol far outside the batch kernel's domain names the position.
    f.positions = vec![
        option("BTC", OptionKind::Put, 60_000.0, 0.1, 1.0),
        Position::Option {
            underlying: "BTC".into(),
            kind: OptionKind::Call,
            strike: 60_000.0,
            expiry_years: 0.1,
            quantity: 1.0,
            vol: Some(1e6),
        },
    ];
    assert!(matches!(
        compute_margin(&f),
        Err(OptionsError::Position { index: 1, .. })
    ));
    f.positions = vec![];
    f.market[0].vol = 0.0;
    assert!(matches!(
        compute_margin(&f),
        Err(OptionsError::InvalidInput { field: "vol", .. })
    ));
    assert!(matches!(
        margin_from_json("{ not json"),
        Err(OptionsError::Parse(_))
    ));
}

#[test]
fn surfaces_feed_option_vols_and_arbitrage_is_rejected() {
    use ballast_options::portfolio::{SurfaceSpec, SviSlice};
    use ballast_options::surface::{SviParams, SviSurface};
    let svi = |a: f64| SviParams {
        a,
        b: 0.1,
        rho: -0.4,
        m: 0.0,
        sigma: 0.2,
    };
    let slices = vec![
        SviSlice {
            t: 0.05,
            params: svi(0.004),
        },
        SviSlice {
            t: 0.5,
            params: svi(0.06),
        },
    ];
    let mut m = market("BTC", 60_000.0, 0.5);
    m.surface = Some(SurfaceSpec::Svi {
        slices: slices.clone(),
    });
    let (k, tau) = (66_000.0, 0.2);
    let f = file(
        vec![m.clone()],
        vec![option("BTC", OptionKind::Call, k, tau, 1.0)],
    );
    let r = compute_margin(&f).unwrap();
    // The option is valued at the surface vol for its strike and expiry (F = S here: r = q = 0).
    let surf = SviSurface::new(slices.iter().map(|s| (s.t, s.params)).collect()).unwrap();
    let vol = surf.implied_vol(tau, libm::log(k / 60_000.0_f64)).unwrap();
    let want = bsm(
        OptionKind::Call,
        &BsmParams::new(60_000.0, k, tau, 0.0, 0.0, vol).unwrap(),
    )
    .unwrap()
    .price;
    assert!((r.positions[0].value - want).abs() < 1e-9 * want);
    // A surface whose later slice has less total variance is calendar arbitrage.
    m.surface = Some(SurfaceSpec::Svi {
        slices: vec![
            SviSlice {
                t: 0.05,
                params: svi(0.06),
            },
            SviSlice {
                t: 0.5,
                params: svi(0.004),
            },
        ],
    });
    let f = file(vec![m], vec![option("BTC", OptionKind::Call, k, tau, 1.0)]);
    assert!(matches!(
        compute_margin(&f),
        Err(OptionsError::CalendarArbitrage { .. })
    ));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    use super::tally::Tally;

    /// Counts the kinds of book a case drew.
    fn books(tally: &Tally, f: &PortfolioFile) {
        tally.hit_if(
            f.positions
                .iter()
                .any(|p| matches!(p, Position::Option { .. })),
            "with options",
        );
        tally.hit_if(
            f.positions
                .iter()
                .any(|p| matches!(p, Position::Perp { .. })),
            "with perps",
        );
    }

    const BOOKS: [(&str, u64); 2] = [("with options", 20), ("with perps", 20)];

    fn random_account() -> impl Strategy<Value = PortfolioFile> {
        let opt = (
            any::<bool>(),
            any::<bool>(),
            0.6..1.5_f64,
            1.0..400.0_f64,
            -5.0..5.0_f64,
        );
        (
            proptest::collection::vec(opt, 1..8),
            -3.0..3.0_f64,
            -0.95..0.95_f64,
        )
            .prop_map(|(opts, perp, rho)| {
                let mut positions: Vec<Position> = opts
                    .into_iter()
                    .map(|(btc, call, m, days, qty)| {
                        let (u, s) = if btc {
                            ("BTC", 60_000.0)
                        } else {
                            ("ETH", 3_000.0)
                        };
                        let kind = if call {
                            OptionKind::Call
                        } else {
                            OptionKind::Put
                        };
                        option(u, kind, s * m, days / 365.0, qty)
                    })
                    .collect();
                positions.push(Position::Perp {
                    underlying: "ETH".into(),
                    size: perp,
                });
                let mut f = file(
                    vec![market("BTC", 60_000.0, 0.5), market("ETH", 3_000.0, 0.7)],
                    positions,
                );
                f.correlation = Some(Correlation {
                    underlyings: vec!["BTC".into(), "ETH".into()],
                    matrix: vec![vec![1.0, rho], vec![rho, 1.0]],
                });
                f.market[1].oracle_confidence = 0.001;
                f
            })
    }

    /// The worst loss of a sum is at most the sum of worst losses, so the account never
    /// needs more than its positions held apart; and the requirement is never negative.
    #[test]
    fn requirement_is_subadditive() {
        let tally = Tally::default();
        proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(64) }, |(f in random_account())| {
            let r = compute_margin(&f).unwrap();
            books(&tally, &f);
            tally.hit_if(r.requirement < r.sum_of_standalone * 0.99, "offsets recognised");
            prop_assert!(r.requirement >= 0.0);
            prop_assert!(r.requirement <= r.sum_of_standalone * (1.0 + 1e-12) + 1e-9);
        });
        tally.check(
            "requirement_is_subadditive",
            &[BOOKS.as_slice(), &[("offsets recognised", 5)]].concat(),
        );
    }

    /// Doubling every position doubles the requirement (positive homogeneity).
    #[test]
    fn requirement_is_homogeneous() {
        let tally = Tally::default();
        proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(64) }, |(f in random_account())| {
            let r1 = compute_margin(&f).unwrap().requirement;
            books(&tally, &f);
            tally.hit_if(r1 > 0.0, "positive requirement");
            let mut g = f.clone();
            for p in &mut g.positions {
                match p {
                    Position::Option { quantity, .. } => *quantity *= 2.0,
                    Position::Perp { size, .. } => *size *= 2.0,
                }
            }
            let r2 = compute_margin(&g).unwrap().requirement;
            prop_assert!((r2 - 2.0 * r1).abs() <= 1e-9 * r1.max(1.0), "{} vs 2×{}", r2, r1);
        });
        tally.check(
            "requirement_is_homogeneous",
            &[BOOKS.as_slice(), &[("positive requirement", 20)]].concat(),
        );
    }

    /// A book plus its exact opposite has no scenario loss.
    #[test]
    fn offsetting_book_has_no_scenario_loss() {
        let tally = Tally::default();
        proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(64) }, |(f in random_account())| {
            books(&tally, &f);
            let mut g = f.clone();
            for p in &f.positions {
                let mut q = p.clone();
                match &mut q {
                    Position::Option { quantity, .. } => *quantity = -*quantity,
                    Position::Perp { size, .. } => *size = -*size,
                }
                g.positions.push(q);
            }
            let r = compute_margin(&g).unwrap();
            prop_assert!(r.scenario_loss <= 1e-9, "{}", r.scenario_loss);
        });
        tally.check("offsetting_book_has_no_scenario_loss", &BOOKS);
    }
}
