//! `dojang demo`: the three stories, end to end, against a platform started for the purpose —
//! a citizen shows a citizen card at a counter, an employer checks a job badge, a ministry
//! revokes a qualification. Every step is printed; the exit code says whether each verdict was
//! the expected one.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use dojang_core::compact::{self, ChallengeRequest};
use dojang_core::key::Algorithm;
use dojang_core::seal::KdfParams;
use dojang_core::verdict::{ReasonCode, Verdict};
use dojang_issuer::service::{NewOffer, Reason, StatusAction};
use dojang_schemas::Catalog;
use dojang_verifier::{Policy, Trust, Verifier};
use dojang_wallet::Wallet;
use dojang_wallet::receive::{self, ReceiveOptions};

use crate::issuer::local_operator;
use crate::up::{Options, Platform};

/// Walk through the three stories in the terminal; exits 1 if any verdict is not the expected.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Leave out the QR codes.
    #[arg(long)]
    no_qr: bool,
}

struct Demo {
    platform: Platform,
    wallet: Wallet,
    http: reqwest::Client,
    /// The counter's offline verifier: a bundle fetched once, refreshed by delta.
    trust: Trust,
    show_qr: bool,
}

pub(crate) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(async move {
        let dir = tempfile::tempdir()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!(
            "Starting the platform (registry, four issuers, verifier) in a scratch directory…"
        );
        let platform = Platform::start(listener, Options::new(dir.path())).await?;
        println!("  up at {}\n", platform.base);
        let http = reqwest::Client::new();
        let wallet = Wallet::create(
            &dir.path().join("citizen-wallet.db"),
            b"demo citizen",
            KdfParams::DEFAULT,
        )
        .await?;
        let trust = fetch_trust(&platform.base).await?;
        let mut demo = Demo {
            platform,
            wallet,
            http,
            trust,
            show_qr: !args.no_qr,
        };
        let outcomes = [
            demo.citizen_card().await?,
            demo.job_badge().await?,
            demo.revoked_qualification().await?,
        ];
        let expected = ["accepted", "accepted", "rejected(revoked)"];
        println!("Verdicts: {}", outcomes.join(", "));
        demo.platform.stop().await?;
        if outcomes == expected {
            println!("All three stories behaved as expected.");
            Ok(ExitCode::SUCCESS)
        } else {
            println!("Expected {}.", expected.join(", "));
            Ok(ExitCode::from(1))
        }
    })
}

impl Demo {
    async fn citizen_card(&mut self) -> anyhow::Result<String> {
        println!("━━ 1. A citizen presents a citizen card at a counter ━━");
        let id = self
            .issue_and_receive("seoul", "citizen-card", None)
            .await?;
        self.refresh().await?;
        let shown = ["name", "age_over_19", "portrait_sha256"];
        println!(
            "  The citizen shows {} (and keeps the rest back).",
            shown.join(", ")
        );
        let text = compact::to_qr_text(
            &self
                .wallet
                .present_qr(&id, &shown, None, crate::now())
                .await?,
        );
        self.show(&text)?;
        let verdict = self.verify(&text, None);
        Ok(self.report("The counter, offline", &verdict))
    }

    async fn job_badge(&mut self) -> anyhow::Result<String> {
        println!("━━ 2. An employer verifies a job badge (challenge mode) ━━");
        let id = self.issue_and_receive("keis", "job-badge", None).await?;
        self.refresh().await?;
        let challenge = ChallengeRequest::new("hiring-desk.example.co.kr")?;
        println!("  The employer's screen shows a challenge QR; the wallet scans it and answers.");
        let text = compact::to_qr_text(
            &self
                .wallet
                .present_qr(&id, &["identifier"], Some(&challenge), crate::now())
                .await?,
        );
        self.show(&text)?;
        let verdict = self.verify(&text, Some(&challenge));
        Ok(self.report("The employer, offline", &verdict))
    }

    async fn revoked_qualification(&mut self) -> anyhow::Result<String> {
        println!("━━ 3. A ministry revokes a qualification ━━");
        let subject = "Q-2026-000917";
        let id = self
            .issue_and_receive("hrdk", "qualification", Some(subject))
            .await?;
        self.refresh().await?;
        let shown = ["holder_name", "certificate_number"];
        let before = compact::to_qr_text(
            &self
                .wallet
                .present_qr(&id, &shown, None, crate::now())
                .await?,
        );
        let verdict = self.verify(&before, None);
        self.report("Before: the counter", &verdict);
        if !verdict.is_accepted() {
            bail!("the qualification should verify before it is revoked");
        }

        let operator = local_operator("hrdk");
        let issued = self
            .platform
            .issuers
            .credentials(&operator, "hrdk", Some(subject))
            .await?;
        let record = issued.first().context("the qualification is on record")?;
        self.platform
            .issuers
            .change_status(
                &operator,
                "hrdk",
                &record.id,
                StatusAction::Revoke,
                Reason::IssuedInError,
                crate::now(),
            )
            .await?;
        println!(
            "  HRD Korea revokes it (issued in error); the new status list goes to the registry."
        );
        self.refresh().await?;
        let after = compact::to_qr_text(
            &self
                .wallet
                .present_qr(&id, &shown, None, crate::now())
                .await?,
        );
        self.show(&after)?;
        let verdict = self.verify(&after, None);
        Ok(self.report("After: the counter", &verdict))
    }

