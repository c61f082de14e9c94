//! Errors of the lab. Each names what is wrong and where: the scenario field (dotted path), the
//! TOML line, the missing file, or the path and step at which the engine refused a command.

use std::path::PathBuf;

/// Why a scenario could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The TOML text does not parse or does not fit the schema (toml's message names the line,
    /// column and the offending key or value).
    #[error("scenario {origin}: {message}")]
    Toml { origin: String, message: String },
    /// A field parsed but its value is not acceptable.
    #[error("scenario field `{field}`: {message}")]
    Field { field: String, message: String },
    /// A `--set key=value` override could not be applied.
    #[error("--set {spec}: {message}")]
    Override { spec: String, message: String },
    /// Neither a file nor an embedded scenario.
    #[error("unknown scenario `{0}`: not a file and not one of the embedded scenarios ({1})")]
    UnknownScenario(String, String),
    /// A price CSV could not be found or read.
    #[error("scenario field `{field}`: {message}")]
    Data { field: String, message: String },
    /// The engine refused a command the lab needed (genesis, population or a price update).
    #[error("path {path}, step {step}: engine refused {what}: {reason}")]
    Engine {
        path: u64,
        step: u32,
        what: String,
        reason: String,
    },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A book row that does not validate: the row (`accounts[12] (id `a13`).perps[0].size`,
    /// `line 7`) and what is wrong.
    #[error("book {origin}: {row}: {message}")]
    Book {
        origin: String,
        row: String,
        message: String,
    },
    /// A book row the engine refused: its typed rejection, the row and the command.
    #[error("book {origin}: {row}: engine refused {what}: {reject}")]
    BookRejected {
        origin: String,
        row: String,
        what: String,
        reject: Box<ballast_engine::Reject>,
    },
    /// `audit`: a ledger that stopped conserving value (asset, gap in native units).
    #[error("path {path}, step {step}: value not conserved for asset {asset}: gap {gap}")]
    Conservation {
        path: u64,
        step: u32,
        asset: u16,
        gap: i128,
    },
    /// Shard files that cannot be merged.
    #[error("merge: {0}")]
    Merge(String),
    #[error("{0}")]
    Invalid(String),
    /// An ablation's knock-out that does not load or breaks the pairing of paths.
    #[error("ablation of `{defence}` in {scenario}: {source}")]
    Knockout {
        scenario: String,
        defence: String,
        // In the message, not `#[source]`: a chain printer would print it twice.
        source: Box<LabError>,
    },
    /// A knock-out that changes `paths` or `seed`: its paths could not be paired.
    #[error("ablation of `{defence}`: a knock-out must not change paths or seed (the pairing needs the same paths)")]
    UnpairedKnockout { defence: String },
    /// A shock-ladder rung that leaves no price (at or below −100 %) or is not a number.
    #[error("--ladder: a shock of {value}% leaves no price (each rung must be above -100%)")]
    ShockTooDeep { value: f64 },
    /// `--assets` names an asset the scenario does not have.
    #[error("--assets {asset}: not an asset of scenario `{scenario}` ({known})")]
    UnknownAsset {
        asset: String,
        scenario: String,
        known: String,
    },
    /// A shock ladder needs at least one step for the liquidations to happen in.
    #[error("--settle-steps must be at least 1")]
    NoSettleSteps,
    /// An output folder that exists and is not empty (checked before any work is done).
    #[error("--out {}: already exists and is not an empty folder (refusing to overwrite)", .0.display())]
    OutDirNotEmpty(PathBuf),
    /// A size over one of the lab's hard caps ([`Cap`]): memory or run time would be unbounded.
    #[error("{} = {value} is over the cap of {} ({})", cap.name(), cap.max(), cap.why())]
    OverCap { cap: Cap, value: u64 },
}

/// The lab's hard caps on sizes that a scenario or the command line chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// Monte Carlo paths of one run.
    Paths,
    /// Steps per path.
    Horizon,
    /// Trader accounts in the population.
    Accounts,
    /// Lender accounts.
    Lenders,
    /// Worker threads.
    Threads,
}

impl Cap {
    /// The field or option it limits.
    pub const fn name(self) -> &'static str {
        match self {
            Cap::Paths => "paths",
            Cap::Horizon => "horizon",
            Cap::Accounts => "population.accounts",
            Cap::Lenders => "agents.lenders.count",
            Cap::Threads => "--threads",
        }
    }

    /// The largest accepted value.
    pub const fn max(self) -> u64 {
        match self {
            Cap::Paths => 10_000_000,
            Cap::Horizon => 1_000_000,
            Cap::Accounts => 100_000,
            Cap::Lenders => 100_000,
            Cap::Threads => 256,
        }
    }

    fn why(self) -> &'static str {
        match self {
            Cap::Paths => "split larger runs with --shard i/N and `ballast merge`",
            Cap::Horizon => "every path holds its price series",
            Cap::Accounts | Cap::Lenders => "every path holds an engine with all accounts",
            Cap::Threads => "paths run on a thread pool; more threads than this only thrash",
        }
    }

    /// `Err(OverCap)` when `value` is above the cap.
    pub fn check(self, value: u64) -> Result<(), LabError> {
        if value > self.max() {
            return Err(LabError::OverCap { cap: self, value });
        }
        Ok(())
    }
}

impl LabError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        LabError::Field {
            field: field.into(),
            message: message.into(),
        }
    }
}
