//! The prover's secret and the salts derived from it.
//!
//! Each leaf carries a salt so that a leaf hash does not reveal a guessable balance. Salts are
//! deterministic, `salt = BLAKE3-keyed(key, asset ‖ account)` with `key = BLAKE3-derive_key(
//! context, secret)` (BLAKE3's keyed mode is a PRF/MAC, in the role HMAC plays for SHA-2), so a
//! proof is reproducible from the same state and secret. The secret itself is never written
//! anywhere: only the salt of an account goes into that account's own proof.

use crate::digest::Digest;
use crate::error::ProveError;

const KEY_CONTEXT: &str = "ballast-solvency 2026-12 salt key v1";

/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The prover's secret, held only as the derived salt key (never printed by `Debug`).
#[derive(Clone)]
pub struct Secret {
    key: [u8; 32],
}

impl Secret {
    /// A secret of at least [`MIN_SECRET_BYTES`] bytes (a key file, any content).
    pub fn new(bytes: &[u8]) -> Result<Secret, ProveError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ProveError::SecretTooShort {
                got: bytes.len(),
                min: MIN_SECRET_BYTES,
            });
        }
        Ok(Secret {
            key: blake3::derive_key(KEY_CONTEXT, bytes),
        })
    }

    /// The salt of `account`'s leaf in the tree of `asset`.
    pub fn salt(&self, asset: u16, account: u32) -> Digest {
        let mut msg = [0u8; 6];
        msg[..2].copy_from_slice(&asset.to_le_bytes());
        msg[2..].copy_from_slice(&account.to_le_bytes());
        Digest(*blake3::keyed_hash(&self.key, &msg).as_bytes())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}
