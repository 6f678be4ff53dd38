//! `dojang bench`: the figures of docs/targets.md, measured on this machine, as `name: value unit`.
//!
//! Each figure is the median over samples of the mean time per operation within a sample
//! (samples sized to ~10 ms, or ~2 ms with `--quick`), so one noisy sample does not move it.
//! `ssi_*` lines measure SpruceID's ssi 0.16 on the very same inputs, in the same run.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use dojang_core::did::{self, Did};
use dojang_core::jwk::Jwk;
use dojang_core::key::{Algorithm, SecretKey};
use dojang_core::sd_jwt::vc::{self, SdJwtVcDraft};
use dojang_core::sd_jwt::{ClaimPath, HeldSdJwt, KeyBindingInput, VerifyOptions};
use dojang_core::status::token::{TokenStatus, TokenStatusList};
use dojang_schemas::{Catalog, Issuance};
use ssi::claims::VerificationParameters;
use ssi::claims::sd_jwt::{JsonPointerBuf, SdAlg, SdJwt, SdJwtBuf};

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Short run (fewer, shorter samples).
    #[arg(long)]
    quick: bool,
    /// Only run benchmarks whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// `national`: only the national-scale figures — the trust state of 51 million citizens
    /// holding the four types (≈1,560 status lists), and the log at 10 million entries. Builds
    /// them once (minutes), keeping them in `--data-dir`. With `--quick`, a tenth of the scale.
    #[arg(long, value_enum)]
    scale: Option<ScaleArg>,
    /// Share of status entries revoked at national scale, 0 to 1.
    #[arg(long, default_value_t = 0.01)]
    revoked: f64,
    /// Where the national-scale ledgers are kept between runs.
    #[arg(long, default_value = "dojang-bench-data")]
    data_dir: std::path::PathBuf,
    /// (Internal) load this bundle in this process and print its load time and memory.
    #[arg(long, hide = true, requires = "anchor")]
    load_bundle: Option<std::path::PathBuf>,
    /// (Internal) the anchor for `--load-bundle`.
    #[arg(long, hide = true)]
    anchor: Option<std::path::PathBuf>,
}

/// The scales `dojang bench` runs at.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ScaleArg {
    National,
}

mod hsm;
mod issuer;
mod national;
mod qr;
mod registry;
mod verifier;

pub(super) struct Bench {
    sample: Duration,
    samples: usize,
    filter: Option<String>,
    quick: bool,
}

impl Bench {
    /// Median time of single async calls over `inputs` (latency, not throughput).
    async fn time_each<F, Fut, E>(
        &self,
        name: &str,
        unit: Unit,
        inputs: &[u64],
        mut call: F,
    ) -> anyhow::Result<()>
    where
        F: FnMut(u64) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
        E: std::error::Error + Send + Sync + 'static,
    {
        if !self.wanted(name) {
            return Ok(());
        }
        let take = if self.quick {
            inputs.len().min(64)
        } else {
            inputs.len()
        };
        let mut times = Vec::with_capacity(take);
        for &input in &inputs[..take] {
            let start = Instant::now();
            call(input).await?;
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: {:.3} {}",
            times[times.len() / 2] * unit.scale(),
            unit.name()
        );
        Ok(())
    }

