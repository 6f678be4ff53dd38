//! Status lists as a trust bundle carries them: bare compressed bits under their issuer's root.
//!
//! An issuer's `status.root` entry commits to every list it has published by one digest:
//!
//! ```text
//! digest(list) = SHA-256("dojang-status-list/1" ‖ 0x00 ‖ bits (u8) ‖ the list's decoded bytes)
//! root         = SHA-256("dojang-status-root/1" ‖ 0x00 ‖ for each list, by list id:
//!                        len(id) (u16) ‖ id ‖ len(uri) (u16) ‖ uri ‖ digest(list))
//! ```
//!
//! The registry admits a root only if it is the root of the lists it holds. A bundle then
//! carries each list as its zlib bytes with the digest it claims; the verifier checks the
//! issuer's root over the digests at load, and each list's bytes against its digest the first
//! time it reads the list. A delta carries, per issuer, only the entries that changed
//! ([`Patch`]) against the lists the verifier holds; the verifier applies them and checks the
//! new root over the digests it computes — so a list left out, added or altered is refused.

use aws_lc_rs::digest::{Context, SHA256};
use dojang_core::status::token::{TokenStatus, TokenStatusList};

use crate::merkle::Hash;
use crate::state::MAX_STATUS_LIST_BYTES;

/// A list's digest.
pub type Digest = Hash;

/// The digest of a decoded list.
pub fn list_digest(list: &TokenStatusList) -> Digest {
    let mut context = Context::new(&SHA256);
    context.update(b"dojang-status-list/1\0");
    context.update(&[list.bits() as u8]);
    context.update(list.as_bytes());
    digest(context)
}

/// An issuer's root over its lists, given as `(list id, URI, digest)` in any order.
pub fn status_root<'a>(lists: impl IntoIterator<Item = (&'a str, &'a str, &'a Hash)>) -> Hash {
    let mut lists: Vec<_> = lists.into_iter().collect();
    lists.sort_unstable_by_key(|(id, _, _)| *id);
    let mut context = Context::new(&SHA256);
    context.update(b"dojang-status-root/1\0");
    for (id, uri, digest) in lists {
        for text in [id, uri] {
            // List ids are at most 128 bytes and URIs are bounded by the entry size.
            context.update(&(text.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
            context.update(text.as_bytes());
        }
        context.update(digest);
    }
    digest(context)
}

fn digest(context: Context) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// Inflates a list's zlib bytes, at most [`MAX_STATUS_LIST_BYTES`] decoded.
pub fn inflate(bits: u32, zlib: &[u8]) -> Result<TokenStatusList, String> {
    TokenStatusList::decompress_within(bits, zlib, MAX_STATUS_LIST_BYTES).map_err(|e| e.to_string())
}

/// The entries that changed in an issuer's lists between two of its roots.
///
/// Binary, for each changed list in ascending order of its position among the issuer's lists
/// sorted by id: `position gap` (varint: the position for the first list, then the distance
/// from the previous one less one), `groups` (varint, 1–256), and per group `status` (u8),
/// `count` (varint, ≥ 1)
/// and `count` index gaps (varint: the first index, then distances less one). At the national
/// day's ≈ 13 changes per list, ≈ 2.3 bytes a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// `(position, [(index, new status)])`, positions ascending, indices ascending.
    pub lists: Vec<(usize, Vec<(usize, u8)>)>,
}

impl Patch {
    /// The changes from `old` to `new` (same width and length), or `None` if nothing changed.
    pub fn diff(old: &TokenStatusList, new: &TokenStatusList) -> Option<Vec<(usize, u8)>> {
        let changes: Vec<(usize, u8)> = (0..new.len())
            .filter_map(|i| {
                let value = new.status(i).ok()?.value();
                (old.status(i).ok()?.value() != value).then_some((i, value))
            })
            .collect();
        (!changes.is_empty()).then_some(changes)
    }

    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut previous: Option<usize> = None;
        for (position, changes) in &self.lists {
            put_varint(&mut out, gap(previous, *position));
            previous = Some(*position);
            let mut groups: Vec<(u8, Vec<usize>)> = Vec::new();
            for &(index, value) in changes {
                match groups.iter_mut().find(|(v, _)| *v == value) {
                    Some((_, indices)) => indices.push(index),
                    None => groups.push((value, vec![index])),
                }
            }
            put_varint(&mut out, groups.len());
            for (value, indices) in groups {
                out.push(value);
                put_varint(&mut out, indices.len());
                let mut last: Option<usize> = None;
                for index in indices {
                    put_varint(&mut out, gap(last, index));
                    last = Some(index);
                }
            }
        }
        out
    }

    /// Reads the binary form. Every count is bounded by the bytes left, so a hostile patch
    /// costs no more than its length.
    pub fn decode(mut bytes: &[u8]) -> Result<Self, String> {
        let mut lists = Vec::new();
        let mut previous: Option<usize> = None;
        while !bytes.is_empty() {
            let position = ungap(previous, take_varint(&mut bytes)?)?;
            previous = Some(position);
            // Each list and each group changes something: a patch costs a verifier work only
            // in proportion to its bytes.
            let groups = take_varint(&mut bytes)?;
            if groups == 0 || groups > 256 {
                return Err("a patched list changes 1 to 256 statuses".into());
            }
            let mut changes = Vec::new();
            for _ in 0..groups {
                let value = take_byte(&mut bytes)?;
                let count = take_varint(&mut bytes)?;
                if count == 0 || count > bytes.len() {
                    return Err("a patch group holds 1 to its length changes".into());
                }
                let mut last: Option<usize> = None;
                for _ in 0..count {
                    let index = ungap(last, take_varint(&mut bytes)?)?;
                    last = Some(index);
                    changes.push((index, value));
                }
            }
            changes.sort_unstable();
            lists.push((position, changes));
        }
        Ok(Patch { lists })
    }

    /// Applies one list's changes.
    pub fn apply(list: &mut TokenStatusList, changes: &[(usize, u8)]) -> Result<(), String> {
        for &(index, value) in changes {
            list.set(index, TokenStatus::from_value(value))
                .map_err(|e| format!("a patch change at {index}: {e}"))?;
        }
        Ok(())
    }
}

