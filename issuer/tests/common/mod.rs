//! A world for issuer tests: a registry served over real HTTP on a local port, a root authority,
//! the four ministries registered and accredited, an operator per ministry, and a wallet.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dojang_core::did::Relationship;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::oid4vci::{self, CredentialOffer, ProofKey};
use dojang_core::seal::KdfParams;
use dojang_issuer::db::Db;
use dojang_issuer::service::{NewIssuer, create_issuer, create_operator};
use dojang_issuer::{IssuerConfig, IssuerService, LedgerView};
use dojang_ledger::did::first_key_document;
use dojang_ledger::entry::{Entry, Operation};
use dojang_registry::service::Registry;
use serde_json::Value;
use tower::ServiceExt as _;

pub const PUBLIC_URL: &str = "https://issuer.test";

/// The ministries and the type each issues.
pub const MINISTRIES: [(&str, &str, &str); 4] = [
    ("seoul", "Seoul Metropolitan Government", "citizen-card"),
    ("hrdk", "HRD Korea", "qualification"),
    ("keis", "Korea Employment Information Service", "job-badge"),
    ("mois", "Ministry of the Interior and Safety", "mobile-id"),
];

pub struct World {
    pub registry: Registry,
    pub registry_url: String,
    pub service: IssuerService,
    pub router: axum::Router,
    pub root: SecretKey,
    pub tokens: HashMap<String, String>,
    /// The issuer's database.
    pub database_url: String,
    pub _dir: tempfile::TempDir,
    pub _db: Option<TestDatabase>,
}

pub use dojang_testkit::postgres::TestDatabase;

/// A fresh PostgreSQL database, if `DOJANG_TEST_POSTGRES_URL` is set.
pub async fn postgres() -> Option<TestDatabase> {
    dojang_testkit::postgres::fresh_database("issuer").await
}