    fn wanted(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    /// Median seconds per operation; `batch(n)` performs the operation `n` times.
    fn measure(&self, mut batch: impl FnMut(u64)) -> f64 {
        let iters = self.calibrate(&mut batch);
        let mut per_op: Vec<f64> = (0..self.samples)
            .map(|_| per_op(&mut batch, iters))
            .collect();
        per_op.sort_by(f64::total_cmp);
        per_op[per_op.len() / 2]
    }

    /// How many operations make a sample.
    fn calibrate(&self, batch: &mut impl FnMut(u64)) -> u64 {
        batch(1);
        let mut iters = 1u64;
        loop {
            let start = Instant::now();
            batch(iters);
            if start.elapsed() >= self.sample / 4 || iters >= 1 << 30 {
                return iters * 4;
            }
            iters *= 2;
        }
    }

    /// The median ratio of `slower`'s time per operation to `faster`'s, their samples taken
    /// in turn — on a shared machine the load changes from one second to the next, and taken
    /// side by side both samples of a pair see the same load.
    pub(super) fn ratio_side_by_side(
        &self,
        name: &str,
        mut slower: impl FnMut(u64),
        mut faster: impl FnMut(u64),
    ) -> Option<f64> {
        if !self.wanted(name) {
            return None;
        }
        let (slow_iters, fast_iters) = (self.calibrate(&mut slower), self.calibrate(&mut faster));
        let mut ratios: Vec<f64> = (0..self.samples)
            .map(|_| per_op(&mut slower, slow_iters) / per_op(&mut faster, fast_iters))
            .collect();
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        println!("{name}: {ratio:.3} x");
        Some(ratio)
    }

    pub(super) fn time(&self, name: &str, unit: Unit, batch: impl FnMut(u64)) -> Option<f64> {
        if !self.wanted(name) {
            return None;
        }
        let seconds = self.measure(batch);
        println!("{name}: {:.2} {}", seconds * unit.scale(), unit.name());
        Some(seconds)
    }
}

/// Seconds per operation over one batch of `iters`.
fn per_op(batch: &mut impl FnMut(u64), iters: u64) -> f64 {
    let start = Instant::now();
    batch(iters);
    start.elapsed().as_secs_f64() / iters as f64
}

#[derive(Clone, Copy)]
pub(super) enum Unit {
    Nanos,
    Micros,
    Millis,
}

impl Unit {
    fn scale(self) -> f64 {
        match self {
            Unit::Nanos => 1e9,
            Unit::Micros => 1e6,
            Unit::Millis => 1e3,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Unit::Nanos => "ns",
            Unit::Micros => "µs",
            Unit::Millis => "ms",
        }
    }
}

const AUDIENCE: &str = "https://counter.example/verifier";
const NONCE: &str = "bench-nonce";

/// A citizen card issued by `issuer`, bound to `holder`, with all its claims disclosable.
fn citizen_card(
    issuer: &SecretKey,
    holder: &SecretKey,
    now: i64,
) -> anyhow::Result<(SdJwtVcDraft, String)> {
    let ty = Catalog::builtin().get("citizen-card")?;
    let did = Did::key(issuer.public_key());
    let draft = ty.draft(
        ty.example().clone(),
        Issuance {
            issuer: did.to_string(),
            issued_at: now,
            valid_until: None,
            holder_key: Some(holder.public_key().clone()),
            status: None,
        },
    )?;
    let kid = did::key_id(&did).context("key id")?;
    Ok((draft, kid))
}

/// The four claims a counter asks for.
fn four_claims() -> Vec<ClaimPath> {
    ["name", "age_over_19", "portrait_sha256", "card_number"]
        .into_iter()
        .map(ClaimPath::parse)
        .collect()
}

pub(crate) fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let bench = Bench {
        sample: Duration::from_millis(if args.quick { 2 } else { 10 }),
        samples: if args.quick { 11 } else { 31 },
        filter: args.filter,
        quick: args.quick,
    };
    let now = crate::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let (Some(bundle), Some(anchor)) = (&args.load_bundle, &args.anchor) {
        national::load_in_this_process(&bench, bundle, anchor)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(ScaleArg::National) = args.scale {
        anyhow::ensure!(
            (0.0..=1.0).contains(&args.revoked),
            "--revoked is a share, from 0 to 1"
        );
        let scale = national::Scale {
            revoked: args.revoked,
            data_dir: args.data_dir,
        };
        runtime.block_on(national::run(&bench, &scale))?;
        runtime.block_on(registry::proofs_at_scale(&bench, &scale.data_dir))?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut ssi_kb_es256 = None;
    for alg in Algorithm::ALL {
        let tag = tag(alg);
        let issuer = SecretKey::generate(alg)?;
        let holder = SecretKey::generate(alg)?;
        let (draft, kid) = citizen_card(&issuer, &holder, now)?;
        let software = bench.time(&format!("issue_sdjwt_{tag}"), Unit::Micros, |n| {
            for _ in 0..n {
                black_box(draft.sign(&issuer, &kid).ok());
            }
        });
        if alg == Algorithm::Es256 {
            hsm::run(&bench, &draft, &kid, software)?;
        }

        let credential = draft.sign(&issuer, &kid)?;
        let held = HeldSdJwt::parse(&credential)?;
        let plain = held.present(&four_claims(), None)?;
        let bound = held.present(
            &four_claims(),
            Some(KeyBindingInput {
                signer: &holder,
                audience: AUDIENCE,
                nonce: NONCE,
                issued_at: now,
            }),
        )?;
        // The issuer key is resolved once, as a verifier holding a trust bundle does.
        let issuer_key = issuer.public_key().clone();
        let with_kb = VerifyOptions::at(now).require_key_binding(AUDIENCE, NONCE);
        vc::verify(&bound, &issuer_key, &with_kb).context("benchmark presentation must verify")?;
        let ours_kb = bench.time(&format!("verify_sdjwt_kb_{tag}"), Unit::Micros, |n| {
            for _ in 0..n {
                black_box(vc::verify(&bound, &issuer_key, &with_kb).ok());
            }
        });
        if let Some(seconds) = ours_kb {
            println!("verify_sdjwt_kb_{tag}_per_core: {:.0} /s", 1.0 / seconds);
        }
        let without_kb = VerifyOptions::at(now);
        let ours_plain = bench.time(&format!("verify_sdjwt_{tag}"), Unit::Micros, |n| {
            for _ in 0..n {
                black_box(vc::verify(&plain, &issuer_key, &without_kb).ok());
            }
        });

        if alg != Algorithm::Es256 {
            continue;
        }
        // ssi 0.16 on the same presentations.
        let issuer_jwk = to_ssi(&Jwk::from_public_key(&issuer_key))?;
        let holder_jwk = to_ssi(&Jwk::from_public_key(holder.public_key()))?;
        let params = VerificationParameters::from_resolver(&issuer_jwk);
        let kb_params = VerificationParameters::from_resolver(&holder_jwk);
        let ssi_plain = bench.time("ssi_verify_sdjwt_es256", Unit::Micros, |n| {
            runtime.block_on(async {
                for _ in 0..n {
                    let sd_jwt = SdJwt::new(plain.as_str()).ok();
                    if let Some(sd_jwt) = sd_jwt {
                        black_box(sd_jwt.decode_reveal_verify_any(&params).await.ok());
                    }
                }
            })
        });
        let ssi_kb = bench.time("ssi_verify_sdjwt_kb_es256", Unit::Micros, |n| {
            runtime.block_on(async {
                for _ in 0..n {
                    let Ok(sd_jwt) = SdJwt::new(bound.as_str()) else {
                        continue;
                    };
                    let Ok((revealed, verification)) =
                        sd_jwt.decode_reveal_verify_any(&params).await
                    else {
                        continue;
                    };
                    black_box(verification.is_ok());
                    if let Ok(Some(kb)) = sd_jwt.decode_kb() {
                        black_box(
                            kb.signing_bytes
                                .payload
                                .sd_hash
                                .verify(revealed.sd_alg, sd_jwt),
                        );
                        black_box(kb.verify(&kb_params).await.ok());
                    }
                }
            })
        });
        ratio("ssi_over_dojang_verify_es256", ssi_plain, ours_plain);
        ratio("ssi_over_dojang_verify_kb_es256", ssi_kb, ours_kb);
        ssi_kb_es256 = ssi_kb;

        let issuer_signer = to_ssi(&Jwk::from_secret_key(&issuer))?;
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), draft.issuer.clone().into());
        claims.insert("iat".into(), now.into());
        claims.insert("vct".into(), draft.vct.clone().into());
        claims.insert(
            "cnf".into(),
            serde_json::json!({ "jwk": Jwk::from_public_key(holder.public_key()) }),
        );
        claims.extend(draft.claims.clone());
        let pointers: Vec<JsonPointerBuf> = draft
            .disclosable
            .iter()
            .filter_map(|p| JsonPointerBuf::new(p.to_string()).ok())
            .collect();
        let ssi_claims = ssi::claims::JWTClaims::from_private_claims(claims);
        let ours_issue = bench.measure(|n| {
            for _ in 0..n {
                black_box(draft.sign(&issuer, &kid).ok());
            }
        });
        let ssi_issue = bench.time("ssi_issue_sdjwt_es256", Unit::Micros, |n| {
            runtime.block_on(async {
                for _ in 0..n {
                    black_box(
                        SdJwtBuf::conceal_and_sign(
                            &ssi_claims,
                            SdAlg::Sha256,
                            &pointers,
                            &issuer_signer,
                        )
                        .await
                        .ok(),
                    );
                }
            })
        });
        ratio("ssi_over_dojang_issue_es256", ssi_issue, Some(ours_issue));
    }

