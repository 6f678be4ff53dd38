//! The Token Status List in its CWT form (`application/statuslist+cwt`, Token Status List
//! §5.2): what an mdoc's `status.status_list.uri` serves to a verifier that speaks CBOR. The same
//! list as the `statuslist+jwt`, signed by the same issuer key: a COSE_Sign1 (tag 18) with the
//! protected header `{1: alg, 4: kid, 16: "application/statuslist+cwt"}` over the claims
//! `{2: sub, 6: iat, 4: exp?, 65534: ttl?, 65533: {"bits", "lst"}}`.

use dojang_core::key::{Algorithm, PublicKey, Signer};
use dojang_core::status::token::TokenStatusList;

use crate::MdocError;
use crate::cbor::{self, Key};
use crate::cose::{self, CoseSign1};
use crate::issue::{Writer, sign1_with};

/// The media type (and COSE `typ`) of the CWT form.
pub const CWT_TYP: &str = "application/statuslist+cwt";

/// COSE and CWT labels.
const ALG: i64 = 1;
const KID: i64 = 4;
const TYP: i64 = 16;
const SUB: i64 = 2;
const EXP: i64 = 4;
const IAT: i64 = 6;
const STATUS_LIST: i64 = 65533;
const TTL: i64 = 65534;

/// What the CWT says besides its list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListCwt {
    /// The list's URI.
    pub sub: String,
    /// When it was signed.
    pub iat: i64,
    /// When it expires, if it does.
    pub exp: Option<i64>,
    /// Seconds it may be cached.
    pub ttl: Option<i64>,
    /// The key id of the signer.
    pub kid: String,
}

/// The CWT form of `list` at `claims.sub`, signed by `signer` as `claims.kid`.
pub fn sign_status_list_cwt(
    claims: &StatusListCwt,
    list: &TokenStatusList,
    signer: &dyn Signer,
) -> Result<Vec<u8>, MdocError> {
    let alg = match signer.algorithm() {
        Algorithm::Es256 => cose::ES256,
        Algorithm::EdDsa => cose::EDDSA,
    };
    let protected = Writer::new()
        .map(3)
        .int(ALG)
        .int(alg)
        .int(KID)
        .bytes(claims.kid.as_bytes())
        .int(TYP)
        .str(CWT_TYP)
        .done();
    let mut payload = Writer::new();
    payload
        .map(3 + u64::from(claims.exp.is_some()) + u64::from(claims.ttl.is_some()))
        .int(SUB)
        .str(&claims.sub)
        .int(IAT)
        .int(claims.iat);
    if let Some(exp) = claims.exp {
        payload.int(EXP).int(exp);
    }
    if let Some(ttl) = claims.ttl {
        payload.int(TTL).int(ttl);
    }
    let payload = payload
        .int(STATUS_LIST)
        .map(2)
        .str("bits")
        .int(i64::from(list.bits()))
        .str("lst")
        .bytes(&list.compress())
        .done();
    let unprotected = Writer::new().map(0).done();
    let signed = sign1_with(signer, &protected, &unprotected, &payload, false)?;
    Ok(Writer::new().tag(18).raw(&signed).done())
}

/// Reads a CWT-form status list, checks its signature with `key`, and decodes its list (at
/// most `max` bytes once inflated).
pub fn read_status_list_cwt(
    bytes: &[u8],
    key: &PublicKey,
    max: usize,
) -> Result<(StatusListCwt, TokenStatusList), MdocError> {
    if bytes.len() > crate::MAX_INPUT_LEN {
        return Err(MdocError::Malformed("larger than any status list"));
    }
    let sign1 = CoseSign1::parse(bytes)?;
    let protected = sign1.protected_entries()?;
    if cbor::label(&protected, TYP).map(cbor::text).transpose()? != Some(CWT_TYP) {
        return Err(MdocError::Malformed("not an application/statuslist+cwt"));
    }
    let kid = cbor::label(&protected, KID)
        .map(cbor::byte_string)
        .transpose()?
        .and_then(|kid| std::str::from_utf8(kid).ok())
        .ok_or(MdocError::Malformed("a status list CWT without its kid"))?
        .to_owned();
    sign1.verify(key.as_bytes(), None)?;
    let payload = sign1
        .payload
        .ok_or(MdocError::Malformed("a status list CWT without its claims"))?;
    let claims = cbor::entries(payload)?;
    let int = |label| cbor::label(&claims, label).map(cbor::int).transpose();
    let sub = cbor::label(&claims, SUB)
        .map(cbor::text)
        .transpose()?
        .ok_or(MdocError::Malformed("a status list CWT without sub"))?;
    let iat = int(IAT)?.ok_or(MdocError::Malformed("a status list CWT without iat"))?;
    let status_list = cbor::entries(
        cbor::label(&claims, STATUS_LIST)
            .ok_or(MdocError::Malformed("a status list CWT without its list"))?,
    )?;
    let field = |name| {
        status_list
            .iter()
            .find(|(key, _)| *key == Key::Text(name))
            .map(|(_, value)| *value)
            .ok_or(MdocError::Malformed("a status list without bits or lst"))
    };
    let bits = u32::try_from(cbor::int(field("bits")?)?)
        .map_err(|_| MdocError::Malformed("status list bits out of range"))?;
    let list = TokenStatusList::decompress_within(bits, cbor::byte_string(field("lst")?)?, max)
        .map_err(|_| MdocError::Malformed("the status list does not decode"))?;
    Ok((
        StatusListCwt {
            sub: sub.to_owned(),
            iat,
            exp: int(EXP)?,
            ttl: int(TTL)?,
            kid,
        },
        list,
    ))
}
