//! Single-precision kernels: every bound kernel as one block on its subspace's qubits.
//!
//! A kernel of the double-precision set acts on the `k` qubits of its subspace (targets and
//! controls, `k ≤ 3` for a gate, up to 5 for a fused dense block and 8 for a diagonal one).
//! Its full `2^k × 2^k` matrix — the identity where a control is 0 — is formed in `f64` by
//! running the kernel itself on the columns of the identity (as [`super::fuse`] forms its
//! blocks), then rounded to `f32` once per stage of a run. A diagonal matrix becomes a
//! diagonal block (one complex product per amplitude), any other a dense block (`2^k`
//! complex multiply-adds per amplitude), applied by the single-precision loops of
//! [`super::simd`] (eight amplitudes per AVX-512 register, four per AVX2 register) or by the
//! portable loop below. So one pair of loops carries every gate kind, and each kernel's
//! single-precision matrix is by construction the rounding of the double-precision one.

use super::block::{self, Block, MAX_DENSE_QUBITS};
use super::kernels::{self, Kernel, Subspace};
use super::simd::{self, Cpu, DenseLanesSingle, DiagonalRowsSingle};
use crate::par::Par;
use num_complex::{Complex32 as C32, Complex64 as C64};
use rayon::prelude::*;

/// A kernel prepared for a single-precision state (see the module documentation): one
/// diagonal block, or dense parts, each on the amplitudes where its fixed qubits read its
/// value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KernelSingle {
    Diagonal {
        /// The subspace's qubits, ascending (local bit `j` is `qubits[j]`).
        qubits: Vec<usize>,
        d: Vec<C32>,
        rows: DiagonalRowsSingle,
    },
    Dense(Vec<DensePart>),
}

/// A dense block on `qubits`, applied where the qubits of the mask `fixed` read `value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DensePart {
    qubits: Vec<usize>,
    fixed: usize,
    value: usize,
    /// Row-major `2^k × 2^k`.
    m: Vec<C32>,
    lanes: DenseLanesSingle,
}

fn round(z: &C64) -> C32 {
    C32::new(z.re as f32, z.im as f32)
}

/// Qubits below this are lane qubits of the widest single-precision registers of `cpu`.
fn lane_qubits(cpu: Cpu) -> usize {
    match (cpu.avx512(), cpu.avx2()) {
        (true, _) => 3,
        (false, true) => 2,
        (false, false) => 0,
    }
}

impl KernelSingle {
    /// `kernel` on the qubits of `sub`, as blocks in single precision.
    pub(crate) fn new(kernel: Kernel, sub: &Subspace, cpu: Cpu) -> KernelSingle {
        let qubits: Vec<usize> = sub.qubits().collect();
        let m = match &kernel {
            Kernel::Identity => return KernelSingle::Dense(Vec::new()),
            Kernel::Block(b) => match &**b {
                Block::Dense { m, .. } => m.clone(),
                Block::Diagonal { d, .. } => return Self::diagonal(qubits, d),
            },
            _ => matrix(&kernel, sub, &qubits),
        };
        let dim = 1usize << qubits.len();
        let zero = C64::new(0.0, 0.0);
        if (0..dim * dim).all(|e| e / dim == e % dim || m[e] == zero) {
            let d: Vec<C64> = (0..dim).map(|r| m[r * dim + r]).collect();
            return Self::diagonal(qubits, &d);
        }
        KernelSingle::Dense(split(&qubits, &m, lane_qubits(cpu), cpu))
    }

    fn diagonal(qubits: Vec<usize>, d: &[C64]) -> KernelSingle {
        KernelSingle::Diagonal {
            rows: DiagonalRowsSingle::new(&qubits, d),
            d: d.iter().map(round).collect(),
            qubits,
        }
    }

    /// Applies the kernel to `amps` (`sub` is the subspace it was prepared for).
    pub(crate) fn apply(&self, amps: &mut [C32], sub: &Subspace, par: Par, cpu: Cpu) {
        let _ = sub;
        match self {
            KernelSingle::Dense(parts) => {
                for p in parts {
                    let fixed = (p.fixed, p.value);
                    if !simd::dense_block_wide_single(amps, &p.qubits, fixed, &p.lanes, par, cpu) {
                        dense_portable(amps, p, par);
                    }
                }
            }
            KernelSingle::Diagonal { qubits, d, rows } => {
                if rows.holds(qubits, amps.len()) {
                    let apply = |(t, x): (usize, &mut [C32])| {
                        rows.apply(t * block::TASK_LEN, x, qubits, cpu)
                    };
                    return match par {
                        Par::Seq => apply((0, amps)),
                        Par::Rayon => amps
                            .par_chunks_mut(block::TASK_LEN)
                            .enumerate()
                            .for_each(apply),
                    };
                }
                // A state smaller than the rows: amplitude by amplitude.
                for (i, a) in amps.iter_mut().enumerate() {
                    *a *= d[block::local_index(qubits, i)];
                }
            }
        }
    }
}

