//! Printing verdicts for people and for machines.

use dojang_core::Lang;
use dojang_core::verdict::{ReasonKind, Verdict};
use dojang_verifier::service::VerdictView;
use serde_json::Value;

/// Prints `verdict` as JSON, or as a short report in [`crate::lang`]: the decision and
/// reason codes stay the stable English words scripts look for; names, claim labels and
/// messages are the reader's. When no language was asked for, claims keep their names and
/// messages come in both languages.
pub(crate) fn print_verdict(verdict: &Verdict, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(verdict)?);
        return Ok(());
    }
    let lang = crate::lang();
    let word = |ko: &'static str, en: &'static str| lang.map_or(en, |l| l.choose(ko, en));
    let view = VerdictView::new(verdict.clone(), lang);
    let decision = if verdict.is_accepted() {
        "ACCEPTED"
    } else {
        "REJECTED"
    };
    match (&verdict.credential_type, &view.type_name) {
        (Some(ty), Some(name)) => println!("{decision}  {ty}  {name}"),
        (Some(ty), None) => println!("{decision}  {ty}"),
        _ => println!("{decision}"),
    }
    if let Some(issuer) = &verdict.issuer {
        let label = word("발급자", "issuer");
        match &issuer
            .name
            .as_deref()
            .map(|n| lang.map_or(n, |l| l.pick(n)))
        {
            Some(name) => println!("  {label:8} {name} ({})", issuer.id),
            None => println!("  {label:8} {}", issuer.id),
        }
    }
    if let Some(f) = &verdict.freshness {
        let label = word("신뢰", "trust");
        let line = match lang {
            Some(Lang::Ko) => format!(
                "신뢰 번들 {}초 전, 체크포인트 크기 {}, 증인 {}명",
                f.bundle_age_secs, f.checkpoint_size, f.witnesses
            ),
            _ => format!(
                "bundle {}s old, checkpoint size {}, {} witness(es)",
                f.bundle_age_secs, f.checkpoint_size, f.witnesses
            ),
        };
        println!("  {label:8} {line}");
    }
    let claim = word("항목", "claim");
    for row in &view.claims {
        // With no language asked for, claims keep their stable names (as scripts read them).
        let name = match lang {
            Some(_) => row.label.clone(),
            None => row.path.join("."),
        };
        let shown = match &row.value {
            Value::String(s) => s.clone(),
            Value::Bool(yes) => match (yes, lang) {
                (true, Some(Lang::Ko)) => "예".to_owned(),
                (false, Some(Lang::Ko)) => "아니요".to_owned(),
                (yes, _) => yes.to_string(),
            },
            other => other.to_string(),
        };
        println!("  {claim:8} {name}: {shown}");
    }
    for (reason, words) in verdict.reasons.iter().zip(&view.reasons_in_words) {
        let label = match (reason.kind, reason.blocking) {
            (ReasonKind::Invalid, _) => word("무효", "invalid"),
            (ReasonKind::Unchecked, true) => word("필수", "required"),
            (ReasonKind::Unchecked, false) => word("참고", "note"),
        };
        println!("  {label:8} {}: {words}", reason.code);
    }
    Ok(())
}
