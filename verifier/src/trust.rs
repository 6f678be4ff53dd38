//! What an offline verifier knows: a verified trust bundle, and the status lists in it, each
//! decoded the first time a credential on it is checked, so later checks are a bit lookup.

use std::sync::{Arc, OnceLock};

use dojang_core::did::Did;
use dojang_core::jws::Jws;
use dojang_core::key::PublicKey;
use dojang_core::sd_jwt::{IssuerKeyError, IssuerKeyResolver};
use dojang_core::status::StatusListReference;
use dojang_core::status::token::{self, TokenStatus, TokenStatusList};
use dojang_core::verdict::Freshness;
use dojang_ledger::bundle::{self, BundleError, CarriedList, TrustAnchor, VerifiedBundle};
use dojang_ledger::state::{LedgerState, StatusListRecord};

use crate::{DecodedKeys, Lookup, ledger_key};

/// A verified trust bundle and the anchor it was checked against.
#[derive(Debug, Clone)]
pub struct Trust {
    anchor: TrustAnchor,
    bundle: VerifiedBundle,
    /// Status lists by URI.
    lists: Lookup<String, Arc<HeldList>>,
    /// Every multibase key in the ledger's DID documents, decoded once.
    keys: DecodedKeys,
    /// The published, unrevoked issuing-authority (IACA) roots, parsed once: mdoc chains end
    /// in one of them.
    roots: Vec<dojang_mdoc::Certificate>,
}

/// One issuer's status list as the bundle carries it — its latest published token, or its bits
/// beside the issuer's root — decoded on first use (a bundle's replay has already bounded a
/// token's size, see [`dojang_ledger::state::MAX_STATUS_LIST_BYTES`]; carried bits inflate no
/// further). Shared between copies of the trust, so a list decoded once stays decoded across
/// deltas that do not change it.
#[derive(Debug)]
struct HeldList {
    /// The log index of the publication, or of the root, held.
    index: u64,
    issuer: Did,
    source: Source,
    /// The decoded list and the token's own expiry, or why the list could not be used.
    decoded: OnceLock<Result<(TokenStatusList, Option<i64>), String>>,
}

#[derive(Debug)]
enum Source {
    /// The latest publication of this list id, in the state.
    Token(String),
    /// Carried beside its issuer's root, checked against its digest when decoded.
    Carried(CarriedList),
}

/// A credential's status as the bundle knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusLookup {
    /// The list says this.
    Known(TokenStatus),
    /// The bundle has no list with this URI: one published after the bundle's checkpoint (an
    /// issuer's first credential on a new list), or none at all. A newer bundle may know it.
    Missing,
    /// The status cannot be known offline: a list of another issuer, a bad or expired token, an
    /// index beyond the list.
    Unavailable(String),
}

impl Trust {
    /// Verifies `bundle` (signature, checkpoint, witnesses, every inclusion proof, every entry's
    /// rules) against `anchor`.
    pub fn load(bundle: &str, anchor: TrustAnchor) -> Result<Self, BundleError> {
        let bundle = bundle::verify(bundle, &anchor)?;
        Ok(Trust::from_verified(anchor, bundle))
    }

    /// Wraps a bundle already verified against `anchor`.
    pub fn from_verified(anchor: TrustAnchor, bundle: VerifiedBundle) -> Self {
        let mut trust = Trust {
            anchor,
            bundle,
            lists: Lookup::default(),
            keys: Lookup::default(),
            roots: Vec::new(),
        };
        trust.index();
        trust
    }

    /// Applies a delta bundle after checking it extends the checkpoint held. On any failure —
    /// a fork, a bad proof, a bad signature — nothing changes.
    pub fn update(&mut self, delta: &str) -> Result<(), BundleError> {
        self.bundle.apply_delta(delta, &self.anchor)?;
        self.index();
        Ok(())
    }

    /// Indexes the status lists — the newer of a published token and bits carried under a root,
    /// kept as they were where that is still what the bundle holds — and decodes the keys once,
    /// for verification to look up.
    fn index(&mut self) {
        let state = &self.bundle.state;
        // A publication older than its issuer's latest root is superseded by the list the root
        // covers: carried beside it, or — if the bundle did not carry the issuer's lists — unknown.
        let published = state
            .status_lists()
            .filter(|r| {
                state
                    .status_root(&r.issuer)
                    .is_none_or(|root| r.index > root.index)
            })
            .map(|r| (&r.uri, r.index, &r.issuer, Source::Token(r.list_id.clone())));
        let carried = self
            .bundle
            .lists
            .values()
            .map(|l| (&l.uri, l.index, &l.issuer, Source::Carried(l.clone())));
        let mut lists: Lookup<String, Arc<HeldList>> = Lookup::default();
        for (uri, index, issuer, source) in published.chain(carried) {
            if lists.get(uri).is_some_and(|held| held.index >= index) {
                continue;
            }
            let held = match self.lists.get(uri) {
                Some(held) if held.index == index => held.clone(),
                _ => Arc::new(HeldList {
                    index,
                    issuer: issuer.clone(),
                    source,
                    decoded: OnceLock::new(),
                }),
            };
            lists.insert(uri.clone(), held);
        }
        self.lists = lists;
        self.keys = state
            .dids()
            .flat_map(|(_, record)| &record.versions)
            .flat_map(|version| &version.document.verification_method)
            .filter_map(|method| {
                let multibase = method.public_key_multibase.clone()?;
                Some((multibase, method.public_key().ok()?))
            })
            .collect();
        self.roots = state
            .iaca_roots()
            .filter_map(|der| dojang_mdoc::Certificate::from_der(&der).ok())
            .collect();
    }

