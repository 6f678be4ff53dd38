//! Crash safety: a child process appending at full speed is killed with SIGKILL; on reopening,
//! every entry it saw acknowledged is there, in place, and the tree verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use common::{Actor, ORIGIN, config};
use dojang_core::key::Algorithm;
use dojang_ledger::entry::Operation;
use dojang_ledger::merkle::{self, MemoryTree};
use dojang_registry::service::Registry;

const CHILD_ENV: &str = "DOJANG_CRASH_CHILD_DB";

/// The child: appends forever, printing `ack <index> <leaf hash>` after each acknowledgement.
#[tokio::test]
async fn crash_child() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let registry = Registry::open(config(&url)).await.unwrap();
    let root = Actor::new(Algorithm::EdDsa);
    registry.submit(root.genesis(ORIGIN)).await.unwrap();
    let mut n = 0u64;
    loop {
        let batch: Vec<_> = (0..16)
            .map(|_| {
                n += 1;
                let entry = root.sign(&Operation::Audit {
                    issuer: root.did.clone(),
                    period_start: n as i64,
                    period_end: n as i64,
                    counts: [("issued:test".to_owned(), n)].into_iter().collect(),
                });
                let registry = registry.clone();
                tokio::spawn(async move { registry.submit(entry).await })
            })
            .collect();
        for task in batch {
            let appended = task.await.unwrap().unwrap();
            let hash: String = appended
                .leaf_hash
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            println!("ack {} {hash}", appended.index);
        }
    }
}

#[tokio::test]
async fn acknowledged_entries_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked: Vec<(u64, String)> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("ack ") {
            let (index, hash) = rest.split_once(' ').unwrap();
            acked.push((index.parse().unwrap(), hash.to_owned()));
            if acked.len() >= 400 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flushing
    child.wait().unwrap();
    assert!(
        acked.len() >= 400,
        "child acknowledged only {}",
        acked.len()
    );

    let registry = Registry::open(config(&url)).await.unwrap();
    let size = registry.size().await.unwrap();
    let mut tree = MemoryTree::new();
    for index in 0..size {
        tree.push(&registry.leaf(index).await.unwrap().encode());
    }
    for (index, hash) in &acked {
        assert!(
            *index < size,
            "acknowledged entry {index} lost (size {size})"
        );
        let stored: String = registry
            .leaf(*index)
            .await
            .unwrap()
            .hash()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(&stored, hash, "entry {index} changed");
    }
    let checkpoint = registry.checkpoint().await.unwrap();
    assert_eq!(
        checkpoint.checkpoint.size, size,
        "the last commit's checkpoint is there"
    );
    assert_eq!(checkpoint.checkpoint.root, tree.root_at(size));
    let (last, _) = acked.last().unwrap();
    let leaf = registry.leaf(*last).await.unwrap();
    let proof = registry.inclusion_proof(*last, size).await.unwrap();
    merkle::verify_inclusion(
        *last,
        size,
        &leaf.hash(),
        &proof,
        &checkpoint.checkpoint.root,
    )
    .unwrap();
    // And the log goes on.
    let root = Actor::new(Algorithm::EdDsa);
    registry.submit(root.create()).await.unwrap();
    assert_eq!(registry.size().await.unwrap(), size + 1);
}
