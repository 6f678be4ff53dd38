//! PKCS#11 URIs (RFC 7512) naming a key: `pkcs11:token=dojang;object=seoul-issuer-1` with
//! `?module-path=…` and `pin-source=file:…` in the query. A PIN is never taken from a URI:
//! URIs go in configuration files and command lines, where a PIN would be seen.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// What RFC 7512 leaves unescaped in a path attribute value, and what we write back.
const VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b';')
    .add(b'?')
    .add(b'&')
    .add(b'=')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Why a PKCS#11 URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// Not a `pkcs11:` URI.
    #[error("PKCS#11 URI가 아닙니다 / not a PKCS#11 URI (pkcs11:token=…;object=…)")]
    NotPkcs11,
    /// A PIN in the URI.
    #[error(
        "PIN은 URI에 넣지 않습니다 / a PIN never goes in a PKCS#11 URI (it would be seen in command lines and logs): set \
         DOJANG_PKCS11_PIN or DOJANG_PKCS11_PIN_FILE, or use pin-source=file:<path>"
    )]
    PinInUri,
    /// An attribute this URI reader does not know, or one given twice.
    #[error(
        "알 수 없거나 반복된 PKCS#11 URI 속성입니다 / PKCS#11 URI attribute `{0}` is unknown or repeated"
    )]
    Attribute(String),
    /// A value that is not percent-encoded UTF-8, or a malformed `id` or `slot-id`.
    #[error(
        "PKCS#11 URI 속성 값이 잘못되었습니다 / PKCS#11 URI attribute `{0}` has a malformed value"
    )]
    Value(&'static str),
    /// No token or no object named: the key would be ambiguous.
    #[error(
        "키 URI에는 토큰과 키 이름이 필요합니다 / a key URI names its token (token=…) and its object (object=… or id=…)"
    )]
    Incomplete,
}

/// What is escaped in a query value (`/` and `:` may stay, as in paths).
const QUERY_VALUE: &AsciiSet = &VALUE.remove(b'/');

/// A key on a PKCS#11 token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUri {
    /// The token's label.
    pub token: String,
    /// The token's serial number, to tell tokens of the same label apart.
    pub serial: Option<String>,
    /// The key's label (`CKA_LABEL`).
    pub object: Option<String>,
    /// The key's id (`CKA_ID`).
    pub id: Option<Vec<u8>>,
    /// The PKCS#11 module; else `DOJANG_PKCS11_MODULE`.
    pub module_path: Option<PathBuf>,
    /// A file holding the user PIN.
    pub pin_source: Option<PathBuf>,
}

impl KeyUri {
    /// A URI naming a token only (`pkcs11:token=dojang?module-path=…`), under which keys are
    /// then named with [`KeyUri::object`].
    pub fn token(text: &str) -> Result<Self, UriError> {
        KeyUri::read(text, false)
    }

    /// The key labelled `label` on this URI's token.
    pub fn object(&self, label: &str) -> KeyUri {
        KeyUri {
            object: Some(label.to_owned()),
            id: None,
            ..self.clone()
        }
    }

    fn read(text: &str, key: bool) -> Result<Self, UriError> {
        let rest = text
            .trim()
            .strip_prefix("pkcs11:")
            .ok_or(UriError::NotPkcs11)?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = KeyUri {
            token: String::new(),
            serial: None,
            object: None,
            id: None,
            module_path: None,
            pin_source: None,
        };
        let mut token = None;
        for (name, value) in pairs(path, ';').chain(pairs(query, '&')) {
            let value = value?;
            let unknown = || UriError::Attribute(name.to_owned());
            match name {
                "pin-value" => return Err(UriError::PinInUri),
                "token" if token.is_none() => token = Some(value),
                "serial" if uri.serial.is_none() => uri.serial = Some(value),
                "object" if uri.object.is_none() => uri.object = Some(value),
                "id" if uri.id.is_none() => uri.id = Some(value.into_bytes()),
                "type" if value == "private" || value == "public" => {}
                "module-path" if uri.module_path.is_none() => {
                    uri.module_path = Some(PathBuf::from(value));
                }
                "pin-source" if uri.pin_source.is_none() => {
                    let path = value
                        .strip_prefix("file:")
                        .ok_or(UriError::Value("pin-source"))?;
                    uri.pin_source = Some(PathBuf::from(path));
                }
                _ => return Err(unknown()),
            }
        }
        uri.token = token.ok_or(UriError::Incomplete)?;
        if key && uri.object.is_none() && uri.id.is_none() {
            return Err(UriError::Incomplete);
        }
        Ok(uri)
    }
}

