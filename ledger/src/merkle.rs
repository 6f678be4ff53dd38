//! RFC 9162 Merkle trees: hashing, proof construction and proof verification.
//!
//! Leaf hash `SHA-256(0x00 ‖ leaf)`, interior node `SHA-256(0x01 ‖ left ‖ right)`; a tree of
//! `n` leaves splits at the largest power of two below `n`. Every tree's structure is a set of
//! *perfect* subtrees — `(level, index)` covers leaves `index·2^level .. (index+1)·2^level` —
//! and any range's hash can be computed from them. A store only needs to keep perfect-subtree
//! hashes; proofs are assembled from `O(log n)` of them ([`NodeSource`]).
//!
//! Verification ([`verify_inclusion`], [`verify_consistency`]) follows RFC 9162 §2.1.3.2 and
//! §2.1.4.2 to the letter and is strict: sizes, indices and proof lengths are checked, so no
//! truncated, padded or re-labelled proof verifies.

use std::ops::Range;

use aws_lc_rs::digest;

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Why a proof did not verify (or could not be built).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The sizes of a consistency proof are not `0 < first ≤ second` (or equal with no proof).
    #[error("cannot prove consistency from size {first} to {second}")]
    InvalidSizes {
        /// The older tree size.
        first: u64,
        /// The newer tree size.
        second: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    #[error("proof has {found} hashes, expected {expected}")]
    WrongLength {
        /// Hashes expected.
        expected: usize,
        /// Hashes found.
        found: usize,
    },
    /// The proof does not lead to the expected root.
    #[error("proof does not match the root hash")]
    RootMismatch,
}

/// The hash of a leaf.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[0x00]);
    ctx.update(leaf);
    to_hash(ctx.finish())
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // One 65-byte message: a single digest call is measurably cheaper than three updates.
    let mut message = [0u8; 65];
    message[0] = 0x01;
    message[1..33].copy_from_slice(left);
    message[33..].copy_from_slice(right);
    to_hash(digest::digest(&digest::SHA256, &message))
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    to_hash(digest::digest(&digest::SHA256, b""))
}

fn to_hash(d: digest::Digest) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The largest power of two strictly less than `n` (for `n ≥ 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// A perfect subtree: `(level, index)` covers leaves `index·2^level .. (index+1)·2^level`.
pub type Node = (u32, u64);

/// The perfect subtrees that make up `range`, left to right (largest first, as in the tree).
pub fn perfect_nodes(range: Range<u64>) -> Vec<Node> {
    let mut nodes = Vec::new();
    decompose(range.start, range.end, &mut nodes);
    nodes
}

/// Splits `start..end` the way RFC 9162 splits a subtree: at the largest power of two.
fn decompose(start: u64, end: u64, out: &mut Vec<Node>) {
    let n = end - start;
    if n == 0 {
        return;
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        out.push((n.trailing_zeros(), start / n));
        return;
    }
    let k = split(n);
    decompose(start, start + k, out);
    decompose(start + k, end, out);
}

/// Combines the hashes of a range's perfect nodes (as ordered by [`perfect_nodes`]) into the
/// range's hash: the rightmost nodes fold first, as the tree nests them.
pub fn fold_nodes(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size`
/// (RFC 9162 §2.1.3.1), in proof order.
pub fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<Range<u64>>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut ranges = Vec::new();
    let (mut start, mut end, mut m) = (0, size, index);
    // PATH(m, D[start..end]), unrolled; collected leaf-first.
    while end - start > 1 {
        let k = split(end - start);
        if m < k {
            ranges.push(start + k..end);
            end = start + k;
        } else {
            ranges.push(start..start + k);
            start += k;
            m -= k;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// The ranges whose hashes form the consistency proof from `first` to `second`
/// (RFC 9162 §2.1.4.1), in proof order.
pub fn consistency_ranges(first: u64, second: u64) -> Result<Vec<Range<u64>>, ProofError> {
    if first == 0 || first > second {
        return Err(ProofError::InvalidSizes { first, second });
    }
    let mut ranges = Vec::new();
    let (mut start, mut end, mut m, mut complete) = (0, second, first, true);
    // SUBPROOF(m, D[start..end], complete), unrolled; collected from the top.
    loop {
        let n = end - start;
        if m == n {
            if !complete {
                ranges.push(start..end);
            }
            break;
        }
        let k = split(n);
        if m <= k {
            ranges.push(start + k..end);
            end = start + k;
        } else {
            ranges.push(start..start + k);
            start += k;
            m -= k;
            complete = false;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// Where a tree's perfect-subtree hashes come from (memory, a database…).
pub trait NodeSource {
    /// The error of a failed lookup.
    type Error;

    /// The hashes of `nodes`, in order. Every node lies within the tree.
    fn nodes(&mut self, nodes: &[Node]) -> Result<Vec<Hash>, Self::Error>;
}

/// The perfect nodes needed for the hashes of some ranges, to fetch in one batch (from memory
/// or a database), then [`Plan::fold`] back into one hash per range.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every node to fetch, range by range.
    pub nodes: Vec<Node>,
    lengths: Vec<usize>,
}

impl Plan {
    /// The nodes behind `ranges`.
    pub fn new(ranges: &[Range<u64>]) -> Self {
        let mut nodes = Vec::new();
        let mut lengths = Vec::with_capacity(ranges.len());
        for range in ranges {
            let before = nodes.len();
            decompose(range.start, range.end, &mut nodes);
            lengths.push(nodes.len() - before);
        }
        Plan { nodes, lengths }
    }

    /// One hash per range, from the hashes of [`Plan::nodes`] in order.
    pub fn fold(&self, hashes: &[Hash]) -> Vec<Hash> {
        let mut offset = 0;
        self.lengths
            .iter()
            .map(|&len| {
                let slice = &hashes[offset..offset + len];
                offset += len;
                fold_nodes(slice).unwrap_or_else(empty_root)
            })
            .collect()
    }
}

/// Hashes of `ranges` (each one a contiguous leaf range), fetched in one batch from `source`.
pub fn range_hashes<S: NodeSource>(
    source: &mut S,
    ranges: &[Range<u64>],
) -> Result<Vec<Hash>, S::Error> {
    let plan = Plan::new(ranges);
    let hashes = source.nodes(&plan.nodes)?;
    Ok(plan.fold(&hashes))
}

/// The root hash of the first `size` leaves.
pub fn root<S: NodeSource>(source: &mut S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    let whole = 0..size;
    Ok(range_hashes(source, std::slice::from_ref(&whole))?.remove(0))
}

/// Verifies that `leaf` (its leaf hash) is at `index` in the tree of `size` with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            found: proof.len(),
        });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::RootMismatch);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Verifies that the tree of `second` leaves with `second_root` extends the tree of `first`
/// leaves with `first_root` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal
/// roots; every tree extends the empty tree.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::InvalidSizes { first, second });
    }
    if first == second || first == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                found: proof.len(),
            });
        }
        return if first == 0 || first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let expected = consistency_len(first, second);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            found: proof.len(),
        });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(ProofError::RootMismatch);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if fr == *first_root && sr == *second_root && s == 0 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// The number of hashes in an inclusion proof.
