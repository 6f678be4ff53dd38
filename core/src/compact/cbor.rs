//! The CBOR (RFC 8949) subset the compact profile uses, strictly: definite lengths only, no
//! tags, no duplicate map keys, nesting at most [`MAX_DEPTH`] deep, every declared length
//! checked against the bytes that remain before anything is allocated, and nothing after the
//! item. Encoding uses the shortest argument form (RFC 8949 §4.2.1).
//!
//! Reading and writing are apart: [`read`] checks bytes once and gives an [`Item`] whose parts
//! are read in place as asked — no tree is built, nothing copied or allocated, which is most of
//! what reading a presentation costs beside its two signatures — and a [`Value`] is built to be
//! written. What is read once and whole (a claims set, a disclosure) is walked once instead,
//! each item checked as it is reached ([`Walk`]).
//!
//! Why not `ciborium::Value`: SD-CWT marks redacted claim digests with the simple value 59 as a
//! map key, which `ciborium` 0.2 cannot represent, and the verifier's hot path wants one pass
//! over a slice with no reader indirection.

use serde_json::{Map, Number, Value as Json};

/// Deepest nesting accepted.
pub(crate) const MAX_DEPTH: usize = 16;

/// A CBOR data item to write. Byte and text strings borrow the data it is built from.
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

/// Checks that `bytes` are exactly one item of the subset, and returns it to read.
pub(crate) fn read(bytes: &[u8]) -> Result<Item<'_>, CborError> {
    let mut reader = Reader { bytes, at: 0 };
    reader.check(0)?;
    if reader.at != bytes.len() {
        return Err(CborError::Trailing(bytes.len() - reader.at));
    }
    Ok(Item { bytes })
}

/// Decodes exactly one item filling `bytes` into a tree (for tests that rewrite one).
#[cfg(test)]
pub(crate) fn decode(bytes: &[u8]) -> Result<Value<'_>, CborError> {
    fn tree(item: Item<'_>) -> Value<'_> {
        match item.kind() {
            Some(Kind::Array(elements)) => Value::Array(elements.map(tree).collect()),
            Some(Kind::Map(entries)) => {
                Value::Map(entries.map(|(k, v)| (tree(k), tree(v))).collect())
            }
            Some(kind) => scalar(kind).unwrap_or(Value::Null),
            None => Value::Null,
        }
    }
    read(bytes).map(tree)
}

/// One item of the subset, checked whole by [`read`]. Its parts are read from its bytes as they
/// are asked for: nothing is copied, nothing allocated — a verification's reading stays small
/// beside its two signature checks (`dojang bench`).
#[derive(Clone, Copy)]
pub(crate) struct Item<'a> {
    /// Exactly the item's encoding.
    bytes: &'a [u8],
}

