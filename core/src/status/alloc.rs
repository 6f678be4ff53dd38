//! Random, unique status-list index allocation.

use rand::Rng;

/// Hands out unused indices of a list at random.
///
/// Random positions give herd privacy: a credential's index says nothing about its issuance
/// order. Each index is handed out at most once; revoked credentials keep theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexAllocator {
    used: Vec<u64>,
    capacity: usize,
    count: usize,
}

impl IndexAllocator {
    /// Random probes before falling back to a scan from a random start.
    const PROBES: usize = 32;

    /// An allocator for a list of `capacity` entries, none used.
    pub fn new(capacity: usize) -> Self {
        IndexAllocator {
            used: vec![0; capacity.div_ceil(64)],
            capacity,
            count: 0,
        }
    }

    /// Entries in the list.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Indices handed out so far.
    pub fn used(&self) -> usize {
        self.count
    }

    /// Whether every index has been handed out.
    pub fn is_full(&self) -> bool {
        self.count == self.capacity
    }

    /// Whether `index` has been handed out.
    pub fn is_used(&self, index: usize) -> bool {
        index < self.capacity && self.used[index / 64] & (1 << (index % 64)) != 0
    }

    /// Records `index` as used (when loading from storage). Returns `false` if it already was,
    /// or is out of range.
    pub fn mark_used(&mut self, index: usize) -> bool {
        if index >= self.capacity || self.is_used(index) {
            return false;
        }
        self.used[index / 64] |= 1 << (index % 64);
        self.count += 1;
        true
    }

    /// A fresh random index, or `None` when the list is full.
    pub fn allocate(&mut self, rng: &mut impl Rng) -> Option<usize> {
        if self.is_full() {
            return None;
        }
        for _ in 0..Self::PROBES {
            let index = rng.gen_range(0..self.capacity);
            if self.mark_used(index) {
                return Some(index);
            }
        }
        // Mostly full: scan whole words from a random start, wrapping around.
        let words = self.used.len();
        let start = rng.gen_range(0..words);
        for offset in 0..words {
            let word = (start + offset) % words;
            let mut free = !self.used[word];
            while free != 0 {
                let index = word * 64 + free.trailing_zeros() as usize;
                if self.mark_used(index) {
                    return Some(index);
                }
                free &= free - 1; // past the end of the list: try the next bit
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fills_every_index_exactly_once() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut alloc = IndexAllocator::new(1000);
        let mut seen = vec![false; 1000];
        for _ in 0..1000 {
            let i = alloc.allocate(&mut rng).unwrap();
            assert!(!seen[i], "index {i} handed out twice");
            seen[i] = true;
        }
        assert!(alloc.is_full());
        assert_eq!(alloc.allocate(&mut rng), None);
    }

    #[test]
    fn indices_are_spread_not_sequential() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut alloc = IndexAllocator::new(131_072);
        let first: Vec<usize> = (0..100)
            .map(|_| alloc.allocate(&mut rng).unwrap())
            .collect();
        let ascending = first.windows(2).filter(|w| w[1] == w[0] + 1).count();
        assert!(ascending < 5, "allocation looks sequential: {first:?}");
        assert!(first.iter().any(|&i| i > 65_536) && first.iter().any(|&i| i < 65_536));
    }

    #[test]
    fn mark_used_respects_bounds_and_duplicates() {
        let mut alloc = IndexAllocator::new(10);
        assert!(alloc.mark_used(3));
        assert!(!alloc.mark_used(3));
        assert!(!alloc.mark_used(10));
        assert_eq!(alloc.used(), 1);
        assert!(alloc.is_used(3) && !alloc.is_used(4) && !alloc.is_used(99));
    }
}
