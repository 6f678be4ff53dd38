//! `dojang credential …` and `dojang types`.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use dojang_core::did::{self, DidUrl, Relationship};
use dojang_core::key::{PublicKey, Signer};
use dojang_core::sd_jwt::{ClaimPath, ExpectedKeyBinding, HeldSdJwt, KeyBindingInput, OfflineDids};
use dojang_core::status::StatusListReference;
use dojang_schemas::{Catalog, Issuance};
use dojang_verifier::Policy;
use serde_json::{Map, Value};

use crate::identity::{DidMethod, read_jwk, read_secret_key};
use crate::output;

#[derive(Subcommand)]
pub(crate) enum CredentialCommand {
    /// Issue an SD-JWT VC of a type from a claims file, signed with an issuer key.
    Issue {
        /// Credential type (see `dojang types`).
        #[arg(long = "type")]
        type_id: String,
        /// JSON file with the subject's claims (`-` for standard input).
        #[arg(long)]
        claims: PathBuf,
        /// The issuer's private JWK.
        #[arg(long)]
        key: PathBuf,
        /// How the issuer is named: did:key or did:jwk of its key.
        #[arg(long, value_enum, default_value_t)]
        method: DidMethod,
        /// The holder's key (public or private JWK file) to bind the credential to.
        #[arg(long, conflicts_with = "holder_did")]
        holder: Option<PathBuf>,
        /// The holder's did:key or did:jwk (its authentication key is bound).
        #[arg(long)]
        holder_did: Option<String>,
        /// Validity in days, overriding the type's default.
        #[arg(long)]
        valid_days: Option<u32>,
        /// Status list URI (with --status-index).
        #[arg(long, requires = "status_index")]
        status_uri: Option<String>,
        /// Index in the status list (with --status-uri).
        #[arg(long, requires = "status_uri")]
        status_index: Option<u64>,
        /// Write the credential here instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Present chosen claims of a credential, optionally bound to a verifier's nonce.
    Present {
        /// The SD-JWT VC file (`-` for standard input).
        credential: PathBuf,
        /// Claims to disclose: names or JSON Pointers, comma-separated.
        #[arg(long, value_delimiter = ',')]
        disclose: Vec<String>,
        /// The holder's private JWK, to sign the key binding.
        #[arg(long, requires = "audience")]
        holder_key: Option<PathBuf>,
        /// The verifier (KB-JWT `aud`).
        #[arg(long, requires_all = ["nonce", "holder_key"])]
        audience: Option<String>,
        /// The verifier's nonce.
        #[arg(long, requires = "audience")]
        nonce: Option<String>,
        /// List the disclosable claims and exit.
        #[arg(long)]
        list: bool,
    },
    /// Verify an SD-JWT VC or presentation and print the verdict.
    Verify {
        /// File with the credential (`-` or omitted for standard input).
        input: Option<PathBuf>,
        /// Require key binding for this audience (with --nonce).
        #[arg(long, requires = "nonce")]
        audience: Option<String>,
        /// Require key binding with this nonce (with --audience).
        #[arg(long, requires = "audience")]
        nonce: Option<String>,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
        /// Reject when accreditation and status cannot be checked (no trust bundle yet).
        #[arg(long)]
        require_trust: bool,
    },
    /// Check a JSON credential or presentation against every rule of the W3C VCDM 2.0 data
    /// model (exit 0 valid, 1 invalid with the rule broken, 2 unreadable or not JSON).
    Validate {
        /// The JSON file (`-` for standard input).
        file: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a valid example claims file for a type.
    Example {
        /// Credential type.
        #[arg(long = "type")]
        type_id: String,
    },
}

pub(crate) fn run(command: CredentialCommand) -> anyhow::Result<ExitCode> {
    match command {
        CredentialCommand::Issue {
            type_id,
            claims,
            key,
            method,
            holder,
            holder_did,
            valid_days,
            status_uri,
            status_index,
            out,
        } => {
            let ty = Catalog::builtin().get(&type_id)?;
            let claims: Map<String, Value> = serde_json::from_str(&read_input(&claims)?)
                .with_context(|| format!("{} is not a JSON object of claims", claims.display()))?;
            let signer = read_secret_key(&key)?;
            let issuer = method.did(&signer);
            let holder_key = match (holder, holder_did) {
                (Some(path), _) => Some(read_jwk(&path)?.to_public_key()?),
                (None, Some(text)) => Some(holder_key_from_did(&text)?),
                (None, None) => None,
            };
            let now = crate::now();
            let draft = ty.draft(
                claims,
                Issuance {
                    issuer: issuer.to_string(),
                    issued_at: now,
                    valid_until: valid_days.map(|days| now + i64::from(days) * 86_400),
                    holder_key,
                    status: status_uri
                        .zip(status_index)
                        .map(|(uri, idx)| StatusListReference { idx, uri }),
                },
            )?;
            let kid = did::key_id(&issuer).context("issuer DID has no key id")?;
            let credential = draft.sign(&signer, &kid)?;
            match out {
                Some(path) => std::fs::write(&path, format!("{credential}\n"))
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{credential}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        CredentialCommand::Present {
            credential,
            disclose,
            holder_key,
            audience,
            nonce,
            list,
        } => {
            let held = HeldSdJwt::parse(read_input(&credential)?.trim())?;
            if list {
                for path in held.disclosable_paths() {
                    println!("{path}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let paths: Vec<ClaimPath> = disclose
                .iter()
                .map(|p| ClaimPath::parse(p.trim()))
                .collect();
            let holder = holder_key.as_deref().map(read_secret_key).transpose()?;
            let binding = match (&holder, &audience, &nonce) {
                (Some(signer), Some(audience), Some(nonce)) => Some(KeyBindingInput {
                    signer: signer as &dyn Signer,
                    audience,
                    nonce,
                    issued_at: crate::now(),
                }),
                _ => None,
            };
            println!("{}", held.present(&paths, binding)?);
            Ok(ExitCode::SUCCESS)
        }
        CredentialCommand::Verify {
            input,
            audience,
            nonce,
            json,
            require_trust,
        } => {
            let text = read_input(input.as_deref().unwrap_or(Path::new("-")))?;
            let policy = Policy {
                key_binding: audience
                    .as_deref()
                    .zip(nonce.as_deref())
                    .map(|(audience, nonce)| ExpectedKeyBinding {
                        audience,
                        nonce,
                        max_age: 300,
                    }),
                require_trust_checks: require_trust,
                ..Policy::default()
            };
            let verdict = dojang_verifier::verify_sd_jwt_vc(
                text.trim(),
                &OfflineDids,
                Catalog::builtin(),
                &policy,
                crate::now(),
            );
            output::print_verdict(&verdict, json)?;
            Ok(if verdict.is_accepted() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        CredentialCommand::Validate { file, json } => validate(&file, json),
        CredentialCommand::Example { type_id } => {
            let ty = Catalog::builtin().get(&type_id)?;
            println!("{}", serde_json::to_string_pretty(ty.example())?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `dojang credential validate`: the document's kind, or the first rule it breaks.
fn validate(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let text = read_input(file)?;
    let document: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let result = dojang_verifier::di::validate(&document);
    if json {
        let report = match &result {
            Ok(kind) => serde_json::json!({"valid": true, "kind": kind.base_type()}),
            Err(violation) => serde_json::json!({
                "valid": false,
                "rule": violation.rule.id(),
                "section": violation.rule.section(),
                "pointer": violation.pointer,
                "found": violation.found,
                "message": {"en": violation.rule.message_en(), "ko": violation.rule.message_ko()},
            }),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        match &result {
            Ok(kind) => println!("VALID  {} (W3C VCDM 2.0)", kind.base_type()),
            Err(violation) => {
                let at = match violation.pointer.as_str() {
                    "" => "the document",
                    pointer => pointer,
                };
                println!("INVALID  {} at {at}", violation.rule.id());
                println!("  en  {}", violation.rule.message_en());
                println!("  ko  {}", violation.rule.message_ko());
                println!("  see VCDM 2.0 §{}", violation.rule.section());
                if let Some(found) = &violation.found {
                    println!("  found  {found}");
                }
            }
        }
    }
    Ok(if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) fn types() -> anyhow::Result<ExitCode> {
    for ty in Catalog::builtin().iter() {
        let d = ty.descriptor();
        let issuers: Vec<&str> = d.issuers.iter().map(|i| i.name.as_str()).collect();
        let name = crate::lang().map_or(d.name.as_str(), |lang| ty.name_in(lang));
        println!("{:<14} {:<36} {}", d.id, name, d.vct);
        println!(
            "{:<14} issued by {}; disclosable: {}",
            "",
            issuers.join(", "),
            d.selectively_disclosable.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The authentication key of a holder's did:key or did:jwk (a DID URL picks one key).
fn holder_key_from_did(text: &str) -> anyhow::Result<PublicKey> {
    let url = DidUrl::parse(text)?;
    let document = did::resolve_offline(&url.did)?;
    let kid = url.fragment.is_some().then_some(text);
    Ok(document.key_for(Relationship::Authentication, kid)?)
}

/// Reads a file, or standard input for `-`, refusing anything larger than any credential.
fn read_input(path: &Path) -> anyhow::Result<String> {
    let limit = dojang_core::MAX_INPUT_LEN as u64 + 1;
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(limit)
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("opening {}", path.display()))?
            .take(limit)
            .read_to_string(&mut text)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    if text.len() as u64 >= limit {
        bail!("input is larger than {} bytes", dojang_core::MAX_INPUT_LEN);
    }
    Ok(text)
}
