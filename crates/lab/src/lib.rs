//! Ballast stress lab: Monte Carlo and historical stress runs that drive **the real engine**
//! through commands, never a model of it.
//!
//! A run is a [`scenario::Scenario`] (a TOML file, see `SCENARIOS.md`): a protocol
//! configuration, a population of leveraged accounts, a price model per asset, a liquidity
//! model, infrastructure faults (keeper outages, a gas-price process), a horizon and a number of
//! paths. Each path owns its own [`ballast_engine::Engine`], built by genesis commands, and is
//! driven step by step through named phases (prices → oracle → faults → agents → liquidation →
//! record, see [`path`]). Every actor is an [`agent::Agent`]: it reads a read-only step context
//! and returns engine commands; one [`record::Recorder`] turns the engine's answers into metrics.
//!
//! Where things live, bottom layer first (no file imports one above it; `tests/module_graph.rs`
//! checks there is no import cycle):
//! - [`error`], [`units`] (quote scale, genesis time, USD conversions), [`math`].
//! - [`scenario`]: the file format as plain validated data, `--set` overrides, the conversion
//!   to engine parameters; errors name the field.
//! - [`embedded`], [`models`]: the compiled-in scenarios; price models (GBM, Merton
//!   jump-diffusion, GARCH(1,1), Markov regime switching, Cholesky-correlated shocks, CSV replay,
//!   moving-block bootstrap).
//! - [`feeds`]: multi-source oracles with per-source noise and faults (outage, latency,
//!   manipulation), circuit breakers and volatility-adjusted margin from the scenario.
//! - [`world`]: genesis and population (commands into a fresh engine).
//! - [`agent`]: the `Agent` trait, its step context, orders and notes.
//! - [`record`], [`attribution`], [`stats`]: the recorder and the path result; integer,
//!   mergeable aggregates (log-bucket histograms) and the summary with confidence intervals.
//! - Agents: [`traders`], [`whale`], [`lenders`], [`attack`] (attackers who pay for trying), and the liquidation agents [`keeper`]
//!   (`keeper_fill`), [`engine_liq`] (the engine's own liquidation), chosen by [`mechanism`];
//!   [`liquidity`] is the slippage model they share.
//! - [`path`]: one path, phase by phase; [`runner`]: rayon over paths, one ChaCha stream per
//!   (seed, path), shards and merging, output folders written atomically; [`shock`]: shock
//!   ladders on the t0 book.
//! - [`sweep`]: grids of overrides, the capital-efficiency / P(insolvency) frontier and the
//!   recommended point, and [`frontier`] its page; [`report`]: a self-contained HTML report with
//!   interactive charts; [`compare`]: two summaries side by side (`ballast stress --compare A B`);
//!   [`capital`]: the minimum profitable attack capital, by bisection over stress runs.

pub mod ablation;
pub mod agent;
pub mod attack;
pub mod attribution;
pub mod book;
pub mod capital;
pub mod clearing;
pub mod compare;
pub mod controller;
pub mod efficiency;
pub mod embedded;
pub mod engine_liq;
pub mod error;
pub mod feeds;
pub mod frontier;
pub mod genesis_journal;
pub mod keeper;
pub mod keepers;
pub mod lenders;
pub mod liquidity;
pub mod math;
pub mod mechanism;
pub mod models;
pub mod numeraire;
pub mod path;
pub mod record;
pub mod reflexive;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shock;
pub mod stats;
pub mod step_record;
pub mod sweep;
pub mod traders;
pub mod units;
pub mod whale;
pub mod world;

pub use error::LabError;
pub use runner::{merge_shards, run, RunConfig, RunOutput, ShardFile};
pub use scenario::Scenario;
pub use stats::{Aggregate, Summary};
