//! `dojang bench --scale national`: the trust state of 51 million citizens holding the four
//! credential types, on a real registry store — ≈1,560 status lists of 131,072 entries at a
//! revoked share — and what an offline verifier pays for it: the bundle's bytes, the time to
//! load and verify it (every signature, proof and replay), the memory it takes, a status check,
//! and a day's delta (0.01 % new revocations, two key rotations) in bytes and time to apply.
//!
//! The ledger takes minutes to build; it is kept in `<data-dir>/national-<share>/` and reused.
//! The delta is made on a copy, so the kept ledger stays as built.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use dojang_core::did::{Did, DidUrl};
use dojang_core::key::{Algorithm, SecretKey, Signer};
use dojang_core::multikey;
use dojang_core::status::StatusListReference;
use dojang_core::status::token::{
    self as tsl, StatusListTokenClaims, TokenStatus, TokenStatusList,
};
use dojang_ledger::bundle::TrustAnchor;
use dojang_ledger::did::{EVERY_RELATIONSHIP, dojang_document, first_key_document};
use dojang_ledger::entry::{Entry, Operation};
use dojang_registry::service::Registry;
use dojang_schemas::Catalog;
use dojang_verifier::trust::{StatusLookup, Trust};
use rand::{Rng, SeedableRng};

use super::{Bench, Unit};

/// Korea's population.
const CITIZENS: u64 = 51_000_000;
/// Entries per status list.
const LIST_ENTRIES: usize = 131_072;
/// A day's new revocations, as a share of every status entry.
const DAILY_REVOCATIONS: f64 = 0.0001;
/// Issuers that rotate their key in a day.
const DAILY_ROTATIONS: usize = 2;
/// Where the lists are published.
const STATUS_BASE: &str = "https://registry.dojang.example/status-lists";

/// The national-scale run's settings.
pub(super) struct Scale {
    /// Share of entries revoked.
    pub(super) revoked: f64,
    /// Where built ledgers are kept.
    pub(super) data_dir: PathBuf,
}

/// One issuer of one type and its key.
struct Issuer {
    type_id: String,
    did: Did,
    key: SecretKey,
}

impl Issuer {
    fn kid(&self, fragment: &str) -> DidUrl {
        self.did.with_fragment(fragment)
    }
}

/// A built national ledger: where its database is, the root's key, each type's issuer.
struct Built {
    url: String,
    issuers: Vec<Issuer>,
    lists_per_type: usize,
}

/// The list ids of `issuer`'s lists, in order.
fn list_id(type_id: &str, n: usize) -> String {
    format!("{type_id}-{n:04}")
}

/// List `n` of `type_id` as built: a deterministic `revoked` share of it revoked.
fn built_list(type_id: &str, n: usize, revoked: f64) -> anyhow::Result<TokenStatusList> {
    let mut list = TokenStatusList::new(2, LIST_ENTRIES)?;
    let seed = type_id
        .bytes()
        .fold(n as u64, |h, b| h.wrapping_mul(31) ^ b as u64);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let count = (LIST_ENTRIES as f64 * revoked).round() as usize;
    for index in rand::seq::index::sample(&mut rng, LIST_ENTRIES, count) {
        list.set(index, TokenStatus::Invalid)?;
    }
    Ok(list)
}

