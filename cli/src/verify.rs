//! `dojang verify`: an offline verdict on what a citizen presented, against a trust bundle.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use dojang_core::compact::ChallengeRequest;
use dojang_core::sd_jwt::ExpectedKeyBinding;
use dojang_registry::bundle::TrustAnchor;
use dojang_schemas::Catalog;
use dojang_verifier::{Policy, Trust, Verifier, input::MAX_INPUT_LEN};

use crate::output;

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
    let anchor: TrustAnchor = serde_json::from_str(
        &std::fs::read_to_string(&anchor_path)
            .with_context(|| format!("reading the trust anchor {}", anchor_path.display()))?,
    )
    .with_context(|| format!("parsing the trust anchor {}", anchor_path.display()))?;
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
}
