//! The de-pegging numeraire (`[numeraire]`, embedded `usdc-depeg-2023`): the USDC-margined
//! engine hears USD prices ÷ USD per USDC, and the lab values what is held in USDC in USD. At the
//! trough (0.87) the insurance fund and the USDC-margined accounts are worth exactly 13% less in
//! USD, while the ledger (in USDC) conserves value after every step (audit on).

use ballast_lab::embedded;
use ballast_lab::numeraire::usd_value;
use ballast_lab::runner::Prepared;

fn load(sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load("usdc-depeg-2023", &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref())
        .expect("scenario prepares")
        .with_audit()
}

const LOW: i64 = 870_000;

#[test]
fn fund_and_usdc_accounts_lose_the_depeg_fraction_at_the_trough() {
    // No positions (leverage 1e-9 rounds every size to 0: every account only deposits USDC): nothing moves in USDC.
    let p = load(&[
        "paths=3",
        "population.leverage.min=1e-9",
        "population.leverage.max=1e-9",
    ]);
    for path in 0..3 {
        let (r, eng) = p.run_path_engine(path).expect("runs with the audit on");
        let d = r.depeg;
        assert!(d.on);
        assert_eq!((d.low_ppm, d.trough_step), (LOW, 19));
        // The fund: 50,000 USDC seeded through fees, untouched.
        assert_eq!(d.fund_usdc_trough, d.fund_usdc_t0);
        assert_eq!(d.fund_usd_t0, d.fund_usdc_t0);
        assert_eq!(d.fund_usd_trough, usd_value(d.fund_usd_t0, LOW));
        assert_eq!(d.fund_usd_min, d.fund_usd_trough);
        // The accounts: exactly their USDC deposits (traders' margins + 20 × 10,000 lenders).
        let deposits: i64 = eng.state().accounts[p.house.first_trader as usize..]
            .iter()
            .map(|a| a.quote.amount.0)
            .sum();
        assert!(
            deposits > 200_000_000_000,
            "lenders alone hold 200,000 USDC"
        );
        // Equity is valued in the engine's finer value units: within 1e-6 per account.
        let accounts = eng.state().accounts.len() as i64;
        assert!(
            (deposits - d.equity_usdc_t0).abs() <= accounts,
            "{deposits} vs {d:?}"
        );
        let eq = d.equity_usdc_t0;
        assert!((d.equity_usdc_trough - eq).abs() <= accounts, "{d:?}");
        assert_eq!(d.equity_usd_t0, eq);
        assert_eq!(d.equity_usd_trough, usd_value(d.equity_usdc_trough, LOW));
        let lost = d.equity_usd_t0 - d.equity_usd_trough;
        let fraction = usd_value(eq, 1_000_000 - LOW);
        assert!(
            (lost - fraction).abs() <= accounts + 1,
            "the accounts lose 13% of their USD value: {lost} vs {fraction}"
        );
        assert_eq!((r.liquidations, r.bad_debt, d.bad_debt_usd), (0, 0, 0));
    }
}

#[test]
fn the_depeg_reprices_the_usdc_margined_book() {
    let paths = 8;
    let run = |sets: &[&str]| {
        let p = load(sets);
        (0..paths)
            .map(|i| p.run_path(i).expect("runs with the audit on"))
            .collect::<Vec<_>>()
    };
    let depeg = run(&["paths=8"]);
    let pegged = run(&["paths=8", "numeraire.usd_price.low=1.0"]);
    let liqs =
        |rs: &[ballast_lab::path::PathResult]| rs.iter().map(|r| r.liquidations).sum::<u64>();
    println!(
        "liquidations over {paths} paths: de-peg {}, pegged {}",
        liqs(&depeg),
        liqs(&pegged)
    );
    // USD prices ÷ 0.87: the USDC-margined shorts lose ~15% of notional and are liquidated.
    assert!(liqs(&depeg) > liqs(&pegged) + 10);
    for r in &depeg {
        let d = r.depeg;
        assert_eq!((d.low_ppm, d.trough_step), (LOW, 19));
        // Valued in USD, at the trough, at exactly 0.87 USD per USDC.
        assert_eq!(d.fund_usd_trough, usd_value(d.fund_usdc_trough, LOW));
        assert_eq!(d.equity_usd_trough, usd_value(d.equity_usdc_trough, LOW));
        assert!(d.fund_usd_min <= d.fund_usd_trough);
        // Bad debt is booked at each step's price, never above its USDC amount.
        assert!(d.bad_debt_usd <= r.bad_debt && d.bad_debt_usd >= usd_value(r.bad_debt, LOW));
    }
    for r in &pegged {
        let d = r.depeg;
        assert_eq!(d.low_ppm, 1_000_000);
        assert_eq!(d.fund_usd_trough, d.fund_usdc_trough);
        assert_eq!(d.bad_debt_usd, r.bad_debt);
    }
}
