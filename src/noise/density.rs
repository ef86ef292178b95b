//! The density matrix `ρ` of `n` qubits, `4^n` complex entries, row-major: entry `(r, c)` at
//! `r·2^n + c`, qubit 0 the least-significant bit of `r` and of `c` (`docs/conventions.md`).
//!
//! Read as a vector of `2n` qubits, row qubit `q` is bit `q + n` and column qubit `q` is bit
//! `q`, so `U ρ U†` is `U` on the bits `q + n` followed by `conj(U)` on the bits `q`: two
//! passes of a dense `k`-qubit update. A channel is `Σₖ Kₖ ρ Kₖ†`. This is the exact, dense
//! reference for noisy circuits; it needs `16·4^n` bytes, checked before allocating.

use super::Channel;
use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, Result};
use crate::measure::check_subset;
use crate::state::{available_memory, StateVector};
use num_complex::Complex64 as C64;

/// A mixed state of `n` qubits.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityMatrix {
    num_qubits: usize,
    entries: Vec<C64>,
}

/// Refuses, before allocating, a density matrix that would not fit in memory.
fn check_fits(num_qubits: usize) -> Result<()> {
    let bytes = if num_qubits >= 62 {
        u128::MAX
    } else {
        16u128 << (2 * num_qubits)
    };
    let available = available_memory().min(isize::MAX as u128);
    if bytes > available {
        return Err(Error::TooLarge {
            what: format!("the density matrix of {num_qubits} qubits (16·4^n bytes)"),
            value: bytes,
            limit: available,
        });
    }
    Ok(())
}

