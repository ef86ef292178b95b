//! Noise channels as Kraus sets, `E(ρ) = Σₖ Kₖ ρ Kₖ†`, each checked for `Σₖ Kₖ†Kₖ = I`.
//!
//! Conventions (written once in `docs/conventions.md`, "Noise channels"): a channel on `k`
//! qubits has `2^k × 2^k` Kraus matrices, row-major, local index bit `j` = operand `j` (as
//! [`Gate::matrix`](crate::Gate::matrix)).
//!
//! - depolarizing, Qiskit's convention: `E(ρ) = (1 − p) ρ + p · I/2^k`, i.e. Kraus operators
//!   `√(1 − p + p/4^k) I` and `√(p/4^k) P` for the `4^k − 1` other Pauli strings `P`;
//! - amplitude damping (γ): `K₀ = [[1, 0], [0, √(1−γ)]]`, `K₁ = [[0, √γ], [0, 0]]`;
//! - phase damping (λ): `K₀ = [[1, 0], [0, √(1−λ)]]`, `K₁ = [[0, 0], [0, √λ]]`;
//! - Pauli (p_x, p_y, p_z): `√(1 − Σp) I, √p_x X, √p_y Y, √p_z Z`;
//! - thermal relaxation (T1, T2, t), ground-state bath: amplitude damping with
//!   `γ = 1 − e^{−t/T1}` followed by phase damping with `1 − λ = e^{t/T1 − 2t/T2}`, so the
//!   excited population decays as `e^{−t/T1}` and coherences as `e^{−t/T2}`; needs `T2 ≤ 2·T1`;
//! - a generic Kraus set given by its matrices.
//!
//! Readout error is not a channel on the state: [`ReadoutError`] flips a measured bit
//! with `P(1|0)` and `P(0|1)`.

pub mod density;
pub(crate) mod lower;
pub mod model;
pub mod simulate;
pub(crate) mod trajectories;

pub use density::{DensityMatrix, DensityOutcome, DensityProgram};
pub use model::{GateError, NoiseModel, RawNoiseModel};
pub use simulate::{expectation, sample_counts, Expectation, Method};

use crate::error::{Error, Result};
use crate::par::Par;
use num_complex::Complex64 as C64;

/// Channels act on at most this many qubits (a depolarizing channel on `k` qubits has `4^k`
/// Kraus operators of `4^k` entries each).
pub const MAX_CHANNEL_QUBITS: usize = 4;

/// `Σ K†K = I` is accepted to this distance per entry: `√ε`, room for matrices written
/// with sixteen decimal digits, far below any physical error rate.
pub const CPTP_TOLERANCE: f64 = 1.5e-8;

/// A noise channel, by kind and parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    /// `(1 − p) ρ + p I/2^k` on `qubits` qubits.
    Depolarizing {
        /// `k`, the number of qubits.
        qubits: usize,
        /// The depolarizing probability.
        p: f64,
    },
    /// Energy relaxation towards `|0⟩`.
    AmplitudeDamping {
        /// The probability that `|1⟩` decays.
        gamma: f64,
    },
    /// Loss of coherence without energy exchange.
    PhaseDamping {
        /// The damping parameter: coherences shrink by `√(1 − λ)`.
        lambda: f64,
    },
    /// A Pauli error.
    Pauli {
        /// Probability of X.
        px: f64,
        /// Probability of Y.
        py: f64,
        /// Probability of Z.
        pz: f64,
    },
    /// Relaxation and dephasing over a gate of duration `time` (one unit for all three).
    ThermalRelaxation {
        /// Energy relaxation time.
        t1: f64,
        /// Dephasing time, at most `2·t1`.
        t2: f64,
        /// The gate's duration.
        time: f64,
    },
    /// A generic channel given by its Kraus matrices.
    Kraus {
        /// The number of qubits.
        qubits: usize,
        /// The matrices, `2^k × 2^k` each, row-major.
        operators: Vec<Vec<C64>>,
    },
}

