//! Ballast's clearing engine: a deterministic state machine, `apply(command) -> events |
//! reject`, over an exact fixed-point ledger. No clock, no I/O, no randomness: time and prices
//! arrive inside commands, so a journal of commands replays to the same state, bit for bit.
//!
//! Where things live:
//! - [`num`], [`ids`]: fixed-point quantities and typed ids.
//! - [`state`]: the ledger (assets, risk pools, markets, accounts, proposals).
//! - [`command`], [`event`], [`error`]: what goes in, what comes out, why something was refused.
//! - [`engine`]: the only place state changes. Its submodules `liquidation` (queue, partial
//!   sizing, penalty, keeper takeover), `auction` (Maker-style Dutch auctions), `waterfall`
//!   (insurance → ADL → socialized loss → bad debt) and `settlement` (emergency shutdown,
//!   claims) hold the loss-handling mechanisms.
//! - [`margin`], [`rates`], [`funding`]: pure math (size-premium margin, kinked interest
//!   curve, funding premium), each citing its source.
//! - [`params`]: governed parameters with bounds, max step and invariants; [`settings`]: the
//!   governed fields of breakers, oracles and the volatility add-on.
//! - [`option_margin`]: the governed α/β of the standard short-option margin rule.
//! - [`risk`]: the liquidation-price index behind [`Engine::below_maintenance`].
//! - [`volmargin`]: volatility-adjusted perpetual margin (EWMA / GARCH add-on, bounded steps).
//! - [`roles`]: the role registry and the one permission matrix (open until sealed).
//! - [`journal`]: JSON-lines journal parsing and replay.
//! - [`demo`]: an embedded demo journal and synthetic books for benchmarks and tests.

pub mod command;
pub mod demo;
pub mod engine;
pub mod error;
pub mod event;
pub mod funding;
pub mod ids;
pub mod journal;
pub mod margin;
pub mod math;
pub mod num;
pub mod option_margin;
pub mod params;
pub mod portfolio;
pub mod rates;
pub mod risk;
pub mod roles;
pub mod settings;
pub mod state;
pub mod volmargin;

pub use command::{Command, Envelope, Scope};
pub use engine::{Engine, MAX_NAME_LEN, MAX_TIMESTAMP_MS};
pub use error::{Reject, Role};
pub use event::Event;
pub use margin::HealthKind;