    qr::run(&bench, now)?;
    status_benches(&bench)?;

    runtime.block_on(verifier::run(&bench, ssi_kb_es256))?;
    runtime.block_on(registry::run(&bench))?;
    runtime.block_on(issuer::run(&bench))?;

    let card = Catalog::builtin().get("citizen-card")?;
    bench.time("schema_validate_citizen_card", Unit::Micros, |n| {
        for _ in 0..n {
            black_box(card.validate(card.example()).is_ok());
        }
    });
    Ok(ExitCode::SUCCESS)
}

/// The algorithm as it appears in figure names.
fn tag(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "es256",
        Algorithm::EdDsa => "eddsa",
    }
}

fn ratio(name: &str, slower: Option<f64>, faster: Option<f64>) {
    if let (Some(slower), Some(faster)) = (slower, faster) {
        println!("{name}: {:.2} x", slower / faster);
    }
}

fn to_ssi(jwk: &Jwk) -> anyhow::Result<ssi::JWK> {
    Ok(serde_json::from_value(serde_json::to_value(jwk)?)?)
}

/// Revocation check against a cached list, and refreshing a 1M-entry list.
fn status_benches(bench: &Bench) -> anyhow::Result<()> {
    use rand::{Rng, SeedableRng};
    let entries = 1 << 20;
    let mut list = TokenStatusList::from_bytes(2, vec![0; entries / 4])?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // 1% revoked, 0.1% suspended: a realistic mature list.
    for _ in 0..entries / 100 {
        list.set(rng.gen_range(0..entries), TokenStatus::Invalid)?;
    }
    for _ in 0..entries / 1000 {
        list.set(rng.gen_range(0..entries), TokenStatus::Suspended)?;
    }
    let probes: Vec<usize> = (0..1024).map(|_| rng.gen_range(0..entries)).collect();
    bench.time("status_check_cached", Unit::Nanos, |n| {
        for i in 0..n {
            black_box(list.status(probes[i as usize % probes.len()]).ok());
        }
    });
    let encoded = list.encode();
    bench.time("status_list_refresh_1m", Unit::Millis, |n| {
        for _ in 0..n {
            black_box(TokenStatusList::decode(&encoded).ok());
        }
    });
    if bench.wanted("status_list_1m_encoded") {
        println!("status_list_1m_encoded: {} bytes", encoded.lst.len());
    }
    Ok(())
}
