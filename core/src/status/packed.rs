//! A byte array of fixed-width entries, addressed by index, in either bit order.

use super::{MAX_LIST_BYTES, StatusListError};

/// Where entry 0 sits within a byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOrder {
    /// Entry 0 in the most significant bits (W3C Bitstring Status List).
    MsbFirst,
    /// Entry 0 in the least significant bits (IETF Token Status List).
    LsbFirst,
}

/// Entries of `bits` ∈ {1, 2, 4, 8} packed into bytes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Packed {
    bits: u32,
    order: BitOrder,
    bytes: Vec<u8>,
}

impl Packed {
    pub(crate) fn check_width(bits: u32) -> Result<(), StatusListError> {
        match bits {
            1 | 2 | 4 | 8 => Ok(()),
            _ => Err(StatusListError::UnsupportedWidth { bits }),
        }
    }

    /// A zeroed list with room for at least `entries` entries.
    pub(crate) fn zeroed(
        bits: u32,
        order: BitOrder,
        entries: usize,
    ) -> Result<Self, StatusListError> {
        Self::check_width(bits)?;
        let len = entries
            .checked_mul(bits as usize)
            .map(|total| total.div_ceil(8))
            .filter(|&len| len <= MAX_LIST_BYTES)
            .ok_or(StatusListError::TooLarge {
                max: MAX_LIST_BYTES,
            })?;
        Ok(Packed {
            bits,
            order,
            bytes: vec![0; len],
        })
    }

    pub(crate) fn from_bytes(
        bits: u32,
        order: BitOrder,
        bytes: Vec<u8>,
    ) -> Result<Self, StatusListError> {
        Self::check_width(bits)?;
        Ok(Packed { bits, order, bytes })
    }

    pub(crate) fn bits(&self) -> u32 {
        self.bits
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len() * 8 / self.bits as usize
    }

    fn locate(&self, index: usize) -> Result<(usize, u32), StatusListError> {
        if index >= self.len() {
            return Err(StatusListError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        let bit = index * self.bits as usize;
        let within = (bit % 8) as u32;
        let shift = match self.order {
            BitOrder::LsbFirst => within,
            BitOrder::MsbFirst => 8 - self.bits - within,
        };
        Ok((bit / 8, shift))
    }

    fn mask(&self) -> u8 {
        (((1u16) << self.bits) - 1) as u8
    }

    pub(crate) fn get(&self, index: usize) -> Result<u8, StatusListError> {
        let (byte, shift) = self.locate(index)?;
        Ok((self.bytes[byte] >> shift) & self.mask())
    }

    pub(crate) fn set(&mut self, index: usize, value: u8) -> Result<(), StatusListError> {
        if value > self.mask() {
            return Err(StatusListError::ValueTooLarge {
                value,
                bits: self.bits,
            });
        }
        let (byte, shift) = self.locate(index)?;
        let mask = self.mask() << shift;
        self.bytes[byte] = (self.bytes[byte] & !mask) | (value << shift);
        Ok(())
    }
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Packed({} × {} bits, {:?})",
            self.len(),
            self.bits,
            self.order
        )
    }
}

/// Inflates `data` with `decoder`, refusing output past `max` bytes (zip bombs): the work done
/// is bounded by `max`, not by what the compressed data would inflate to.
pub(crate) fn inflate(
    mut decoder: impl std::io::Read,
    max: usize,
) -> Result<Vec<u8>, StatusListError> {
    use std::io::Read as _;
    let mut out = Vec::new();
    (&mut decoder)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| StatusListError::Compression)?;
    if out.len() > max {
        return Err(StatusListError::TooLarge { max });
    }
    // `read_to_end` doubles as it reads: a verifier keeps thousands of these lists decoded.
    out.shrink_to_fit();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_orders_place_entry_zero_at_opposite_ends() {
        let mut lsb = Packed::zeroed(1, BitOrder::LsbFirst, 8).unwrap();
        let mut msb = Packed::zeroed(1, BitOrder::MsbFirst, 8).unwrap();
        lsb.set(0, 1).unwrap();
        msb.set(0, 1).unwrap();
        assert_eq!(lsb.bytes(), [0b0000_0001]);
        assert_eq!(msb.bytes(), [0b1000_0000]);

        let mut two = Packed::zeroed(2, BitOrder::LsbFirst, 4).unwrap();
        two.set(1, 0b10).unwrap();
        two.set(3, 0b11).unwrap();
        assert_eq!(two.bytes(), [0b1100_1000]);
        assert_eq!(two.get(1).unwrap(), 2);
        two.set(3, 0).unwrap();
        assert_eq!(two.bytes(), [0b0000_1000]);
    }

    #[test]
    fn bounds_and_widths_are_checked() {
        let mut p = Packed::zeroed(4, BitOrder::MsbFirst, 3).unwrap();
        assert_eq!(p.len(), 4, "rounded up to whole bytes");
        assert_eq!(
            p.get(4),
            Err(StatusListError::IndexOutOfRange { index: 4, len: 4 })
        );
        assert_eq!(
            p.set(0, 16),
            Err(StatusListError::ValueTooLarge { value: 16, bits: 4 })
        );
        assert_eq!(
            Packed::zeroed(3, BitOrder::MsbFirst, 3),
            Err(StatusListError::UnsupportedWidth { bits: 3 })
        );
        assert!(matches!(
            Packed::zeroed(8, BitOrder::MsbFirst, usize::MAX),
            Err(StatusListError::TooLarge { .. })
        ));
    }
}
