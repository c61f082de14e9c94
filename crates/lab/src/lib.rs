//! Ballast stress lab: Monte Carlo and historical stress runs that drive **the real engine**
//! through commands, never a model of it.
//!
//! A run is a [`scenario::Scenario`] (a TOML file, see `SCENARIOS.md`): a protocol
//! configuration, a population of leveraged accounts, a price model per asset, a liquidity
//! model, infrastructure faults (keeper outages, a gas-price process), a horizon and a number of
//! paths. Each path owns its own [`ballast_engine::Engine`], built by genesis commands, and is
//! driven step by step: new prices go in as `SetPrice` commands, and a pluggable
//! [`keeper::Liquidation`] mechanism closes underwater accounts (today a keeper agent that takes
//! the other side with a `Fill`; later the engine's own liquidation commands).
//!
//! Where things live:
//! - [`scenario`]: the file format, `--set` overrides, validation with errors that name the field.
//! - [`models`]: price models (GBM, Merton jump-diffusion, GARCH(1,1), Markov regime switching,
//!   Cholesky-correlated shocks, CSV replay, moving-block bootstrap).
//! - [`feeds`]: multi-source oracles with per-source noise and faults (outage, latency,
//!   manipulation), circuit breakers and volatility-adjusted margin from the scenario.
//! - [`world`]: genesis and population (commands into a fresh engine).
//! - [`keeper`]: the liquidation trait and the keeper agent with its insurance waterfall.
//! - [`engine_liq`]: the engine's own liquidation (keeper takeover or Dutch auctions, engine
//!   insurance fund, ADL, socialized loss) behind the same trait.
//! - [`path`]: one path, step by step, producing a [`path::PathResult`].
//! - [`stats`]: integer, mergeable aggregates (log-bucket histograms) and the summary with
//!   confidence intervals.
//! - [`runner`]: rayon over paths, one ChaCha stream per (seed, path), shards and merging,
//!   output folders written atomically.
//! - [`sweep`]: grids of overrides, the capital-efficiency / P(insolvency) frontier and the
//!   recommended point.
//! - [`report`]: a self-contained HTML report (summary and inline SVG charts).
//! - [`compare`]: two summaries side by side (`ballast stress --compare A B`).
//! - [`embedded`]: the scenarios compiled into the binary.

pub mod attribution;
pub mod compare;
pub mod embedded;
pub mod engine_liq;
pub mod error;
pub mod feeds;
pub mod keeper;
pub mod models;
pub mod path;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shock;
pub mod stats;
pub mod sweep;
pub mod traders;
pub mod units;
pub mod world;

pub use error::LabError;
pub use runner::{merge_shards, run, RunConfig, RunOutput, ShardFile};
pub use scenario::Scenario;
pub use stats::{Aggregate, Summary};
