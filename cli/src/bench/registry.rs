//! Registry figures: sustained appends (SQLite, PostgreSQL), proof generation and verification
//! at 1M entries.

use std::hint::black_box;
use std::time::Instant;

use dojang_core::DidUrl;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::seal::KdfParams;
use dojang_ledger::entry::{Entry, Operation};
use dojang_ledger::merkle::{self, MemoryTree};
use dojang_registry::service::{Registry, RegistryConfig};
use dojang_registry::store::Store;
use rand::{Rng, SeedableRng};

use super::{Bench, Unit};

pub(super) fn config(url: &str) -> RegistryConfig {
    RegistryConfig {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        ..RegistryConfig::new(url, "bench.dojang.local/log", "bench")
    }
}

/// A registry on `url` whose log starts with a root authority's genesis: the registry, the
/// root's key and its key id.
pub(super) async fn with_root(url: &str) -> anyhow::Result<(Registry, SecretKey, DidUrl)> {
    let registry = Registry::open(config(url)).await?;
    let key = SecretKey::generate(Algorithm::EdDsa)?;
    let (document, kid) = crate::registry::document_for(&key);
    let genesis = Operation::Genesis {
        origin: "bench.dojang.local/log".into(),
        document,
    };
    registry.submit(Entry::sign(&genesis, &key, &kid)?).await?;
    Ok((registry, key, kid))
}

