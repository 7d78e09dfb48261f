//! The hash and HMAC primitives behind the signature schemes, hex or Base64 encoded as the
//! schemes print them.

use base64::Engine as _;
use hmac::digest::{core_api::BlockSizeUser, Digest};
use hmac::{Mac, SimpleHmac};
use sha1::Sha1;
use sha2::Sha256;
use sm3::Sm3;

/// The hash function of a V3 algorithm; the same function hashes the payload and the
/// canonical request and keys the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum V3Hash {
    Sha256,
    Sm3,
}

impl V3Hash {
    /// Lowercase hex digest of `data`.
    pub(super) fn hex(self, data: &[u8]) -> String {
        match self {
            Self::Sha256 => hex::encode(Sha256::digest(data)),
            Self::Sm3 => hex::encode(Sm3::digest(data)),
        }
    }

    /// Lowercase hex HMAC of `data` under `key`.
    pub(super) fn hmac_hex(self, key: &[u8], data: &[u8]) -> String {
        match self {
            Self::Sha256 => hex::encode(hmac::<Sha256>(key, data)),
            Self::Sm3 => hex::encode(hmac::<Sm3>(key, data)),
        }
    }
}

/// Standard padded Base64 of HMAC-SHA1(`data`) under `key`, as signature V1 prints it.
pub(super) fn hmac_sha1_base64(key: &[u8], data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac::<Sha1>(key, data))
}

fn hmac<D>(key: &[u8], data: &[u8]) -> Vec<u8>
where
    D: Digest + BlockSizeUser,
{
    // HMAC is defined for keys of every length (long keys are hashed, short ones padded), so
    // `new_from_slice` has no failing case; `KeyInit` only shares its signature with ciphers.
    let Ok(mut mac) = <SimpleHmac<D> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length");
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}
