//! Roles: who may issue which command. One registry in state maps each principal (whoever
//! signs an [`Envelope`](crate::Envelope) with `by`) to its grants, and one function,
//! [`permits`], is the whole permission matrix; [`authorize`] applies it before any handler
//! runs, so a refused command changes nothing.
//!
//! The pattern is Maker's `wards` (`auth` modifier, `rely`/`deny` only by the pause proxy,
//! i.e. through the timelock), OpenZeppelin `AccessControl` (`grantRole`/`revokeRole`, one
//! `onlyRole` check per function) and Aave's `ACLManager` (separate POOL_ADMIN, EMERGENCY_ADMIN,
//! RISK_ADMIN roles; the emergency admin may pause, not configure).
//!
//! Genesis mode: while the registry is empty the engine is *open*: a command's `role` label is
//! all there is, checked against the same matrix, and commands without a label are accepted
//! from anyone (the lab, tests and bootstrap journals run this way). [`Command::SealRoles`]
//! installs the registry once; from then on every command must be signed by a principal that
//! holds a grant permitting it, listings and installs run only through a timelocked proposal
//! ([`through_timelock`]), and the registry changes only by `grant_role` / `revoke_role`
//! proposals.

use crate::command::{Command, Scope};
use crate::error::{Reject, Role};
use crate::ids::{AccountId, AssetId, OwnerId, PrincipalId};
use crate::state::State;
use serde::{Deserialize, Serialize};

/// One permission a principal holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum Grant {
    /// Token-holder governance: proposes and executes changes, unpauses, shuts a pool down.
    Governor,
    /// Emergency role: pauses, raises breakers, vetoes (cancels) a queued proposal. Never
    /// moves funds and never changes a parameter.
    Guardian,
    /// Price and market-data feeder for `assets` (every asset when absent); also reports
    /// chain status.
    Oracle {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assets: Option<Vec<AssetId>>,
    },
    /// Liquidation keeper: liquidations, auctions, funding and expiries. With `owner`, the
    /// account it names as liquidator or keeper must be that owner's.
    Keeper {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<OwnerId>,
    },
    /// The matching venue: reports fills between any two accounts.
    Venue,
    /// A trader: acts only on accounts whose owner is `owner`.
    Owner { owner: OwnerId },
}

impl Grant {
    /// The grant a `role` label names.
    pub fn of_role(r: Role) -> Grant {
        match r {
            Role::Governor => Grant::Governor,
            Role::Guardian => Grant::Guardian,
        }
    }
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grant::Governor => write!(f, "governor"),
            Grant::Guardian => write!(f, "guardian"),
            Grant::Oracle { assets: None } => write!(f, "oracle feeder of every asset"),
            Grant::Oracle { assets: Some(list) } => {
                write!(f, "oracle feeder of")?;
                for a in list {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            Grant::Keeper { owner: None } => write!(f, "keeper"),
            Grant::Keeper { owner: Some(o) } => write!(f, "keeper with {o}'s accounts"),
            Grant::Venue => write!(f, "venue"),
            Grant::Owner { owner } => write!(f, "owner {owner}"),
        }
    }
}

/// A principal and everything it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub principal: PrincipalId,
    pub grants: Vec<Grant>,
}

/// The role registry: holders sorted by principal. Empty: the engine is open (genesis mode).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Roles {
    pub holders: Vec<Holder>,
}

/// Why a registry change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("the registry must give at least one principal the governor grant")]
    NoGovernor,
    #[error("{0} is listed twice")]
    DuplicatePrincipal(PrincipalId),
    #[error("{0} is listed with no grant")]
    NoGrants(PrincipalId),
    #[error("{principal} already holds {grant}")]
    AlreadyGranted {
        principal: PrincipalId,
        grant: Grant,
    },
    #[error("{principal} does not hold {grant}")]
    NotGranted {
        principal: PrincipalId,
        grant: Grant,
    },
}

impl Roles {
    pub fn is_open(&self) -> bool {
        self.holders.is_empty()
    }

