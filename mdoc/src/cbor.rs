//! Reading CBOR with the exact bytes of each item kept (minicbor's decoder, which knows its
//! position), and element values as JSON for display.

use minicbor::Decoder;
use minicbor::data::Type;
use serde_json::{Map, Value};

use crate::MdocError;

/// Deepest nesting converted to JSON.
const MAX_DEPTH: usize = 16;

/// A map key: ISO uses text keys, COSE integer labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key<'b> {
    Int(i64),
    Text(&'b str),
}

/// The next item's exact bytes.
pub(crate) fn raw<'b>(d: &mut Decoder<'b>) -> Result<&'b [u8], MdocError> {
    let start = d.position();
    d.skip()?;
    Ok(&d.input()[start..d.position()])
}

/// A definite-length map's entries: each key, and its value's exact bytes.
pub(crate) fn entries<'b>(bytes: &'b [u8]) -> Result<Vec<(Key<'b>, &'b [u8])>, MdocError> {
    let mut d = Decoder::new(bytes);
    let len = d
        .map()?
        .ok_or(MdocError::Malformed("indefinite-length map"))?;
    let mut out = Vec::new();
    for _ in 0..len {
        let key = match d.datatype()? {
            Type::String => Key::Text(d.str()?),
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => Key::Int(d.i64()?),
            _ => {
                return Err(MdocError::Malformed(
                    "a map key is neither text nor an integer",
                ));
            }
        };
        out.push((key, raw(&mut d)?));
    }
    end(&d)?;
    Ok(out)
}

/// A definite-length array's elements' exact bytes.
pub(crate) fn elements(bytes: &[u8]) -> Result<Vec<&[u8]>, MdocError> {
    let mut d = Decoder::new(bytes);
    let len = d
        .array()?
        .ok_or(MdocError::Malformed("indefinite-length array"))?;
    let out = (0..len).map(|_| raw(&mut d)).collect::<Result<_, _>>()?;
    end(&d)?;
    Ok(out)
}

/// The value under text key `name` in `map`.
pub(crate) fn field<'b>(map: &[(Key<'b>, &'b [u8])], name: &str) -> Option<&'b [u8]> {
    map.iter()
        .find(|(k, _)| *k == Key::Text(name))
        .map(|(_, v)| *v)
}

/// Refuses a map with a key other than `allowed` (text keys), or any key twice.
pub(crate) fn only(map: &[(Key<'_>, &[u8])], allowed: &[&str]) -> Result<(), MdocError> {
    for (i, (key, _)) in map.iter().enumerate() {
        let known = matches!(key, Key::Text(name) if allowed.contains(name));
        if !known || map[..i].iter().any(|(k, _)| k == key) {
            return Err(MdocError::Malformed("an unexpected or repeated field"));
        }
    }
    Ok(())
}

/// The value under integer label `label` in `map`.
pub(crate) fn label<'b>(map: &[(Key<'b>, &'b [u8])], label: i64) -> Option<&'b [u8]> {
    map.iter()
        .find(|(k, _)| *k == Key::Int(label))
        .map(|(_, v)| *v)
}

/// `bytes` as one text string.
pub(crate) fn text(bytes: &[u8]) -> Result<&str, MdocError> {
    let mut d = Decoder::new(bytes);
    let s = d.str()?;
    end(&d)?;
    Ok(s)
}

/// `bytes` as one byte string.
pub(crate) fn byte_string(bytes: &[u8]) -> Result<&[u8], MdocError> {
    let mut d = Decoder::new(bytes);
    let s = d.bytes()?;
    end(&d)?;
    Ok(s)
}

/// `bytes` as one integer.
pub(crate) fn int(bytes: &[u8]) -> Result<i64, MdocError> {
    let mut d = Decoder::new(bytes);
    let n = d.i64()?;
    end(&d)?;
    Ok(n)
}

/// The contents of `#6.24(bstr .cbor X)`: the embedded item's bytes.
pub(crate) fn embedded(bytes: &[u8]) -> Result<&[u8], MdocError> {
    let mut d = Decoder::new(bytes);
    if d.tag()?.as_u64() != 24 {
        return Err(MdocError::Malformed(
            "expected an embedded CBOR item (tag 24)",
        ));
    }
    let inner = d.bytes()?;
    end(&d)?;
    Ok(inner)
}

/// A `tdate` (tag 0, RFC 3339) as Unix seconds.
pub(crate) fn tdate(bytes: &[u8]) -> Result<i64, MdocError> {
    let mut d = Decoder::new(bytes);
    if d.tag()?.as_u64() != 0 {
        return Err(MdocError::Malformed("expected a tdate (tag 0)"));
    }
    let text = d.str()?;
    end(&d)?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .map_err(|_| MdocError::Malformed("a tdate is not RFC 3339"))
}

/// Nothing may follow the item.
fn end(d: &Decoder<'_>) -> Result<(), MdocError> {
    if d.position() == d.input().len() {
        Ok(())
    } else {
        Err(MdocError::Malformed("bytes after the item"))
    }
}

/// An element value as JSON, for display: byte strings as base64url, full-dates (tag 1004) and
/// tdates (tag 0) as their text, other tags as their content.
pub(crate) fn to_json(bytes: &[u8]) -> Result<Value, MdocError> {
    let mut d = Decoder::new(bytes);
    let value = json(&mut d, 0)?;
    end(&d)?;
    Ok(value)
}

fn json(d: &mut Decoder<'_>, depth: usize) -> Result<Value, MdocError> {
    if depth > MAX_DEPTH {
        return Err(MdocError::Malformed("nested too deeply"));
    }
    Ok(match d.datatype()? {
        Type::Bool => Value::Bool(d.bool()?),
        Type::Null | Type::Undefined => {
            d.skip()?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64()?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => Value::from(d.i64()?),
        Type::F16 | Type::F32 | Type::F64 => {
            serde_json::Number::from_f64(d.f64()?).map_or(Value::Null, Value::Number)
        }
        Type::String => Value::String(d.str()?.to_owned()),
        Type::Bytes => Value::String(dojang_core::b64::encode(d.bytes()?)),
        Type::Array => {
            let len = d
                .array()?
                .ok_or(MdocError::Malformed("indefinite-length array"))?;
            let items = (0..len)
                .map(|_| json(d, depth + 1))
                .collect::<Result<_, _>>()?;
            Value::Array(items)
        }
        Type::Map => {
            let len = d
                .map()?
                .ok_or(MdocError::Malformed("indefinite-length map"))?;
            let mut map = Map::new();
            for _ in 0..len {
                let key = match d.datatype()? {
                    Type::String => d.str()?.to_owned(),
                    _ => d.i64()?.to_string(),
                };
                map.insert(key, json(d, depth + 1)?);
            }
            Value::Object(map)
        }
        Type::Tag => {
            d.tag()?;
            json(d, depth + 1)?
        }
        _ => return Err(MdocError::Malformed("an unsupported CBOR item")),
    })
}
