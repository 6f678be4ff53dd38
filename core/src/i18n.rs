//! Korean and English: the two languages people read dojang in, and how one is chosen.
//!
//! Every fixed message for people in dojang is written once in both languages. Messages kept
//! as one string follow one convention, `"<Korean> / <English>"`, and [`Lang::pick`] shows one
//! half; reason codes have their own catalog ([`ReasonCode::message`](crate::ReasonCode::message)).

use std::str::FromStr;

/// A language a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Korean: the default.
    #[default]
    Ko,
    /// English.
    En,
}

/// A language tag that is neither Korean nor English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("언어는 ko 또는 en입니다 / the language is ko or en")]
pub struct UnknownLang;

impl FromStr for Lang {
    type Err = UnknownLang;

    /// `ko`, `en`, or a tag with either as its primary subtag (`ko-KR`, `en_GB.UTF-8`).
    fn from_str(tag: &str) -> Result<Self, UnknownLang> {
        let primary = tag
            .trim()
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or_default();
        if primary.eq_ignore_ascii_case("ko") {
            Ok(Lang::Ko)
        } else if primary.eq_ignore_ascii_case("en") {
            Ok(Lang::En)
        } else {
            Err(UnknownLang)
        }
    }
}

impl Lang {
    /// Both, in the order pages list them.
    pub const ALL: [Lang; 2] = [Lang::Ko, Lang::En];

    /// The BCP 47 tag: `ko` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    /// The language an HTTP `Accept-Language` header prefers among ours (by quality, then
    /// order), or `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let Ok(lang) = parts.next().unwrap_or_default().parse::<Lang>() else {
                continue;
            };
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The language the environment asks for, as a command line reads it: `DOJANG_LANG`, then
    /// the POSIX `LC_ALL`, `LC_MESSAGES`, `LANG`. A locale of another language reads English;
    /// `C` and `POSIX` (a machine's default, not a person's choice) are passed over. `None`
    /// when nothing asks: the caller then shows both languages.
    pub fn from_env() -> Option<Lang> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Option<Lang> {
        ["DOJANG_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(var)
            .map(|value| {
                value
                    .split(['.', '@'])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .filter(|locale| !matches!(locale.as_str(), "" | "C" | "POSIX"))
            .map(|locale| locale.parse().unwrap_or(Lang::En))
            .next()
    }

    /// One half of a `"<Korean> / <English>"` message (split at the first ` / `); a message
    /// without the separator is shown whole.
    pub fn pick(self, message: &str) -> &str {
        match (message.split_once(" / "), self) {
            (Some((ko, _)), Lang::Ko) => ko,
            (Some((_, en)), Lang::En) => en,
            (None, _) => message,
        }
    }

    /// `ko` or `en` text.
    pub fn choose<'a>(self, ko: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_locales_parse_by_their_primary_subtag() {
        assert_eq!("ko-KR".parse(), Ok(Lang::Ko));
        assert_eq!("en_GB.UTF-8".parse(), Ok(Lang::En));
        assert_eq!("EN".parse(), Ok(Lang::En));
        assert_eq!("fr".parse::<Lang>(), Err(UnknownLang));
        assert_eq!("".parse::<Lang>(), Err(UnknownLang));
    }

    #[test]
    fn accept_language_is_read_by_quality_then_order() {
        let pick = Lang::from_accept_language;
        assert_eq!(pick("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"), Some(Lang::Ko));
        assert_eq!(pick("en-US,en;q=0.9,ko;q=0.8"), Some(Lang::En));
        assert_eq!(pick("fr-FR, en;q=0.5, ko;q=0.7"), Some(Lang::Ko));
        assert_eq!(pick("ko;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(pick("fr, de"), None);
        assert_eq!(pick("ko;q=banana"), None);
        assert_eq!(pick(""), None);
    }

    #[test]
    fn the_environment_names_the_language_or_none() {
        let env = |pairs: &'static [(&str, &str)]| {
            Lang::from_env_with(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(env(&[]), None);
        assert_eq!(env(&[("LANG", "ko_KR.UTF-8")]), Some(Lang::Ko));
        assert_eq!(env(&[("LANG", "C.UTF-8")]), None);
        assert_eq!(env(&[("LANG", "fr_FR.UTF-8")]), Some(Lang::En));
        assert_eq!(
            env(&[("LANG", "ko_KR.UTF-8"), ("LC_ALL", "en_US")]),
            Some(Lang::En)
        );
        assert_eq!(env(&[("LC_ALL", "C"), ("LANG", "ko_KR")]), Some(Lang::Ko));
        assert_eq!(
            env(&[("LC_ALL", "C"), ("DOJANG_LANG", "en")]),
            Some(Lang::En)
        );
        assert_eq!(env(&[("LANG", "")]), None);
    }

    #[test]
    fn a_bilingual_message_shows_one_half() {
        let message = "알 수 없는 작업입니다 / unknown action; try revoke / suspend";
        assert_eq!(Lang::Ko.pick(message), "알 수 없는 작업입니다");
        assert_eq!(
            Lang::En.pick(message),
            "unknown action; try revoke / suspend"
        );
        assert_eq!(Lang::Ko.pick("only one"), "only one");
    }
}
