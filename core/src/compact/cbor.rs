//! The CBOR (RFC 8949) subset the compact profile uses, strictly: definite lengths only, no
//! tags, no duplicate map keys, nesting at most [`MAX_DEPTH`] deep, every declared length
//! checked against the bytes that remain before anything is allocated, and nothing after the
//! item. Encoding uses the shortest argument form (RFC 8949 §4.2.1).
//!
//! Why not `ciborium::Value`: SD-CWT marks redacted claim digests with the simple value 59 as a
//! map key, which `ciborium` 0.2 cannot represent, and the verifier's hot path wants one pass
//! over a slice with no reader indirection.

use serde_json::{Map, Number, Value as Json};

/// Deepest nesting accepted.
pub(crate) const MAX_DEPTH: usize = 16;

/// One CBOR data item. Byte and text strings borrow: a decoded item points into the bytes it
/// was read from, and an item to encode into the data it is built from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// Major type 0: an unsigned integer.
    Uint(u64),
    /// Major type 1: the integer -1 - n. (Two variants rather than one `i128`: an `i128` would
    /// align every item to 16 bytes and make it half as large again.)
    NegInt(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    Bool(bool),
    Null,
    /// Simple values other than false, true and null.
    Simple(u8),
    Float(f64),
}

impl<'a> Value<'a> {
    pub(crate) fn int(v: impl Into<i128>) -> Self {
        let v = v.into();
        match u64::try_from(v) {
            Ok(u) => Value::Uint(u),
            Err(_) => Value::NegInt(u64::try_from(-1 - v).unwrap_or(u64::MAX)),
        }
    }

    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Uint(u) => i64::try_from(*u).ok(),
            Value::NegInt(n) => i64::try_from(*n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Uint(u) => Some(*u),
            _ => None,
        }
    }

    pub(crate) fn as_text(&self) -> Option<&'a str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The value of `key` in a map.
    pub(crate) fn get(&self, key: &Value<'_>) -> Option<&Value<'a>> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Uint(u) => head(out, 0, *u),
            Value::NegInt(n) => head(out, 1, *n),
            Value::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Value::Text(s) => {
                head(out, 3, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Value::Array(items) => {
                head(out, 4, items.len() as u64);
                items.iter().for_each(|v| v.encode_into(out));
            }
            Value::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode_into(out);
                    v.encode_into(out);
                }
            }
            Value::Bool(false) => out.push(0xf4),
            Value::Bool(true) => out.push(0xf5),
            Value::Null => out.push(0xf6),
            Value::Simple(n) if *n < 24 => out.push(0xe0 | n),
            Value::Simple(n) => out.extend_from_slice(&[0xf8, *n]),
            Value::Float(f) => {
                out.push(0xfb);
                out.extend_from_slice(&f.to_be_bytes());
            }
        }
    }
}

fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let major = major << 5;
    match arg {
        0..=23 => out.push(major | arg as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

/// Why bytes are not one item of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CborError {
    #[error("truncated")]
    Truncated,
    #[error("indefinite lengths are not accepted")]
    Indefinite,
    #[error("reserved additional information {0}")]
    Reserved(u8),
    #[error("declared length {0} exceeds the input")]
    Length(u64),
    #[error("nested more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("text is not UTF-8")]
    NotUtf8,
    #[error("duplicate map key")]
    DuplicateKey,
    #[error("tags are not accepted")]
    Tag,
    #[error("`undefined` is not accepted")]
    Undefined,
    #[error("simple value {0} in the two-byte form")]
    ShortSimple(u8),
    #[error("break or reserved simple value")]
    Break,
    #[error("{0} bytes after the item")]
    Trailing(usize),
}

/// Decodes exactly one item filling `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value<'_>, CborError> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.item(0)?;
    if reader.at != bytes.len() {
        return Err(CborError::Trailing(bytes.len() - reader.at));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(CborError::Truncated)?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        Ok(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(fixed(self.take(2)?))),
            26 => u64::from(u32::from_be_bytes(fixed(self.take(4)?))),
            27 => u64::from_be_bytes(fixed(self.take(8)?)),
            31 => return Err(CborError::Indefinite),
            _ => return Err(CborError::Reserved(info)),
        })
    }

    /// A length that the remaining input can hold, at `unit` bytes per element at least.
    fn length(&mut self, info: u8, unit: usize) -> Result<usize, CborError> {
        let len = self.argument(info)?;
        usize::try_from(len)
            .ok()
            .filter(|&n| n.saturating_mul(unit) <= self.remaining())
            .ok_or(CborError::Length(len))
    }

    fn item(&mut self, depth: usize) -> Result<Value<'a>, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        let initial = self.take(1)?[0];
        let (major, info) = (initial >> 5, initial & 0x1f);
        Ok(match major {
            0 => Value::Uint(self.argument(info)?),
            1 => Value::NegInt(self.argument(info)?),
            2 => {
                let len = self.length(info, 1)?;
                Value::Bytes(self.take(len)?)
            }
            3 => {
                let len = self.length(info, 1)?;
                let text = std::str::from_utf8(self.take(len)?).map_err(|_| CborError::NotUtf8)?;
                Value::Text(text)
            }
            4 => {
                let len = self.length(info, 1)?;
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(self.item(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let len = self.length(info, 2)?;
                let mut entries: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(len);
                for _ in 0..len {
                    let key = self.item(depth + 1)?;
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(CborError::DuplicateKey);
                    }
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Value::Map(entries)
            }
            6 => return Err(CborError::Tag),
            _ => match info {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                23 => return Err(CborError::Undefined),
                0..=19 => Value::Simple(info),
                24 => match self.take(1)?[0] {
                    n @ 32.. => Value::Simple(n),
                    n => return Err(CborError::ShortSimple(n)),
                },
                25 => Value::Float(f16(u16::from_be_bytes(fixed(self.take(2)?)))),
                26 => Value::Float(f64::from(f32::from_be_bytes(fixed(self.take(4)?)))),
                27 => Value::Float(f64::from_be_bytes(fixed(self.take(8)?))),
                _ => return Err(CborError::Break),
            },
        })
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

/// IEEE 754 half precision to f64 (RFC 8949 Appendix D).
fn f16(half: u16) -> f64 {
    let exponent = i32::from((half >> 10) & 0x1f);
    let mantissa = f64::from(half & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (mantissa + 1024.0) * 2f64.powi(exponent - 25),
    };
    if half & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// A JSON claim value as CBOR.
pub(crate) fn from_json(value: &Json) -> Value<'_> {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::int(i),
            (None, Some(u)) => Value::int(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Text(s),
        Json::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        Json::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::Text(k), from_json(v)))
                .collect(),
        ),
    }
}