/// The dense matrix `m` on `qubits` split at its *selector* qubits: a qubit at or above
/// `lanes` whose bit `m` never changes (it is block-diagonal in it: a control, or the select
/// bit of a controlled gate fused with the run before it) splits the block into one block per
/// value of the selectors, each on the other qubits and applied where the selectors read its
/// value; identity parts (where a control is 0) are dropped. A CX then costs one 2×2 update
/// of half the amplitudes, not a 4×4 update of all.
fn split(qubits: &[usize], m: &[C64], lanes: usize, cpu: Cpu) -> Vec<DensePart> {
    let k = qubits.len();
    let dim = 1usize << k;
    let zero = C64::new(0.0, 0.0);
    let selector = |j: usize| {
        qubits[j] >= lanes
            && (0..dim * dim).all(|e| ((e / dim) ^ (e % dim)) >> j & 1 == 0 || m[e] == zero)
    };
    let selectors: Vec<usize> = (0..k).filter(|&j| selector(j)).collect();
    let rest: Vec<usize> = (0..k).filter(|j| !selectors.contains(j)).collect();
    let sub_qubits: Vec<usize> = rest.iter().map(|&j| qubits[j]).collect();
    let fixed: usize = selectors.iter().map(|&j| 1usize << qubits[j]).sum();
    let sub_dim = 1usize << rest.len();
    let mut parts = Vec::new();
    for v in 0..1usize << selectors.len() {
        // The local index of (rest index r, selector values v).
        let local = |r: usize| -> usize {
            let a: usize = rest
                .iter()
                .enumerate()
                .map(|(i, &j)| (r >> i & 1) << j)
                .sum();
            let b: usize = selectors
                .iter()
                .enumerate()
                .map(|(i, &j)| (v >> i & 1) << j)
                .sum();
            a | b
        };
        let part: Vec<C64> = (0..sub_dim * sub_dim)
            .map(|e| m[local(e / sub_dim) * dim + local(e % sub_dim)])
            .collect();
        let identity = (0..sub_dim * sub_dim).all(|e| {
            part[e]
                == if e / sub_dim == e % sub_dim {
                    C64::new(1.0, 0.0)
                } else {
                    zero
                }
        });
        if identity {
            continue;
        }
        let value: usize = selectors
            .iter()
            .enumerate()
            .map(|(i, &j)| (v >> i & 1) << qubits[j])
            .sum();
        parts.push(DensePart {
            lanes: DenseLanesSingle::new(&sub_qubits, &part, cpu),
            m: part.iter().map(round).collect(),
            qubits: sub_qubits.clone(),
            fixed,
            value,
        });
    }
    parts
}

/// The full matrix (row-major, double precision) of `kernel` on the qubits of `sub`:
/// the kernel, renamed to local qubits, run on the columns of the identity laid out as a
/// state whose low `k` qubits are the row and high `k` the column.
fn matrix(kernel: &Kernel, sub: &Subspace, qubits: &[usize]) -> Vec<C64> {
    let k = qubits.len();
    debug_assert!(k <= MAX_DENSE_QUBITS, "gates act on at most 3 qubits");
    let local = |q: usize| qubits.iter().position(|&p| p == q).expect("subspace qubit");
    let (kernel, sub) = (kernel.clone().remap(local), sub.remap(local));
    let dim = 1usize << k;
    let mut columns = vec![C64::new(0.0, 0.0); dim * dim];
    for c in 0..dim {
        columns[c << k | c] = C64::new(1.0, 0.0);
    }
    kernels::apply(&mut columns, &kernel, &sub, Par::Seq, Cpu::portable());
    let mut m = vec![C64::new(0.0, 0.0); dim * dim];
    for r in 0..dim {
        for c in 0..dim {
            m[r * dim + c] = columns[r | c << k];
        }
    }
    m
}