fn gap(previous: Option<usize>, next: usize) -> usize {
    previous.map_or(next, |p| next - p - 1)
}

fn ungap(previous: Option<usize>, gap: usize) -> Result<usize, String> {
    match previous {
        None => Ok(gap),
        Some(p) => p
            .checked_add(gap)
            .and_then(|n| n.checked_add(1))
            .ok_or_else(|| "a patch position overflows".into()),
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_byte(bytes: &mut &[u8]) -> Result<u8, String> {
    let (&first, rest) = bytes
        .split_first()
        .ok_or_else(|| "a patch ends early".to_owned())?;
    *bytes = rest;
    Ok(first)
}

fn take_varint(bytes: &mut &[u8]) -> Result<usize, String> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = take_byte(bytes)?;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a patch number is too long".into())
}

/// A status token's list, read without checking its signature: for the registry exporting a
/// list it admitted, and a verifier taking a list whose entry it verified.
#[derive(Debug, Clone)]
pub struct TokenList {
    /// The list URI (`sub`).
    pub uri: String,
    /// Bits per entry.
    pub bits: u32,
    /// The list, zlib-compressed, as the token carries it.
    pub zlib: Vec<u8>,
}

impl TokenList {
    /// Reads a `statuslist+jwt`.
    pub fn read(token: &str) -> Result<Self, String> {
        let jws = dojang_core::jws::Jws::parse(token).map_err(|e| e.to_string())?;
        let claims: dojang_core::status::token::StatusListTokenClaims =
            jws.payload_json().map_err(|e| e.to_string())?;
        let zlib = dojang_core::b64::decode(&claims.status_list.lst)
            .map_err(|_| "the list is not base64url".to_owned())?;
        Ok(TokenList {
            uri: claims.sub,
            bits: claims.status_list.bits,
            zlib,
        })
    }

    /// The decoded list.
    pub fn inflate(&self) -> Result<TokenStatusList, String> {
        inflate(self.bits, &self.zlib)
    }
}

/// A token's decoded list (see [`TokenList`]).
pub fn token_bits(token: &str) -> Result<TokenStatusList, String> {
    TokenList::read(token)?.inflate()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_round_trip_and_apply() {
        let mut old = TokenStatusList::new(2, 131_072).unwrap();
        old.set(5, TokenStatus::Invalid).unwrap();
        let mut new = old.clone();
        for (i, status) in [
            (0, TokenStatus::Invalid),
            (70_000, TokenStatus::Suspended),
            (131_071, TokenStatus::Invalid),
            (5, TokenStatus::Valid),
        ] {
            new.set(i, status).unwrap();
        }
        let changes = Patch::diff(&old, &new).unwrap();
        let patch = Patch {
            lists: vec![(3, changes.clone()), (900, vec![(1, 1)])],
        };
        let decoded = Patch::decode(&patch.encode()).unwrap();
        assert_eq!(decoded, patch);
        let mut patched = old.clone();
        Patch::apply(&mut patched, &decoded.lists[0].1).unwrap();
        assert_eq!(list_digest(&patched), list_digest(&new));
        assert_ne!(list_digest(&old), list_digest(&new));
        assert_eq!(Patch::diff(&new, &new), None);
    }

    #[test]
    fn an_eight_bit_list_may_change_to_every_status() {
        let changes: Vec<(usize, u8)> = (0..=255u8).map(|v| (usize::from(v), v)).collect();
        let patch = Patch {
            lists: vec![(0, changes)],
        };
        assert_eq!(Patch::decode(&patch.encode()).unwrap(), patch);
    }

    #[test]
    fn hostile_patches_are_refused_not_trusted() {
        assert!(Patch::decode(&[0, 1, 1, 0xff, 0xff, 0xff, 0x7f]).is_err());
        assert!(Patch::decode(&[0x80; 8]).is_err());
        assert!(Patch::decode(&[0, 2, 1]).is_err());
        // A list or a group that changes nothing.
        assert!(Patch::decode(&[0, 0]).is_err());
        assert!(Patch::decode(&[0, 1, 1, 0]).is_err());
        let mut list = TokenStatusList::new(2, 131_072).unwrap();
        assert!(Patch::apply(&mut list, &[(131_072, 1)]).is_err());
    }

    #[test]
    fn the_root_depends_on_every_list_and_not_on_order() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let root = status_root([("a", "u/a", &a), ("b", "u/b", &b)]);
        assert_eq!(root, status_root([("b", "u/b", &b), ("a", "u/a", &a)]));
        assert_ne!(root, status_root([("a", "u/a", &a)]));
        assert_ne!(root, status_root([("a", "u/a", &b), ("b", "u/b", &a)]));
        assert_ne!(root, status_root([("a", "u/x", &a), ("b", "u/b", &b)]));
    }
}