pub fn inclusion_len(index: u64, size: u64) -> usize {
    inclusion_ranges(index, size).map_or(0, |r| r.len())
}

/// The number of hashes in a consistency proof (for `0 < first < second`).
pub fn consistency_len(first: u64, second: u64) -> usize {
    consistency_ranges(first, second).map_or(0, |r| r.len())
}

/// An in-memory tree of leaf hashes: for tests, and for small logs built offline.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of perfect node `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf (its data, hashed here); returns its index.
    pub fn push(&mut self, leaf: &[u8]) -> u64 {
        self.push_hash(leaf_hash(leaf))
    }

    /// Appends a leaf hash; returns its index.
    pub fn push_hash(&mut self, hash: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(hash);
        let index = self.levels[0].len() as u64 - 1;
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let row = &self.levels[level];
            let parent = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// Every perfect-subtree hash, as a store would keep it.
    pub fn nodes(&self) -> impl Iterator<Item = (Node, Hash)> + '_ {
        self.levels.iter().enumerate().flat_map(|(level, row)| {
            row.iter()
                .enumerate()
                .map(move |(i, h)| ((level as u32, i as u64), *h))
        })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Hash {
        let mut source = self;
        match root(&mut source, size) {
            Ok(hash) => hash,
            Err(never) => match never {},
        }
    }

    /// The inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        let ranges = inclusion_ranges(index, size)?;
        let mut source = self;
        match range_hashes(&mut source, &ranges) {
            Ok(hashes) => Ok(hashes),
            Err(never) => match never {},
        }
    }

    /// The consistency proof from `first` to `second`.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(second)?;
        if first == second {
            return Ok(Vec::new());
        }
        let ranges = consistency_ranges(first, second)?;
        let mut source = self;
        match range_hashes(&mut source, &ranges) {
            Ok(hashes) => Ok(hashes),
            Err(never) => match never {},
        }
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::IndexOutOfRange {
                index: size,
                size: self.size(),
            });
        }
        Ok(())
    }
}

impl NodeSource for &MemoryTree {
    type Error = std::convert::Infallible;

    fn nodes(&mut self, nodes: &[Node]) -> Result<Vec<Hash>, Self::Error> {
        Ok(nodes
            .iter()
            .map(|&(level, index)| self.levels[level as usize][index as usize])
            .collect())
    }
}