    /// What `p` holds (`None`: not in the registry).
    pub fn grants_of(&self, p: PrincipalId) -> Option<&[Grant]> {
        self.holders
            .binary_search_by_key(&p, |h| h.principal)
            .ok()
            .map(|i| self.holders[i].grants.as_slice())
    }

    /// A sealed registry from genesis holders: each principal once, each with a grant, no
    /// grant twice, and some governor (else nothing could ever change it again).
    pub fn sealed(holders: &[Holder]) -> Result<Roles, RoleError> {
        let mut r = Roles::default();
        for h in holders {
            if h.grants.is_empty() {
                return Err(RoleError::NoGrants(h.principal));
            }
            if r.grants_of(h.principal).is_some() {
                return Err(RoleError::DuplicatePrincipal(h.principal));
            }
            for g in &h.grants {
                r = r.granted(h.principal, g)?;
            }
        }
        r.check_governed()?;
        Ok(r)
    }

    /// This registry with `grant` added to `p` (OpenZeppelin `grantRole`, Maker `rely`).
    pub fn granted(&self, p: PrincipalId, grant: &Grant) -> Result<Roles, RoleError> {
        let mut r = self.clone();
        match r.holders.binary_search_by_key(&p, |h| h.principal) {
            Ok(i) if r.holders[i].grants.contains(grant) => {
                return Err(RoleError::AlreadyGranted {
                    principal: p,
                    grant: grant.clone(),
                })
            }
            Ok(i) => r.holders[i].grants.push(grant.clone()),
            Err(i) => r.holders.insert(
                i,
                Holder {
                    principal: p,
                    grants: vec![grant.clone()],
                },
            ),
        }
        Ok(r)
    }

    /// This registry with `grant` taken from `p` (`revokeRole`, Maker `deny`); a principal left
    /// with nothing leaves the registry. The last governor cannot be revoked.
    pub fn revoked(&self, p: PrincipalId, grant: &Grant) -> Result<Roles, RoleError> {
        let mut r = self.clone();
        let not_granted = || RoleError::NotGranted {
            principal: p,
            grant: grant.clone(),
        };
        let i = r
            .holders
            .binary_search_by_key(&p, |h| h.principal)
            .map_err(|_| not_granted())?;
        let g = &mut r.holders[i].grants;
        let at = g.iter().position(|x| x == grant).ok_or_else(not_granted)?;
        g.remove(at);
        if g.is_empty() {
            r.holders.remove(i);
        }
        r.check_governed()?;
        Ok(r)
    }

    fn check_governed(&self) -> Result<(), RoleError> {
        let governed = self
            .holders
            .iter()
            .any(|h| h.grants.contains(&Grant::Governor));
        if governed {
            Ok(())
        } else {
            Err(RoleError::NoGovernor)
        }
    }
}

/// What a command needs from whoever issues it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "needs", rename_all = "snake_case")]
pub enum Need {
    Governor,
    /// The guardian or the governor (emergency powers are the governor's too).
    Guardian,
    /// Only through `propose_command` and `execute` after the timelock.
    Proposal,
    /// The feeder of `asset` (any feeder when `None`: chain status).
    Oracle {
        asset: Option<AssetId>,
    },
    /// A keeper; `account` is the one it names as liquidator or keeper.
    Keeper {
        account: Option<AccountId>,
    },
    /// The trader `owner` (opening an account for it).
    Owner {
        owner: OwnerId,
    },
    /// The owner of `first` (and of `second`); with `venue`, the venue too.
    Accounts {
        first: AccountId,
        second: Option<AccountId>,
        venue: bool,
    },
}

