//! Issuance over HTTP with the database: the wallet side of OpenID4VCI (token → nonce →
//! credential, three requests, each writing to the database) against a real server on
//! loopback, 32 wallets at a time. Offers are created beforehand, as an office would.

use std::sync::Arc;
use std::time::Instant;

use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vci::{self, ProofKey};
use dojang_core::seal::KdfParams;
use dojang_issuer::db::Db;
use dojang_issuer::service::{NewIssuer, NewOffer, Operator, create_issuer};
use dojang_issuer::{IssuerConfig, IssuerService, LedgerView};
use dojang_ledger::entry::{Entry, Operation};
use dojang_schemas::Catalog;

use super::Bench;

async fn serve(router: axum::Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
}

/// Credentials per second through the whole wallet-side flow.
async fn credentials_per_second(
    dir: &std::path::Path,
    issuer_db: &str,
    count: usize,
) -> anyhow::Result<f64> {
    let registry_db = format!("sqlite://{}", dir.join("bench-registry.db").display());
    let (registry, root, kid) = super::registry::with_root(&registry_db).await?;
    let registry_url = serve(dojang_registry::http::app(registry.clone())).await?;

    let db = Db::open(issuer_db).await?;
    let client = LedgerView::http(&registry_url, &registry_url);
    let did = create_issuer(
        &db,
        &client,
        "bench",
        KdfParams::INSECURE_FOR_TESTS,
        NewIssuer {
            slug: "seoul",
            name: "Seoul",
            key: None,
        },
        crate::now(),
    )
    .await?;
    let grant = Operation::Grant {
        grantor: kid.did.clone(),
        subject: did,
        name: "Seoul".into(),
        types: vec!["citizen-card".into()],
        delegable: false,
        at: crate::now(),
    };
    registry.submit(Entry::sign(&grant, &root, &kid)?).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let public = format!("http://{}", listener.local_addr()?);
    let mut config = IssuerConfig::new(
        issuer_db,
        &public,
        LedgerView::http(&registry_url, &registry_url),
        zeroize::Zeroizing::new("bench".into()),
    );
    config.kdf = KdfParams::INSECURE_FOR_TESTS;
    let service = IssuerService::open(config).await?;
    let router = dojang_issuer::http::app(service.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let operator = Operator {
        id: "bench".into(),
        name: "bench".into(),
        issuer: "seoul".into(),
        types: vec!["citizen-card".into()],
    };
    let claims = Catalog::builtin().get("citizen-card")?.example().clone();
    let mut offers = Vec::with_capacity(count);
    for _ in 0..count {
        let offer = NewOffer {
            type_id: "citizen-card".into(),
            claims: claims.clone(),
            subject: None,
            tx_code: false,
            idempotency_key: None,
        };
        offers.push(
            service
                .create_offer(&operator, "seoul", offer, crate::now())
                .await?
                .credential_offer,
        );
    }
    // One credential first, so the status list exists before timing.
    let http = reqwest::Client::new();
    let holder = Arc::new(SecretKey::generate(Algorithm::Es256)?);
    wallet(
        &http,
        &offers.pop().ok_or_else(|| anyhow::anyhow!("no offers"))?,
        &holder,
    )
    .await?;
    let queue = Arc::new(tokio::sync::Mutex::new(offers));
    let start = Instant::now();
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let (queue, http, holder) = (queue.clone(), http.clone(), holder.clone());
            tokio::spawn(async move {
                loop {
                    let Some(offer) = queue.lock().await.pop() else {
                        break;
                    };
                    wallet(&http, &offer, &holder).await?;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok((count - 1) as f64 / start.elapsed().as_secs_f64())
}

async fn wallet(
    http: &reqwest::Client,
    offer: &oid4vci::CredentialOffer,
    holder: &SecretKey,
) -> anyhow::Result<()> {
    let base = &offer.credential_issuer;
    let token: oid4vci::TokenResponse = http
        .post(format!("{base}/token"))
        .form(&oid4vci::TokenRequest::pre_authorized(
            &offer.grants.pre_authorized_code.pre_authorized_code,
            None,
        ))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let nonce: oid4vci::NonceResponse = http
        .post(format!("{base}/nonce"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let proof = oid4vci::sign_proof(holder, ProofKey::Jwk, base, &nonce.c_nonce, crate::now())?;
    http.post(format!("{base}/credential"))
        .bearer_auth(&token.access_token)
        .json(&serde_json::json!({"credential_configuration_id": "citizen-card", "proofs": {"jwt": [proof]}}))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

pub(super) async fn run(bench: &Bench) -> anyhow::Result<()> {
    let count = if bench.quick { 1_000 } else { 5_000 };
    if bench.wanted("issuer_http_credentials_sqlite") {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench-issuer.db").display());
        println!(
            "issuer_http_credentials_sqlite: {:.0} /s",
            credentials_per_second(dir.path(), &url, count).await?
        );
    }
    if bench.wanted("issuer_http_credentials_postgres") {
        let dir = tempfile::tempdir()?;
        match super::registry::postgres_database().await? {
            Some((url, admin, name)) => {
                let rate = credentials_per_second(dir.path(), &url, count).await;
                super::registry::drop_database(&admin, &name).await;
                println!("issuer_http_credentials_postgres: {:.0} /s", rate?);
            }
            None => {
                println!("issuer_http_credentials_postgres: skipped (set DOJANG_TEST_POSTGRES_URL)")
            }
        }
    }
    Ok(())
}
