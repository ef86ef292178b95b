//! Timings of single kernels on a cache-resident state: the figures behind the cost model
//! of the fusion pass (`sim::fuse`, private), printed by
//! `cargo run --release --example fusion_costs`.

use super::block::Block;
use super::kernels::{self, Kernel, Subspace};
use super::simd::Cpu;
use crate::aligned::Aligned;
use crate::par::Par;
use num_complex::Complex64 as C64;
use std::time::Instant;

/// Nanoseconds per amplitude of one application of each kernel kind to a state of
/// `2^qubits` amplitudes (13 to 24 qubits), the best of `reps` applications each.
#[doc(hidden)]
pub fn kernel_costs(qubits: usize, reps: usize) -> Vec<(String, f64)> {
    let n = qubits.clamp(13, 24);
    let len = 1usize << n;
    // A normalised state and unitary test matrices, so that repeated applications neither
    // decay into subnormal numbers nor grow: the state stays in cache between timings.
    // From a cache line, as a state's amplitudes are.
    let mut amps = Aligned::from_vec(
        (0..len)
            .map(|i| {
                C64::new((i as f64 * 0.37).sin(), (i as f64 * 0.11).cos())
                    * (1.0 / len as f64).sqrt()
            })
            .collect(),
    );
    let z = C64::new(0.6, 0.8);
    let one_qubit = |a: f64| -> [C64; 4] {
        // U(θ, φ, λ) with every entry nonzero and complex.
        let (t, p, l) = (0.3 + a, 0.7 * a + 0.2, 1.1 - a);
        let (c, s) = ((t / 2.0).cos(), (t / 2.0).sin());
        [
            C64::new(c, 0.0),
            -C64::from_polar(s, l),
            C64::from_polar(s, p),
            C64::from_polar(c, p + l),
        ]
    };
    let dense = one_qubit(0.0);
    // The Kronecker product of `k` one-qubit unitaries (row-major): unitary and dense.
    let matrix = |k: usize| -> Vec<C64> {
        let dim = 1usize << k;
        let factors: Vec<[C64; 4]> = (0..k).map(|q| one_qubit(0.4 * q as f64)).collect();
        (0..dim * dim)
            .map(|i| {
                let (r, c) = (i / dim, i % dim);
                factors
                    .iter()
                    .enumerate()
                    .map(|(q, f)| f[(r >> q & 1) * 2 + (c >> q & 1)])
                    .product()
            })
            .collect()
    };
    let diag = |k: usize| -> Vec<C64> {
        (0..1usize << k)
            .map(|i| C64::from_polar(1.0, i as f64))
            .collect()
    };
    let mut cases: Vec<(String, Kernel, Subspace)> = vec![
        (
            "flip t=5".into(),
            Kernel::Flip { t: 5 },
            Subspace::new(&[], &[5]),
        ),
        (
            "cx c=3 t=7".into(),
            Kernel::Flip { t: 7 },
            Subspace::new(&[3], &[7]),
        ),
        (
            "swap 4,9".into(),
            Kernel::Swap { t: [4, 9] },
            Subspace::new(&[], &[4, 9]),
        ),
        (
            "phase t=6".into(),
            Kernel::Phase { t: 6, d: z },
            Subspace::new(&[], &[6]),
        ),
        (
            "cp 2,6".into(),
            Kernel::Phase { t: 6, d: z },
            Subspace::new(&[2], &[6]),
        ),
        (
            "diagonal t=6".into(),
            Kernel::Diagonal {
                t: 6,
                d: [z, z.conj()],
            },
            Subspace::new(&[], &[6]),
        ),
        (
            "dense t=0".into(),
            Kernel::Dense { t: 0, m: dense },
            Subspace::new(&[], &[0]),
        ),
        (
            "dense t=6".into(),
            Kernel::Dense { t: 6, m: dense },
            Subspace::new(&[], &[6]),
        ),
        (
            "select c=2 t=6".into(),
            Kernel::SelectDense {
                c: 2,
                t: 6,
                m: [dense, dense],
            },
            Subspace::new(&[], &[2, 6]),
        ),
        (
            "dense2 3,8".into(),
            Kernel::Dense2 {
                t: [3, 8],
                m: matrix(2).try_into().unwrap(),
            },
            Subspace::new(&[], &[3, 8]),
        ),
    ];
    for qs in [
        &[6][..],
        &[3, 8],
        &[2, 3],
        &[5, 6],
        &[4, 12],
        &[2, 9],
        &[0, 8],
        &[0, 1],
        &[2, 5, 9],
        &[0, 5, 9],
        &[2, 5, 7, 9],
        &[0, 1, 7, 9],
        &[2, 4, 6, 8, 10],
    ] {
        cases.push((
            format!("block dense {qs:?}"),
            Block::dense(qs, matrix(qs.len())),
            Subspace::new(&[], qs),
        ));
    }
    for qs in [&[3, 8][..], &[0, 5, 9, 11], &[0, 2, 4, 5, 6, 8, 9, 11]] {
        cases.push((
            format!("block diagonal {qs:?}"),
            Block::diagonal(qs, diag(qs.len())),
            Subspace::new(&[], qs),
        ));
    }
    let cpu = Cpu::detect();
    cases
        .into_iter()
        .map(|(name, kernel, sub)| {
            let mut best = f64::INFINITY;
            for _ in 0..reps {
                let t = Instant::now();
                kernels::apply(&mut amps, &kernel, &sub, Par::Seq, cpu);
                best = best.min(t.elapsed().as_secs_f64());
            }
            (name, best * 1e9 / len as f64)
        })
        .collect()
}
