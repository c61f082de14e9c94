//! The read view the writer publishes after each commit, and the risk gauges that go with it
//! (Prometheus: accounts below maintenance, insurance fund, open interest, breaker and oracle
//! status).

use crate::writer::View;
use ballast_engine::Engine;

/// Open interest, breaker mode (0 Normal, 1 Cautious, 2 Recovering, 3 Halted) and the
/// halted-market exposure per market; status (its index, 0 = Valid … 4 = NoQuorum) and age of
/// each multi-source oracle.
fn market_and_oracle_gauges(engine: &Engine) {
    let st = engine.state();
    for m in &st.markets {
        let sym = m.symbol.clone();
        metrics::gauge!("ballast_open_interest", "market" => sym.clone(), "side" => "long")
            .set(m.long_oi.0 as f64);
        metrics::gauge!("ballast_open_interest", "market" => sym.clone(), "side" => "short")
            .set(m.short_oi.0 as f64);
        let mode = m.breaker.as_ref().map_or(0, |b| b.mode().severity());
        metrics::gauge!("ballast_breaker_mode", "market" => sym).set(f64::from(mode));
    }
    metrics::gauge!("ballast_debt_against_halted_markets")
        .set(engine.debt_against_halted().len() as f64);
    for a in &st.assets {
        let Some(f) = &a.oracle else { continue };
        let (status, age) = f.status_at(st.time.0);
        let sym = a.symbol.clone();
        metrics::gauge!("ballast_oracle_status", "asset" => sym.clone()).set(status.index() as f64);
        metrics::gauge!("ballast_oracle_age_ms", "asset" => sym).set(age.unwrap_or(-1) as f64);
    }
}

/// A read view of `engine` (and the risk gauges that go with it).
pub fn make_view(engine: &mut Engine, state_hash: String) -> View {
    let queue = engine.liquidation_queue();
    let st = engine.state();
    metrics::gauge!("ballast_seq").set(st.seq as f64);
    metrics::gauge!("ballast_accounts").set(st.accounts.len() as f64);
    metrics::gauge!("ballast_accounts_below_maintenance").set(queue.len() as f64);
    for (i, p) in st.pools.iter().enumerate() {
        let pool = i.to_string();
        metrics::gauge!("ballast_insurance_fund", "pool" => pool.clone())
            .set(p.insurance_fund.0 as f64);
        metrics::gauge!("ballast_bad_debt", "pool" => pool).set(p.bad_debt.0 as f64);
    }
    market_and_oracle_gauges(engine);
    View {
        seq: st.seq,
        state_hash,
        queue,
        engine: engine.clone(),
    }
}