    /// The counter's periodic refresh: the registry's entries since the checkpoint it holds,
    /// accepted only with a consistency proof.
    async fn refresh(&mut self) -> anyhow::Result<()> {
        let since = self.trust.size();
        let delta = self
            .http
            .get(format!(
                "{}/registry/bundle?since={since}",
                self.platform.base
            ))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        self.trust.update(&delta)?;
        println!(
            "  The counter refreshes its trust bundle by delta: checkpoint {since} → {}, consistency proven.",
            self.trust.size()
        );
        Ok(())
    }

    /// An operator creates an offer; the citizen's wallet redeems it (both formats).
    async fn issue_and_receive(
        &self,
        slug: &str,
        type_id: &str,
        subject: Option<&str>,
    ) -> anyhow::Result<String> {
        let ty = Catalog::builtin().get(type_id)?;
        let claims = ty.example().clone();
        let offer = NewOffer {
            type_id: type_id.into(),
            claims,
            subject: subject.map(str::to_owned),
            tx_code: true,
            idempotency_key: None,
        };
        let created = self
            .platform
            .issuers
            .create_offer(&local_operator(slug), slug, offer, crate::now())
            .await?;
        let issuer_name = &ty.descriptor().issuers[0].name;
        println!(
            "  {issuer_name} offers: {} (the transaction code is given separately).",
            ty.descriptor().name
        );
        let offer = receive::offer_from_text(&self.http, &created.credential_offer_uri).await?;
        let stored = receive::receive(
            &self.wallet,
            &self.http,
            &offer,
            ReceiveOptions {
                tx_code: created.tx_code.as_deref(),
                alg: Algorithm::Es256,
                now: crate::now(),
            },
        )
        .await?;
        println!(
            "  The citizen's wallet receives it: SD-JWT VC and offline QR credential, one fresh key."
        );
        Ok(stored.id)
    }

    fn verify(&self, text: &str, challenge: Option<&ChallengeRequest>) -> Verdict {
        let verifier = Verifier {
            trust: &self.trust,
            catalog: Catalog::builtin(),
        };
        let policy = Policy {
            challenge: challenge.map(ChallengeRequest::challenge),
            ..Policy::default()
        };
        verifier.verify(text.as_bytes(), &policy, crate::now())
    }

    fn show(&self, text: &str) -> anyhow::Result<()> {
        println!(
            "  QR: {} characters, version {}",
            text.len(),
            dojang_core::qr::version(text)?
        );
        if self.show_qr {
            println!("{}", dojang_core::qr::to_terminal(text)?);
        }
        Ok(())
    }

    /// Prints the verdict; returns `accepted` or `rejected(<codes>)`.
    fn report(&self, who: &str, verdict: &Verdict) -> String {
        let outcome = if verdict.is_accepted() {
            "accepted".to_owned()
        } else {
            let codes: Vec<&str> = verdict
                .blocking_codes()
                .into_iter()
                .map(ReasonCode::as_str)
                .collect();
            format!("rejected({})", codes.join(","))
        };
        let issuer = verdict
            .issuer
            .as_ref()
            .map(|i| i.name.clone().unwrap_or_else(|| i.id.clone()))
            .unwrap_or_default();
        println!(
            "  {who}: {} — {} from {issuer}",
            outcome.to_uppercase(),
            verdict.credential_type.as_deref().unwrap_or("credential")
        );
        for reason in &verdict.reasons {
            let message = crate::lang().unwrap_or_default();
            println!("    {}: {}", reason.code, reason.code.message(message));
        }
        let claims: Vec<String> = verdict
            .disclosed_claims
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !claims.is_empty() {
            println!("    claims: {}", claims.join("; "));
        }
        println!();
        outcome
    }
}

/// The counter's first bundle, with the anchor the platform it runs against publishes.
async fn fetch_trust(base: &str) -> anyhow::Result<Trust> {
    let (anchor, bundle) = crate::registry::fetch_bundle(&format!("{base}/registry"), None).await?;
    println!("The counter fetches the signed trust bundle once, then works offline.\n");
    Ok(Trust::load(&bundle, anchor)?)
}
