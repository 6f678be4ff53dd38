//! Printing verdicts for people and for machines.

use dojang_core::verdict::{ReasonKind, Verdict};
use serde_json::Value;

/// Prints `verdict` as JSON, or as a short report.
pub(crate) fn print_verdict(verdict: &Verdict, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(verdict)?);
        return Ok(());
    }
    let decision = if verdict.is_accepted() {
        "ACCEPTED"
    } else {
        "REJECTED"
    };
    match &verdict.credential_type {
        Some(ty) => println!("{decision}  {ty}"),
        None => println!("{decision}"),
    }
    if let Some(issuer) = &verdict.issuer {
        match &issuer.name {
            Some(name) => println!("  issuer   {name} ({})", issuer.id),
            None => println!("  issuer   {}", issuer.id),
        }
    }
    if let Some(f) = &verdict.freshness {
        println!(
            "  trust    bundle {}s old, checkpoint size {}, {} witness(es)",
            f.bundle_age_secs, f.checkpoint_size, f.witnesses
        );
    }
    for (name, value) in &verdict.disclosed_claims {
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        println!("  claim    {name}: {shown}");
    }
    for reason in &verdict.reasons {
        let label = match (reason.kind, reason.blocking) {
            (ReasonKind::Invalid, _) => "invalid ",
            (ReasonKind::Unchecked, true) => "required",
            (ReasonKind::Unchecked, false) => "note    ",
        };
        println!(
            "  {label} {}: {} ({})",
            reason.code,
            reason.code.describe(),
            reason.detail
        );
    }
    Ok(())
}
