//! Fused blocks: the product of several fixed steps on `k` qubits as one matrix, applied in
//! one pass ([`super::fuse`] decides which steps form a block).
//!
//! A block's qubits are its subspace's, ascending: local index bit `j` stands for the `j`-th
//! lowest. Two kinds:
//! - **dense**: `M` (2^k × 2^k, row-major, k ≤ [`MAX_DENSE_QUBITS`]); every group of 2^k
//!   amplitudes that agree outside the block's qubits is replaced by `M·v`: 2^k complex
//!   multiply-adds per amplitude;
//! - **diagonal**: `d` (2^k entries, k ≤ [`MAX_DIAGONAL_QUBITS`]), amplitude `i` multiplied
//!   by `d[local(i)]`: one complex product per amplitude however many gates it merged (runs
//!   of `cp`, `cz`, `rzz`, `crz`, `p`, `rz` on different qubits: most of a QFT).
//!
//! The vector forms (`simd::DenseLanes`, `simd::DiagonalRows`) are built once per block for
//! its qubits below 2 (dense: the lanes of a 512-bit register hold four consecutive
//! amplitudes) or below 4 (diagonal: one row of 16 factors per value of the other bits). A
//! stage of the cache-blocking plan renames qubits monotonically and keeps qubits below
//! [`super::blocking::LOW_QUBITS`] in place, so the forms hold there too; where they would not,
//! the portable loop runs.

use super::blocking::Shared;
use super::kernels::{Kernel, Subspace};
use super::simd::{self, Cpu};
use crate::par::Par;
use num_complex::Complex64 as C64;
use rayon::prelude::*;
use std::sync::Arc;

/// Most qubits of a dense block (32 × 32 complex entries, 16 KiB).
pub(crate) const MAX_DENSE_QUBITS: usize = 5;

/// Most qubits of a diagonal block.
pub(crate) const MAX_DIAGONAL_QUBITS: usize = 8;

/// Amplitudes per rayon task (as the other kernels).
pub(crate) const TASK_LEN: usize = 1 << 13;

/// A fused block (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Dense {
        k: usize,
        /// Row-major `2^k × 2^k`.
        m: Vec<C64>,
        wide: simd::DenseLanes,
    },
    Diagonal {
        k: usize,
        d: Vec<C64>,
        rows: simd::DiagonalRows,
    },
}

impl Block {
    /// The dense block `m` on `qubits` (ascending).
    pub(crate) fn dense(qubits: &[usize], m: Vec<C64>) -> Kernel {
        let k = qubits.len();
        debug_assert!(k <= MAX_DENSE_QUBITS && m.len() == 1 << (2 * k));
        let wide = simd::DenseLanes::new(qubits, &m);
        Kernel::Block(Arc::new(Block::Dense { k, m, wide }))
    }

    /// The diagonal block `d` on `qubits` (ascending).
    pub(crate) fn diagonal(qubits: &[usize], d: Vec<C64>) -> Kernel {
        let k = qubits.len();
        debug_assert!(k <= MAX_DIAGONAL_QUBITS && d.len() == 1 << k);
        let rows = simd::DiagonalRows::new(qubits, &d);
        Kernel::Block(Arc::new(Block::Diagonal { k, d, rows }))
    }

    /// Number of qubits.
    pub(crate) fn num_qubits(&self) -> usize {
        match self {
            Block::Dense { k, .. } | Block::Diagonal { k, .. } => *k,
        }
    }

    /// Whether the block is diagonal.
    pub(crate) fn is_diagonal(&self) -> bool {
        matches!(self, Block::Diagonal { .. })
    }

    /// The block's full matrix, row-major (the tests' reference).
    #[cfg(test)]
    pub(crate) fn matrix(&self) -> Vec<C64> {
        match self {
            Block::Dense { m, .. } => m.clone(),
            Block::Diagonal { k, d, .. } => {
                let dim = 1 << k;
                let mut m = vec![C64::new(0.0, 0.0); dim * dim];
                for (r, v) in d.iter().enumerate() {
                    m[r * dim + r] = *v;
                }
                m
            }
        }
    }
}

