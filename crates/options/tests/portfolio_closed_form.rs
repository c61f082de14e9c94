//! The portfolio requirement of two-leg books against an independent enumeration of the
//! scenario grid in the test (module doc of `portfolio`, after Derive v2 PMRM): the worst
//! scenario's identity and its loss, exactly up to floating-point rounding.
//!
//! - Long BTC perp + short ETH perp at correlation ρ: with one range `r` for both, a direction
//!   `x` moves the book by `m·r·(N_btc·x_btc − N_eth·x_eth)`; the directions are the columns of
//!   `C = [[1, ρ], [ρ, 1]]` and its principal axes `√(1±ρ)·(1, ±1)/√2`, levels `m = ±1, ±½`.
//! - Long BTC perp + short call: one underlying, so the one direction `x = 1`; each of the 15
//!   scenarios (3 vol legs × {flat, ±½, ±1}) revalued here by BSM, plus the short-option
//!   contingency `short_option_pct · spot` per contract.

use ballast_options::portfolio::{
    compute_margin, Correlation, Direction, MarginParams, PortfolioFile, Position, VolShock,
};
use ballast_options::pricing::{bsm, BsmParams};
use ballast_options::OptionKind;

mod pm_support;
use pm_support::market;

/// The `spot_range` of every `market(..)`.
const RANGE: f64 = 0.2;

fn perp(u: &str, size: f64) -> Position {
    Position::Perp {
        underlying: u.into(),
        size,
    }
}