fn root_document(key: &SecretKey) -> (dojang_core::DidDocument, dojang_core::DidUrl) {
    first_key_document(
        key.public_key(),
        &[
            Relationship::AssertionMethod,
            Relationship::CapabilityInvocation,
        ],
    )
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Builds the world; with `postgres`, the issuer's database is PostgreSQL (`None` if not set).
pub async fn world(postgres_db: bool) -> Option<World> {
    world_with(postgres_db, None).await
}

/// A registry on a SQLite file in `dir`, served over HTTP on a local port: (registry, its URL).
async fn serve_registry(dir: &std::path::Path) -> (Registry, String) {
    let registry = dojang_testkit::registry::open(dir, "registry.test/log").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry_url = format!("http://{}", listener.local_addr().unwrap());
    let app = dojang_registry::http::app(registry.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (registry, registry_url)
}

/// The world, with the issuer service calling the registry's API at `registry_api` (a proxy in
/// front of it) instead of directly; status list URIs still name the registry itself.
pub async fn world_with(postgres_db: bool, registry_api: Option<&str>) -> Option<World> {
    build(postgres_db, registry_api, None).await
}

/// The world with every issuer's signing key on an HSM, at the PKCS#11 URI `key` gives for its
/// slug (made there if absent).
pub async fn world_in_hsm(
    postgres_db: bool,
    key: &dyn Fn(&str) -> dojang_pkcs11::KeyUri,
) -> Option<World> {
    build(postgres_db, None, Some(key)).await
}

async fn build(
    postgres_db: bool,
    registry_api: Option<&str>,
    hsm_key: Option<&dyn Fn(&str) -> dojang_pkcs11::KeyUri>,
) -> Option<World> {
    let dir = tempfile::tempdir().unwrap();
    let (registry, registry_url) = serve_registry(dir.path()).await;

    let root = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let (doc, kid) = root_document(&root);
    registry
        .submit(
            Entry::sign(
                &Operation::Genesis {
                    origin: "registry.test/log".into(),
                    document: doc.clone(),
                },
                &root,
                &kid,
            )
            .unwrap(),
        )
        .await
        .unwrap();

    let (database_url, guard) = if postgres_db {
        let db = postgres().await?;
        (db.url.clone(), Some(db))
    } else {
        (
            format!("sqlite://{}", dir.path().join("issuer.db").display()),
            None,
        )
    };
    let db = Db::open(&database_url).await.unwrap();
    let client = LedgerView::http(&registry_url, &registry_url);
    let mut tokens = HashMap::new();
    for (slug, name, type_id) in MINISTRIES {
        let key = hsm_key.map(|key| key(slug));
        let did = create_issuer(
            &db,
            &client,
            "issuer passphrase",
            KdfParams::INSECURE_FOR_TESTS,
            NewIssuer {
                slug,
                name,
                key: key.as_ref(),
            },
            now(),
        )
        .await
        .unwrap();
        let grant = Operation::Grant {
            grantor: doc.id.clone(),
            subject: did,
            name: name.into(),
            types: vec![type_id.into()],
            delegable: false,
            at: now(),
        };
        registry
            .submit(Entry::sign(&grant, &root, &kid).unwrap())
            .await
            .unwrap();
        let (_, token) = create_operator(
            &db,
            slug,
            &format!("{slug} operator"),
            &[type_id.to_owned()],
            None,
            now(),
        )
        .await
        .unwrap();
        tokens.insert(slug.to_owned(), token);
    }
    let mut config = config(&database_url, &registry_url);
    config.registry = LedgerView::http(registry_api.unwrap_or(&registry_url), &registry_url);
    let service = IssuerService::open(config).await.unwrap();
    let router = dojang_issuer::http::app(service.clone());
    Some(World {
        registry,
        registry_url,
        service,
        router,
        root,
        tokens,
        database_url,
        _dir: dir,
        _db: guard,
    })
}

/// The tests' issuer configuration: the database at `database_url`, the registry at
/// `registry_url`.
pub fn config(database_url: &str, registry_url: &str) -> IssuerConfig {
    let mut config = IssuerConfig::new(
        database_url,
        PUBLIC_URL,
        LedgerView::http(registry_url, registry_url),
        zeroize::Zeroizing::new("issuer passphrase".into()),
    );
    config.kdf = KdfParams::INSECURE_FOR_TESTS;
    config
}

/// The signing key `row` stores: opened on its token, or unsealed with the tests' passphrase.
pub fn issuer_key(row: &dojang_issuer::db::IssuerRow) -> Box<dyn dojang_core::key::Signer> {
    match &row.key_uri {
        Some(uri) => Box::new(dojang_pkcs11::Pkcs11Signer::open(&uri.parse().unwrap()).unwrap()),
        None => {
            let sealed: dojang_core::seal::PassphraseSealed =
                serde_json::from_str(&row.sealed_key).unwrap();
            let secret = sealed
                .open(
                    b"issuer passphrase",
                    &format!("dojang-issuer-key:{}", row.slug),
                )
                .unwrap();
            Box::new(SecretKey::from_bytes(Algorithm::Es256, &secret).unwrap())
        }
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub json: Value,
    pub headers: axum::http::HeaderMap,
}

impl World {
    pub async fn call(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        Answer {
            status,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    pub async fn operator(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Value,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.call(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// An operator of `slug` offers `type_id` with the type's example claims.
    pub async fn offer(
        &self,
        slug: &str,
        type_id: &str,
        tx_code: bool,
    ) -> (CredentialOffer, Option<String>) {
        let claims = dojang_schemas::Catalog::builtin()
            .get(type_id)
            .unwrap()
            .example()
            .clone();
        let answer = self
            .operator(
                "POST",
                &format!("/issuers/{slug}/offers"),
                Some(&self.tokens[slug]),
                serde_json::json!({"type": type_id, "claims": claims, "tx_code": tx_code, "subject": "SUBJECT-1"}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
        let offer =
            CredentialOffer::from_uri(answer.json["credential_offer_uri"].as_str().unwrap())
                .unwrap();
        (offer, answer.json["tx_code"].as_str().map(str::to_owned))
    }

    pub async fn token(&self, slug: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = form
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::post(format!("/issuers/{slug}/token"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.call(request).await
    }

    pub async fn nonce(&self, slug: &str) -> String {
        let answer = self
            .call(
                Request::post(format!("/issuers/{slug}/nonce"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.json["c_nonce"].as_str().unwrap().to_owned()
    }

    pub async fn credential(&self, slug: &str, access_token: Option<&str>, body: Value) -> Answer {
        let mut request = Request::post(format!("/issuers/{slug}/credential"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = access_token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.call(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// The wallet side of the whole flow: returns the SD-JWT VC.
    pub async fn redeem(
        &self,
        offer: &CredentialOffer,
        tx_code: Option<&str>,
        holder: &SecretKey,
    ) -> String {
        let access = self.access_token(offer, tx_code).await;
        self.request_credential(
            offer,
            &access,
            &offer.credential_configuration_ids[0],
            holder,
        )
        .await
    }

    /// The wallet asking for the SD-JWT VC and the compact credential (the mobile ID's mdoc,
    /// third on offer, is left: these issuers have no document-signer certificate).
    pub async fn redeem_both(
        &self,
        offer: &CredentialOffer,
        tx_code: Option<&str>,
        holder: &SecretKey,
    ) -> (String, Vec<u8>) {
        let access = self.access_token(offer, tx_code).await;
        let [sd_jwt, qr, ..] = &offer.credential_configuration_ids[..] else {
            panic!("two formats on offer")
        };
        let sd_jwt = self
            .request_credential(offer, &access, sd_jwt, holder)
            .await;
        let qr = self.request_credential(offer, &access, qr, holder).await;
        (sd_jwt, dojang_core::b64::decode(&qr).unwrap())
    }

    pub async fn access_token(&self, offer: &CredentialOffer, tx_code: Option<&str>) -> String {
        let slug = offer.credential_issuer.rsplit('/').next().unwrap();
        let code = &offer.grants.pre_authorized_code.pre_authorized_code;
        let mut form = vec![
            ("grant_type", oid4vci::PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", code.as_str()),
        ];
        if let Some(tx) = tx_code {
            form.push(("tx_code", tx));
        }
        let token = self.token(slug, &form).await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.json);
        token.json["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn request_credential(
        &self,
        offer: &CredentialOffer,
        access: &str,
        configuration: &str,
        holder: &SecretKey,
    ) -> String {
        let answer = self
            .try_credential(offer, access, configuration, holder)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        answer.json["credentials"][0]["credential"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The credential endpoint's answer to a request for `configuration` with a proof of
    /// `holder` over a fresh nonce.
    pub async fn try_credential(
        &self,
        offer: &CredentialOffer,
        access: &str,
        configuration: &str,
        holder: &SecretKey,
    ) -> Answer {
        let slug = offer.credential_issuer.rsplit('/').next().unwrap();
        let nonce = self.nonce(slug).await;
        let proof = oid4vci::sign_proof(
            holder,
            ProofKey::Jwk,
            &offer.credential_issuer,
            &nonce,
            now(),
        )
        .unwrap();
        self.credential(
            slug,
            Some(access),
            serde_json::json!({"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}),
        )
        .await
    }
}
