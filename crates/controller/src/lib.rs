//! A bounded self-healing controller. It reads risk signals from an engine (the volatility
//! add-on's forecast, oracle source divergence, open-interest concentration, the share of
//! accounts below maintenance), turns them into parameter moves with small pure rules, and
//! emits them as ordinary governance proposals — which the engine's own governance checks
//! (bounds, step, timelock, min delay, guardian veto) exactly as for a human governor. Before it
//! emits a proposal it applies it to a copy of the engine, so a move governance would refuse
//! never leaves the controller: it can do nothing governance cannot.
//!
//! It also flags accounts whose pattern matches a known attack (one owner on both sides of a
//! market; a large deposit of an asset whose oracle sources disagree) for the guardian.
//!
//! Layout: `signals` (read the engine), `policy` (pure rules), `flags` (attack patterns),
//! `decide` (dry-run and the decision record).
//!
//! In the stress lab, `[controller]` runs it on every path's engine through `Propose` /
//! `Execute` (`ballast_lab::controller`; `crates/lab/SCENARIOS.md`).
//!
//! Sources: bounded, stepwise parameter changes within governed ranges follow Aave's Risk
//! Stewards (max change per update, min delay between updates) and Chaos Labs' risk oracles
//! for dynamic parameters; raising margin with forecast volatility follows CME SPAN's
//! volatility scan-range updates and Gauntlet's dynamic margin recommendations.

pub mod decide;
pub mod flags;
pub mod policy;
pub mod signals;

pub use decide::{decide, Decision};
pub use flags::{Flag, Pattern};
pub use policy::{Move, Policy, Reason};
pub use signals::{MarketSignals, Signals};