/// A dense part group by group: gather `v`, `M·v`, scatter (the reference loop, and the path
/// where no vector form applies).
fn dense_portable(amps: &mut [C32], part: &DensePart, par: Par) {
    // Base indices: zeros at the part's qubits and its fixed qubits, then the fixed value.
    let fixed = |bit: usize| {
        (0..usize::BITS as usize)
            .filter(move |&q| part.fixed >> q & 1 == 1 && part.value >> q & 1 == bit)
    };
    let ones: Vec<usize> = fixed(1).collect();
    let zeros: Vec<usize> = fixed(0).chain(part.qubits.iter().copied()).collect();
    let group = Subspace::new(&ones, &zeros);
    let offsets = block::local_offsets(&part.qubits);
    block::dense_groups(amps, &group, &offsets, &part.m, par);
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

    /// Every kernel shape — one-qubit, controlled on a lane or a high qubit, select, two-qubit,
    /// real and complex, fused dense and diagonal blocks — on each instruction set, serial and
    /// parallel, against the double-precision kernel.
    #[test]
    fn single_precision_kernels_equal_double_on_every_instruction_set() {
        let n = 9;
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let c = |re: f64, im: f64| C64::new(re, im);
        let hm = [c(h, 0.0), c(h, 0.0), c(h, 0.0), c(-h, 0.0)];
        let u = [c(0.6, 0.0), c(0.0, 0.8), c(0.0, 0.8), c(0.6, 0.0)];
        let mut cases: Vec<(Kernel, Subspace)> = Vec::new();
        for (t, ctrl) in [
            (0, None),
            (4, None),
            (1, Some(5)),
            (6, Some(0)),
            (3, Some(7)),
        ] {
            let controls: Vec<usize> = ctrl.into_iter().collect();
            let sub = Subspace::new(&controls, &[t]);
            cases.push((Kernel::Dense { t, m: hm }, sub));
            cases.push((Kernel::Dense { t, m: u }, sub));
            cases.push((Kernel::Flip { t }, sub));
            cases.push((
                Kernel::Diagonal {
                    t,
                    d: [c(0.6, 0.8), c(0.0, 1.0)],
                },
                sub,
            ));
        }
        for (a, b) in [(0, 1), (2, 6), (5, 8), (7, 1)] {
            let sub = Subspace::new(&[], &[a, b]);
            cases.push((Kernel::Swap { t: [a, b] }, sub));
            cases.push((
                Kernel::SelectDense {
                    c: a,
                    t: b,
                    m: [hm, u],
                },
                sub,
            ));
        }
        cases.push((Kernel::Flip { t: 2 }, Subspace::new(&[4, 8], &[2])));
        cases.push((Kernel::Swap { t: [0, 6] }, Subspace::new(&[3], &[0, 6])));
        for (s, qubits) in [&[0, 1, 5][..], &[2, 4, 6, 8], &[3, 4, 5, 6, 7]]
            .iter()
            .enumerate()
        {
            let m = random_state(2 * qubits.len(), 40 + s as u64);
            cases.push((Block::dense(qubits, m), Subspace::new(&[], qubits)));
        }
        let d = random_state(6, 3);
        let qubits = [0, 2, 3, 5, 7, 8];
        cases.push((Block::diagonal(&qubits, d), Subspace::new(&[], &qubits)));
        let cpus = [
            Cpu::detect(),
            Cpu::detect().without_avx512(),
            Cpu::portable(),
        ];
        for (i, (kernel, sub)) in cases.iter().enumerate() {
            let psi = random_state(n, 100 + i as u64);
            let mut want = psi.clone();
            kernels::apply(&mut want, kernel, sub, Par::Seq, Cpu::portable());
            for cpu in cpus {
                let prepared = KernelSingle::new(kernel.clone(), sub, cpu);
                for par in [Par::Seq, Par::Rayon] {
                    let mut got: Vec<C32> = psi.iter().map(round).collect();
                    prepared.apply(&mut got, sub, par, cpu);
                    for (g, w) in got.iter().zip(&want) {
                        let g = C64::new(g.re as f64, g.im as f64);
                        assert!((g - w).norm() < 2e-6, "{kernel:?} {cpu:?}: {g} vs {w}");
                    }
                }
            }
        }
    }
    /// A fused dense block gives the same bits on 512-bit registers (lane qubits 0–2) as on
    /// 256-bit ones (0–1), whichever of its qubits are lane qubits (trivially so on a CPU
    /// without AVX-512).
    #[test]
    fn register_widths_give_the_same_bits() {
        let n = 9;
        let bits = |x: &[C32]| -> Vec<(u32, u32)> {
            x.iter().map(|a| (a.re.to_bits(), a.im.to_bits())).collect()
        };
        let sets: &[&[usize]] = &[
            &[0],
            &[2],
            &[0, 1],
            &[1, 2],
            &[2, 6],
            &[0, 2, 5],
            &[1, 3, 8],
            &[0, 1, 2, 7],
            &[2, 3, 4, 6, 8],
        ];
        for (s, qubits) in sets.iter().enumerate() {
            let sub = Subspace::new(&[], qubits);
            let m = random_state(2 * qubits.len(), 70 + s as u64);
            let kernel = Block::dense(qubits, m);
            let psi: Vec<C32> = random_state(n, 80 + s as u64).iter().map(round).collect();
            let run = |cpu: Cpu| {
                let mut x = psi.clone();
                KernelSingle::new(kernel.clone(), &sub, cpu).apply(&mut x, &sub, Par::Seq, cpu);
                x
            };
            let (wide, narrow) = (run(Cpu::detect()), run(Cpu::detect().without_avx512()));
            assert_eq!(bits(&wide), bits(&narrow), "dense block on {qubits:?}");
        }
    }
}
