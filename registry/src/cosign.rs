//! The registry's side of C2SP `tlog-witness`: offering each new checkpoint to the configured
//! witnesses, with a consistency proof from what each holds, and storing the cosignatures that
//! verify.

use std::collections::HashMap;
use std::time::Duration;

use crate::service::{Registry, WitnessConfig};
use crate::witness::request_body;
use dojang_ledger::checkpoint::SignedCheckpoint;
use dojang_ledger::note::NoteSignature;

/// Runs forever in the registry: offers the latest checkpoint to every witness and stores the
/// cosignatures that verify.
pub(crate) async fn collect_cosignatures(registry: Registry) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut held: HashMap<String, u64> = HashMap::new();
    let mut done: HashMap<String, u64> = HashMap::new();
    loop {
        if let Ok(latest) = registry.checkpoint().await {
            for witness in registry.witnesses() {
                let name = witness.key.name().to_owned();
                if done.get(&name) == Some(&latest.checkpoint.size) {
                    continue;
                }
                let old = held.get(&name).copied().unwrap_or(0);
                match offer(&client, &registry, witness, old, &latest).await {
                    Ok(()) => {
                        held.insert(name.clone(), latest.checkpoint.size);
                        done.insert(name, latest.checkpoint.size);
                    }
                    Err(Offer::Holds(size)) => {
                        held.insert(name, size);
                    }
                    Err(Offer::Failed(reason)) => {
                        tracing::warn!(witness = %name, %reason, "witness did not cosign");
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

enum Offer {
    Holds(u64),
    Failed(String),
}

async fn offer(
    client: &reqwest::Client,
    registry: &Registry,
    witness: &WitnessConfig,
    old: u64,
    latest: &SignedCheckpoint,
) -> Result<(), Offer> {
    let size = latest.checkpoint.size;
    if old > size {
        return Err(Offer::Failed(format!(
            "witness holds size {old}, larger than ours ({size})"
        )));
    }
    let proof = registry
        .consistency_proof(old, size)
        .await
        .map_err(|e| Offer::Failed(e.to_string()))?;
    let log_only = latest.with_only(registry.log_key());
    let url = format!("{}/add-checkpoint", witness.url.trim_end_matches('/'));
    let response = client
        .post(url)
        .body(request_body(old, &proof, &log_only))
        .send()
        .await
        .map_err(|e| Offer::Failed(e.to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| Offer::Failed(e.to_string()))?;
    if status == reqwest::StatusCode::CONFLICT
        && let Ok(size) = text.trim().parse()
    {
        return Err(Offer::Holds(size));
    }
    if !status.is_success() {
        return Err(Offer::Failed(format!("{status}: {}", text.trim())));
    }
    for line in text.lines() {
        let Ok(signature) = NoteSignature::parse_line(line) else {
            continue;
        };
        let mut candidate = latest.clone();
        candidate.add_cosignature(signature);
        if candidate.cosigned_at(&witness.key).is_ok() {
            registry
                .store()
                .add_cosignature(size, witness.key.name(), &format!("{line}\n"))
                .await
                .map_err(|e| Offer::Failed(e.to_string()))?;
            return Ok(());
        }
    }
    Err(Offer::Failed("no valid cosignature in the response".into()))
}