/// What an item is. An array or a map yields its elements as it is iterated.
pub(crate) enum Kind<'a> {
    Uint(u64),
    NegInt(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Elements<'a>),
    Map(Entries<'a>),
    Bool(bool),
    Null,
    Simple(u8),
    Float(f64),
}

impl<'a> Item<'a> {
    /// What the item is (`None` cannot happen: the item was checked).
    pub(crate) fn kind(self) -> Option<Kind<'a>> {
        self.reader().kind().ok()
    }

    pub(crate) fn as_i64(self) -> Option<i64> {
        self.kind()?.as_i64()
    }

    pub(crate) fn as_u64(self) -> Option<u64> {
        match self.kind()? {
            Kind::Uint(u) => Some(u),
            _ => None,
        }
    }

    pub(crate) fn as_text(self) -> Option<&'a str> {
        match self.kind()? {
            Kind::Text(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bytes(self) -> Option<&'a [u8]> {
        match self.kind()? {
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// An array's elements.
    pub(crate) fn elements(self) -> Option<Elements<'a>> {
        match self.kind()? {
            Kind::Array(elements) => Some(elements),
            _ => None,
        }
    }

    /// A map's entries.
    pub(crate) fn entries(self) -> Option<Entries<'a>> {
        match self.kind()? {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of `key` in a map.
    pub(crate) fn get(self, key: &Value<'_>) -> Option<Item<'a>> {
        self.entries()?.find(|(k, _)| k.is(key)).map(|(_, v)| v)
    }

    /// Whether the item is the scalar `value` (an array or a map never is).
    pub(crate) fn is(self, value: &Value<'_>) -> bool {
        // Integer and string keys compared by their heads, without reading the whole item.
        let mut reader = self.reader();
        let Ok((initial, argument)) = reader.head() else {
            return false;
        };
        let major = initial >> 5;
        match *value {
            Value::Uint(u) => major == 0 && argument == u,
            Value::NegInt(n) => major == 1 && argument == n,
            Value::Bytes(b) => major == 2 && reader.rest() == b,
            Value::Text(t) => major == 3 && reader.rest() == t.as_bytes(),
            _ => self.kind().and_then(scalar).is_some_and(|v| v == *value),
        }
    }

    /// Whether two items are the same value, however their arguments are written.
    fn same(self, other: Item<'_>) -> bool {
        if self.bytes == other.bytes {
            return true;
        }
        let (mut a, mut b) = (self.reader(), other.reader());
        let (Ok((initial, x)), Ok((other_initial, y))) = (a.head(), b.head()) else {
            return false;
        };
        let major = initial >> 5;
        if major != other_initial >> 5 {
            return false;
        }
        match major {
            // Integers, and strings of one length with the same content.
            0 | 1 => x == y,
            2 | 3 => x == y && a.rest() == b.rest(),
            4 | 5 if x != y => false,
            _ => match (self.kind(), other.kind()) {
                (Some(Kind::Array(a)), Some(Kind::Array(b))) => a.zip(b).all(|(x, y)| x.same(y)),
                (Some(Kind::Map(a)), Some(Kind::Map(b))) => a
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka.same(kb) && va.same(vb)),
                (Some(a), Some(b)) => {
                    matches!((scalar(a), scalar(b)), (Some(a), Some(b)) if a == b)
                }
                _ => false,
            },
        }
    }

    /// A print of the item's value, however its arguments are written: items that are
    /// [`Item::same`] have the same print (the converse need not hold). Its major type and
    /// argument — an integer, a length, a count, a simple value — and one print for all floats.
    fn print(self) -> u64 {
        match self.reader().head() {
            Ok((initial, _)) if initial >> 5 == 7 && (25..=27).contains(&(initial & 0x1f)) => 7,
            Ok((initial, argument)) => u64::from(initial >> 5) ^ argument.rotate_left(3),
            Err(_) => 0,
        }
    }

    fn reader(self) -> Reader<'a> {
        Reader {
            bytes: self.bytes,
            at: 0,
        }
    }
}

impl std::fmt::Debug for Item<'_> {
    /// A scalar as its value, an array or a map by its size.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(value) = self.kind().and_then(scalar) {
            return value.fmt(f);
        }
        match self.kind() {
            Some(Kind::Array(elements)) => write!(f, "array of {}", elements.len()),
            Some(Kind::Map(entries)) => write!(f, "map of {}", entries.left),
            _ => f.write_str("?"),
        }
    }
}

impl Kind<'_> {
    /// An integer that fits an `i64`.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match *self {
            Kind::Uint(u) => i64::try_from(u).ok(),
            Kind::NegInt(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }
}