fn probability(key: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::Noise {
            key: key.to_string(),
            message: format!("is {value}, but a probability must lie in [0, 1]"),
        })
    }
}

fn noise(key: &str, message: String) -> Error {
    Error::Noise {
        key: key.to_string(),
        message,
    }
}

impl Channel {
    /// Checks the parameters (probabilities in [0, 1], positive finite times, `T2 ≤ 2·T1`,
    /// square Kraus matrices of the right size forming a CPTP map); errors name the key.
    pub fn validate(&self) -> Result<()> {
        match self {
            Channel::Depolarizing { qubits, p } => {
                if *qubits == 0 || *qubits > MAX_CHANNEL_QUBITS {
                    return Err(noise(
                        "qubits",
                        format!("is {qubits}; a depolarizing channel acts on 1 to {MAX_CHANNEL_QUBITS} qubits"),
                    ));
                }
                probability("p", *p)
            }
            Channel::AmplitudeDamping { gamma } => probability("gamma", *gamma),
            Channel::PhaseDamping { lambda } => probability("lambda", *lambda),
            Channel::Pauli { px, py, pz } => {
                probability("px", *px)?;
                probability("py", *py)?;
                probability("pz", *pz)?;
                let total = px + py + pz;
                if total > 1.0 + f64::EPSILON * 4.0 {
                    return Err(noise("px + py + pz", format!("is {total}, more than 1")));
                }
                Ok(())
            }
            Channel::ThermalRelaxation { t1, t2, time } => {
                for (key, v) in [("t1", t1), ("t2", t2)] {
                    if !(v.is_finite() && *v > 0.0) {
                        return Err(noise(
                            key,
                            format!("is {v}, but must be positive and finite"),
                        ));
                    }
                }
                if !(time.is_finite() && *time >= 0.0) {
                    return Err(noise(
                        "time",
                        format!("is {time}, but must be finite and not negative"),
                    ));
                }
                if *t2 > 2.0 * t1 {
                    return Err(noise(
                        "t2",
                        format!(
                            "is {t2}, more than 2·t1 = {}: no physical channel has it",
                            2.0 * t1
                        ),
                    ));
                }
                Ok(())
            }
            Channel::Kraus { qubits, operators } => {
                if *qubits == 0 || *qubits > MAX_CHANNEL_QUBITS {
                    return Err(noise(
                        "qubits",
                        format!(
                            "is {qubits}; a Kraus channel acts on 1 to {MAX_CHANNEL_QUBITS} qubits"
                        ),
                    ));
                }
                let dim = 1usize << qubits;
                if operators.is_empty() {
                    return Err(noise("kraus", "has no operators".to_string()));
                }
                if operators.len() > dim * dim {
                    return Err(noise(
                        "kraus",
                        format!(
                            "has {} operators; a channel on {qubits} qubits needs at most {}",
                            operators.len(),
                            dim * dim
                        ),
                    ));
                }
                for (k, op) in operators.iter().enumerate() {
                    if op.len() != dim * dim {
                        return Err(noise(
                            &format!("kraus[{k}]"),
                            format!(
                                "has {} entries; a {dim}×{dim} matrix has {}",
                                op.len(),
                                dim * dim
                            ),
                        ));
                    }
                    if op.iter().any(|z| !(z.re.is_finite() && z.im.is_finite())) {
                        return Err(noise(
                            &format!("kraus[{k}]"),
                            "has a non-finite entry".to_string(),
                        ));
                    }
                }
                let defect = completeness_defect(dim, operators);
                if defect > CPTP_TOLERANCE {
                    return Err(noise(
                        "kraus",
                        format!("is not trace preserving: Σ K†K differs from I by {defect:.3e} (tolerance {CPTP_TOLERANCE:.1e})"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The number of qubits the channel acts on.
    pub fn num_qubits(&self) -> usize {
        match self {
            Channel::Depolarizing { qubits, .. } | Channel::Kraus { qubits, .. } => *qubits,
            _ => 1,
        }
    }

    /// The channel's Kraus operators (validated first), zero operators left out.
    pub fn kraus(&self) -> Result<Vec<Vec<C64>>> {
        self.validate()?;
        let r = |x: f64| C64::new(x, 0.0);
        let z = C64::new(0.0, 0.0);
        let ops = match self {
            Channel::Depolarizing { qubits, p } => {
                let n = 1usize << (2 * qubits);
                let strings: Vec<Vec<C64>> = (0..n).map(|s| pauli_string(*qubits, s)).collect();
                let rest = (p / n as f64).sqrt();
                let identity = (1.0 - p + p / n as f64).sqrt();
                strings
                    .into_iter()
                    .enumerate()
                    .map(|(s, m)| {
                        let scale = if s == 0 { identity } else { rest };
                        m.into_iter().map(|v| v * scale).collect()
                    })
                    .collect()
            }
            Channel::AmplitudeDamping { gamma } => vec![
                vec![r(1.0), z, z, r((1.0 - gamma).sqrt())],
                vec![z, r(gamma.sqrt()), z, z],
            ],
            Channel::PhaseDamping { lambda } => vec![
                vec![r(1.0), z, z, r((1.0 - lambda).sqrt())],
                vec![z, z, z, r(lambda.sqrt())],
            ],
            Channel::Pauli { px, py, pz } => {
                let pi = (1.0 - px - py - pz).max(0.0);
                [pi, *px, *py, *pz]
                    .iter()
                    .enumerate()
                    .map(|(s, w)| {
                        pauli_string(1, s)
                            .into_iter()
                            .map(|v| v * w.sqrt())
                            .collect()
                    })
                    .collect()
            }
            Channel::ThermalRelaxation { t1, t2, time } => {
                let gamma = 1.0 - (-time / t1).exp();
                let keep = (time / t1 - 2.0 * time / t2).exp().min(1.0);
                let damp = Channel::AmplitudeDamping { gamma }.kraus()?;
                let dephase = Channel::PhaseDamping { lambda: 1.0 - keep }.kraus()?;
                let mut ops = Vec::new();
                for d in &dephase {
                    for a in &damp {
                        ops.push(matmul(2, d, a));
                    }
                }
                ops
            }
            Channel::Kraus { operators, .. } => operators.clone(),
        };
        Ok(ops
            .into_iter()
            .filter(|m| m.iter().any(|v| v.norm_sqr() > 0.0))
            .collect())
    }
}

/// The Pauli string with index `s` on `k` qubits: base-4 digit `j` of `s` (0 = I, 1 = X,
/// 2 = Y, 3 = Z) acts on operand `j`.
fn pauli_string(k: usize, s: usize) -> Vec<C64> {
    let r = |x: f64| C64::new(x, 0.0);
    let i = C64::new(0.0, 1.0);
    let z = r(0.0);
    let single = |d: usize| match d {
        0 => [r(1.0), z, z, r(1.0)],
        1 => [z, r(1.0), r(1.0), z],
        2 => [z, -i, i, z],
        _ => [r(1.0), z, z, r(-1.0)],
    };
    let dim = 1usize << k;
    let mut m = vec![z; dim * dim];
    for row in 0..dim {
        for col in 0..dim {
            let mut v = r(1.0);
            for j in 0..k {
                let p = single((s >> (2 * j)) & 3);
                v *= p[((row >> j) & 1) * 2 + ((col >> j) & 1)];
            }
            m[row * dim + col] = v;
        }
    }
    m
}

/// `v ← M v` on the bits `targets` of a vector (local index bit `j` = `targets[j]`): the
/// statevector kernels for one and two targets, a gather–multiply–scatter loop above.
pub(crate) fn apply_matrix(v: &mut [C64], m: &[C64], targets: &[usize], par: Par) {
    use crate::sim::kernels::{apply, Kernel, Subspace};
    let cpu = crate::sim::simd::Cpu::detect();
    match *targets {
        [t] => {
            let kernel = Kernel::Dense {
                t,
                m: [m[0], m[1], m[2], m[3]],
            };
            apply(v, &kernel, &Subspace::new(&[], &[t]), par, cpu);
        }
        [t, u] => {
            let mut dense = [C64::new(0.0, 0.0); 16];
            dense.copy_from_slice(m);
            let kernel = Kernel::Dense2 {
                t: [t, u],
                m: dense,
            };
            apply(v, &kernel, &Subspace::new(&[], &[t, u]), par, cpu);
        }
        _ => apply_dense(v, m, targets),
    }
}

/// `v ← M v` on the bits `targets`, the plain loop over every group of coupled entries.
fn apply_dense(v: &mut [C64], m: &[C64], targets: &[usize]) {
    let dim = 1usize << targets.len();
    let (mask, offsets) = local_offsets(targets);
    let mut gathered = vec![C64::new(0.0, 0.0); dim];
    for base in 0..v.len() {
        if base & mask != 0 {
            continue;
        }
        for (g, &o) in gathered.iter_mut().zip(&offsets) {
            *g = v[base + o];
        }
        for (row, &o) in offsets.iter().enumerate() {
            let mut s = C64::new(0.0, 0.0);
            for (col, g) in gathered.iter().enumerate() {
                s += m[row * dim + col] * g;
            }
            v[base + o] = s;
        }
    }
}

/// The mask of the bits `targets` and, for each local index (bit `j` = `targets[j]`), the
/// offset it adds to a base index with those bits clear.
pub(crate) fn local_offsets(targets: &[usize]) -> (usize, Vec<usize>) {
    let mask: usize = targets.iter().map(|&t| 1usize << t).sum();
    let offsets = (0..1usize << targets.len())
        .map(|local| {
            (0..targets.len())
                .filter(|&j| (local >> j) & 1 == 1)
                .map(|j| 1usize << targets[j])
                .sum()
        })
        .collect();
    (mask, offsets)
}

/// `M†` of a `dim × dim` row-major matrix.
pub(crate) fn adjoint(dim: usize, m: &[C64]) -> Vec<C64> {
    (0..dim * dim)
        .map(|i| m[(i % dim) * dim + i / dim].conj())
        .collect()
}

pub(crate) fn matmul(dim: usize, a: &[C64], b: &[C64]) -> Vec<C64> {
    let mut c = vec![C64::new(0.0, 0.0); dim * dim];
    for i in 0..dim {
        for k in 0..dim {
            let aik = a[i * dim + k];
            for j in 0..dim {
                c[i * dim + j] += aik * b[k * dim + j];
            }
        }
    }
    c
}

/// `max |(Σ K†K − I)ᵢⱼ|`.
pub fn completeness_defect(dim: usize, operators: &[Vec<C64>]) -> f64 {
    let mut worst = 0.0f64;
    for i in 0..dim {
        for j in 0..dim {
            let mut s = C64::new(0.0, 0.0);
            for k in operators {
                for l in 0..dim {
                    s += k[l * dim + i].conj() * k[l * dim + j];
                }
            }
            if i == j {
                s -= 1.0;
            }
            worst = worst.max(s.norm());
        }
    }
    worst
}

/// A classical flip of a measured bit: `P(1|0)` and `P(0|1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadoutError {
    /// Probability of reading 1 when the qubit was 0.
    pub p1_given_0: f64,
    /// Probability of reading 0 when the qubit was 1.
    pub p0_given_1: f64,
}

impl ReadoutError {
    /// Checks both probabilities lie in [0, 1].
    pub fn new(p1_given_0: f64, p0_given_1: f64) -> Result<Self> {
        probability("p1_given_0", p1_given_0)?;
        probability("p0_given_1", p0_given_1)?;
        Ok(ReadoutError {
            p1_given_0,
            p0_given_1,
        })
    }

    /// The distribution of read bits given the distribution `[P(0), P(1)]` of true ones.
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        [
            p[0] * (1.0 - self.p1_given_0) + p[1] * self.p0_given_1,
            p[0] * self.p1_given_0 + p[1] * (1.0 - self.p0_given_1),
        ]
    }
}