/// Appends `count` audit entries (signed beforehand) through 64 concurrent submitters.
async fn appends_per_second(url: &str, count: usize) -> anyhow::Result<f64> {
    let (registry, key, kid) = with_root(url).await?;
    let did = kid.did.clone();
    let entries: Vec<String> = (0..count)
        .map(|n| {
            Entry::sign(
                &Operation::Audit {
                    issuer: did.clone(),
                    period_start: n as i64,
                    period_end: n as i64,
                    counts: [("issued:bench".to_owned(), 1)].into_iter().collect(),
                },
                &key,
                &kid,
            )
        })
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    submit_all(&registry, entries, 64).await?;
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Submits `entries` to `registry` through `workers` concurrent submitters.
pub(super) async fn submit_all(
    registry: &Registry,
    entries: Vec<String>,
    workers: usize,
) -> anyhow::Result<()> {
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(entries));
    let workers: Vec<_> = (0..workers)
        .map(|_| {
            let (registry, queue) = (registry.clone(), queue.clone());
            tokio::spawn(async move {
                loop {
                    let Some(entry) = queue.lock().await.pop() else {
                        break;
                    };
                    registry.submit(entry).await?;
                }
                Ok::<_, dojang_registry::service::RegistryError>(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

/// A log of `size` leaves whose tree nodes are written directly (no entries): all that proof
/// generation reads. Kept at `url` when it is a database this was done to before (`built`
/// says so); the tree is rebuilt in memory either way, for the roots and proofs to check.
async fn tree_of(url: &str, size: u64, built: bool) -> anyhow::Result<(Registry, MemoryTree)> {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.push_hash(merkle::leaf_hash(&i.to_be_bytes()));
    }
    if !built {
        let store = Store::open(url).await?;
        let mut tx = store.begin_append().await?;
        tx.insert_nodes(&tree.nodes().collect::<Vec<_>>()).await?;
        tx.commit(size, 0).await?;
    }
    Ok((Registry::open(config(url)).await?, tree))
}

/// Proof production and checking in a log of `size` leaves on `url`, printed with `tag`.
async fn proofs(bench: &Bench, url: &str, size: u64, tag: &str, built: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let (registry, tree) = tree_of(url, size, built).await?;
    eprintln!(
        "({} a {size}-leaf tree in {:.1} s)",
        if built { "read" } else { "built" },
        started.elapsed().as_secs_f64()
    );
    let root = tree.root_at(size);
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let indices: Vec<u64> = (0..256).map(|_| rng.gen_range(0..size)).collect();
    bench
        .time_each(
            &format!("registry_proof_inclusion_{tag}"),
            Unit::Millis,
            &indices,
            |i| {
                let registry = registry.clone();
                async move { registry.inclusion_proof(i, size).await.map(|_| ()) }
            },
        )
        .await?;
    let mut proofs = Vec::new();
    for &i in &indices[..16] {
        proofs.push((i, registry.inclusion_proof(i, size).await?));
    }
    bench
        .time_each(
            &format!("registry_proof_consistency_{tag}"),
            Unit::Millis,
            &indices,
            |i| {
                let registry = registry.clone();
                async move { registry.consistency_proof(i.max(1), size).await.map(|_| ()) }
            },
        )
        .await?;
    bench.time(
        &format!("registry_proof_verify_inclusion_{tag}"),
        Unit::Micros,
        |n| {
            for k in 0..n {
                let (i, proof) = &proofs[k as usize % proofs.len()];
                let leaf = merkle::leaf_hash(&i.to_be_bytes());
                black_box(merkle::verify_inclusion(*i, size, &leaf, proof, &root).is_ok());
            }
        },
    );
    let old = size * 2 / 3 + 1;
    let consistency = tree.consistency_proof(old, size)?;
    let old_root = tree.root_at(old);
    bench.time(
        &format!("registry_proof_verify_consistency_{tag}"),
        Unit::Micros,
        |n| {
            for _ in 0..n {
                black_box(
                    merkle::verify_consistency(old, size, &old_root, &root, &consistency).is_ok(),
                );
            }
        },
    );
    Ok(())
}

/// Proofs in a log of 10 million leaves (with `--quick`, 1 million), kept in `data_dir`.
pub(super) async fn proofs_at_scale(
    bench: &Bench,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let (size, tag) = if bench.quick {
        (1 << 20, "1m")
    } else {
        (10_000_000, "10m")
    };
    let dir = data_dir.join(format!("log-{tag}"));
    std::fs::create_dir_all(&dir)?;
    let marker = dir.join("built");
    let built = marker.exists();
    let url = format!("sqlite://{}", dir.join("registry.db").display());
    if !built {
        let _ = std::fs::remove_file(dir.join("registry.db"));
    }
    proofs(bench, &url, size, tag, built).await?;
    std::fs::write(marker, "")?;
    Ok(())
}

pub(super) async fn run(bench: &Bench) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let count = if bench.quick { 5_000 } else { 30_000 };
    if bench.wanted("registry_appends_sqlite") {
        let url = format!("sqlite://{}", dir.path().join("appends.db").display());
        println!(
            "registry_appends_sqlite: {:.0} /s",
            appends_per_second(&url, count).await?
        );
    }
    if bench.wanted("registry_appends_postgres") {
        match postgres_database().await? {
            Some((url, admin, name)) => {
                let rate = appends_per_second(&url, count).await;
                drop_database(&admin, &name).await;
                println!("registry_appends_postgres: {:.0} /s", rate?);
            }
            None => println!("registry_appends_postgres: skipped (set DOJANG_TEST_POSTGRES_URL)"),
        }
    }
    if !bench.wanted("registry_proof") {
        return Ok(());
    }
    let url = format!("sqlite://{}", dir.path().join("proofs.db").display());
    proofs(bench, &url, 1 << 20, "1m", false).await
}

/// A fresh database on `DOJANG_TEST_POSTGRES_URL`, if set: its URL, the admin URL, its name.
pub(super) async fn postgres_database() -> anyhow::Result<Option<(String, String, String)>> {
    let Ok(base) = std::env::var("DOJANG_TEST_POSTGRES_URL") else {
        return Ok(None);
    };
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(&base).await?;
    let name = format!("dojang_bench_{}", rand::thread_rng().r#gen::<u32>());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let (prefix, _) = base
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("database URL without a name"))?;
    Ok(Some((format!("{prefix}/{name}"), base, name)))
}

pub(super) async fn drop_database(admin: &str, name: &str) {
    use sqlx::Connection as _;
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await;
    }
}
