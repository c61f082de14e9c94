//! What `ballast margin --portfolio FILE [--json]` will do: parse a JSON portfolio file and print
//! its portfolio margin, either as a short summary or as the full JSON report.
//!
//! `cargo run --release -p ballast-options --example margin -- crates/options/tests/data/portfolio_example.json [--json]`

use ballast_options::portfolio::margin_from_json;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: margin FILE [--json]");
        std::process::exit(2);
    };
    let json = args.any(|a| a == "--json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let r = match margin_from_json(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).expect("serialisable")
        );
        return;
    }
    println!("requirement        {:>14.2}", r.requirement);
    println!("  scenario loss    {:>14.2}", r.scenario_loss);
    for c in &r.contingencies {
        println!(
            "  {:<16} {:>14.2}  ({})",
            format!("{:?}", c.kind),
            c.amount,
            c.underlying
        );
    }
    println!("sum of standalone  {:>14.2}", r.sum_of_standalone);
    println!(
        "worst scenario #{} of {}: {:?} level {} vol {:?}, PnL {:.2}",
        r.worst_scenario.index,
        r.scenarios_evaluated,
        r.worst_scenario.direction,
        r.worst_scenario.level,
        r.worst_scenario.vol_shock,
        r.worst_scenario.pnl
    );
    for s in &r.worst_scenario.shocks {
        println!(
            "  {:<6} spot {:+.2}% -> {:.2}, vol x{:.3} at 30 days",
            s.underlying,
            100.0 * s.spot_shock,
            s.shocked_spot,
            s.vol_multiplier_30d
        );
    }
    for p in &r.positions {
        println!(
            "  #{:<2} value {:>12.2}  pnl-in-worst {:>12.2}  standalone {:>12.2}",
            p.index, p.value, p.pnl_in_worst, p.standalone_requirement
        );
    }
}
