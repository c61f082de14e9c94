//! Typed identifiers. Ids are dense indices assigned by the engine in creation order, so a
//! journal always names the same objects and lookups are array accesses.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id {
    ($(#[$m:meta])* $name:ident, $raw:ty, $prefix:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $raw);
        impl $name {
            #[inline]
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id!(
    /// A token known to the ledger.
    AssetId, u16, "asset#"
);
id!(
    /// A risk pool (silo): own markets, collateral list, insurance fund, fee account.
    PoolId, u16, "pool#"
);
id!(
    /// A perpetual futures market inside one pool.
    MarketId, u16, "market#"
);
id!(
    /// A margin account (sub-account): the unit of cross-margining, living in one pool.
    AccountId, u32, "acct#"
);
id!(
    /// The owner of one or more sub-accounts (transfers are allowed between them).
    OwnerId, u32, "owner#"
);
id!(
    /// A governance proposal.
    ProposalId, u32, "proposal#"
);
id!(
    /// A European option series (underlying, call/put, strike, expiry) inside one pool.
    SeriesId, u32, "series#"
);
id!(
    /// A Dutch auction of one liquidation lot.
    AuctionId, u32, "auction#"
);
id!(
    /// Whoever signs a command (a governance executor, a guardian multisig, a feeder key, a
    /// keeper bot, a trader): the key of the role registry.
    PrincipalId, u32, "principal#"
);