/// A CBOR claim value as JSON: text keys only, no byte strings or simple values, finite
/// numbers that JSON can carry.
pub(crate) fn to_json(value: &Value<'_>) -> Result<Json, String> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Uint(u) => Json::from(*u),
        Value::NegInt(n) => match i64::try_from(*n) {
            Ok(n) => Json::from(-1 - n),
            Err(_) => return Err("an integer beyond 64 bits".into()),
        },
        Value::Float(f) => {
            Json::Number(Number::from_f64(*f).ok_or("a non-finite number in a claim")?)
        }
        Value::Text(s) => Json::String((*s).to_owned()),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                let Value::Text(k) = k else {
                    return Err("a claim object key that is not text".into());
                };
                map.insert((*k).to_owned(), to_json(v)?);
            }
            Json::Object(map)
        }
        Value::Bytes(_) | Value::Simple(_) => {
            return Err("a byte string or simple value in a claim".into());
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8949_appendix_a_examples() {
        // (encoding, value) pairs from RFC 8949 Appendix A.
        let cases: [(&str, Value); 12] = [
            ("00", Value::int(0)),
            ("17", Value::int(23)),
            ("1818", Value::int(24)),
            ("1903e8", Value::int(1000)),
            ("1bffffffffffffffff", Value::Uint(u64::MAX)),
            ("3bffffffffffffffff", Value::NegInt(u64::MAX)),
            ("20", Value::int(-1)),
            ("6449455446", Value::Text("IETF")),
            ("4401020304", Value::Bytes(&[1, 2, 3, 4])),
            ("f0", Value::Simple(16)),
            ("f8ff", Value::Simple(255)),
            (
                "a201020304",
                Value::Map(vec![
                    (Value::int(1), Value::int(2)),
                    (Value::int(3), Value::int(4)),
                ]),
            ),
        ];
        for (hex, value) in cases {
            let bytes = hex_decode(hex);
            assert_eq!(decode(&bytes).unwrap(), value, "{hex}");
            assert_eq!(value.encode(), bytes, "{hex}");
        }
        assert_eq!(decode(&hex_decode("f93c00")).unwrap(), Value::Float(1.0));
        assert_eq!(decode(&hex_decode("f9c400")).unwrap(), Value::Float(-4.0));
        assert_eq!(
            decode(&hex_decode("f90001")).unwrap(),
            Value::Float(5.960464477539063e-8)
        );
        assert_eq!(
            decode(&hex_decode("fa47c35000")).unwrap(),
            Value::Float(100000.0)
        );
    }

    #[test]
    fn refuses_what_the_profile_excludes() {
        for (hex, why, error) in [
            (
                "5f42010243030405ff",
                "indefinite bytes",
                CborError::Indefinite,
            ),
            ("9f01ff", "indefinite array", CborError::Indefinite),
            ("c11a514b67b0", "tag", CborError::Tag),
            ("f7", "undefined", CborError::Undefined),
            (
                "f818",
                "simple value in two-byte form",
                CborError::ShortSimple(24),
            ),
            ("ff", "a break outside an indefinite item", CborError::Break),
            ("a201020103", "duplicate key", CborError::DuplicateKey),
            (
                "a20102180103",
                "a duplicate key written longer",
                CborError::DuplicateKey,
            ),
            ("1c", "reserved info", CborError::Reserved(28)),
            ("18", "truncated argument", CborError::Truncated),
            (
                "5a00010000",
                "declared length beyond input",
                CborError::Length(65_536),
            ),
            (
                "9bffffffffffffffff",
                "huge array length",
                CborError::Length(u64::MAX),
            ),
            ("0000", "trailing bytes", CborError::Trailing(1)),
            ("62c328", "invalid UTF-8", CborError::NotUtf8),
            ("", "empty", CborError::Truncated),
        ] {
            assert_eq!(decode(&hex_decode(hex)), Err(error), "{why}");
        }
        let deep = [vec![0x81; MAX_DEPTH + 1], vec![0x00]].concat();
        assert_eq!(decode(&deep), Err(CborError::TooDeep));
    }

    #[test]
    fn json_claims_round_trip() {
        let json = serde_json::json!({"a": [1, -2, 3.5, true, null, "x"], "b": {"c": u64::MAX}});
        assert_eq!(
            to_json(&decode(&from_json(&json).encode()).unwrap()).unwrap(),
            json
        );
        assert!(to_json(&Value::Bytes(&[1])).is_err());
        assert!(to_json(&Value::Map(vec![(Value::int(1), Value::Null)])).is_err());
        assert!(to_json(&Value::NegInt(u64::MAX)).is_err());
        assert_eq!(Value::int(-(1i128 << 64)), Value::NegInt(u64::MAX));
        assert_eq!(Value::int(-1).as_i64(), Some(-1));
        assert_eq!(Value::int(i64::MIN).as_i64(), Some(i64::MIN));
    }

    fn hex_decode(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }
}
