//! Ballast's structured fuzzer (stable Rust; no cargo-fuzz needed).
//!
//! A seeded ChaCha generator drives adversarial command sequences through the public engine
//! API ([`ballast_engine::Engine::apply`]) and checks after every command that nothing
//! panicked, a rejection changed nothing, value is conserved, the liquidation index equals a
//! full scan, and an independent ledger audit rebuilt from events alone agrees with the state
//! and bounds every clearing account; replay = live is checked periodically and at the end of
//! each case. Findings are shrunk and written as JSON-lines journals.
//!
//! - [`draw`]: log-uniform draws up to the type limits, odd timestamps.
//! - [`world`]: the valid world that cases mutate.
//! - [`gen`]: the command generator.
//! - [`audit`]: the independent ledger audit.
//! - [`margin`]: an independent floor under initial margin after fills.
//! - [`check`]: one command under every check; finding kinds.
//! - [`run`]: cases, statistics, shrinking, reproducers.

pub mod audit;
pub mod check;
pub mod draw;
pub mod gen;
pub mod margin;
pub mod run;
pub mod world;