/// The offset of each local index: local bit `j` set adds `2^{qubits[j]}`.
pub(crate) fn local_offsets(qubits: &[usize]) -> Vec<usize> {
    (0..1usize << qubits.len())
        .map(|r| {
            qubits
                .iter()
                .enumerate()
                .filter(|(j, _)| r >> j & 1 == 1)
                .map(|(_, q)| 1usize << q)
                .sum()
        })
        .collect()
}

/// The local index of amplitude `i`: bit `j` is bit `qubits[j]` of `i`.
#[inline(always)]
pub(crate) fn local_index(qubits: &[usize], i: usize) -> usize {
    qubits
        .iter()
        .enumerate()
        .fold(0, |r, (j, &q)| r | ((i >> q & 1) << j))
}

/// Applies `block` on the qubits of `sub` (no controls) to the amplitudes.
pub(crate) fn apply(amps: &mut [C64], block: &Block, sub: &Subspace, par: Par, cpu: Cpu) {
    let qubits: Vec<usize> = sub.qubits().collect();
    debug_assert_eq!(qubits.len(), block.num_qubits());
    debug_assert_eq!(sub.ctrl, 0);
    match block {
        Block::Dense { m, wide, .. } => {
            if simd::dense_block_wide(amps, &qubits, wide, par, cpu) {
                return;
            }
            dense_portable(amps, sub, &qubits, m, par);
        }
        Block::Diagonal { d, rows, .. } => {
            if rows.holds(&qubits, amps.len()) {
                let rows = |(t, x): (usize, &mut [C64])| rows.apply(t * TASK_LEN, x, &qubits, cpu);
                return match par {
                    Par::Seq => rows((0, amps)),
                    Par::Rayon => amps.par_chunks_mut(TASK_LEN).enumerate().for_each(rows),
                };
            }
            // A state smaller than the rows: amplitude by amplitude.
            for (i, a) in amps.iter_mut().enumerate() {
                *a *= d[local_index(&qubits, i)];
            }
        }
    }
}

/// The dense block amplitude group by group: gather `v`, `M·v`, scatter.
fn dense_portable(amps: &mut [C64], sub: &Subspace, qubits: &[usize], m: &[C64], par: Par) {
    dense_groups(amps, sub, &local_offsets(qubits), m, par);
}