#[test]
fn the_markets_range_is_the_one_used_here() {
    assert_eq!(market("X", 1.0, 0.5).spot_range, RANGE);
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Long 1 BTC at 60,000 and short 10 ETH at 3,000 (notionals 60,000 and 30,000).
fn pair(rho: f64) -> PortfolioFile {
    PortfolioFile {
        market: vec![market("BTC", 60_000.0, 0.5), market("ETH", 3_000.0, 0.7)],
        correlation: Some(Correlation {
            underlyings: vec!["BTC".into(), "ETH".into()],
            matrix: vec![vec![1.0, rho], vec![rho, 1.0]],
        }),
        positions: vec![perp("BTC", 1.0), perp("ETH", -10.0)],
        params: MarginParams::default(),
    }
}

/// The four directions' losses at level ±1 (the largest level), by hand.
fn pair_losses(rho: f64) -> [(&'static str, f64); 4] {
    let (nb, ne) = (60_000.0, 30_000.0);
    let s = |x: f64| libm::sqrt(x);
    [
        ("driver BTC", RANGE * (nb - ne * rho).abs()),
        ("driver ETH", RANGE * (nb * rho - ne).abs()),
        (
            "principal 0",
            RANGE * s((1.0 + rho) / 2.0) * (nb - ne).abs(),
        ),
        ("principal 1", RANGE * s((1.0 - rho) / 2.0) * (nb + ne)),
    ]
}

#[test]
fn spread_book_worst_is_btc_driver_at_high_correlation() {
    let rho = 0.8;
    let losses = pair_losses(rho);
    // 0.2 × (60,000 − 24,000) = 7,200, ahead of the spread axis 0.2 × √0.1 × 90,000 ≈ 5,692
    assert!(
        losses
            .iter()
            .all(|(n, l)| *n == "driver BTC" || *l < losses[0].1 - 1.0),
        "{losses:?}"
    );
    let r = compute_margin(&pair(rho)).expect("margin");
    assert!(close(r.requirement, 7_200.0), "{}", r.requirement);
    assert!(close(r.scenario_loss, losses[0].1));
    let w = &r.worst_scenario;
    assert_eq!(
        w.direction,
        Direction::Driver {
            driver: "BTC".into()
        }
    );
    assert_eq!(
        (w.level, w.vol_shock),
        (-1.0, VolShock::None),
        "first of three equal vol legs"
    );
    assert!(close(w.shocks[0].spot_shock, -RANGE) && close(w.shocks[1].spot_shock, -RANGE * rho));
    assert!(close(w.pnl, -7_200.0));
}

#[test]
fn spread_book_worst_is_the_spread_axis_at_low_correlation() {
    let rho = 0.2;
    let losses = pair_losses(rho);
    // 0.2 × √0.4 × 90,000 ≈ 11,384 beats the BTC driver's 0.2 × 54,000 = 10,800
    let want = RANGE * libm::sqrt(0.4) * 90_000.0;
    assert!(close(losses[3].1, want));
    assert!(
        losses[..3].iter().all(|(_, l)| *l < want - 1.0),
        "{losses:?}"
    );
    let r = compute_margin(&pair(rho)).expect("margin");
    assert!(close(r.requirement, want), "{} vs {want}", r.requirement);
    let w = &r.worst_scenario;
    assert!(
        matches!(w.direction, Direction::Principal { k: 1, eigenvalue } if close(eigenvalue, 1.0 - rho)),
        "{:?}",
        w.direction
    );
    assert_eq!((w.level.abs(), w.vol_shock), (1.0, VolShock::None));
    // BTC down and ETH up, each by 0.2 × √((1−ρ)/2)
    let leg = RANGE * libm::sqrt((1.0 - rho) / 2.0);
    assert!(close(w.shocks[0].spot_shock, -leg), "{:?}", w.shocks);
    assert!(close(w.shocks[1].spot_shock, leg), "{:?}", w.shocks);
}

/// Long 0.5 BTC perp and short 1 call (60,000 spot, 66,000 strike, 30 days, 60 % vol).
#[test]
fn perp_and_short_call_worst_matches_a_bsm_grid() {
    let (spot, strike, tau, vol) = (60_000.0, 66_000.0, 30.0 / 365.0, 0.6);
    let f = PortfolioFile {
        market: vec![market("BTC", spot, vol)],
        correlation: None,
        positions: vec![
            perp("BTC", 0.5),
            Position::Option {
                underlying: "BTC".into(),
                kind: OptionKind::Call,
                strike,
                expiry_years: tau,
                quantity: -1.0,
                vol: None,
            },
        ],
        params: MarginParams::default(),
    };
    let p = &f.params;
    // (30 d / 30 d)^p = 1: the 30-day legs are the full ranges
    let vols = [
        (VolShock::None, vol),
        (VolShock::Up, vol * (1.0 + p.vol_range_up)),
        (VolShock::Down, vol * (1.0 - p.vol_range_down)),
    ];
    let call = |s: f64, v: f64| {
        bsm(
            OptionKind::Call,
            &BsmParams::new(s, strike, tau, 0.0, 0.0, v).expect("params"),
        )
        .expect("price")
        .price
    };
    let base = call(spot, vol);
    let mut grid = Vec::new();
    for (vs, v) in vols {
        for m in std::iter::once(0.0).chain(p.spot_levels.iter().copied()) {
            let s = spot * (1.0 + m * RANGE);
            grid.push((vs, m, 0.5 * (s - spot) - (call(s, v) - base)));
        }
    }
    assert_eq!(grid.len(), 15);
    let worst = grid
        .iter()
        .copied()
        .fold(grid[0], |w, x| if x.2 < w.2 { x } else { w });
    let runner_up = grid
        .iter()
        .filter(|x| **x != worst)
        .map(|x| x.2)
        .fold(f64::MAX, f64::min);
    assert!(runner_up > worst.2 + 1.0, "a unique worst: {grid:?}");
    let contingency = p.short_option_pct * spot;
    let r = compute_margin(&f).expect("margin");
    println!("worst {worst:?}, requirement {}", r.requirement);
    let w = &r.worst_scenario;
    assert_eq!((w.vol_shock, w.level), (worst.0, worst.1));
    assert_eq!(r.scenarios_evaluated, 15);
    assert!((w.pnl - worst.2).abs() < 1e-6, "{} vs {}", w.pnl, worst.2);
    assert!((r.requirement - (-worst.2 + contingency)).abs() < 1e-6);
    assert!(
        close(r.contingency_total, 300.0),
        "0.5 % × 60,000 per short contract"
    );
}
