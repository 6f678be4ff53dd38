//! SD-JWT and SD-JWT VC verification with signed inputs.

use dojang_core::jws::JwsHeader;
use dojang_core::sd_jwt::{self, ClaimPath, HeldSdJwt, KB_JWT_TYP, VerifyOptions, vc};

use crate::craft;
use crate::world::{AUDIENCE, NONCE, NOW, world};

/// Most disclosures a [`sd_jwt`] input makes (the verifier takes up to 1,024; the work per
/// disclosure is the same).
const MAX_DISCLOSURES: usize = 96;

/// SD-JWT (RFC 9901) and the SD-JWT VC profile, signed.
///
/// Input: `<payload>~<disclosure>~…~<kb payload>` as templates. The harness base64url-encodes
/// each disclosure as it is, replacing `$n` with the digest of disclosure `n` (for `n` after
/// it, so disclosures can nest), signs the payload (`$n` replaced likewise) as the issuer JWT
/// (`typ: dc+sd-jwt`, the world issuer's ES256 `#key-2`), and, when the last part is not empty,
/// signs it as the key binding JWT with the world holder's key (`$h` replaced by the
/// presentation's `sd_hash`). The result goes through `sd_jwt::verify` with the issuer's key,
/// `sd_jwt::vc::verify` with the world's trust and a required key binding, and the holder's
/// `HeldSdJwt::parse`.
///
/// Invariants: what `vc::verify` accepts through the ledger, `sd_jwt::verify` accepts with the
/// issuer's key; and an SD-JWT that verifies, re-presented by its holder with every
/// disclosure, verifies to the same claims.
pub fn sd_jwt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(presentation) = sign(text) else {
        return;
    };
    let world = world();
    let issuer_key = world.issuer.key2.public_key();
    let plain = sd_jwt::verify(&presentation, issuer_key, &VerifyOptions::at(NOW));
    let options = VerifyOptions::at(NOW).require_key_binding(AUDIENCE, NONCE);
    let profiled = vc::verify(&presentation, &world.trust, &options);
    let held = HeldSdJwt::parse(&presentation);
    if let Ok(profiled) = &profiled {
        assert!(
            plain.is_ok(),
            "vc::verify accepted what sd_jwt::verify refuses: {:?}",
            plain.err()
        );
        assert!(profiled.key_binding.is_some(), "a key binding was required");
    }
    let Ok(verified) = plain else {
        return;
    };
    let held = match held {
        Ok(held) => held,
        Err(e) => panic!("a verified SD-JWT does not parse for its holder: {e}"),
    };
    let all: Vec<ClaimPath> = held.disclosable_paths().into_iter().cloned().collect();
    let again = match held.present(&all, None) {
        Ok(again) => again,
        Err(e) => panic!("presenting a verified SD-JWT fails: {e}"),
    };
    match sd_jwt::verify(&again, issuer_key, &VerifyOptions::at(NOW)) {
        Ok(again) => {
            assert_eq!(again.claims, verified.claims, "claims changed");
            assert_eq!(again.disclosed.len(), verified.disclosed.len());
        }
        Err(e) => panic!("a verified SD-JWT presented again does not verify: {e}"),
    }
}

/// The presentation an [`sd_jwt`] input describes.
fn sign(text: &str) -> Option<String> {
    let world = world();
    let parts: Vec<&str> = text.split('~').collect();
    let (payload, rest) = parts.split_first()?;
    let (kb, disclosures) = match rest.split_last() {
        Some((kb, disclosures)) => (*kb, disclosures),
        None => ("", &[][..]),
    };
    if disclosures.len() > MAX_DISCLOSURES {
        return None;
    }
    let mut encoded = vec![String::new(); disclosures.len()];
    let mut digests: Vec<Option<String>> = vec![None; disclosures.len()];
    for (i, template) in disclosures.iter().enumerate().rev() {
        let json = craft::substitute(template, |name| {
            let n: usize = name.parse().ok()?;
            digests.get(n).filter(|_| n > i).cloned().flatten()
        });
        encoded[i] = dojang_core::b64::encode(json);
        digests[i] = Some(craft::sd_digest(&encoded[i]));
    }
    let payload = craft::substitute(payload, |name| {
        digests.get(name.parse::<usize>().ok()?).cloned().flatten()
    });
    let header = JwsHeader::new(Some(vc::TYP), Some(&world.issuer.kid("key-2").to_string()));
    let mut out = craft::jws(header, payload.as_bytes(), &world.issuer.key2)?;
    out.push('~');
    for disclosure in &encoded {
        out.push_str(disclosure);
        out.push('~');
    }
    if !kb.is_empty() {
        let sd_hash = craft::sd_digest(&out);
        let kb = craft::substitute(kb, |name| (name == "h").then(|| sd_hash.clone()));
        let header = JwsHeader::new(Some(KB_JWT_TYP), None);
        out.push_str(&craft::jws(header, kb.as_bytes(), &world.holder)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_verify() {
        let world = world();
        for (name, seed) in crate::seeds("sd_jwt") {
            let presentation = sign(std::str::from_utf8(&seed).unwrap()).unwrap();
            let key = world.issuer.key2.public_key();
            let plain = sd_jwt::verify(&presentation, key, &VerifyOptions::at(NOW));
            assert!(plain.is_ok(), "{name}: {:?}", plain.err());
            if !presentation.ends_with('~') {
                let options = VerifyOptions::at(NOW).require_key_binding(AUDIENCE, NONCE);
                let profiled = vc::verify(&presentation, &world.trust, &options);
                assert!(profiled.is_ok(), "{name}: {:?}", profiled.err());
            }
        }
    }
}