impl std::fmt::Display for Need {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Need::Governor => write!(f, "the governor"),
            Need::Guardian => write!(f, "the guardian or the governor"),
            Need::Proposal => write!(f, "a timelocked proposal (propose_command, then execute)"),
            Need::Oracle { asset: Some(a) } => write!(f, "the oracle feeder of {a}"),
            Need::Oracle { asset: None } => write!(f, "an oracle feeder"),
            Need::Keeper { account: Some(a) } => write!(f, "a keeper that may use {a}"),
            Need::Keeper { account: None } => write!(f, "a keeper"),
            Need::Owner { owner } => write!(f, "{owner}"),
            Need::Accounts {
                first,
                second,
                venue,
            } => {
                write!(f, "the owner of {first}")?;
                if let Some(s) = second {
                    write!(f, " and of {s}")?;
                }
                if venue {
                    write!(f, ", or the venue")?;
                }
                Ok(())
            }
        }
    }
}

/// Commands that, once the registry is sealed, run only as the payload of an executed
/// proposal: listings, installs of protective mechanisms and role changes. (Role changes
/// never run directly, sealed or not.)
pub fn through_timelock(cmd: &Command) -> bool {
    use Command::*;
    matches!(
        cmd,
        CreateAsset { .. }
            | CreatePool { .. }
            | AddCollateral { .. }
            | CreateMarket { .. }
            | CreateOptionSeries { .. }
            | ConfigureOracle { .. }
            | ConfigureBreaker { .. }
            | ConfigureVolMargin { .. }
            | ConfigureLiquidation { .. }
            | GrantRole { .. }
            | RevokeRole { .. }
    )
}

/// What `cmd` needs, given the state (sealed or open, a breaker's mode, the auction breaker's
/// level).
pub fn required(cmd: &Command, state: &State) -> Need {
    use Command::*;
    let sealed = !state.roles.is_open();
    match cmd {
        GrantRole { .. } | RevokeRole { .. } => Need::Proposal,
        c if through_timelock(c) => {
            if sealed {
                Need::Proposal
            } else {
                Need::Governor
            }
        }
        // Unlabeled, so an open engine accepts it from its genesis journal; a driver that
        // holds grants (the service's tokens) needs the governor's.
        SealRoles { .. } => Need::Governor,
        Propose { .. } | Execute { .. } | ProposeCommand { .. } | Unpause { .. } => Need::Governor,
        Shutdown { .. } => Need::Governor,
        Pause { .. } | Cancel { .. } => Need::Guardian,
        GovernBreaker { scope, mode, .. } => governed_breaker_need(state, *scope, *mode),
        SetAuctionBreaker { pool, level, .. } => {
            let cur = state.pools.get(pool.idx()).map(|p| p.liquidation.breaker);
            // Tightening is an emergency stop; loosening goes through `propose
            // auction_breaker` and its timelock (Maker Clipper `stopped` is `auth`).
            match cur {
                Some(c) if *level < c => Need::Proposal,
                _ => Need::Guardian,
            }
        }
        SetPrice { asset, .. } | OracleUpdate { asset, .. } | SetVolSurface { asset, .. } => {
            Need::Oracle {
                asset: Some(*asset),
            }
        }
        ChainStatus { .. } => Need::Oracle { asset: None },
        SettleFunding { .. } | ExpireSeries { .. } => Need::Keeper { account: None },
        Liquidate { liquidator: k, .. }
        | StartAuction { keeper: k, .. }
        | RedoAuction { keeper: k, .. } => Need::Keeper { account: Some(*k) },
        OpenAccount { owner, .. } => Need::Owner { owner: *owner },
        Deposit { account, .. }
        | Withdraw { account, .. }
        | Borrow { account, .. }
        | SetMarginMode { account, .. }
        | SettleOptions { account }
        | Claim { account, .. } => own(*account, None, false),
        Transfer { from, .. } => own(*from, None, false),
        TakeAuction { bidder, .. } => own(*bidder, None, false),
        Fill { taker, maker, .. } | OptionFill { taker, maker, .. } => {
            own(*taker, Some(*maker), true)
        }
        // Every other command is one of `through_timelock`'s, matched above.
        _ => Need::Proposal,
    }
}

fn own(first: AccountId, second: Option<AccountId>, venue: bool) -> Need {
    Need::Accounts {
        first,
        second,
        venue,
    }
}