/// `issuer`'s `status.publish` of `list` as list `n`, version `version`, signed with the key
/// `kid` names — the JWT and its CWT form, as issuers publish them.
fn publication(
    issuer: &Issuer,
    key: &dyn Signer,
    kid: &DidUrl,
    (n, version): (usize, u64),
    list: &TokenStatusList,
    now: i64,
) -> anyhow::Result<String> {
    let list_id = list_id(&issuer.type_id, n);
    let uri = format!("{STATUS_BASE}/{list_id}");
    let claims = StatusListTokenClaims {
        sub: uri.clone(),
        iat: now,
        exp: None,
        ttl: Some(43_200),
        status_list: list.encode(),
        extra: [("iss".to_owned(), issuer.did.to_string().into())]
            .into_iter()
            .collect(),
    };
    let kid_text = kid.to_string();
    let token = tsl::sign_token(&claims, Some(&kid_text), key)?;
    let cwt = dojang_mdoc::sign_status_list_cwt(
        &dojang_mdoc::StatusListCwt {
            sub: uri,
            iat: now,
            exp: None,
            ttl: Some(43_200),
            kid: kid_text,
        },
        list,
        key,
    )?;
    let operation = Operation::StatusPublish {
        issuer: issuer.did.clone(),
        list_id,
        version,
        token,
        cwt: Some(dojang_core::b64::encode(cwt)),
    };
    Ok(Entry::sign(&operation, key, kid)?)
}

/// `issuer`'s `status.root` over its lists `0..lists` as `list(n)` gives them.
fn root_entry(
    issuer: &Issuer,
    (key, kid): (&dyn Signer, &DidUrl),
    version: u64,
    lists: usize,
    mut list: impl FnMut(usize) -> anyhow::Result<TokenStatusList>,
) -> anyhow::Result<String> {
    let mut covered = Vec::with_capacity(lists);
    for n in 0..lists {
        let id = list_id(&issuer.type_id, n);
        let uri = format!("{STATUS_BASE}/{id}");
        covered.push((id, uri, dojang_ledger::lists::list_digest(&list(n)?)));
    }
    let root = dojang_ledger::lists::status_root(
        covered
            .iter()
            .map(|(id, uri, d)| (id.as_str(), uri.as_str(), d)),
    );
    let operation = Operation::StatusRoot {
        issuer: issuer.did.clone(),
        version,
        lists: lists as u64,
        root: dojang_core::b64::encode(root),
    };
    Ok(Entry::sign(&operation, key, kid)?)
}

/// The keys of a built ledger, kept beside it (a benchmark's throwaway keys).
#[derive(serde::Serialize, serde::Deserialize)]
struct Keys {
    root: String,
    issuers: Vec<(String, String)>,
}

