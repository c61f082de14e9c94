//! Credentials and roles. An API token (sent as `Authorization: Bearer TOKEN`) is stored only
//! as its BLAKE3 hash and maps to a [`Principal`]; [`authorize`] decides, against the current
//! ledger, whether that principal may submit a command.
//!
//! Token file (`--tokens FILE`, JSON):
//!
//! ```json
//! { "tokens": [
//!   { "name": "dao",    "hash": "<blake3 hex of the token>", "role": "governor" },
//!   { "name": "safety", "hash": "...", "role": "guardian" },
//!   { "name": "feed",   "hash": "...", "role": "oracle", "assets": [0, 1] },
//!   { "name": "bot",    "hash": "...", "role": "keeper", "owner": 9 },
//!   { "name": "venue",  "hash": "...", "role": "venue" },
//!   { "name": "alice",  "hash": "...", "role": "owner", "owner": 1 },
//!   { "name": "ops",    "hash": "...", "role": "operator" }
//! ] }
//! ```
//!
//! `ballast serve --hash-token SECRET` prints the hash to put in the file. Without a token file
//! every request acts as `operator` (a local development server).

use crate::error::ServeError;
use ballast_engine::ids::{AccountId, AssetId, OwnerId};
use ballast_engine::state::State;
use ballast_engine::{Command, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Who is calling, as the token file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Principal {
    /// Operations: may submit any command (genesis, migrations, load tests).
    Operator,
    /// Token-holder governance: commands whose `role` is `governor`.
    Governor,
    /// Emergency role: commands whose `role` is `guardian` (pause, raise the auction breaker).
    Guardian,
    /// Price and market-data feeder: `set_price`, `oracle_update`, `set_vol_surface` for its
    /// assets (all when `assets` is absent), and `chain_status`.
    Oracle {
        #[serde(default)]
        assets: Option<Vec<AssetId>>,
    },
    /// Liquidation keeper: `liquidate`, `start_auction`, `redo_auction`, `settle_funding`,
    /// `expire_series`; with an `owner`, only with that owner's accounts, and it may also act
    /// as that owner.
    Keeper {
        #[serde(default)]
        owner: Option<OwnerId>,
    },
    /// The matching venue: reports `fill` and `option_fill` between any two accounts.
    Venue,
    /// A trader: acts only on accounts whose owner is `owner`.
    Owner { owner: OwnerId },
}

impl Principal {
    /// The role name, as in the token file.
    pub fn name(&self) -> &'static str {
        match self {
            Principal::Operator => "operator",
            Principal::Governor => "governor",
            Principal::Guardian => "guardian",
            Principal::Oracle { .. } => "oracle",
            Principal::Keeper { .. } => "keeper",
            Principal::Venue => "venue",
            Principal::Owner { .. } => "owner",
        }
    }

    /// The owner this principal may act as, if any.
    fn acting_owner(&self) -> Option<OwnerId> {
        match self {
            Principal::Owner { owner } => Some(*owner),
            Principal::Keeper { owner } => *owner,
            _ => None,
        }
    }
}

/// A refused authorization: which principal, which command, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub principal: &'static str,
    pub command: &'static str,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Deserialize)]
struct TokenEntry {
    #[allow(dead_code)]
    name: String,
    hash: String,
    #[serde(flatten)]
    principal: Principal,
}

/// The token table: BLAKE3 hash of a token → principal. `None` table: open mode.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_hash: Option<HashMap<String, Principal>>,
}

/// The hash stored for a token.
pub fn hash_token(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

impl Tokens {
    /// Every request is an operator (no token file).
    pub fn open() -> Tokens {
        Tokens { by_hash: None }
    }

    /// Loads a token file (format in the module doc).
    pub fn load(path: &Path) -> Result<Tokens, ServeError> {
        let err = |message: String| ServeError::Tokens {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Tokens::parse(&text).map_err(err)
    }

    /// Parses the JSON of a token file.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let file: TokenFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut by_hash = HashMap::new();
        for t in file.tokens {
            let h = t.hash.to_ascii_lowercase();
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("token {:?}: hash must be 64 hex digits", t.name));
            }
            by_hash.insert(h, t.principal);
        }
        Ok(Tokens {
            by_hash: Some(by_hash),
        })
    }

    /// The principal of a bearer token (`None` token in open mode: operator).
    pub fn principal(&self, token: Option<&str>) -> Option<Principal> {
        match (&self.by_hash, token) {
            (None, _) => Some(Principal::Operator),
            (Some(map), Some(t)) => map.get(&hash_token(t)).cloned(),
            (Some(_), None) => None,
        }
    }
}

