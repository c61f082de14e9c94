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
//!
//! The roles are the engine's ([`ballast_engine::roles`]): each principal converts to engine
//! grants and [`authorize`] asks the engine's one permission matrix. For an engine whose role
//! registry is sealed, an entry's `"principal": N` is the engine principal the token signs as:
//! [`stamp`] puts it in the envelope's `by`, and the engine checks it against its registry.

use crate::error::ServeError;
use ballast_engine::ids::{AssetId, OwnerId, PrincipalId};
use ballast_engine::roles::{self, Grant};
use ballast_engine::state::State;
use ballast_engine::{Command, Envelope};
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
}

/// A refused authorization: which principal, which command, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub principal: &'static str,
    pub command: &'static str,
    pub cause: Denial,
}

/// Why a principal is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The command needs a grant the principal does not hold.
    #[error("the command needs {0}")]
    Needs(roles::Need),
    /// The envelope is signed as another engine principal than the token's.
    #[error("the token may not sign as {0}")]
    SignsAs(PrincipalId),
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
    /// The engine principal this token signs as (`by`), for an engine with a sealed role
    /// registry.
    #[serde(default, rename = "principal")]
    signer: Option<PrincipalId>,
    #[serde(flatten)]
    principal: Principal,
}

/// The token table: BLAKE3 hash of a token → principal and engine signer. `None` table:
/// open mode.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    by_hash: Option<HashMap<String, (Principal, Option<PrincipalId>)>>,
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
            by_hash.insert(h, (t.principal, t.signer));
        }
        Ok(Tokens {
            by_hash: Some(by_hash),
        })
    }

    /// The principal of a bearer token (`None` token in open mode: operator).
    pub fn principal(&self, token: Option<&str>) -> Option<Principal> {
        match (&self.by_hash, token) {
            (None, _) => Some(Principal::Operator),
            (Some(map), Some(t)) => map.get(&hash_token(t)).map(|(p, _)| p.clone()),
            (Some(_), None) => None,
        }
    }

    /// The engine principal a bearer token signs as, if its entry names one.
    pub fn signer(&self, token: Option<&str>) -> Option<PrincipalId> {
        let (map, t) = (self.by_hash.as_ref()?, token?);
        map.get(&hash_token(t)).and_then(|(_, s)| *s)
    }
}

impl Principal {
    /// The engine grants this principal holds (the operator holds no grant: it is the
    /// service's own bypass for an open engine, see [`authorize`]).
    pub fn grants(&self) -> Vec<Grant> {
        match self {
            Principal::Operator => vec![],
            Principal::Governor => vec![Grant::Governor],
            Principal::Guardian => vec![Grant::Guardian],
            Principal::Oracle { assets } => vec![Grant::Oracle {
                assets: assets.clone(),
            }],
            Principal::Keeper { owner: None } => vec![Grant::Keeper { owner: None }],
            Principal::Keeper { owner: Some(o) } => vec![
                Grant::Keeper { owner: Some(*o) },
                Grant::Owner { owner: *o },
            ],
            Principal::Venue => vec![Grant::Venue],
            Principal::Owner { owner } => vec![Grant::Owner { owner: *owner }],
        }
    }
}

/// Whether `p` may submit `cmd` given the ledger `state`: the engine's own permission matrix
/// ([`roles::check_grants`]) over the principal's grants, so the service and the engine
/// cannot disagree. Once the engine's registry is sealed the engine checks the signer again
/// against its registry (the authoritative check); this one refuses early with a 403.
pub fn authorize(p: &Principal, cmd: &Command, state: &State) -> Result<(), Forbidden> {
    if *p == Principal::Operator {
        return Ok(());
    }
    roles::check_grants(&p.grants(), cmd, state).map_err(|needs| Forbidden {
        principal: p.name(),
        command: cmd.kind(),
        cause: Denial::Needs(needs),
    })
}

/// Signs `env` as the token's engine principal (`"principal"` in the token file). A caller
/// may not sign as anyone else; the operator relays whatever signature the envelope carries.
pub fn stamp(
    p: &Principal,
    signer: Option<PrincipalId>,
    env: &mut Envelope,
) -> Result<(), Forbidden> {
    if *p == Principal::Operator {
        return Ok(());
    }
    match (signer, env.by) {
        (Some(s), None) => env.by = Some(s),
        (Some(s), Some(b)) if s == b => {}
        (_, Some(b)) => {
            return Err(Forbidden {
                principal: p.name(),
                command: env.cmd.kind(),
                cause: Denial::SignsAs(b),
            })
        }
        (None, None) => {}
    }
    Ok(())
}
