//! Every vector of `tests/data/bs_reference.csv` (Haug via QuantLib, Hull via py_vollib; see
//! `shared/data/SOURCES.md`) within its published tolerance, in the file's units: vega and rho
//! per 1.00, theta per year = −∂V/∂T, theta_per_day = theta/365, dividend_rho = ∂V/∂q.

use ballast_options::pricing::{black76, bsm, bsm_dividend_rho, d1_d2, Black76Params, BsmParams};
use ballast_options::OptionKind;

#[test]
fn all_reference_vectors_pass() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bs_reference.csv");
    let mut rdr = csv::Reader::from_path(path).expect("reference file");
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_id, c_model, c_type, c_s, c_k, c_t, c_r, c_q, c_v, c_qty, c_exp, c_tol) = (
        col("case_id"),
        col("model"),
        col("option_type"),
        col("spot_or_forward"),
        col("strike"),
        col("T_years"),
        col("r"),
        col("q"),
        col("sigma"),
        col("quantity"),
        col("expected_published"),
        col("abs_tolerance"),
    );
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let f = |i: usize| rec[i].parse::<f64>().unwrap();
        let kind = match &rec[c_type] {
            "call" => OptionKind::Call,
            "put" => OptionKind::Put,
            other => panic!("option type {other}"),
        };
        let (s, k, t, r, v) = (f(c_s), f(c_k), f(c_t), f(c_r), f(c_v));
        let quantity = &rec[c_qty];
        let got = match &rec[c_model] {
            "gbsm" => {
                let p = BsmParams::new(s, k, t, r, f(c_q), v).unwrap();
                let g = bsm(kind, &p).unwrap();
                match quantity {
                    "price" => g.price,
                    "delta" => g.delta,
                    "gamma" => g.gamma,
                    "vega" => g.vega,
                    "theta" => g.theta,
                    "theta_per_day" => g.theta / 365.0,
                    "rho" => g.rho,
                    "dividend_rho" => bsm_dividend_rho(kind, &p).unwrap(),
                    "elasticity" => g.delta * s / g.price,
                    "d1" => d1_d2(&p).unwrap().0,
                    "d2" => d1_d2(&p).unwrap().1,
                    q => panic!("quantity {q}"),
                }
            }
            "black76" => {
                let p = Black76Params {
                    forward: s,
                    strike: k,
                    t,
                    r,
                    vol: v,
                };
                // Black-76 d1/d2 equal generalised BSM's with b = 0 (q = r) on S = F.
                let as_bsm = BsmParams::new(s, k, t, r, r, v).unwrap();
                match quantity {
                    "price" => black76(kind, &p).unwrap().price,
                    "d1" => d1_d2(&as_bsm).unwrap().0,
                    "d2" => d1_d2(&as_bsm).unwrap().1,
                    q => panic!("quantity {q}"),
                }
            }
            m => panic!("model {m}"),
        };
        let want = f(c_exp);
        let tol = f(c_tol);
        assert!(
            (got - want).abs() <= tol,
            "{}: {quantity} got {got}, published {want}, tolerance {tol}",
            &rec[c_id]
        );
        n += 1;
    }
    assert_eq!(n, 65, "expected all 65 vectors");
}
