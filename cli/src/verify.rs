//! `dojang verify`: an offline verdict on what a citizen presented, against a trust bundle.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use dojang_core::compact::ChallengeRequest;
use dojang_core::sd_jwt::ExpectedKeyBinding;
use dojang_ledger::bundle::TrustAnchor;
use dojang_schemas::Catalog;
use dojang_verifier::{IssuerPolicy, Policy, Trust, Verifier, input::MAX_INPUT_LEN};

use crate::output;
use crate::registry::{AnchorPin, read_json};

/// Where `verifier serve --registry` pins the registry's anchor when not told (`--anchor`).
const ANCHOR_PIN: &str = "dojang-anchor.json";

/// The verifier service.
#[derive(clap::Subcommand)]
pub(crate) enum VerifierCommand {
    /// Serve the employer page and the verifier API (uploads, challenges, OpenID4VP).
    Serve(ServeArgs),
}

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090", env = "DOJANG_VERIFIER_LISTEN")]
    listen: std::net::SocketAddr,
    /// Public base URL [default: http://<listen>].
    #[arg(long, env = "DOJANG_VERIFIER_URL")]
    public_url: Option<String>,
    /// Who this verifier is, as its challenge QR codes say [default: the public URL].
    #[arg(long)]
    audience: Option<String>,
    /// The registry: the trust bundle is fetched from it at start (unless `--bundle` is given)
    /// and refreshed every `--refresh`.
    #[arg(long, env = "DOJANG_REGISTRY")]
    registry: Option<String>,
    /// A trust bundle file to start from.
    #[arg(long, env = "DOJANG_BUNDLE")]
    bundle: Option<PathBuf>,
    /// The pinned trust anchor, obtained out of band; it must exist [default: with `--bundle`,
    /// `<bundle>.anchor.json`; with only `--registry`, `dojang-anchor.json`, written from the
    /// registry's own anchor on first use and compared with it on every later start].
    #[arg(long, env = "DOJANG_ANCHOR")]
    anchor: Option<PathBuf>,
    /// Replace the pinned anchor with the registry's current one, printing what changes.
    #[arg(long, requires = "registry", conflicts_with = "bundle")]
    repin: bool,
    /// The oldest bundle accepted: `90m`, `24h`, `7d`, seconds, or `none`.
    #[arg(long, default_value = "24h", value_parser = parse_age)]
    max_age: Age,
    /// Witness cosignatures the bundle's checkpoint must carry.
    #[arg(long, default_value_t = 0)]
    min_witnesses: usize,
    /// How often to refresh the bundle from the registry (`none`: never).
    #[arg(long, default_value = "1m", value_parser = parse_age)]
    refresh: Age,
    /// Which issuers the page and the API accept (the page shows the choice).
    #[arg(long, value_enum, default_value_t = Issuers::Accredited, env = "DOJANG_VERIFIER_ISSUERS")]
    issuers: Issuers,
    /// Only the credential types this counter checks (comma-separated type ids, at most 32): the
    /// bundle carries only their issuers' status lists — a fraction of the national lists — and
    /// a credential of another type is never found valid (its status is unknown here).
    #[arg(
        long,
        value_delimiter = ',',
        requires = "registry",
        conflicts_with = "bundle",
        env = "DOJANG_VERIFIER_TYPES"
    )]
    types: Option<Vec<String>>,
}

/// Which issuers a verdict accepts; every format follows the same rule.
#[derive(Debug, Clone, Copy, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Issuers {
    /// Only issuers accredited in the registry for the credential's type.
    Accredited,
    /// Also issuers named by a key DID (did:key, did:jwk) outside the registry, such as badges
    /// from other systems: the signature is checked with the key the DID names and the verdict
    /// says `issuer_not_in_registry` (not accredited); their status cannot be checked offline.
    AlsoKeyDids,
}

impl From<Issuers> for IssuerPolicy {
    fn from(issuers: Issuers) -> Self {
        match issuers {
            Issuers::Accredited => IssuerPolicy::Accredited,
            Issuers::AlsoKeyDids => IssuerPolicy::AlsoKeyDids,
        }
    }
}