/// `v ← M·v` on the amplitudes `b + offsets[..]` of every base `b` that `group` walks:
/// gather, multiply, scatter (the reference loop of a dense block, in either precision).
pub(crate) fn dense_groups<C>(
    amps: &mut [C],
    group: &Subspace,
    offsets: &[usize],
    m: &[C],
    par: Par,
) where
    C: Copy + Default + Send + Sync + std::ops::Add<Output = C> + std::ops::Mul<Output = C>,
{
    let dim = offsets.len();
    let len = amps.len();
    let shared = Shared(amps.as_mut_ptr());
    // SAFETY: base indices have every block bit clear and are distinct, so the groups
    // `b + offsets[..]` are disjoint across calls and in bounds.
    group.for_each_run(len, par, |start, run| unsafe {
        let mut v = [C::default(); 1 << MAX_DENSE_QUBITS];
        for b in start..start + run {
            for (c, o) in offsets.iter().enumerate() {
                v[c] = *shared.ptr(b + o);
            }
            for (r, o) in offsets.iter().enumerate() {
                let row = &m[r * dim..(r + 1) * dim];
                *shared.ptr(b + o) = row
                    .iter()
                    .zip(&v[..dim])
                    .fold(C::default(), |acc, (&x, &y)| acc + x * y);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;
    use rand::Rng;

    fn random_state(n: usize, seed: u64) -> Vec<C64> {
        let mut rng = Stream::new(seed).rng();
        (0..1 << n)
            .map(|_| C64::new(rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5))
            .collect()
    }

    fn random_matrix(k: usize, seed: u64) -> Vec<C64> {
        random_state(2 * k, seed)
    }

    /// `M` applied by the definition: for every index, the row of its local part.
    fn reference(amps: &[C64], qubits: &[usize], m: &[C64]) -> Vec<C64> {
        let dim = 1 << qubits.len();
        let local = |i: usize| local_index(qubits, i);
        let clear: usize = qubits.iter().map(|q| 1usize << q).sum();
        (0..amps.len())
            .map(|i| {
                let r = local(i);
                (0..dim)
                    .map(|c| {
                        let j = (i & !clear) | local_offsets(qubits)[c];
                        m[r * dim + c] * amps[j]
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn dense_and_diagonal_blocks_equal_the_definition_on_every_instruction_set() {
        let n = 9;
        let sets: &[&[usize]] = &[
            &[0],
            &[1],
            &[3],
            &[0, 1],
            &[0, 5],
            &[1, 2],
            &[2, 7],
            &[4, 8],
            &[0, 1, 2],
            &[1, 4, 6],
            &[2, 3, 8],
            &[0, 2, 4, 6],
            &[3, 5, 6, 7],
            &[0, 1, 5, 6, 8],
            &[2, 3, 4, 5, 6],
            &[0, 1, 2, 3, 4, 5, 6, 7],
            &[1, 3, 4, 5, 6, 7, 8],
        ];
        let cpus = [
            Cpu::detect(),
            Cpu::detect().without_avx512(),
            Cpu::portable(),
        ];
        for (s, qubits) in sets.iter().enumerate() {
            let sub = Subspace::new(&[], qubits);
            let psi = random_state(n, 10 + s as u64);
            let kernels = if qubits.len() <= MAX_DENSE_QUBITS {
                let m = random_matrix(qubits.len(), 50 + s as u64);
                vec![(Block::dense(qubits, m.clone()), m)]
            } else {
                vec![]
            };
            let d = random_state(qubits.len(), 90 + s as u64);
            let diagonal = Block::diagonal(qubits, d);
            let Kernel::Block(b) = &diagonal else {
                unreachable!()
            };
            let dm = b.matrix();
            for (kernel, m) in kernels.into_iter().chain([(diagonal, dm)]) {
                let Kernel::Block(block) = &kernel else {
                    unreachable!()
                };
                let want = reference(&psi, qubits, &m);
                for cpu in cpus {
                    for par in [Par::Seq, Par::Rayon] {
                        let mut got = psi.clone();
                        apply(&mut got, block, &sub, par, cpu);
                        for (g, w) in got.iter().zip(&want) {
                            assert!((g - w).norm() < 1e-13, "{qubits:?} {cpu:?}: {g} vs {w}");
                        }
                    }
                }
            }
        }
    }

    /// AVX-512 (lane qubits 0 and 1) and AVX2 (lane qubit 0) sum every output's terms in the
    /// same order: the same bits for dense blocks on any qubits, the lane qubits included.
    /// (Where the CPU lacks AVX-512 both runs take AVX2, and the test holds trivially.)
    #[test]
    fn register_widths_give_the_same_bits() {
        let n = 9;
        let bits = |x: &[C64]| -> Vec<(u64, u64)> {
            x.iter().map(|a| (a.re.to_bits(), a.im.to_bits())).collect()
        };
        let sets: &[&[usize]] = &[
            &[0],
            &[1],
            &[0, 1],
            &[1, 2],
            &[0, 5],
            &[1, 7],
            &[0, 1, 4],
            &[1, 3, 8],
            &[0, 2, 4, 6],
            &[1, 2, 5, 8],
            &[0, 1, 3, 6, 8],
            &[1, 2, 3, 4, 5],
        ];
        for (s, qubits) in sets.iter().enumerate() {
            let sub = Subspace::new(&[], qubits);
            let psi = random_state(n, 20 + s as u64);
            let m = random_matrix(qubits.len(), 60 + s as u64);
            let kernel = Block::dense(qubits, m);
            let Kernel::Block(block) = &kernel else {
                unreachable!()
            };
            let run = |cpu: Cpu| {
                let mut x = psi.clone();
                apply(&mut x, block, &sub, Par::Seq, cpu);
                x
            };
            let (wide, narrow) = (run(Cpu::detect()), run(Cpu::detect().without_avx512()));
            assert_eq!(bits(&wide), bits(&narrow), "dense block on {qubits:?}");
        }
    }
}