fn owner_of(state: &State, a: AccountId) -> Option<OwnerId> {
    state.accounts.get(a.idx()).map(|acc| acc.owner)
}

/// Whether `p` may submit `cmd` given the ledger `state` (account owners).
pub fn authorize(p: &Principal, cmd: &Command, state: &State) -> Result<(), Forbidden> {
    if *p == Principal::Operator {
        return Ok(());
    }
    let deny = |reason: String| Forbidden {
        principal: p.name(),
        command: crate::kind::kind(cmd),
        reason,
    };
    let owns = |accounts: &[AccountId]| -> Result<(), Forbidden> {
        let me = p.acting_owner();
        for &a in accounts {
            match (me, owner_of(state, a)) {
                // An unknown account: the engine refuses it with its own reason.
                (Some(_), None) => {}
                (Some(m), Some(o)) if m == o => {}
                (Some(m), Some(o)) => {
                    return Err(deny(format!(
                        "{a} belongs to owner {}, the caller is owner {}",
                        o.0, m.0
                    )))
                }
                (None, _) => return Err(deny(format!("{} holds no accounts", p.name()))),
            }
        }
        Ok(())
    };
    if let Some(role) = claimed_role(cmd) {
        return holds_role(p, role).map_err(deny);
    }
    use Command::*;
    match cmd {
        SetPrice { asset, .. } | OracleUpdate { asset, .. } | SetVolSurface { asset, .. } => {
            feeds(p, *asset).map_err(deny)
        }
        ChainStatus { .. } => match p {
            Principal::Oracle { .. } => Ok(()),
            _ => Err(deny("only an oracle feeder reports chain status".into())),
        },
        SettleFunding { .. } | ExpireSeries { .. } => match p {
            Principal::Keeper { .. } => Ok(()),
            _ => Err(deny("only a keeper advances funding and expiries".into())),
        },
        OpenAccount { owner, .. } => match p.acting_owner() {
            Some(m) if m == *owner => Ok(()),
            _ => Err(deny(format!(
                "may not open an account for owner {}",
                owner.0
            ))),
        },
        Deposit { account, .. }
        | Withdraw { account, .. }
        | Borrow { account, .. }
        | SetMarginMode { account, .. }
        | SettleOptions { account, .. }
        | Claim { account, .. } => owns(&[*account]),
        Transfer { from, .. } => owns(&[*from]),
        TakeAuction { bidder, .. } => owns(&[*bidder]),
        Fill { taker, maker, .. } | OptionFill { taker, maker, .. } => match p {
            Principal::Venue => Ok(()),
            _ => owns(&[*taker, *maker]),
        },
        Liquidate { liquidator: k, .. }
        | StartAuction { keeper: k, .. }
        | RedoAuction { keeper: k, .. } => match p {
            Principal::Keeper { owner: None } => Ok(()),
            Principal::Keeper { owner: Some(_) } => owns(&[*k]),
            _ => Err(deny("only a keeper liquidates".into())),
        },
        // Commands with a `role` field were handled above; anything new is operator-only
        // until it is given a rule here.
        _ => Err(deny("no role but operator may submit this command".into())),
    }
}

/// The `role` a governance command claims (`None` for every other command).
fn claimed_role(cmd: &Command) -> Option<Role> {
    use Command::*;
    match cmd {
        CreateAsset { role, .. }
        | CreatePool { role, .. }
        | AddCollateral { role, .. }
        | CreateMarket { role, .. }
        | Propose { role, .. }
        | Execute { role, .. }
        | Cancel { role, .. }
        | Pause { role, .. }
        | Unpause { role, .. }
        | ConfigureOracle { role, .. }
        | ConfigureBreaker { role, .. }
        | GovernBreaker { role, .. }
        | ConfigureVolMargin { role, .. }
        | CreateOptionSeries { role, .. }
        | ConfigureLiquidation { role, .. }
        | SetAuctionBreaker { role, .. }
        | Shutdown { role, .. } => Some(*role),
        _ => None,
    }
}

fn holds_role(p: &Principal, role: Role) -> Result<(), String> {
    match (p, role) {
        (Principal::Governor, Role::Governor) | (Principal::Guardian, Role::Guardian) => Ok(()),
        _ => Err(format!(
            "the command claims role {role:?}, the caller holds {}",
            p.name()
        )),
    }
}

fn feeds(p: &Principal, asset: AssetId) -> Result<(), String> {
    match p {
        Principal::Oracle { assets: None } => Ok(()),
        Principal::Oracle { assets: Some(list) } if list.contains(&asset) => Ok(()),
        Principal::Oracle { .. } => Err(format!("this feeder does not feed {asset}")),
        _ => Err("only an oracle feeder publishes market data".into()),
    }
}
