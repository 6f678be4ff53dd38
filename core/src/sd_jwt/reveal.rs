//! Replacing digests with disclosed values (RFC 9901 §7.1 step 3), shared by the holder (to learn
//! where each disclosure sits) and the verifier (to get the disclosed claims).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{ClaimPath, Disclosure, MAX_DEPTH, SD_ALG, SdJwtError};

/// The payload with disclosures applied.
pub(crate) struct Revealed {
    /// The claims: disclosed values in place, `_sd`, `_sd_alg` and undisclosed array
    /// placeholders removed.
    pub(crate) claims: Map<String, Value>,
    /// For each disclosure, in input order, the path where its value was placed.
    pub(crate) paths: Vec<ClaimPath>,
}

/// Applies `disclosures` to the signed `payload`.
///
/// Fails if `_sd_alg` is not SHA-256, a digest appears twice, a disclosure is used in the wrong
/// kind of position or collides with an existing claim, nesting exceeds [`MAX_DEPTH`], or any
/// disclosure is left unreferenced.
pub(crate) fn reveal(
    mut payload: Map<String, Value>,
    disclosures: Vec<Disclosure>,
) -> Result<Revealed, SdJwtError> {
    match payload.remove("_sd_alg") {
        None => {}
        Some(Value::String(alg)) if alg == SD_ALG => {}
        Some(Value::String(alg)) => return Err(SdJwtError::UnsupportedSdAlg { alg }),
        Some(_) => return Err(SdJwtError::InvalidClaim { name: "_sd_alg" }),
    }
    let count = disclosures.len();
    let mut revealer = Revealer {
        by_digest: disclosures
            .iter()
            .enumerate()
            .map(|(i, d)| (d.digest.clone(), i))
            .collect(),
        disclosures: disclosures.into_iter().map(Some).collect(),
        paths: vec![None; count],
        seen: HashSet::new(),
        path: ClaimPath::default(),
    };
    revealer.object(&mut payload, 0)?;
    let mut paths = Vec::with_capacity(count);
    for (path, unused) in revealer.paths.into_iter().zip(revealer.disclosures) {
        match path {
            Some(path) => paths.push(path),
            None => {
                return Err(SdJwtError::UnreferencedDisclosure {
                    digest: unused.map(|d| d.digest).unwrap_or_default(),
                });
            }
        }
    }
    Ok(Revealed {
        claims: payload,
        paths,
    })
}

struct Revealer {
    by_digest: HashMap<String, usize>,
    /// Taken (`None`) once used, so each value moves into the claims without a copy.
    disclosures: Vec<Option<Disclosure>>,
    paths: Vec<Option<ClaimPath>>,
    /// Every digest met so far, matched or decoy.
    seen: HashSet<String>,
    path: ClaimPath,
}

impl Revealer {
    /// Records a digest and returns the disclosure it references, if any.
    fn take(&mut self, digest: String) -> Result<Option<(usize, Disclosure)>, SdJwtError> {
        if self.seen.contains(&digest) {
            return Err(SdJwtError::DuplicateDigest { digest });
        }
        let found = self.by_digest.get(&digest).copied();
        self.seen.insert(digest);
        Ok(found.and_then(|i| self.disclosures[i].take().map(|d| (i, d))))
    }

    fn object(&mut self, object: &mut Map<String, Value>, depth: usize) -> Result<(), SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let digests = object.remove("_sd");
        // Plain values first, so values disclosed below are not walked twice.
        for (name, value) in object.iter_mut() {
            self.path.push(name.clone());
            self.value(value, depth + 1)?;
            self.path.pop();
        }
        let Some(digests) = digests else {
            return Ok(());
        };
        let Value::Array(digests) = digests else {
            return Err(SdJwtError::InvalidClaim { name: "_sd" });
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::InvalidClaim { name: "_sd" });
            };
            let Some((index, disclosure)) = self.take(digest)? else {
                continue; // a decoy, or a claim the holder did not disclose
            };
            let Some(name) = disclosure.name else {
                return Err(SdJwtError::DisclosureKind {
                    digest: disclosure.digest,
                });
            };
            if object.contains_key(&name) {
                return Err(SdJwtError::ClaimCollision { name });
            }
            let mut value = disclosure.value;
            self.path.push(name.clone());
            self.value(&mut value, depth + 1)?;
            self.paths[index] = Some(self.path.clone());
            self.path.pop();
            object.insert(name, value);
        }
        Ok(())
    }

    fn array(&mut self, array: &mut Vec<Value>, depth: usize) -> Result<(), SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let elements = std::mem::take(array);
        for (position, mut element) in elements.into_iter().enumerate() {
            self.path.push(position.to_string());
            match placeholder_digest(&mut element)? {
                Some(digest) => {
                    if let Some((index, disclosure)) = self.take(digest)? {
                        if disclosure.name.is_some() {
                            return Err(SdJwtError::DisclosureKind {
                                digest: disclosure.digest,
                            });
                        }
                        let mut value = disclosure.value;
                        self.value(&mut value, depth + 1)?;
                        self.paths[index] = Some(self.path.clone());
                        array.push(value);
                    }
                }
                None => {
                    self.value(&mut element, depth + 1)?;
                    array.push(element);
                }
            }
            self.path.pop();
        }
        Ok(())
    }

    fn value(&mut self, value: &mut Value, depth: usize) -> Result<(), SdJwtError> {
        match value {
            Value::Object(object) => self.object(object, depth),
            Value::Array(array) => self.array(array, depth),
            _ => Ok(()),
        }
    }
}

/// If `element` is an array-element placeholder `{"...": "<digest>"}`, takes its digest.
fn placeholder_digest(element: &mut Value) -> Result<Option<String>, SdJwtError> {
    let Value::Object(object) = element else {
        return Ok(None);
    };
    if object.len() != 1 {
        return Ok(None);
    }
    match object.get_mut("...") {
        None => Ok(None),
        Some(Value::String(digest)) => Ok(Some(std::mem::take(digest))),
        Some(_) => Err(SdJwtError::InvalidClaim { name: "..." }),
    }
}
