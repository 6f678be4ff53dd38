//! Presentations an honest wallet refuses to make, for verifiers' attack tests (feature
//! `forge`; never needed in production).

use super::{Binding, CompactError, HeldCompact};
use crate::key::Signer;

/// The disclosure of claim `name` as the credential carries it.
pub fn disclosure(held: &HeldCompact, name: &str) -> Option<Vec<u8>> {
    held.disclosures
        .iter()
        .find(|d| d.name == name)
        .map(|d| d.bytes.clone())
}

/// A presentation of `held` carrying exactly `disclosures` (from any credential), bound by
/// `binding` and signed by `signer` — whether or not it is the holder.
pub fn presentation(
    held: &HeldCompact,
    disclosures: Vec<Vec<u8>>,
    binding: &Binding<'_>,
    signer: &dyn Signer,
) -> Result<Vec<u8>, CompactError> {
    held.bind(disclosures, binding, signer)
}
