//! The compact QR credential: the `DJ1:` text, the strict CBOR subset and COSE_Sign1.
//!
//! `core::compact::cbor` is private to core; its decoder is reached through every public
//! function that reads CBOR (`HeldCompact::parse`, `compact::verify`,
//! `ChallengeRequest::from_qr_text`), and its encoder through `HeldCompact::present`.

use dojang_core::compact::{
    self, CHALLENGE_PREFIX, Challenge, ChallengeRequest, HeldCompact, MAX_PRESENTATION_LEN,
    VerifiedCompact, VerifyOptions,
};
use dojang_core::key::{PublicKey, SecretKey, Signer};
use dojang_core::sd_jwt::IssuerKeyResolver;

use crate::craft::{self, Cbor, SEPARATOR};
use crate::world::{AUDIENCE, ISSUED_AT, NOW, QR_NONCE, binding, world};

/// Verification options at [`NOW`], in challenge mode for the world's challenge when
/// `challenge`.
fn options(challenge: bool) -> VerifyOptions<'static> {
    VerifyOptions {
        now: NOW,
        leeway: 30,
        window: 60,
        challenge: challenge.then_some(Challenge {
            audience: AUDIENCE,
            nonce: QR_NONCE,
        }),
    }
}

/// QR text: `DJ1:` + base45 → presentation bytes → verification against the world's trust
/// (time-window and challenge mode); `DJC1:` challenge texts. Both decodings must round trip
/// through their encoders.
pub fn qr_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = compact::from_qr_text(text) {
        let again = compact::from_qr_text(&compact::to_qr_text(&bytes));
        assert_eq!(
            again.ok().as_deref(),
            Some(bytes.as_slice()),
            "QR text does not round trip"
        );
        for challenge in [false, true] {
            if let Ok(verified) = compact::verify(&bytes, &world().trust, &options(challenge)) {
                check_verified(&verified);
            }
        }
    }
    if let Ok(request) = ChallengeRequest::from_qr_text(text) {
        let again = ChallengeRequest::from_qr_text(&request.to_qr_text());
        assert_eq!(
            again.ok(),
            Some(request),
            "challenge QR does not round trip"
        );
    }
}

/// What holds for any verified presentation.
fn check_verified(verified: &VerifiedCompact) {
    for &name in &verified.disclosed {
        assert!(
            verified.claims.contains_key(name),
            "disclosed `{name}` is not among the claims"
        );
    }
    assert!(
        verified.presented_at >= NOW - 90 && verified.presented_at <= NOW + 30,
        "a presentation outside the window verified"
    );
}

/// The strict CBOR subset, through a credential (`HeldCompact::parse`), a presentation
/// (`compact::verify`) and a challenge map. A credential that parses, held by a world holder,
/// is presented (encoding every disclosure again) and verified; whatever the world's trust
/// accepts must come back with every claim the holder saw.
pub fn cbor(data: &[u8]) {
    let world = world();
    if let Ok(held) = HeldCompact::parse(data) {
        let names = held.disclosable();
        for name in &names {
            assert!(
                held.claims().contains_key(*name),
                "disclosable `{name}` is not among the claims"
            );
        }
        let _ = (
            held.issuer(),
            held.vct(),
            held.issued_at(),
            held.valid_until(),
        );
        let _ = held.status();
        if let Some(holder) = world.holder_for(held.holder_key()) {
            let presentation = match held.present(&names, &binding(false), holder) {
                Ok(presentation) => presentation,
                Err(e) => panic!("the holder cannot present a credential it holds: {e}"),
            };
            if let Ok(verified) = compact::verify(&presentation, &world.trust, &options(false)) {
                check_verified(&verified);
                assert_eq!(&verified.claims, held.claims(), "claims changed on the way");
                assert_eq!(verified.disclosed.len(), names.len());
            }
        }
    }
    for challenge in [false, true] {
        if let Ok(verified) = compact::verify(data, &world.trust, &options(challenge)) {
            check_verified(&verified);
        }
    }
    let text = format!("{CHALLENGE_PREFIX}{}", base45::encode(data));
    if let Ok(request) = ChallengeRequest::from_qr_text(&text) {
        assert!(!request.audience.is_empty() && (8..=64).contains(&request.nonce.len()));
    }
}