/// A scalar kind as the value it is; `None` for an array or a map.
fn scalar(kind: Kind<'_>) -> Option<Value<'_>> {
    Some(match kind {
        Kind::Uint(u) => Value::Uint(u),
        Kind::NegInt(n) => Value::NegInt(n),
        Kind::Bytes(b) => Value::Bytes(b),
        Kind::Text(s) => Value::Text(s),
        Kind::Bool(b) => Value::Bool(b),
        Kind::Null => Value::Null,
        Kind::Simple(n) => Value::Simple(n),
        Kind::Float(f) => Value::Float(f),
        Kind::Array(_) | Kind::Map(_) => return None,
    })
}

/// An array's elements, read as iterated.
#[derive(Clone, Copy)]
pub(crate) struct Elements<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        self.left = self.left.checked_sub(1)?;
        match self.left {
            0 => self.reader.last_item(),
            _ => self.reader.next_item(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Elements<'_> {}

/// A map's entries, read as iterated.
#[derive(Clone, Copy)]
pub(crate) struct Entries<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (Item<'a>, Item<'a>);

    fn next(&mut self) -> Option<(Item<'a>, Item<'a>)> {
        self.left = self.left.checked_sub(1)?;
        let key = self.reader.next_item()?;
        let value = match self.left {
            0 => self.reader.last_item(),
            _ => self.reader.next_item(),
        };
        Some((key, value?))
    }
}

#[derive(Clone, Copy)]
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    // The reader's small steps are inlined into its walks: called, each read the position back
    // from memory, a fifth of reading a presentation (`perf`).
    #[inline(always)]
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

    #[inline(always)]
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
    #[inline(always)]
    fn length(&self, argument: u64, unit: usize) -> Result<usize, CborError> {
        usize::try_from(argument)
            .ok()
            .filter(|&n| n.saturating_mul(unit) <= self.remaining())
            .ok_or(CborError::Length(argument))
    }

    /// Reads an item's head, refusing what the subset excludes: its initial byte, and its
    /// argument — an integer, a length, a simple value, or a float's bits.
    #[inline(always)]
    fn head(&mut self) -> Result<(u8, u64), CborError> {
        let initial = self.take(1)?[0];
        let (major, info) = (initial >> 5, initial & 0x1f);
        let argument = match (major, info) {
            (6, _) => return Err(CborError::Tag),
            (7, 23) => return Err(CborError::Undefined),
            (7, 24) => match self.take(1)?[0] {
                n @ 32.. => u64::from(n),
                n => return Err(CborError::ShortSimple(n)),
            },
            (7, 28..) => return Err(CborError::Break),
            _ => self.argument(info)?,
        };
        Ok((initial, argument))
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    /// Reads an item's head, and a string's content: the reader is then past a scalar, and at
    /// the first element of an array or a map.
    fn kind(&mut self) -> Result<Kind<'a>, CborError> {
        let (initial, argument) = self.head()?;
        Ok(match initial >> 5 {
            0 => Kind::Uint(argument),
            1 => Kind::NegInt(argument),
            2 => Kind::Bytes(self.take(self.length(argument, 1)?)?),
            3 => {
                let text = self.take(self.length(argument, 1)?)?;
                Kind::Text(std::str::from_utf8(text).map_err(|_| CborError::NotUtf8)?)
            }
            4 => Kind::Array(Elements {
                left: self.length(argument, 1)?,
                reader: *self,
            }),
            5 => Kind::Map(Entries {
                left: self.length(argument, 2)?,
                reader: *self,
            }),
            // Major type 7: `head` let only these through, each argument of its width.
            _ => match initial & 0x1f {
                20 => Kind::Bool(false),
                21 => Kind::Bool(true),
                22 => Kind::Null,
                25 => Kind::Float(f16(argument as u16)),
                26 => Kind::Float(f64::from(f32::from_bits(argument as u32))),
                27 => Kind::Float(f64::from_bits(argument)),
                _ => Kind::Simple(argument as u8),
            },
        })
    }

    /// Checks one item of the subset, moving past it.
    fn check(&mut self, depth: usize) -> Result<(), CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        let (initial, argument) = self.head()?;
        match initial >> 5 {
            2 => {
                self.take(self.length(argument, 1)?)?;
            }
            3 => {
                let text = self.take(self.length(argument, 1)?)?;
                std::str::from_utf8(text).map_err(|_| CborError::NotUtf8)?;
            }
            4 => {
                for _ in 0..self.length(argument, 1)? {
                    self.check(depth + 1)?;
                }
            }
            5 => {
                // Where each key is and a print of its value, to compare the next with. The
                // profile's maps are small (COSE headers and keys, a status reference: at most
                // four entries), and these slots are cleared for every map checked; past them,
                // the map is read again from its start.
                let mut keys = [(0, 0, 0); 8];
                let first = *self;
                for read in 0..self.length(argument, 2)? {
                    let at = self.at;
                    self.check(depth + 1)?;
                    let key = Item {
                        bytes: &self.bytes[at..self.at],
                    };
                    let print = key.print();
                    let duplicate = match keys.get(..read) {
                        Some(earlier) => earlier.iter().any(|&(start, end, earlier)| {
                            earlier == print
                                && key.same(Item {
                                    bytes: &self.bytes[start..end],
                                })
                        }),
                        None => {
                            let mut earlier = first;
                            (0..read).any(|_| {
                                let k = earlier.next_item();
                                earlier.skip().is_ok() && k.is_some_and(|k| k.same(key))
                            })
                        }
                    };
                    if duplicate {
                        return Err(CborError::DuplicateKey);
                    }
                    if let Some(slot) = keys.get_mut(read) {
                        *slot = (at, self.at, print);
                    }
                    self.check(depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The next item of checked bytes, moving past it.
    fn next_item(&mut self) -> Option<Item<'a>> {
        let at = self.at;
        self.skip().ok()?;
        self.bytes.get(at..self.at).map(|bytes| Item { bytes })
    }

    /// The last element of a container: the rest of its bytes, read from an item's own (so the
    /// container ends where they do), with no need to find where it ends.
    fn last_item(&mut self) -> Option<Item<'a>> {
        let bytes = self.rest();
        self.at = self.bytes.len();
        Some(Item { bytes })
    }

    /// Moves past one item of checked bytes.
    fn skip(&mut self) -> Result<(), CborError> {
        let (initial, argument) = self.head()?;
        let n = usize::try_from(argument).map_err(|_| CborError::Length(argument))?;
        match initial >> 5 {
            2 | 3 => self.take(n).map(drop),
            4 => (0..n).try_for_each(|_| self.skip()),
            5 => (0..n).try_for_each(|_| self.skip().and_then(|()| self.skip())),
            _ => Ok(()),
        }
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

/// Why bytes are not a claim value: not an item of the subset, or not one JSON carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JsonError {
    #[error(transparent)]
    Cbor(#[from] CborError),
    #[error("{0}")]
    NotJson(&'static str),
}

/// Reads bytes not checked before, item by item, each checked by every rule of [`read`] as it
/// is reached: what is read once and whole — a disclosure — is walked once, not checked and then
/// read. A method that finds an item of another kind answers `None`, and the walk is then lost.
pub(crate) struct Walk<'a>(Reader<'a>);

impl<'a> Walk<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Walk(Reader { bytes, at: 0 })
    }

    /// An array's length; its elements are the items that follow.
    pub(crate) fn array(&mut self) -> Result<Option<usize>, CborError> {
        Ok(match self.0.kind()? {
            Kind::Array(elements) => Some(elements.len()),
            _ => None,
        })
    }

    /// A map's number of entries; its keys and values are the items that follow.
    pub(crate) fn map(&mut self) -> Result<Option<usize>, CborError> {
        Ok(match self.0.kind()? {
            Kind::Map(entries) => Some(entries.left),
            _ => None,
        })
    }

    /// The next item checked whole (as [`read`] would, `depth` deep in what is walked), to read
    /// in place.
    pub(crate) fn item(&mut self, depth: usize) -> Result<Item<'a>, CborError> {
        let at = self.0.at;
        self.0.check(depth)?;
        Ok(Item {
            bytes: &self.0.bytes[at..self.0.at],
        })
    }

    /// A scalar's kind; `None` for an array or a map.
    pub(crate) fn scalar(&mut self) -> Result<Option<Kind<'a>>, CborError> {
        Ok(match self.0.kind()? {
            Kind::Array(_) | Kind::Map(_) => None,
            kind => Some(kind),
        })
    }

    pub(crate) fn bytes(&mut self) -> Result<Option<&'a [u8]>, CborError> {
        Ok(match self.0.kind()? {
            Kind::Bytes(bytes) => Some(bytes),
            _ => None,
        })
    }

    pub(crate) fn text(&mut self) -> Result<Option<&'a str>, CborError> {
        Ok(match self.0.kind()? {
            Kind::Text(text) => Some(text),
            _ => None,
        })
    }

    /// The next item, `depth` deep in what is walked, as a claim value in JSON: text keys only,
    /// no byte strings or simple values, finite numbers that JSON can carry.
    pub(crate) fn json(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep.into());
        }
        Ok(match self.0.kind()? {
            Kind::Null => Json::Null,
            Kind::Bool(b) => Json::Bool(b),
            Kind::Uint(u) => Json::from(u),
            Kind::NegInt(n) => match i64::try_from(n) {
                Ok(n) => Json::from(-1 - n),
                Err(_) => return Err(JsonError::NotJson("an integer beyond 64 bits")),
            },
            Kind::Float(f) => Json::Number(
                Number::from_f64(f).ok_or(JsonError::NotJson("a non-finite number in a claim"))?,
            ),
            Kind::Text(s) => Json::String(s.to_owned()),
            Kind::Array(elements) => Json::Array(
                (0..elements.len())
                    .map(|_| self.json(depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Map(entries) => {
                let mut map = Map::new();
                for _ in 0..entries.left {
                    let Some(key) = self.text()? else {
                        return Err(JsonError::NotJson("a claim object key that is not text"));
                    };
                    // Keys are text: a duplicate is the same string.
                    if map.insert(key.to_owned(), self.json(depth + 1)?).is_some() {
                        return Err(CborError::DuplicateKey.into());
                    }
                }
                Json::Object(map)
            }
            Kind::Bytes(_) | Kind::Simple(_) => {
                return Err(JsonError::NotJson(
                    "a byte string or simple value in a claim",
                ));
            }
        })
    }

    /// Requires the walk to have read every byte.
    pub(crate) fn end(&self) -> Result<(), CborError> {
        match self.0.remaining() {
            0 => Ok(()),
            left => Err(CborError::Trailing(left)),
        }
    }
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
            (
                "a26161016161f6",
                "duplicate text key",
                CborError::DuplicateKey,
            ),
            (
                "a2616101780161f6",
                "a duplicate text key written longer",
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
            // Walked without a check first, refused the same — but a map with a key that is
            // not text is refused as no claim before its keys are compared.
            let walked = walked(&hex_decode(hex));
            match hex.starts_with("a201") {
                true => assert_eq!(
                    walked,
                    Err(JsonError::NotJson("a claim object key that is not text")),
                    "{why}"
                ),
                false => assert_eq!(walked, Err(error.into()), "walked: {why}"),
            }
        }
        let deep = [vec![0x81; MAX_DEPTH + 1], vec![0x00]].concat();
        assert_eq!(decode(&deep), Err(CborError::TooDeep));
        assert_eq!(walked(&deep), Err(CborError::TooDeep.into()));
        assert!(walked(&deep[1..]).is_ok(), "as deep as accepted");
    }

    /// One item walked as a claim value, and nothing after it.
    fn walked(bytes: &[u8]) -> Result<Json, JsonError> {
        let mut walk = Walk::new(bytes);
        let json = walk.json(0)?;
        walk.end()?;
        Ok(json)
    }

    #[test]
    fn json_claims_round_trip() {
        let json = serde_json::json!({"a": [1, -2, 3.5, true, null, "x"], "b": {"c": u64::MAX}});
        let to_json = |value: Value| walked(&value.encode());
        assert_eq!(to_json(from_json(&json)), Ok(json));
        assert!(to_json(Value::Bytes(&[1])).is_err());
        assert!(to_json(Value::Map(vec![(Value::int(1), Value::Null)])).is_err());
        assert!(to_json(Value::NegInt(u64::MAX)).is_err());
        assert_eq!(Value::int(-(1i128 << 64)), Value::NegInt(u64::MAX));
        let int = |v: i64| read(&Value::int(v).encode()).unwrap().as_i64();
        assert_eq!(int(-1), Some(-1));
        assert_eq!(int(i64::MIN), Some(i64::MIN));
    }

    #[test]
    fn items_are_read_in_place() {
        // {1: "a", "k": [h'01', {2: true}], simple(59): null}
        let value = Value::Map(vec![
            (Value::int(1), Value::Text("a")),
            (
                Value::Text("k"),
                Value::Array(vec![
                    Value::Bytes(&[1]),
                    Value::Map(vec![(Value::int(2), Value::Bool(true))]),
                ]),
            ),
            (Value::Simple(59), Value::Null),
        ]);
        let encoded = value.encode();
        let map = read(&encoded).unwrap();
        assert_eq!(map.get(&Value::int(1)).and_then(Item::as_text), Some("a"));
        let list = map.get(&Value::Text("k")).unwrap();
        assert_eq!(format!("{list:?}"), "array of 2");
        assert_eq!(format!("{map:?}"), "map of 3");
        assert_eq!(
            format!("{:?}", map.get(&Value::int(1)).unwrap()),
            "Text(\"a\")"
        );
        let mut elements = list.elements().unwrap();
        assert_eq!(elements.len(), 2);
        assert_eq!(elements.next().and_then(Item::as_bytes), Some(&[1u8][..]));
        let inner = elements.next().unwrap();
        assert!(inner.get(&Value::int(2)).unwrap().is(&Value::Bool(true)));
        assert!(elements.next().is_none());
        assert!(map.get(&Value::Simple(59)).unwrap().is(&Value::Null));
        assert!(map.get(&Value::int(2)).is_none());
        assert!(list.entries().is_none() && map.elements().is_none());
        assert_eq!(map.entries().unwrap().count(), 3);
        assert_eq!(decode(&encoded).unwrap(), value);
    }

    #[test]
    fn compound_keys_written_differently_are_still_duplicates() {
        // {[1, 2]: 0, [1, 24 2]: 0}: the second key is the first with 2 in a longer form.
        assert_eq!(
            read(&hex_decode("a2820102008201180200")).err(),
            Some(CborError::DuplicateKey)
        );
        // {{1: 2}: 0, {1: 3}: 0} and {[1, 2]: 0, [1, 2, 3]: 0} differ, and are accepted.
        assert!(read(&hex_decode("a2a1010200a1010300")).is_ok());
        assert!(read(&hex_decode("a2820102008301020300")).is_ok());
        // Past the keys remembered by position, a map is read again: a duplicate is still seen.
        let map = |keys: &[u64]| {
            Value::Map(
                keys.iter()
                    .map(|&k| (Value::Uint(k), Value::Null))
                    .collect(),
            )
            .encode()
        };
        let distinct: Vec<u64> = (0..40).collect();
        assert!(read(&map(&distinct)).is_ok());
        let repeated = [&distinct[..], &[3]].concat();
        assert_eq!(read(&map(&repeated)).err(), Some(CborError::DuplicateKey));
    }

    fn hex_decode(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }
}
