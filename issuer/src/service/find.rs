//! Finding a citizen's credentials, as a clerk does before revoking or suspending one: by
//! type, status, offer, issuance time, or the citizen — a card or document number, or a name
//! and birth date, normalised and compared only as a keyed hash.

use dojang_core::credential::days_in_month;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization as _;

use super::{AdminError, CredentialRecord, CredentialStatus, IssuerService, Operator};
use crate::db;

/// A calendar date as people type it — `1994-03-15`, `19940315`, `1994.3.15`, `1994/03/15`,
/// `1994. 3. 15.` — shown as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalendarDate {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
}

impl std::str::FromStr for CalendarDate {
    type Err = SubjectError;

    fn from_str(text: &str) -> Result<Self, SubjectError> {
        let groups: Vec<&str> = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .collect();
        let separators_ok = text
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || matches!(c, '-' | '.' | '/'));
        let (year, month, day) = match groups.as_slice() {
            [all] if all.len() == 8 => (&all[..4], &all[4..6], &all[6..]),
            [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => (*y, *m, *d),
            _ => return Err(SubjectError::Date),
        };
        let (Ok(year), Ok(month), Ok(day), true) =
            (year.parse(), month.parse(), day.parse(), separators_ok)
        else {
            return Err(SubjectError::Date);
        };
        let date = CalendarDate { year, month, day };
        let days = days_in_month(year.into(), month.into()).ok_or(SubjectError::Date)?;
        if day == 0 || i64::from(day) > days {
            return Err(SubjectError::Date);
        }
        Ok(date)
    }
}

impl std::fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl CalendarDate {
    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        CalendarDate {
            year: year as i32,
            month: month as u8,
            day: day as u8,
        }
    }
}

/// Why a citizen's identifying details could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The card or document number has no letters or digits.
    #[error("the card or document number is empty (카드 또는 문서 번호가 비어 있습니다)")]
    Number,
    /// The name is empty.
    #[error("the name is empty (이름이 비어 있습니다)")]
    Name,
    /// The date is not a calendar date.
    #[error("not a date: use YYYY-MM-DD (날짜 형식이 아닙니다. YYYY-MM-DD로 입력하세요)")]
    Date,
}

/// A citizen as an office identifies them, to find their credentials later: a card or document
/// number, or a name and birth date. What the office types is normalised — spaces and case do
/// not matter, nor do the punctuation of a number or the format of a date, nor how the text was
/// encoded (Unicode NFKC: Hangul typed as separate jamo, full-width letters and digits from a
/// Korean input method) — into one canonical
/// text, and only a keyed hash of that text is ever kept or compared (see
/// [`IssuerService::find_credentials`]). The text itself is never stored, logged or shown;
/// `Debug` prints only `Subject(..)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Subject {
    canonical: String,
    /// Forms an offer made over the API (which keeps its `subject` as given) may have used.
    as_given: Vec<String>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Subject(..)")
    }
}

impl Subject {
    /// A card or document number: its letters and digits, upper-case
    /// (`sc-2026 000001` and `SC-2026-000001` are one number).
    pub fn number(text: &str) -> Result<Self, SubjectError> {
        let number: String = text
            .nfkc()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
            .collect();
        if number.is_empty() {
            return Err(SubjectError::Number);
        }
        let trimmed = text.trim();
        let mut as_given = vec![
            trimmed.to_owned(),
            trimmed.to_uppercase(),
            trimmed.to_lowercase(),
        ];
        as_given.dedup();
        Ok(Subject {
            canonical: format!("number:{number}"),
            as_given,
        })
    }

    /// A name and birth date: the name lower-case without spaces, the date as `YYYY-MM-DD`.
    pub fn person(name: &str, birth_date: &str) -> Result<Self, SubjectError> {
        let name: String = name
            .nfkc()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        if name.is_empty() {
            return Err(SubjectError::Name);
        }
        let date: CalendarDate = birth_date.parse()?;
        Ok(Subject {
            canonical: format!("person:{name}|{date}"),
            as_given: Vec::new(),
        })
    }

    /// The canonical text: what an offer's `subject` should be for this citizen to be found by
    /// [`IssuerService::find_credentials`].
    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

/// What a clerk looks for among an issuer's credentials. Every filter given must match.
#[derive(Debug, Clone, Default)]
pub struct CredentialQuery {
    /// Of this type.
    pub type_id: Option<String>,
    /// In this status.
    pub status: Option<CredentialStatus>,
    /// Issued from this offer.
    pub offer_id: Option<String>,
    /// Issued at or after (Unix seconds).
    pub issued_from: Option<i64>,
    /// Issued before (Unix seconds).
    pub issued_before: Option<i64>,
    /// For this citizen.
    pub subject: Option<Subject>,
    /// At most this many, newest first (1 to 1,000; 0 means 100).
    pub limit: usize,
}

/// A credential found by [`IssuerService::find_credentials`].
#[derive(Debug, Clone, Serialize)]
pub struct ListedCredential {
    /// The credential's record.
    #[serde(flatten)]
    pub record: CredentialRecord,
    /// The offer it was issued from.
    pub offer_id: Option<String>,
}

impl IssuerService {
    /// The issuer's credentials (metadata only), optionally for one subject reference.
    pub async fn credentials(
        &self,
        operator: &Operator,
        slug: &str,
        subject: Option<&str>,
    ) -> Result<Vec<CredentialRecord>, AdminError> {
        let hosted = self.hosted(slug)?;
        if operator.issuer != slug {
            return Err(AdminError::Forbidden("this token is for another issuer"));
        }
        let subject_ref = subject.map(|s| hosted.subject_ref(s));
        Ok(self
            .inner
            .db
            .credentials(slug, subject_ref.as_deref(), 500)
            .await?
            .into_iter()
            .filter(|c| operator.types.contains(&c.type_id))
            .map(CredentialRecord::from)
            .collect())
    }

