//! Issuing an SD-JWT: concealing claims behind salted digests, then signing.

use serde_json::{Map, Value};

use super::{ClaimPath, SD_ALG, SdJwtError, digest};
use crate::b64;
use crate::jws::{self, JwsHeader};
use crate::key::Signer;

/// Issuer-side options besides the claims.
#[derive(Debug, Clone, Default)]
pub struct IssueOptions {
    /// The JWS header (`typ`, `kid`, extra parameters); `alg` comes from the signer.
    pub header: JwsHeader,
    /// Decoy digests to add to the top-level `_sd` array, hiding how many claims are concealed.
    pub decoys: usize,
}

/// Conceals the claims at `disclosable` and signs the result, returning the compact SD-JWT
/// (`<jwt>~<disclosure>~…~`).
///
/// Paths may nest (conceal `/address/locality` and `/address`): inner claims are concealed
/// first, so the outer disclosure carries the inner digests. Every `_sd` array is sorted, so
/// digest order reveals nothing about claim order.
pub fn issue(
    mut claims: Map<String, Value>,
    disclosable: &[ClaimPath],
    options: IssueOptions,
    signer: &dyn Signer,
) -> Result<String, SdJwtError> {
    reject_reserved_names(&claims, true)?;
    let mut paths: Vec<&ClaimPath> = disclosable.iter().collect();
    paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
    paths.dedup();
    let mut disclosures = Vec::with_capacity(paths.len());
    for path in paths {
        disclosures.push(conceal(&mut claims, path)?);
    }
    if options.decoys > 0 {
        let sd = sd_array(&mut claims)?;
        for _ in 0..options.decoys {
            sd.push(Value::String(digest(&salt()?)));
        }
    }
    sort_sd_arrays(&mut claims);
    claims.insert("_sd_alg".to_owned(), Value::String(SD_ALG.to_owned()));
    disclosures.sort();

    let payload =
        serde_json::to_vec(&claims).map_err(|_| SdJwtError::InvalidClaim { name: "claims" })?;
    let jwt = jws::sign(options.header, &payload, signer)?;
    let mut out = String::with_capacity(
        jwt.len() + disclosures.iter().map(|d| d.len() + 1).sum::<usize>() + 1,
    );
    out.push_str(&jwt);
    out.push('~');
    for disclosure in &disclosures {
        out.push_str(disclosure);
        out.push('~');
    }
    Ok(out)
}

/// 128 random bits, base64url.
fn salt() -> Result<String, SdJwtError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SdJwtError::Rng)?;
    Ok(b64::encode(bytes))
}

/// Replaces the value at `path` with its digest and returns the encoded disclosure.
fn conceal(claims: &mut Map<String, Value>, path: &ClaimPath) -> Result<String, SdJwtError> {
    let not_found = || SdJwtError::PathNotFound {
        path: path.to_string(),
    };
    let (last, parents) = path.tokens().split_last().ok_or_else(not_found)?;
    let mut container = ContainerMut::Object(claims);
    for token in parents {
        let next = match container {
            ContainerMut::Object(object) => object.get_mut(token),
            ContainerMut::Array(array) => {
                token.parse::<usize>().ok().and_then(|i| array.get_mut(i))
            }
        };
        container = match next {
            Some(Value::Object(object)) => ContainerMut::Object(object),
            Some(Value::Array(array)) => ContainerMut::Array(array),
            _ => return Err(not_found()),
        };
    }
    let salt = salt()?;
    match container {
        ContainerMut::Object(object) => {
            let value = object.remove(last).ok_or_else(not_found)?;
            let encoded = b64::encode(
                serde_json::to_string(&(&salt, last, &value)).map_err(|_| not_found())?,
            );
            sd_array(object)?.push(Value::String(digest(&encoded)));
            Ok(encoded)
        }
        ContainerMut::Array(array) => {
            let element = last
                .parse::<usize>()
                .ok()
                .and_then(|i| array.get_mut(i))
                .ok_or_else(not_found)?;
            let encoded =
                b64::encode(serde_json::to_string(&(&salt, &*element)).map_err(|_| not_found())?);
            let mut placeholder = Map::new();
            placeholder.insert("...".to_owned(), Value::String(digest(&encoded)));
            *element = Value::Object(placeholder);
            Ok(encoded)
        }
    }
}

enum ContainerMut<'a> {
    Object(&'a mut Map<String, Value>),
    Array(&'a mut Vec<Value>),
}

fn sd_array(object: &mut Map<String, Value>) -> Result<&mut Vec<Value>, SdJwtError> {
    match object
        .entry("_sd")
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(array) => Ok(array),
        _ => Err(SdJwtError::ReservedClaimName { name: "_sd".into() }),
    }
}

fn sort_sd_arrays(object: &mut Map<String, Value>) {
    for (name, value) in object.iter_mut() {
        match value {
            Value::Array(digests) if name == "_sd" => {
                digests.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            other => sort_sd_arrays_in(other),
        }
    }
}

fn sort_sd_arrays_in(value: &mut Value) {
    match value {
        Value::Object(object) => sort_sd_arrays(object),
        Value::Array(array) => array.iter_mut().for_each(sort_sd_arrays_in),
        _ => {}
    }
}

/// Refuses claim names that SD-JWT processing gives a meaning to.
fn reject_reserved_names(object: &Map<String, Value>, top: bool) -> Result<(), SdJwtError> {
    for (name, value) in object {
        if name == "_sd" || name == "..." || (top && name == "_sd_alg") {
            return Err(SdJwtError::ReservedClaimName { name: name.clone() });
        }
        reject_reserved_in(value)?;
    }
    Ok(())
}

fn reject_reserved_in(value: &Value) -> Result<(), SdJwtError> {
    match value {
        Value::Object(object) => reject_reserved_names(object, false),
        Value::Array(array) => array.iter().try_for_each(reject_reserved_in),
        _ => Ok(()),
    }
}
