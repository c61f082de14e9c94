//! Writes the three-pool contagion demo journal (`ballast_solvency::contagion::demo`):
//!
//! ```text
//! cargo run -p ballast-solvency --example contagion_journal -- pools.jsonl
//! ballast contagion --state pools.jsonl --shock BTC=-50% --dot pools.dot
//! ```

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "pools.jsonl".into());
    let text = ballast_engine::journal::to_text(&ballast_solvency::contagion::demo::journal());
    std::fs::write(&path, text)?;
    println!("wrote {path}");
    Ok(())
}