/// Flags of a [`cose_sign1`] input (its first byte).
mod flag {
    /// The credential is signed by `issuer_ed` (`#key-2`, EdDSA) instead of `issuer` (ES256).
    pub(super) const ISSUER_ED: u8 = 1;
    /// The holder key is Ed25519 instead of P-256.
    pub(super) const HOLDER_ED: u8 = 1 << 1;
    /// Challenge mode: the binding carries the world's audience and nonce.
    pub(super) const CHALLENGE: u8 = 1 << 2;
    /// The claims part is the whole payload, not extra claims.
    pub(super) const RAW_CLAIMS: u8 = 1 << 3;
    /// The protected header part is the whole protected header, not extra parameters.
    pub(super) const RAW_PROTECTED: u8 = 1 << 4;
    /// The issuer key comes from the world's trust (issuer, kid and time must match the
    /// ledger) instead of being the key that signed.
    pub(super) const TRUST_RESOLVER: u8 = 1 << 5;
}

/// COSE_Sign1 with signed inputs: the fuzzed parts become a credential's claims, protected
/// header, disclosures and the holder binding's payload; the harness signs the credential with
/// an issuer key and the presentation with a holder key, then verifies.
///
/// Input: one flag byte (see `flag`), then parts separated by [`SEPARATOR`]: claims,
/// protected header, binding payload, and one part per disclosure. Unless a flag says the
/// part is raw, the harness writes the registered entries (iss, iat, cnf, vct, status, the
/// digests of the disclosures; alg, kid, typ; iat, aud, cnonce) and splices the part in as
/// extra map pairs ([`Cbor::map_with`]).
pub fn cose_sign1(data: &[u8]) {
    let Some(crafted) = Crafted::from_input(data) else {
        return;
    };
    let options = options(crafted.challenge);
    let Ok(verified) = compact::verify(&crafted.presentation, crafted.resolver(), &options) else {
        return;
    };
    check_verified(&verified);
    let holder = crafted.holder;
    assert_eq!(
        &verified.holder_key,
        holder.public_key(),
        "another holder key"
    );
    assert_eq!(verified.presented_at, NOW);
    assert!(verified.disclosed.len() <= crafted.disclosures);

    // What verified must parse for its holder, and present again to the same claims.
    let held = match HeldCompact::parse(&crafted.credential) {
        Ok(held) => held,
        Err(e) => panic!("a credential that verified does not parse: {e}"),
    };
    let again = match held.present(&held.disclosable(), &binding(crafted.challenge), holder) {
        Ok(again) => again,
        Err(e) => panic!("the holder cannot present a credential that verified: {e}"),
    };
    if again.len() <= MAX_PRESENTATION_LEN {
        match compact::verify(&again, crafted.resolver(), &options) {
            Ok(again) => assert_eq!(again.claims, verified.claims, "claims changed"),
            Err(e) => panic!("presenting a verified credential again fails: {e}"),
        }
    }
}

/// The credential and presentation a [`cose_sign1`] input describes.
struct Crafted {
    credential: Vec<u8>,
    presentation: Vec<u8>,
    holder: &'static SecretKey,
    /// The key that signed the credential.
    issuer_key: PublicKey,
    /// Whether the issuer key is looked up in the world's trust instead.
    trust_resolver: bool,
    challenge: bool,
    disclosures: usize,
}

impl Crafted {
    fn from_input(data: &[u8]) -> Option<Self> {
        let (&flags, rest) = data.split_first()?;
        let world = world();
        let parts = craft::split(rest, SEPARATOR);
        let part = |i: usize| parts.get(i).copied().unwrap_or_default();
        let disclosures: Vec<&[u8]> = parts.iter().skip(3).take(80).copied().collect();
        let issuer = match flags & flag::ISSUER_ED {
            0 => &world.issuer,
            _ => &world.issuer_ed,
        };
        let (issuer_key, kid) = world.signing_key(issuer);
        let holder: &'static SecretKey = match flags & flag::HOLDER_ED {
            0 => &world.holder,
            _ => &world.holder_ed,
        };
        let challenge = flags & flag::CHALLENGE != 0;

