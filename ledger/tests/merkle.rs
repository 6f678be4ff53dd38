//! RFC 9162 known answers: roots and proofs computed independently here (a literal recursive
//! transcription of the RFC) must match the registry's, and every mutation of a proof fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dojang_ledger::merkle::{self, Hash, MemoryTree, ProofError};
use sha2_free::sha256;

/// SHA-256 without the registry's code: a tiny independent wrapper over aws-lc's raw digest.
mod sha2_free {
    pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for p in parts {
            ctx.update(p);
        }
        ctx.finish().as_ref().try_into().unwrap()
    }
}

fn mth(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => sha256(&[]),
        1 => sha256(&[&[0], &leaves[0]]),
        n => {
            let k = largest_power_of_two_below(n);
            sha256(&[&[1], &mth(&leaves[..k]), &mth(&leaves[k..])])
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<Hash> {
    let n = leaves.len();
    if n == 1 {
        return vec![];
    }
    let k = largest_power_of_two_below(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b).
fn subproof(m: usize, leaves: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { vec![] } else { vec![mth(leaves)] };
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], b);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The reference leaves of the Certificate Transparency test suite.
fn ct_leaves() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        vec![0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        (0x60..=0x6f).collect(),
    ]
}

#[test]
fn ct_reference_roots() {
    let expected = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let leaves = ct_leaves();
    let mut tree = MemoryTree::new();
    for (i, leaf) in leaves.iter().enumerate() {
        tree.push(leaf);
        let size = i as u64 + 1;
        assert_eq!(
            hex(&mth(&leaves[..=i])),
            expected[i],
            "independent root at {size}"
        );
        assert_eq!(
            hex(&tree.root_at(size)),
            expected[i],
            "registry root at {size}"
        );
    }
    assert_eq!(hex(&tree.root_at(0)), hex(&sha256(&[])));
}

#[test]
fn proofs_match_the_rfc_definitions_for_every_small_tree() {
    let leaves: Vec<Vec<u8>> = (0..70u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.push(leaf);
    }
    for n in 1..=leaves.len() {
        let root = mth(&leaves[..n]);
        assert_eq!(tree.root_at(n as u64), root);
        for m in 0..n {
            let proof = tree.inclusion_proof(m as u64, n as u64).unwrap();
            assert_eq!(proof, path(m, &leaves[..n]), "PATH({m}, {n})");
            merkle::verify_inclusion(
                m as u64,
                n as u64,
                &merkle::leaf_hash(&leaves[m]),
                &proof,
                &root,
            )
            .unwrap();
        }
        for m in 1..=n {
            let proof = tree.consistency_proof(m as u64, n as u64).unwrap();
            let expected = if m == n {
                vec![]
            } else {
                subproof(m, &leaves[..n], true)
            };
            assert_eq!(proof, expected, "PROOF({m}, {n})");
            merkle::verify_consistency(m as u64, n as u64, &mth(&leaves[..m]), &root, &proof)
                .unwrap();
        }
    }
}

fn mutations(proof: &[Hash]) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    for i in 0..proof.len() {
        for bit in [0, 7, 100, 255] {
            let mut p = proof.to_vec();
            p[i][bit / 8] ^= 1 << (bit % 8);
            out.push(p);
        }
        let mut shorter = proof.to_vec();
        shorter.remove(i);
        out.push(shorter);
    }
    let mut longer = proof.to_vec();
    longer.push([7; 32]);
    out.push(longer);
    let mut front = proof.to_vec();
    front.insert(0, [7; 32]);
    out.push(front);
    if proof.len() > 1 {
        let mut swapped = proof.to_vec();
        swapped.swap(0, 1);
        if swapped != proof {
            out.push(swapped);
        }
    }
    out
}

#[test]
fn every_mutated_inclusion_proof_fails() {
    let mut tree = MemoryTree::new();
    for i in 0..37u32 {
        tree.push(&i.to_be_bytes());
    }
    let n = 37;
    let root = tree.root_at(n);
    for m in [0, 1, 5, 16, 31, 32, 35, 36] {
        let leaf = merkle::leaf_hash(&(m as u32).to_be_bytes());
        let proof = tree.inclusion_proof(m, n).unwrap();
        for bad in mutations(&proof) {
            assert!(
                merkle::verify_inclusion(m, n, &leaf, &bad, &root).is_err(),
                "mutated proof for {m}"
            );
        }
        // Right proof, wrong claims.
        if m + 1 < n {
            assert!(merkle::verify_inclusion(m + 1, n, &leaf, &proof, &root).is_err());
        }
        let mut other_leaf = leaf;
        other_leaf[0] ^= 1;
        assert_eq!(
            merkle::verify_inclusion(m, n, &other_leaf, &proof, &root),
            Err(ProofError::RootMismatch)
        );
        let mut other_root = root;
        other_root[31] ^= 0x80;
        assert_eq!(
            merkle::verify_inclusion(m, n, &leaf, &proof, &other_root),
            Err(ProofError::RootMismatch)
        );
    }
    assert_eq!(
        merkle::verify_inclusion(37, 37, &[0; 32], &[], &root),
        Err(ProofError::IndexOutOfRange {
            index: 37,
            size: 37
        })
    );
}

#[test]
fn every_mutated_consistency_proof_fails() {
    let mut tree = MemoryTree::new();
    for i in 0..50u32 {
        tree.push(&i.to_be_bytes());
    }
    for (m, n) in [
        (1, 50),
        (3, 7),
        (4, 8),
        (8, 50),
        (13, 50),
        (32, 33),
        (49, 50),
    ] {
        let (old, new) = (tree.root_at(m), tree.root_at(n));
        let proof = tree.consistency_proof(m, n).unwrap();
        merkle::verify_consistency(m, n, &old, &new, &proof).unwrap();
        for bad in mutations(&proof) {
            assert!(
                merkle::verify_consistency(m, n, &old, &new, &bad).is_err(),
                "mutated proof {m}→{n}"
            );
        }
        assert!(
            merkle::verify_consistency(m + 1, n, &old, &new, &proof).is_err(),
            "wrong first size {m}→{n}"
        );
        let mut forked = new;
        forked[0] ^= 1;
        assert_eq!(
            merkle::verify_consistency(m, n, &old, &forked, &proof),
            Err(ProofError::RootMismatch)
        );
    }
    let root = tree.root_at(10);
    assert_eq!(
        merkle::verify_consistency(10, 10, &root, &root, &[]),
        Ok(())
    );
    assert!(merkle::verify_consistency(10, 10, &root, &[0; 32], &[]).is_err());
    assert!(merkle::verify_consistency(10, 10, &root, &root, &[root]).is_err());
    assert_eq!(
        merkle::verify_consistency(11, 10, &root, &root, &[]),
        Err(ProofError::InvalidSizes {
            first: 11,
            second: 10
        })
    );
    assert_eq!(
        merkle::verify_consistency(0, 10, &[0; 32], &root, &[]),
        Ok(())
    );
}

#[test]
fn perfect_node_decomposition() {
    assert_eq!(merkle::perfect_nodes(0..8), [(3, 0)]);
    assert_eq!(merkle::perfect_nodes(0..7), [(2, 0), (1, 2), (0, 6)]);
    assert_eq!(merkle::perfect_nodes(4..7), [(1, 2), (0, 6)]);
    assert_eq!(merkle::perfect_nodes(8..13), [(2, 2), (0, 12)]);
}