impl FromStr for KeyUri {
    type Err = UriError;

    fn from_str(text: &str) -> Result<Self, UriError> {
        KeyUri::read(text, true)
    }
}

/// `name=value` pairs separated by `separator`, values percent-decoded.
fn pairs(
    text: &str,
    separator: char,
) -> impl Iterator<Item = (&str, Result<String, UriError>)> + '_ {
    text.split(separator).filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = percent_decode_str(value)
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| UriError::Value("value"));
        (name, decoded)
    })
}

impl fmt::Display for KeyUri {
    /// The URI as given (never a PIN: none is ever read from one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let enc = |v: &str| utf8_percent_encode(v, VALUE).to_string();
        let query_enc = |v: &str| utf8_percent_encode(v, QUERY_VALUE).to_string();
        write!(f, "pkcs11:token={}", enc(&self.token))?;
        if let Some(serial) = &self.serial {
            write!(f, ";serial={}", enc(serial))?;
        }
        if let Some(object) = &self.object {
            write!(f, ";object={}", enc(object))?;
        }
        if let Some(id) = &self.id {
            let id: String = id.iter().map(|b| format!("%{b:02X}")).collect();
            write!(f, ";id={id}")?;
        }
        let mut query = Vec::new();
        if let Some(path) = &self.module_path {
            query.push(format!(
                "module-path={}",
                query_enc(&path.to_string_lossy())
            ));
        }
        if let Some(path) = &self.pin_source {
            query.push(format!(
                "pin-source=file:{}",
                query_enc(&path.to_string_lossy())
            ));
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_uris_read_and_print_back() {
        let uri: KeyUri = "pkcs11:token=dojang;object=seoul%20issuer-1;id=%01%02\
            ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin"
            .parse()
            .unwrap();
        assert_eq!(uri.token, "dojang");
        assert_eq!(uri.object.as_deref(), Some("seoul issuer-1"));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(
            uri.module_path.as_deref(),
            Some(std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(
            uri.pin_source.as_deref(),
            Some(std::path::Path::new("/run/pin"))
        );
        assert_eq!(uri.to_string().parse::<KeyUri>().unwrap(), uri);
        // A token URI names keys by label.
        let token = KeyUri::token("pkcs11:token=dojang?module-path=/m.so").unwrap();
        assert_eq!(
            token.object("registry-log").to_string(),
            "pkcs11:token=dojang;object=registry-log?module-path=/m.so"
        );
        assert_eq!(KeyUri::token("pkcs11:object=k"), Err(UriError::Incomplete));
    }

    #[test]
    fn a_pin_or_an_incomplete_or_strange_uri_is_refused() {
        for (text, expected) in [
            ("pkcs11:token=t;object=k?pin-value=1234", UriError::PinInUri),
            ("pkcs11:token=t;object=k;pin-value=1234", UriError::PinInUri),
            ("file:token=t", UriError::NotPkcs11),
            ("pkcs11:object=k", UriError::Incomplete),
            ("pkcs11:token=t", UriError::Incomplete),
            (
                "pkcs11:token=t;token=u;object=k",
                UriError::Attribute("token".into()),
            ),
            (
                "pkcs11:token=t;object=k;colour=red",
                UriError::Attribute("colour".into()),
            ),
            ("pkcs11:token=%FF;object=k", UriError::Value("value")),
            (
                "pkcs11:token=t;object=k?pin-source=/run/pin",
                UriError::Value("pin-source"),
            ),
        ] {
            assert_eq!(text.parse::<KeyUri>(), Err(expected), "{text}");
        }
    }
}
