//! Status lists: W3C Bitstring Status List and IETF Token Status List (JSON, CBOR, JWT).

use dojang_core::jws::JwsHeader;
use dojang_core::status::StatusListReference;
use dojang_core::status::bitstring::{BitstringStatusList, BitstringStatusListEntry};
use dojang_core::status::token::{self, EncodedList, JWT_TYP, TokenStatusList};

use crate::craft;
use crate::world::{NOW, world};

/// Largest decoded list whose re-encoding is checked (compression at the best level is the
/// slow part of a round trip).
const MAX_ROUND_TRIP: usize = 64 << 10;

/// Status list decoding, with round trips, and a signed status list token.
///
/// Input: one byte choosing the entry width (1, 2, 4, 8, or a width no format allows), then
/// the list: as a W3C `encodedList`, as IETF JSON (`{"bits", "lst"}`), CBOR and raw ZLIB, as a
/// `BitstringStatusListEntry`. Lists that decode must re-encode to themselves (when small).
///
/// Signed: the rest is also the payload of a `statuslist+jwt` signed with the world issuer's
/// key, verified with `verify_token` for that issuer's list URI, and looked up for a
/// credential at the index the width byte names.
pub fn status_list(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let bits = match selector % 5 {
        0 => 1,
        1 => 2,
        2 => 4,
        3 => 8,
        _ => u32::from(selector),
    };
    if let Ok(list) = TokenStatusList::from_cbor(rest) {
        token_round_trips(&list);
    }
    if let Ok(list) = TokenStatusList::decompress(bits, rest) {
        assert_eq!(list.bits(), bits);
        token_round_trips(&list);
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(list) = BitstringStatusList::decode(text, bits) {
            let _ = list.get(list.len().saturating_sub(1));
            assert!(
                list.get(list.len()).is_err(),
                "an index past the end is readable"
            );
            if list.as_bytes().len() <= MAX_ROUND_TRIP {
                let again = BitstringStatusList::decode(&list.encode(), bits);
                assert_eq!(again.ok(), Some(list), "bitstring list round trip");
            }
        }
        if let Ok(encoded) = serde_json::from_str::<EncodedList>(text)
            && let Ok(list) = TokenStatusList::decode(&encoded)
        {
            token_round_trips(&list);
        }
        if let Ok(entry) = serde_json::from_str::<BitstringStatusListEntry>(text) {
            let _ = entry.index();
        }
    }
    signed_token(selector, rest);
}

/// Reading every entry's neighbourhood and re-encoding a decoded list.
fn token_round_trips(list: &TokenStatusList) {
    assert_eq!(list.len(), list.as_bytes().len() * 8 / list.bits() as usize);
    let _ = list.status(list.len().saturating_sub(1));
    assert!(
        list.status(list.len()).is_err(),
        "an index past the end is readable"
    );
    if list.as_bytes().len() <= MAX_ROUND_TRIP {
        let again = TokenStatusList::decode(&list.encode());
        assert_eq!(
            again.as_ref().ok(),
            Some(list),
            "token list JSON round trip"
        );
        let again = TokenStatusList::from_cbor(&list.to_cbor());
        assert_eq!(
            again.as_ref().ok(),
            Some(list),
            "token list CBOR round trip"
        );
    }
}

/// `payload` as a status list token of the world issuer; whether it verified.
fn signed_token(selector: u8, payload: &[u8]) -> bool {
    let world = world();
    let issuer = &world.issuer;
    let header = JwsHeader::new(Some(JWT_TYP), Some(&issuer.kid("key-1").to_string()));
    let Some(jwt) = craft::jws(header, payload, &issuer.key) else {
        return false;
    };
    let key = issuer.key.public_key();
    if let Ok((claims, list)) = token::verify_token(&jwt, key, &issuer.status_uri(), NOW) {
        assert_eq!(claims.sub, issuer.status_uri());
        assert!(
            claims.exp.is_none_or(|exp| exp > NOW),
            "an expired token verified"
        );
        let reference = StatusListReference {
            idx: u64::from(selector) * 1021,
            uri: issuer.status_uri(),
        };
        let status = dojang_verifier::check_status(&reference, &jwt, key, NOW);
        let index = usize::from(selector) * 1021;
        assert_eq!(
            status.ok(),
            list.status(index).ok(),
            "two readings of one entry"
        );
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_seeds_verify() {
        for (name, seed) in crate::seeds("status_list") {
            if name.starts_with("token") {
                assert!(signed_token(seed[0], &seed[1..]), "{name}");
            }
        }
    }
}