pub(crate) fn serve(command: VerifierCommand) -> anyhow::Result<ExitCode> {
    let VerifierCommand::Serve(args) = command;
    tokio::runtime::Runtime::new()?.block_on(serve_async(args))
}

async fn serve_async(args: ServeArgs) -> anyhow::Result<ExitCode> {
    use dojang_verifier::http::app;
    use dojang_verifier::service::{VerifierConfig, VerifierService};
    crate::init_logs();
    let trust = match (&args.bundle, &args.registry) {
        (Some(bundle), _) => load_trust(bundle, args.anchor.as_deref())?,
        (None, Some(registry)) => {
            let pin = AnchorPin::new(args.anchor.clone(), PathBuf::from(ANCHOR_PIN), args.repin);
            let pinned = crate::registry::fetch_pinned(registry, &pin, None).await?;
            Trust::from_verified(pinned.anchor, pinned.verified)
        }
        (None, None) => bail!("give --bundle (a trust bundle file) or --registry (its URL)"),
    };
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let public_url = args
        .public_url
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let config = VerifierConfig {
        audience: args.audience.unwrap_or_else(|| public_url.clone()),
        public_url: public_url.clone(),
        registry_url: args.registry.clone(),
        max_bundle_age: args.max_age.0,
        min_witnesses: args.min_witnesses,
    };
    let service = match args.types {
        // The bundle held and every delta asked with the same types.
        Some(types) => {
            let service = VerifierService::without_trust(config, trust.anchor().clone())
                .with_issuer_policy(args.issuers.into())
                .checking_types(types);
            service.refresh().await?;
            service
        }
        None => VerifierService::new(config, trust).with_issuer_policy(args.issuers.into()),
    };
    if let (Some(_), Some(every)) = (&args.registry, args.refresh.0.filter(|&s| s > 0)) {
        let service = service.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(every as u64));
            loop {
                tick.tick().await;
                if let Err(e) = service.refresh().await {
                    tracing::warn!(error = ?e, "trust bundle refresh failed; keeping the bundle held");
                }
            }
        });
    }
    let view = service.trust(crate::now())?;
    crate::setup::announce(&format!(
        "verifier listening on http://{}\nemployer page: {public_url}/\ntrust bundle: checkpoint size {}, {} accredited issuer(s)\nissuers accepted: {}\n",
        listener.local_addr()?,
        view.freshness.checkpoint_size,
        view.issuers.len(),
        view.issuer_policy_in_words,
    ));
    crate::serve::serve(listener, app(service), crate::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Verify a presented credential offline, against a signed trust bundle.
///
/// Exits 0 when accepted, 1 when rejected, 2 when it cannot judge (no bundle, bad bundle).
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// What was presented: a photo of the QR code (PNG or JPEG), the QR text, an SD-JWT VC or a
    /// Data Integrity credential — a file, `-` for standard input, or the text itself.
    input: String,
    /// The trust bundle (`dojang registry bundle` fetches it).
    #[arg(long, env = "DOJANG_BUNDLE")]
    bundle: PathBuf,
    /// The pinned trust anchor [default: `<bundle>.anchor.json`, as `dojang registry bundle`
    /// writes it].
    #[arg(long, env = "DOJANG_ANCHOR")]
    anchor: Option<PathBuf>,
    /// The oldest bundle accepted: `90m`, `24h`, `7d`, seconds, or `none`.
    #[arg(long, default_value = "24h", value_parser = parse_age)]
    max_age: Age,
    /// Witness cosignatures the bundle's checkpoint must carry.
    #[arg(long, default_value_t = 0)]
    min_witnesses: usize,
    /// Challenge mode: the challenge QR text (`DJC1:…`) this counter showed.
    #[arg(long)]
    challenge: Option<String>,
    /// For an SD-JWT VC: the audience its key binding must name.
    #[arg(long, requires = "nonce")]
    audience: Option<String>,
    /// For an SD-JWT VC: the nonce its key binding must carry.
    #[arg(long, requires = "audience")]
    nonce: Option<String>,
    /// Which issuers to accept.
    #[arg(long, value_enum, default_value_t = Issuers::Accredited)]
    issuers: Issuers,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
}