    /// The issuer's credentials (metadata only) that match `query`, newest first, with the
    /// offer each was issued from: what a clerk searches to find what to revoke. An operator
    /// sees only its own issuer's credentials of its own types. A citizen is matched by the
    /// keyed hash of their [`Subject`]'s canonical text (and, for a number, of the text as
    /// typed, which is what an offer made over the API keeps), never by the text itself.
    pub async fn find_credentials(
        &self,
        operator: &Operator,
        slug: &str,
        query: &CredentialQuery,
    ) -> Result<Vec<ListedCredential>, AdminError> {
        let hosted = self.hosted(slug)?;
        if operator.issuer != slug {
            return Err(AdminError::Forbidden("this token is for another issuer"));
        }
        let types = match &query.type_id {
            Some(type_id) => {
                operator.may(slug, type_id)?;
                vec![type_id.clone()]
            }
            None => operator.types.clone(),
        };
        let mut subject_refs: Vec<String> = Vec::new();
        if let Some(subject) = &query.subject {
            for text in std::iter::once(&subject.canonical).chain(&subject.as_given) {
                let subject_ref = hosted.subject_ref(text);
                if !subject_refs.contains(&subject_ref) {
                    subject_refs.push(subject_ref);
                }
            }
        }
        let filter = db::CredentialFilter {
            issuer: slug,
            types: &types,
            status: query.status,
            offer_id: query.offer_id.as_deref(),
            issued_from: query.issued_from,
            issued_before: query.issued_before,
            subject_refs: query.subject.as_ref().map(|_| subject_refs.as_slice()),
            limit: match query.limit {
                0 => 100,
                n => n.min(1_000) as i64,
            },
        };
        Ok(self
            .inner
            .db
            .find_credentials(&filter)
            .await?
            .into_iter()
            .map(|(c, offer_id)| ListedCredential {
                record: c.into(),
                offer_id,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_people_type_them() {
        let date = CalendarDate {
            year: 1994,
            month: 3,
            day: 15,
        };
        for text in [
            "1994-03-15",
            "19940315",
            "1994.3.15",
            "1994/03/15",
            " 1994. 3. 15. ",
        ] {
            assert_eq!(text.parse::<CalendarDate>(), Ok(date), "{text}");
        }
        assert_eq!(date.to_string(), "1994-03-15");
        for text in [
            "1994-02-30",
            "1994-13-01",
            "94-03-15",
            "1994-03",
            "1994-03-15T00:00",
            "",
            "2023-02-29",
        ] {
            assert_eq!(
                text.parse::<CalendarDate>(),
                Err(SubjectError::Date),
                "{text}"
            );
        }
        assert_eq!("2024-02-29".parse::<CalendarDate>().map(|d| d.day), Ok(29));
        // Known answers: the epoch, a leap day, and a day before the epoch.
        for (text, days) in [
            ("1970-01-01", 0),
            ("2000-02-29", 11_016),
            ("1969-12-31", -1),
        ] {
            let date: CalendarDate = text.parse().unwrap();
            assert_eq!(date.days_since_epoch(), days, "{text}");
            assert_eq!(CalendarDate::from_days_since_epoch(days), date);
        }
    }

    #[test]
    fn subjects_are_normalised_before_hashing_and_never_shown() {
        let number = Subject::number("SC-2026-000001").unwrap();
        assert_eq!(number.canonical(), "number:SC2026000001");
        assert_eq!(
            Subject::number(" sc 2026-000001 ").unwrap().canonical(),
            number.canonical()
        );
        assert_eq!(Subject::number(" - "), Err(SubjectError::Number));
        let person = Subject::person("Kim  Minji", "1994.3.15").unwrap();
        assert_eq!(person.canonical(), "person:kimminji|1994-03-15");
        assert_eq!(
            Subject::person(" KIM MINJI", "19940315")
                .unwrap()
                .canonical(),
            person.canonical()
        );
        assert_eq!(
            Subject::person("김민지", "1994-03-15").unwrap().canonical(),
            "person:김민지|1994-03-15"
        );
        // Hangul as separate jamo (as some keyboards and systems send it) and full-width
        // characters are the same citizen.
        let jamo = "\u{1100}\u{1175}\u{11B7}\u{1106}\u{1175}\u{11AB}\u{110C}\u{1175}";
        assert_eq!(
            Subject::person(jamo, "1994-03-15").unwrap().canonical(),
            "person:김민지|1994-03-15"
        );
        assert_eq!(
            Subject::number("ＳＣ－２０２６－０００００１")
                .unwrap()
                .canonical(),
            number.canonical()
        );
        assert_eq!(Subject::person(" ", "1994-03-15"), Err(SubjectError::Name));
        assert_eq!(
            Subject::person("Kim", "03/15/1994"),
            Err(SubjectError::Date)
        );
        assert_eq!(format!("{person:?}"), "Subject(..)");
    }
}
