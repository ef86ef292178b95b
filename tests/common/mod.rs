//! Slow, obviously-correct references shared by the integration tests.
#![allow(dead_code)]

use num_complex::Complex64 as C;
use qloop::StateVector;
use rand::{Rng, SeedableRng};

/// A dense matrix, row-major, square.
pub type Mat = Vec<Vec<C>>;

pub fn c(re: f64, im: f64) -> C {
    C::new(re, im)
}

/// The tolerance for comparing results of `ops` floating-point operations on values of size
/// ~1 in dimension `dim`: a few ε per operation along the longest accumulation.
pub fn tol(dim: usize) -> f64 {
    32.0 * f64::EPSILON * (dim as f64).max(1.0)
}

pub fn identity(dim: usize) -> Mat {
    (0..dim)
        .map(|r| {
            (0..dim)
                .map(|k| if r == k { c(1.0, 0.0) } else { c(0.0, 0.0) })
                .collect()
        })
        .collect()
}

pub fn kron(a: &Mat, b: &Mat) -> Mat {
    let (m, n) = (a.len(), b.len());
    let mut out = vec![vec![c(0.0, 0.0); m * n]; m * n];
    for i in 0..m {
        for j in 0..m {
            for k in 0..n {
                for l in 0..n {
                    out[i * n + k][j * n + l] = a[i][j] * b[k][l];
                }
            }
        }
    }
    out
}

/// `kron(ms[0], kron(ms[1], ...))`: the first factor acts on the highest qubit.
pub fn kron_all(ms: &[Mat]) -> Mat {
    ms.iter()
        .skip(1)
        .fold(ms[0].clone(), |acc, m| kron(&acc, m))
}

pub fn add(a: &Mat, b: &Mat) -> Mat {
    a.iter()
        .zip(b)
        .map(|(r, s)| r.iter().zip(s).map(|(x, y)| x + y).collect())
        .collect()
}

pub fn scale(a: &Mat, s: C) -> Mat {
    a.iter()
        .map(|r| r.iter().map(|x| x * s).collect())
        .collect()
}

pub fn matmul(a: &Mat, b: &Mat) -> Mat {
    let n = a.len();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum())
                .collect()
        })
        .collect()
}

pub fn apply(m: &Mat, v: &[C]) -> Vec<C> {
    m.iter()
        .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
        .collect()
}

/// `|a⟩⟨b|` on one qubit.
pub fn unit(a: usize, b: usize) -> Mat {
    let mut m = vec![vec![c(0.0, 0.0); 2]; 2];
    m[a][b] = c(1.0, 0.0);
    m
}

/// Embeds a `2^k`-dimensional `local` matrix (bit `j` of its index = operand `j`) acting on
/// `qubits` into `n` qubits, as `Σ_{a,b} local[a][b] ⊗_q op_q` with `op_q = |a_j⟩⟨b_j|` on
/// operand qubits and `I` elsewhere: a literal sum of Kronecker products.
pub fn embed(local: &Mat, qubits: &[usize], n: usize) -> Mat {
    let dim = 1 << n;
    let mut full = vec![vec![c(0.0, 0.0); dim]; dim];
    for (a, row) in local.iter().enumerate() {
        for (b, &v) in row.iter().enumerate() {
            if v == c(0.0, 0.0) {
                continue;
            }
            let factors: Vec<Mat> = (0..n)
                .rev()
                .map(|q| match qubits.iter().position(|&x| x == q) {
                    Some(j) => unit((a >> j) & 1, (b >> j) & 1),
                    None => identity(2),
                })
                .collect();
            full = add(&full, &scale(&kron_all(&factors), v));
        }
    }
    full
}

pub fn random_state(n: usize, seed: u64) -> StateVector {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v: Vec<C> = (0..1 << n)
        .map(|_| c(rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5))
        .collect();
    let norm = v.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    v.iter_mut().for_each(|a| *a /= norm);
    StateVector::from_amplitudes(v).unwrap()
}

pub fn max_diff(a: &[C], b: &[C]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

pub fn assert_close(actual: &[C], expected: &[C], tolerance: f64, what: &str) {
    let d = max_diff(actual, expected);
    assert!(
        d <= tolerance,
        "{what}: max amplitude difference {d:e} > {tolerance:e}"
    );
}

/// Every gate of the set on random operands with random constant angles, seeded.
pub fn random_circuit(n: usize, len: usize, seed: u64) -> qloop::Circuit {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let gates = qloop::Gate::all();
    let mut c = qloop::Circuit::new(n);
    for _ in 0..len {
        let mut g = gates[rng.random_range(0..gates.len())].clone();
        if g.num_qubits() > n {
            continue;
        }
        for a in g.angles_mut() {
            *a = qloop::Angle::constant(rng.random_range(-3.0..3.0));
        }
        let mut qubits: Vec<usize> = (0..n).collect();
        for k in 0..g.num_qubits() {
            let j = rng.random_range(k..n);
            qubits.swap(k, j);
        }
        qubits.truncate(g.num_qubits());
        c = c.gate(g, &qubits);
    }
    c
}