/// The ledger at `dir`, built if it is not there yet.
async fn build(dir: &Path, revoked: f64, lists_per_type: usize) -> anyhow::Result<Built> {
    let url = format!("sqlite://{}", dir.join("registry.db").display());
    let keys_path = dir.join("keys.json");
    let done = dir.join("built");
    let type_ids: Vec<String> = Catalog::builtin()
        .iter()
        .map(|t| t.id().to_owned())
        .collect();
    if done.exists() {
        let keys: Keys = serde_json::from_str(&std::fs::read_to_string(&keys_path)?)?;
        let issuers = keys
            .issuers
            .into_iter()
            .map(|(type_id, secret)| {
                let key = multikey::decode_secret(&secret)?;
                let (document, _) = first_key_document(key.public_key(), EVERY_RELATIONSHIP);
                Ok(Issuer {
                    type_id,
                    did: document.id,
                    key,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        return Ok(Built {
            url,
            issuers,
            lists_per_type,
        });
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let (registry, root, root_kid) = super::registry::with_root(&url).await?;
    let now = crate::now();
    let mut issuers = Vec::new();
    let mut setup = Vec::new();
    for type_id in &type_ids {
        let key = SecretKey::generate(Algorithm::Es256)?;
        let (document, kid) = first_key_document(key.public_key(), EVERY_RELATIONSHIP);
        let did = document.id.clone();
        setup.push(Entry::sign(&Operation::DidCreate { document }, &key, &kid)?);
        setup.push(Entry::sign(
            &Operation::Grant {
                grantor: root_kid.did.clone(),
                subject: did.clone(),
                name: format!("{type_id} issuer"),
                types: vec![type_id.clone()],
                delegable: false,
                at: now,
            },
            &root,
            &root_kid,
        )?);
        issuers.push(Issuer {
            type_id: type_id.clone(),
            did,
            key,
        });
    }
    for entry in setup {
        registry.submit(entry).await?;
    }
    for issuer in &issuers {
        let kid = issuer.kid(dojang_ledger::did::FIRST_KEY);
        let mut entries = Vec::with_capacity(lists_per_type);
        for n in 0..lists_per_type {
            let list = built_list(&issuer.type_id, n, revoked)?;
            entries.push(publication(issuer, &issuer.key, &kid, (n, 1), &list, now)?);
        }
        super::registry::submit_all(&registry, entries, 16).await?;
        let root = root_entry(issuer, (&issuer.key, &kid), 1, lists_per_type, |n| {
            built_list(&issuer.type_id, n, revoked)
        })?;
        registry.submit(root).await?;
    }
    drop(registry);
    let keys = Keys {
        root: multikey::encode_secret(&root).to_string(),
        issuers: issuers
            .iter()
            .map(|i| {
                (
                    i.type_id.clone(),
                    multikey::encode_secret(&i.key).to_string(),
                )
            })
            .collect(),
    };
    std::fs::write(&keys_path, serde_json::to_string(&keys)?)?;
    std::fs::write(&done, "")?;
    eprintln!(
        "(built the national ledger: {} lists in {:.1} s, kept in {})",
        lists_per_type * issuers.len(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(Built {
        url,
        issuers,
        lists_per_type,
    })
}

/// A day on `registry`: `DAILY_REVOCATIONS` of every entry newly revoked, spread over the
/// lists (each list changed republished at version 2), and `DAILY_ROTATIONS` issuers rotating
/// their key.
async fn a_day(registry: &Registry, built: &Built, revoked: f64) -> anyhow::Result<()> {
    let now = crate::now();
    let total = built.issuers.len() * built.lists_per_type * LIST_ENTRIES;
    let revocations = (total as f64 * DAILY_REVOCATIONS).round() as usize;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_261_202);
    let mut changed: std::collections::BTreeMap<(usize, usize), Vec<usize>> =
        std::collections::BTreeMap::new();
    for _ in 0..revocations {
        let issuer = rng.gen_range(0..built.issuers.len());
        let n = rng.gen_range(0..built.lists_per_type);
        changed
            .entry((issuer, n))
            .or_default()
            .push(rng.gen_range(0..LIST_ENTRIES));
    }
    // Rotations first: the day's lists of those issuers are signed with their new key.
    let mut rotated: Vec<(SecretKey, DidUrl)> = Vec::new();
    for issuer in built.issuers.iter().take(DAILY_ROTATIONS) {
        let key = SecretKey::generate(Algorithm::Es256)?;
        let prev = registry
            .resolve(&issuer.did, dojang_ledger::state::AsOf::Latest)
            .await?
            .metadata
            .latest_operation
            .context("the registry names the DID's latest operation")?;
        let document = dojang_document(
            &issuer.did,
            &[("key-2", key.public_key(), EVERY_RELATIONSHIP)],
        );
        registry
            .submit(Entry::sign(
                &Operation::DidUpdate { prev, document },
                &issuer.key,
                &issuer.kid(dojang_ledger::did::FIRST_KEY),
            )?)
            .await?;
        rotated.push((key, issuer.kid("key-2")));
    }
    let the_day = |i: usize, n: usize| -> anyhow::Result<TokenStatusList> {
        let mut list = built_list(&built.issuers[i].type_id, n, revoked)?;
        for &index in changed.get(&(i, n)).into_iter().flatten() {
            list.set(index, TokenStatus::Invalid)?;
        }
        Ok(list)
    };
    let signer = |i: usize| -> (&dyn Signer, DidUrl) {
        match rotated.get(i) {
            Some((key, kid)) => (key, kid.clone()),
            None => (
                &built.issuers[i].key,
                built.issuers[i].kid(dojang_ledger::did::FIRST_KEY),
            ),
        }
    };
    let mut entries = Vec::with_capacity(changed.len());
    for &(i, n) in changed.keys() {
        let (key, kid) = signer(i);
        entries.push(publication(
            &built.issuers[i],
            key,
            &kid,
            (n, 2),
            &the_day(i, n)?,
            now,
        )?);
    }
    super::registry::submit_all(registry, entries, 16).await?;
    // Each issuer commits to its day's lists.
    for (i, issuer) in built.issuers.iter().enumerate() {
        let (key, kid) = signer(i);
        let root = root_entry(issuer, (key, &kid), 2, built.lists_per_type, |n| {
            the_day(i, n)
        })?;
        registry.submit(root).await?;
    }
    Ok(())
}

/// The median, in milliseconds, of what `run` reports it took, over 7 runs (3 with `--quick`).
fn median_ms(
    bench: &Bench,
    mut run: impl FnMut() -> anyhow::Result<std::time::Duration>,
) -> anyhow::Result<f64> {
    let mut times = (0..if bench.quick { 3 } else { 7 })
        .map(|_| run().map(|d| d.as_secs_f64()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2] * 1e3)
}

/// Resident memory of this process, MB.
fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// In a process of its own (`dojang bench --load-bundle`): loads the bundle at `bundle` under
/// the anchor at `anchor` and prints the load time and the resident memory after it.
pub(super) fn load_in_this_process(
    bench: &Bench,
    bundle: &Path,
    anchor: &Path,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(bundle)?;
    let anchor: TrustAnchor = serde_json::from_str(&std::fs::read_to_string(anchor)?)?;
    let before = rss_mb();
    let started = Instant::now();
    let trust = Trust::load(&text, anchor.clone())?;
    let first = started.elapsed().as_secs_f64();
    let after = rss_mb();
    if let (Some(before), Some(after)) = (before, after) {
        println!("national_bundle_rss_mb: {after:.1} MB");
        println!("national_bundle_rss_growth_mb: {:.1} MB", after - before);
    }
    trust.decode_all_status_lists();
    if let Some(decoded) = rss_mb() {
        println!("national_bundle_rss_all_decoded_mb: {decoded:.1} MB");
    }
    drop(trust);
    let again = median_ms(bench, || {
        let started = Instant::now();
        drop(Trust::load(&text, anchor.clone())?);
        Ok(started.elapsed())
    })?;
    println!(
        "national_bundle_load_ms: {:.1} ms (the first: {:.1} ms)",
        again,
        first * 1e3
    );
    // Every list decoded and checked at once, as a server may prefer at refresh.
    let all = median_ms(bench, || {
        let started = Instant::now();
        let trust = Trust::load(&text, anchor.clone())?;
        let unusable = trust.decode_all_status_lists();
        anyhow::ensure!(unusable == 0, "{unusable} lists could not be used");
        Ok(started.elapsed())
    })?;
    println!("national_bundle_load_and_decode_all_ms: {all:.1} ms");
    Ok(())
}

pub(super) async fn run(bench: &Bench, scale: &Scale) -> anyhow::Result<()> {
    // Lists for every citizen holding each type; a tenth of the country with --quick.
    let citizens = if bench.quick { CITIZENS / 10 } else { CITIZENS };
    let lists_per_type = citizens.div_ceil(LIST_ENTRIES as u64) as usize;
    let dir = scale.data_dir.join(format!(
        "national-v2-{}-{}ppm",
        lists_per_type,
        (scale.revoked * 1e6).round() as u64
    ));
    let built = build(&dir, scale.revoked, lists_per_type).await?;
    let lists = lists_per_type * built.issuers.len();
    println!(
        "national_scale: {lists} lists of {LIST_ENTRIES} for {citizens} citizens x {} types, {:.1} % revoked",
        built.issuers.len(),
        scale.revoked * 100.0
    );

    // The bundle, as a verifier downloads it.
    let registry = Registry::open(super::registry::config(&built.url)).await?;
    let anchor = registry.trust_anchor();
    let bundle = registry.bundle(None).await?;
    println!("national_bundle_bytes: {:.2} MB", bundle.len() as f64 / 1e6);
    if bundle.len() > dojang_ledger::bundle::MAX_BUNDLE_LEN {
        println!(
            "national_bundle_load_ms: refused (over the {} MiB a verifier reads)",
            dojang_ledger::bundle::MAX_BUNDLE_LEN >> 20
        );
        return Ok(());
    }
    let size_before = registry.size().await?;
    let work = tempfile::tempdir()?;
    // Kept beside the ledger, for loading elsewhere (a phone, a profiler).
    let bundle_path = dir.join("bundle.jwt");
    let anchor_path = dir.join("anchor.json");
    std::fs::write(&bundle_path, &bundle)?;
    std::fs::write(&anchor_path, serde_json::to_string(&anchor)?)?;
    let mut child = std::process::Command::new(std::env::current_exe()?);
    child
        .args(["bench", "--load-bundle"])
        .arg(&bundle_path)
        .arg("--anchor")
        .arg(&anchor_path);
    if bench.quick {
        child.arg("--quick");
    }
    let status = child.status()?;
    anyhow::ensure!(
        status.success(),
        "loading the bundle in its own process failed"
    );
    // A verifier that checks one type takes its issuer's lists only.
    let one_type = [built.issuers[0].type_id.clone()];
    let filtered = registry.bundle_for(None, Some(&one_type)).await?;
    println!(
        "national_bundle_one_type_bytes: {:.2} MB ({} only)",
        filtered.len() as f64 / 1e6,
        one_type[0]
    );
    let load = median_ms(bench, || {
        let started = Instant::now();
        drop(Trust::load(&filtered, anchor.clone())?);
        Ok(started.elapsed())
    })?;
    println!("national_bundle_one_type_load_ms: {load:.1} ms");

    let mut trust = Trust::load(&bundle, anchor.clone())?;
    let now = crate::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let references: Vec<(String, StatusListReference)> = (0..4096)
        .map(|_| {
            let issuer = &built.issuers[rng.gen_range(0..built.issuers.len())];
            let n = rng.gen_range(0..lists_per_type);
            (
                issuer.did.to_string(),
                StatusListReference {
                    idx: rng.gen_range(0..LIST_ENTRIES as u64),
                    uri: format!("{STATUS_BASE}/{}", list_id(&issuer.type_id, n)),
                },
            )
        })
        .collect();
    let started = Instant::now();
    let mut first_checks = 0usize;
    for (issuer, reference) in &references {
        if matches!(trust.status(issuer, reference, now), StatusLookup::Known(_)) {
            first_checks += 1;
        }
    }
    anyhow::ensure!(first_checks == references.len(), "a status was not known");
    println!(
        "national_status_first_checks: {:.1} ms for {} checks ({} lists decoded on first use)",
        started.elapsed().as_secs_f64() * 1e3,
        references.len(),
        trust.decoded_status_lists()
    );
    bench.time("national_status_check", Unit::Nanos, |n| {
        for k in 0..n {
            let (issuer, reference) = &references[k as usize % references.len()];
            std::hint::black_box(trust.status(issuer, reference, now));
        }
    });
    drop(registry);

    // A day's delta, made on a copy of the ledger.
    let copy = work.path().join("registry.db");
    {
        use sqlx::Connection as _;
        let mut kept = sqlx::SqliteConnection::connect(&built.url).await?;
        sqlx::query("VACUUM INTO $1")
            .bind(copy.display().to_string())
            .execute(&mut kept)
            .await?;
    }
    let copy_url = format!("sqlite://{}", copy.display());
    let registry = Registry::open(super::registry::config(&copy_url)).await?;
    a_day(&registry, &built, scale.revoked).await?;
    let delta = registry.bundle(Some(size_before)).await?;
    println!("national_delta_bytes: {:.1} KB", delta.len() as f64 / 1e3);
    let apply = median_ms(bench, || {
        let mut fresh = trust.clone();
        let started = Instant::now();
        fresh.update(&delta)?;
        Ok(started.elapsed())
    })?;
    println!("national_delta_apply_ms: {apply:.1} ms");
    trust.update(&delta)?;
    Ok(())
}