/// The guardian may tighten a breaker (an emergency stop); loosening it, or setting the mode
/// it already has, is the governor's (within the breaker's own rules).
fn governed_breaker_need(state: &State, scope: Scope, mode: ballast_oracle::breaker::Mode) -> Need {
    let current = match scope {
        Scope::Market(m) => state.markets.get(m.idx()).and_then(|x| x.breaker.as_ref()),
        Scope::Pool(p) => state.pools.get(p.idx()).and_then(|x| x.breaker.as_ref()),
        Scope::Global => None,
    };
    match current {
        Some(b) if mode.severity() <= b.mode().severity() => Need::Governor,
        _ => Need::Guardian,
    }
}

/// The permission matrix: whether `grant` satisfies `need`. `owner_of` resolves an account's
/// owner; an unknown account is left to the engine, which refuses it with its own reason.
pub fn permits(grant: &Grant, need: Need, owner_of: &dyn Fn(AccountId) -> Option<OwnerId>) -> bool {
    let owned_by = |a: AccountId, o: OwnerId| owner_of(a).is_none_or(|x| x == o);
    match (need, grant) {
        (Need::Proposal, _) => false,
        (Need::Governor | Need::Guardian, Grant::Governor) => true,
        (Need::Guardian, Grant::Guardian) => true,
        (Need::Oracle { asset }, Grant::Oracle { assets }) => match (asset, assets) {
            (Some(a), Some(list)) => list.contains(&a),
            _ => true,
        },
        (Need::Keeper { account }, Grant::Keeper { owner }) => match (account, owner) {
            (Some(a), Some(o)) => owned_by(a, *o),
            _ => true,
        },
        (Need::Owner { owner }, Grant::Owner { owner: me }) => owner == *me,
        (Need::Accounts { venue, .. }, Grant::Venue) => venue,
        (Need::Accounts { first, second, .. }, Grant::Owner { owner: me }) => {
            owned_by(first, *me) && second.is_none_or(|s| owned_by(s, *me))
        }
        _ => false,
    }
}

/// Whether `by` may issue `cmd` now. Open registry: the command's `role` label is checked
/// against the matrix, and unlabeled commands pass. Sealed: `by` must be registered and its
/// grants must pass [`check_grants`].
pub fn authorize(state: &State, by: Option<PrincipalId>, cmd: &Command) -> Result<(), Reject> {
    let refuse = |principal: Option<PrincipalId>, needs: Need| Reject::Unauthorized {
        principal,
        claimed: cmd.claimed_role(),
        needs,
        command: cmd.kind(),
    };
    if state.roles.is_open() {
        let needs = required(cmd, state);
        let ok = match cmd.claimed_role() {
            Some(r) => permits(&Grant::of_role(r), needs, &|a| owner_of(state, a)),
            None => needs != Need::Proposal,
        };
        return if ok { Ok(()) } else { Err(refuse(None, needs)) };
    }
    let Some(p) = by else {
        return Err(refuse(None, required(cmd, state)));
    };
    let grants = state
        .roles
        .grants_of(p)
        .ok_or_else(|| refuse(Some(p), required(cmd, state)))?;
    check_grants(grants, cmd, state).map_err(|needs| refuse(Some(p), needs))
}

/// Whether a holder of `grants` may issue `cmd`: it must hold the role its `role` label
/// claims, and some grant must [`permits`] what the command [`required`]s. On refusal, what
/// was missing. (The service calls this for its tokens, so both drivers share one matrix.)
pub fn check_grants(grants: &[Grant], cmd: &Command, state: &State) -> Result<(), Need> {
    if let Some(r) = cmd.claimed_role() {
        if !grants.contains(&Grant::of_role(r)) {
            return Err(match r {
                Role::Governor => Need::Governor,
                Role::Guardian => Need::Guardian,
            });
        }
    }
    let needs = required(cmd, state);
    if grants
        .iter()
        .any(|g| permits(g, needs, &|a| owner_of(state, a)))
    {
        Ok(())
    } else {
        Err(needs)
    }
}

fn owner_of(state: &State, a: AccountId) -> Option<OwnerId> {
    state.accounts.get(a.idx()).map(|x| x.owner)
}