/// A maximum bundle age in seconds; `None` for any age.
#[derive(Clone, Copy)]
struct Age(Option<i64>);

fn parse_age(text: &str) -> Result<Age, String> {
    if text == "none" {
        return Ok(Age(None));
    }
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(format!("unknown unit `{unit}` (use s, m, h or d)")),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 90m, 24h or 7d"))?;
    n.checked_mul(scale)
        .filter(|&secs| secs >= 0)
        .map(|secs| Age(Some(secs)))
        .ok_or_else(|| format!("`{text}` is out of range"))
}

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trust = load_trust(&args.bundle, args.anchor.as_deref())?;
    let input = read_input(&args.input)?;
    let challenge = args
        .challenge
        .as_deref()
        .map(ChallengeRequest::from_qr_text)
        .transpose()
        .context("reading --challenge")?;
    let policy = Policy {
        challenge: challenge.as_ref().map(ChallengeRequest::challenge),
        key_binding: args.audience.as_deref().zip(args.nonce.as_deref()).map(
            |(audience, nonce)| ExpectedKeyBinding {
                audience,
                nonce,
                max_age: 300,
            },
        ),
        max_bundle_age: args.max_age.0,
        min_witnesses: args.min_witnesses,
        issuers: args.issuers.into(),
        ..Policy::default()
    };
    let verifier = Verifier {
        trust: &trust,
        catalog: Catalog::builtin(),
    };
    let verdict = verifier.verify(&input, &policy, crate::now());
    output::print_verdict(&verdict, args.json)?;
    Ok(if verdict.is_accepted() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads and verifies a bundle against its anchor (default: `<bundle>.anchor.json`).
pub(crate) fn load_trust(bundle: &Path, anchor: Option<&Path>) -> anyhow::Result<Trust> {
    let anchor_path = anchor.map_or_else(|| bundle.with_extension("anchor.json"), Path::to_owned);
    let anchor: TrustAnchor = read_json(&anchor_path).context("the trust anchor")?;
    let text = std::fs::read_to_string(bundle)
        .with_context(|| format!("reading the trust bundle {}", bundle.display()))?;
    Trust::load(text.trim(), anchor)
        .with_context(|| format!("the trust bundle {} does not verify", bundle.display()))
}

/// The input as bytes: standard input, a file, or the argument itself when it is not a file
/// but looks like a credential.
fn read_input(input: &str) -> anyhow::Result<Vec<u8>> {
    let limit = MAX_INPUT_LEN as u64 + 1;
    let mut bytes = Vec::new();
    if input == "-" {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else if Path::new(input).is_file() {
        std::fs::File::open(input)
            .with_context(|| format!("opening {input}"))?
            .take(limit)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {input}"))?;
    } else if ["DJ", "ey", "{"].iter().any(|p| input.starts_with(p)) {
        bytes = input.as_bytes().to_vec();
    } else {
        bail!("`{input}` is neither a file nor a credential");
    }
    // The verifier reports an oversized input as `too_large`; reading stops just past it.
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_with_units() {
        let secs = |text| parse_age(text).map(|age| age.0);
        assert_eq!(secs("90m"), Ok(Some(5400)));
        assert_eq!(secs("24h"), Ok(Some(86_400)));
        assert_eq!(secs("7d"), Ok(Some(604_800)));
        assert_eq!(secs("3600"), Ok(Some(3600)));
        assert_eq!(secs("none"), Ok(None));
        assert!(secs("5y").unwrap_err().contains("unknown unit"));
        assert!(secs("soon").is_err());
        assert!(secs("-1h").unwrap_err().contains("out of range"));
        assert!(secs("99999999999999999d").is_err());
    }

    #[test]
    fn issuer_policies_are_spelled_as_the_verifier_spells_them() {
        use clap::ValueEnum as _;
        for issuers in Issuers::value_variants() {
            let name = issuers.to_possible_value().map(|v| v.get_name().to_owned());
            let policy = IssuerPolicy::from(*issuers);
            assert_eq!(name.as_deref(), Some(policy.as_str()));
        }
        assert_eq!(
            IssuerPolicy::from(Issuers::Accredited),
            IssuerPolicy::default()
        );
    }
}