        let payload = if flags & flag::RAW_CLAIMS != 0 {
            part(0).to_vec()
        } else {
            claims(issuer, holder.public_key(), &disclosures, part(0))
        };
        let protected = if flags & flag::RAW_PROTECTED != 0 {
            part(1).to_vec()
        } else {
            let mut out = Cbor::new();
            let extra = out.map_with(3, part(1));
            out.int(1).int(issuer_key.algorithm().cose_id());
            out.int(4).bytes(kid.as_bytes()).int(16).int(293).raw(extra);
            out.finish()
        };
        let mut unprotected = Cbor::new();
        unprotected.map(1).int(17).array(disclosures.len());
        for disclosure in &disclosures {
            unprotected.bytes(disclosure);
        }
        let credential = craft::sign1(&protected, &unprotected.finish(), &payload, issuer_key)?;
        let presentation = present(&credential, holder, challenge, part(2))?;
        Some(Crafted {
            credential,
            presentation,
            holder,
            issuer_key: issuer_key.public_key().clone(),
            trust_resolver: flags & flag::TRUST_RESOLVER != 0,
            challenge,
            disclosures: disclosures.len(),
        })
    }

    fn resolver(&self) -> &dyn IssuerKeyResolver {
        match self.trust_resolver {
            true => &world().trust,
            false => &self.issuer_key,
        }
    }
}

/// The claims map: the registered claims, the digests of `disclosures`, then `extra`.
fn claims(
    issuer: &crate::world::Actor,
    holder: &PublicKey,
    disclosures: &[&[u8]],
    extra: &[u8],
) -> Vec<u8> {
    let mut out = Cbor::new();
    let extra = out.map_with(6, extra);
    out.int(1).text(issuer.did.as_str()).int(6).int(ISSUED_AT);
    out.int(8).map(1).int(1);
    craft::cose_key(&mut out, holder);
    out.int(11).text("urn:dojang:vct:citizen-card:1");
    out.int(65535).map(1).text("status_list").map(2);
    out.text("idx")
        .int(3)
        .text("uri")
        .text(&issuer.status_uri());
    out.simple(59).array(disclosures.len());
    for disclosure in disclosures {
        out.bytes(&craft::sha256(disclosure)[..16]);
    }
    out.raw(extra);
    out.finish()
}

/// A key binding token over `credential`, signed by `holder`, made at [`NOW`], with `extra`
/// spliced into its payload.
fn present(
    credential: &[u8],
    holder: &dyn Signer,
    challenge: bool,
    extra: &[u8],
) -> Option<Vec<u8>> {
    let mut protected = Cbor::new();
    protected.map(3).int(1).int(holder.algorithm().cose_id());
    protected.int(16).int(294).int(13).raw(credential);
    let mut payload = Cbor::new();
    let extra = payload.map_with(if challenge { 3 } else { 1 }, extra);
    payload.int(6).int(NOW);
    if challenge {
        payload.int(3).text(AUDIENCE).int(39).bytes(QR_NONCE);
    }
    payload.raw(extra);
    craft::sign1(
        &protected.finish(),
        &Cbor::new().map(0).finish(),
        &payload.finish(),
        holder,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cose_seeds_verify() {
        for (name, seed) in crate::seeds("cose_sign1") {
            let crafted = Crafted::from_input(&seed).expect(&name);
            let verified = compact::verify(
                &crafted.presentation,
                crafted.resolver(),
                &options(crafted.challenge),
            );
            assert!(verified.is_ok(), "{name}: {:?}", verified.err());
        }
    }

    #[test]
    fn qr_seeds_verify() {
        for (name, seed) in crate::seeds("qr_text") {
            let Ok(bytes) = compact::from_qr_text(std::str::from_utf8(&seed).unwrap()) else {
                continue;
            };
            let challenge = name.starts_with("challenge");
            let verified = compact::verify(&bytes, &world().trust, &options(challenge));
            assert!(verified.is_ok(), "{name}: {:?}", verified.err());
        }
    }
}