/// `v ← M v` on the bits `targets` of a vector (local index bit `j` = `targets[j]`).
fn apply_dense(v: &mut [C64], m: &[C64], targets: &[usize]) {
    let k = targets.len();
    let dim = 1usize << k;
    let mask: usize = targets.iter().map(|&t| 1usize << t).sum();
    let offsets: Vec<usize> = (0..dim)
        .map(|local| {
            (0..k)
                .filter(|&j| (local >> j) & 1 == 1)
                .map(|j| 1usize << targets[j])
                .sum()
        })
        .collect();
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

impl DensityMatrix {
    /// `|0…0⟩⟨0…0|`.
    pub fn zero(num_qubits: usize) -> Result<Self> {
        check_fits(num_qubits)?;
        let mut entries = vec![C64::new(0.0, 0.0); 1usize << (2 * num_qubits)];
        entries[0] = C64::new(1.0, 0.0);
        Ok(DensityMatrix {
            num_qubits,
            entries,
        })
    }

    /// `|ψ⟩⟨ψ|`.
    pub fn from_pure(psi: &StateVector) -> Result<Self> {
        let n = psi.num_qubits();
        check_fits(n)?;
        let a = psi.amplitudes();
        let mut entries = Vec::with_capacity(a.len() * a.len());
        for r in a {
            entries.extend(a.iter().map(|c| r * c.conj()));
        }
        Ok(DensityMatrix {
            num_qubits: n,
            entries,
        })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Entry `(row, col)`.
    pub fn get(&self, row: usize, col: usize) -> C64 {
        self.entries[(row << self.num_qubits) + col]
    }

    /// The entries, row-major.
    pub fn entries(&self) -> &[C64] {
        &self.entries
    }

    /// `ρ ← M ρ M†` for a `2^k × 2^k` matrix on `qubits` (unitary or a Kraus operator).
    fn conjugate_unchecked(&mut self, m: &[C64], qubits: &[usize]) {
        let n = self.num_qubits;
        let rows: Vec<usize> = qubits.iter().map(|q| q + n).collect();
        apply_dense(&mut self.entries, m, &rows);
        let conj: Vec<C64> = m.iter().map(|z| z.conj()).collect();
        apply_dense(&mut self.entries, &conj, qubits);
    }

    /// `ρ ← U ρ U†` for a unitary given as in [`Gate::matrix`](crate::Gate::matrix).
    pub fn apply_unitary(&mut self, u: &[C64], qubits: &[usize]) -> Result<()> {
        check_subset("unitary", qubits, self.num_qubits)?;
        if u.len() != 1usize << (2 * qubits.len()) {
            return Err(Error::StateSize {
                expected: 1usize << (2 * qubits.len()),
                got: u.len(),
            });
        }
        self.conjugate_unchecked(u, qubits);
        Ok(())
    }

    /// `ρ ← Σₖ Kₖ ρ Kₖ†` for a channel on `qubits`.
    pub fn apply_channel(&mut self, channel: &Channel, qubits: &[usize]) -> Result<()> {
        check_subset("channel", qubits, self.num_qubits)?;
        if qubits.len() != channel.num_qubits() {
            return Err(Error::Noise {
                key: "qubits".to_string(),
                message: format!(
                    "names {} qubits, but the channel acts on {}",
                    qubits.len(),
                    channel.num_qubits()
                ),
            });
        }
        let ops = channel.kraus()?;
        let mut total = vec![C64::new(0.0, 0.0); self.entries.len()];
        for k in &ops {
            let mut term = self.clone();
            term.conjugate_unchecked(k, qubits);
            for (t, v) in total.iter_mut().zip(&term.entries) {
                *t += v;
            }
        }
        self.entries = total;
        Ok(())
    }

    /// Runs the gates of a circuit with bound (constant) angles; barriers are skipped and
    /// measurements refused (they belong to the sampling step).
    pub fn apply_circuit(&mut self, circuit: &Circuit) -> Result<()> {
        for (index, inst) in circuit.instructions().iter().enumerate() {
            self.apply_instruction(index, inst)?;
        }
        Ok(())
    }

    fn apply_instruction(&mut self, index: usize, inst: &Instruction) -> Result<()> {
        {
            match inst {
                Instruction::Gate { gate, qubits } => {
                    let angles: Vec<f64> = gate
                        .angles()
                        .iter()
                        .map(|a| match a.params().next() {
                            None => Ok(a.constant_part()),
                            Some(p) => Err(Error::UnboundParameter {
                                name: p.name.clone(),
                                kind: p.kind,
                            }),
                        })
                        .collect::<Result<_>>()?;
                    self.apply_unitary(&gate.matrix(&angles), qubits)?;
                }
                Instruction::Barrier { .. } => {}
                Instruction::Measure { .. } => {
                    return Err(Error::Noise {
                        key: format!("instruction {index}"),
                        message: "is a measurement; sample the final density matrix instead"
                            .to_string(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Runs a circuit as [`apply_circuit`](Self::apply_circuit) does, each gate followed by
    /// the channels `model` attaches to it.
    pub fn apply_noisy_circuit(
        &mut self,
        circuit: &Circuit,
        model: &super::NoiseModel,
    ) -> Result<()> {
        for (index, inst) in circuit.instructions().iter().enumerate() {
            self.apply_instruction(index, inst)?;
            if let Instruction::Gate { gate, qubits } = inst {
                for (channel, on) in model.after(gate.name(), qubits) {
                    self.apply_channel(channel, &on)?;
                }
            }
        }
        Ok(())
    }

    /// `Tr ρ`.
    pub fn trace(&self) -> f64 {
        (0..1usize << self.num_qubits)
            .map(|i| self.get(i, i).re)
            .sum()
    }

    /// `Tr ρ²`.
    pub fn purity(&self) -> f64 {
        self.entries.iter().map(|z| z.norm_sqr()).sum()
    }

    /// The diagonal, `P(i) = ρᵢᵢ`.
    pub fn probabilities(&self) -> Vec<f64> {
        (0..1usize << self.num_qubits)
            .map(|i| self.get(i, i).re)
            .collect()
    }

    /// `⟨ψ|ρ|ψ⟩`.
    pub fn fidelity_with_pure(&self, psi: &StateVector) -> Result<f64> {
        if psi.num_qubits() != self.num_qubits {
            return Err(Error::StateSize {
                expected: self.num_qubits,
                got: psi.num_qubits(),
            });
        }
        let a = psi.amplitudes();
        let mut s = C64::new(0.0, 0.0);
        for (r, ar) in a.iter().enumerate() {
            for (c, ac) in a.iter().enumerate() {
                s += ar.conj() * self.get(r, c) * ac;
            }
        }
        Ok(s.re)
    }
}