    /// The published, unrevoked issuing-authority roots mdoc document signers chain to.
    pub fn iaca_roots(&self) -> &[dojang_mdoc::Certificate] {
        &self.roots
    }

    /// The ledger state the bundle defines.
    pub fn state(&self) -> &LedgerState {
        &self.bundle.state
    }

    /// The anchor the bundle was checked against.
    pub fn anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// The checkpoint size held (a delta request starts here).
    pub fn size(&self) -> u64 {
        self.bundle.checkpoint.size
    }

    /// How fresh this knowledge is at `now`.
    pub fn freshness(&self, now: i64) -> Freshness {
        Freshness {
            bundle_issued_at: self.bundle.exported_at,
            bundle_age_secs: now.saturating_sub(self.bundle.exported_at).max(0),
            checkpoint_size: self.bundle.checkpoint.size,
            witnesses: u32::try_from(self.bundle.witnesses).unwrap_or(u32::MAX),
        }
    }

    /// Decodes every status list the bundle holds now, each checked (a token's signature, or
    /// carried bits against their root's digest), rather than on first use: for a server that
    /// would rather spend the time at refresh. Returns how many lists could not be used.
    pub fn decode_all_status_lists(&self) -> usize {
        self.lists
            .values()
            .filter(|held| self.decode(held).is_err())
            .count()
    }

    /// A held list decoded, once.
    fn decode<'a>(&self, held: &'a HeldList) -> &'a Result<(TokenStatusList, Option<i64>), String> {
        held.decoded.get_or_init(|| match &held.source {
            Source::Token(list_id) => {
                let record = self
                    .state()
                    .status_list(list_id)
                    .filter(|record| record.index == held.index)
                    .ok_or_else(|| "the bundle no longer holds the list".to_owned())?;
                decode_list(self.state(), record)
            }
            Source::Carried(list) => list
                .decode()
                .map(|list| (list, None))
                .map_err(|e| format!("the issuer's status list as the bundle carries it: {e}")),
        })
    }

    /// How many of the bundle's status lists are held decoded: those a credential was checked
    /// on since their latest publication (each at most
    /// [`dojang_ledger::state::MAX_STATUS_LIST_BYTES`]).
    pub fn decoded_status_lists(&self) -> usize {
        self.lists
            .values()
            .filter(|held| held.decoded.get().is_some())
            .count()
    }

    /// The status of the credential `reference` names, issued by `issuer`. The reasons given
    /// do not repeat the list's URI: it is the credential's own data.
    pub fn status(&self, issuer: &str, reference: &StatusListReference, now: i64) -> StatusLookup {
        let unavailable = |why: String| StatusLookup::Unavailable(why);
        let Some(held) = self.lists.get(&reference.uri) else {
            return StatusLookup::Missing;
        };
        if held.issuer.as_str() != issuer {
            return unavailable("the credential's status list belongs to another issuer".into());
        }
        let decoded = self.decode(held);
        let (list, exp) = match decoded {
            Ok(decoded) => decoded,
            Err(why) => return unavailable(why.clone()),
        };
        if let Some(exp) = exp.filter(|&exp| exp <= now) {
            return unavailable(format!(
                "the bundle's copy of the credential's status list expired at {exp}; refresh the \
                 bundle"
            ));
        }
        match usize::try_from(reference.idx)
            .ok()
            .and_then(|i| list.status(i).ok())
        {
            Some(status) => StatusLookup::Known(status),
            None => unavailable(format!(
                "index {} is beyond the credential's status list ({} entries)",
                reference.idx,
                list.len()
            )),
        }
    }
}

/// Decodes a list's latest token, checked against its issuer's key as of publication.
fn decode_list(
    state: &LedgerState,
    record: &StatusListRecord,
) -> Result<(TokenStatusList, Option<i64>), String> {
    // Not naming the URI: a verdict quoting this would repeat the credential's own reference.
    let bad = |e: &dyn std::fmt::Display| format!("the issuer's published status list: {e}");
    let jws = Jws::parse(&record.token).map_err(|e| bad(&e))?;
    let key = state
        .assertion_key_at(
            &record.issuer,
            jws.header().kid.as_deref(),
            record.timestamp_ms,
        )
        .map_err(|e| bad(&e))?;
    // Expiry is judged at verification time, not at load. The bundle's replay left the token's
    // signature and size to here (`LedgerState::for_bundle`): the ledger's bound applies.
    let (claims, list) = token::verify_token_within(
        &record.token,
        &key,
        &record.uri,
        i64::MIN,
        dojang_ledger::state::MAX_STATUS_LIST_BYTES,
    )
    .map_err(|e| bad(&e))?;
    Ok((list, claims.exp))
}

/// Issuer keys as of issuance, from the bundle's key histories (see [`crate::LedgerKeys`]).
impl IssuerKeyResolver for Trust {
    fn issuer_key(
        &self,
        issuer: Option<&str>,
        kid: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<PublicKey, IssuerKeyError> {
        ledger_key(self.state(), Some(&self.keys), issuer, kid, issued_at)
    }
}
