//! Readout: how a state becomes the feature vector of the classical part.
//!
//! - [`Readout::Probabilities`]: the `2^n` outcome probabilities `|ψ_i|²` (basis-index order).
//! - [`Readout::ExpectationZ`]: `⟨Z_q⟩ = Σ_i (−1)^{bit q of i} |ψ_i|²` for every qubit `q`.
//! - [`Readout::Observables`]: `⟨H_k⟩` for each given Pauli sum.
//!
//! Each is exact (`shots = None`) or estimated from a finite number of shots. With shots, the
//! outcome counts are one multinomial draw (conditional binomials, cost `O(2^n)` whatever the
//! shot count), probabilities become frequencies and `⟨Z_q⟩` their signed sums; Pauli sums are
//! estimated by [`PauliSum::estimate`] (rotated bases, qubit-wise commuting groups). The draw
//! comes from the [`Stream`] the caller names, so shot noise is reproducible.

use crate::error::{Error, Result};
use crate::measure::{multinomial_frequencies, z_expectations};
use crate::noise::{DensityOutcome, NoiseModel};
use crate::pauli::PauliSum;
use crate::rng::Stream;
use crate::state::StateVector;
use num_complex::Complex64 as C64;
use serde::{Deserialize, Serialize};

/// What is read from the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readout {
    /// All `2^n` outcome probabilities.
    Probabilities,
    /// `⟨Z_q⟩` of every qubit, qubit 0 first.
    ExpectationZ,
    /// The expectation of each Pauli sum, in order.
    Observables(Vec<PauliSum>),
}

/// A readout and how it is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadoutSpec {
    /// The quantity read.
    pub readout: Readout,
    /// `None` for exact values; `Some(s)` to estimate them from `s` shots per evaluation.
    pub shots: Option<usize>,
}

impl Readout {
    /// `Mψ` for the Hermitian `M = Σ_j g_j O_j` with `⟨ψ|M|ψ⟩ = Σ_j g_j f_j`, the features `f`
    /// weighted by `g` (`O_j`: the projector `|j⟩⟨j|`, `Z_j`, or the `j`-th Pauli sum): the
    /// start of the backward sweep that gives `Σ_j g_j ∂f_j/∂w` ([`crate::gradient`]).
    pub(crate) fn weighted_operator_times(&self, psi: &[C64], g: &[f64]) -> Vec<C64> {
        match self {
            Readout::Probabilities => psi.iter().zip(g).map(|(a, g)| a * g).collect(),
            Readout::ExpectationZ => psi
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let d: f64 = g
                        .iter()
                        .enumerate()
                        .map(|(q, g)| if i >> q & 1 == 1 { -g } else { *g })
                        .sum();
                    a * d
                })
                .collect(),
            Readout::Observables(obs) => {
                let terms = obs
                    .iter()
                    .zip(g)
                    .flat_map(|(o, g)| o.terms().iter().map(move |(c, s)| (c * g, s.clone())))
                    .collect();
                let mut out = vec![C64::new(0.0, 0.0); psi.len()];
                PauliSum::new(terms).apply_into(psi, &mut out);
                out
            }
        }
    }
}

impl ReadoutSpec {
    /// Exact values of `readout`.
    pub fn exact(readout: Readout) -> Self {
        ReadoutSpec {
            readout,
            shots: None,
        }
    }

    /// `readout` estimated from `shots` shots per evaluation.
    pub fn sampled(readout: Readout, shots: usize) -> Self {
        ReadoutSpec {
            readout,
            shots: Some(shots),
        }
    }

    /// Number of features for a state of `num_qubits` qubits.
    pub fn width(&self, num_qubits: usize) -> usize {
        match &self.readout {
            Readout::Probabilities => 1 << num_qubits,
            Readout::ExpectationZ => num_qubits,
            Readout::Observables(obs) => obs.len(),
        }
    }

    /// Checks the readout against a circuit width: shots positive, observables fit.
    pub fn check(&self, num_qubits: usize) -> Result<()> {
        if self.shots == Some(0) {
            return Err(Error::TooFewShots {
                context: "readout".into(),
                min: 1,
                got: 0,
            });
        }
        if let Readout::Observables(obs) = &self.readout {
            for o in obs {
                o.check_width(num_qubits)?;
            }
            if self.shots == Some(1) {
                return Err(Error::TooFewShots {
                    context: "readout of Pauli sums".into(),
                    min: 2,
                    got: 1,
                });
            }
        }
        Ok(())
    }

    /// Writes the features of `state` into `out` (length [`ReadoutSpec::width`]); shot noise,
    /// if any, is drawn from `stream`. `counts` is scratch space (reused to avoid allocation).
    pub fn features_into(
        &self,
        state: &StateVector,
        stream: Stream,
        counts: &mut Vec<f64>,
        out: &mut [f64],
    ) -> Result<()> {
        let amps = state.amplitudes();
        match (&self.readout, self.shots) {
            (Readout::Observables(obs), None) => {
                for (o, v) in obs.iter().zip(out) {
                    *v = o.expectation(state)?;
                }
            }
            (Readout::Observables(obs), Some(shots)) => {
                for (k, (o, v)) in obs.iter().zip(out).enumerate() {
                    *v = o
                        .estimate(state, shots, stream.child(k as u64).key())?
                        .value;
                }
            }
            (readout, shots) => {
                counts.clear();
                counts.extend(amps.iter().map(|a| a.norm_sqr()));
                if let Some(shots) = shots {
                    multinomial_frequencies(counts, shots, &mut stream.rng());
                }
                match readout {
                    Readout::Probabilities => out.copy_from_slice(counts),
                    _ => z_expectations(counts, out),
                }
            }
        }
        Ok(())
    }
}

impl ReadoutSpec {
    /// Writes the features of a noisy run's final state into `out`: observables exactly
    /// (`Tr ρ O`); probabilities and `⟨Z_q⟩` from the measured distribution, the diagonal of
    /// `ρ` read through each qubit's readout error, then sampled if this readout has shots.
    pub(crate) fn features_of_density(
        &self,
        outcome: &DensityOutcome,
        noise: &NoiseModel,
        stream: Stream,
        out: &mut [f64],
    ) -> Result<()> {
        if let Readout::Observables(obs) = &self.readout {
            for (o, v) in obs.iter().zip(out) {
                *v = outcome.expectation(o)?;
            }
            return Ok(());
        }
        let mut probs = outcome.state().probabilities();
        for q in 0..outcome.num_qubits() {
            if let Some(r) = noise.readout_of(q) {
                let bit = 1usize << q;
                for i in (0..probs.len()).filter(|i| i & bit == 0) {
                    let [p0, p1] = r.apply([probs[i], probs[i | bit]]);
                    probs[i] = p0;
                    probs[i | bit] = p1;
                }
            }
        }
        if let Some(shots) = self.shots {
            multinomial_frequencies(&mut probs, shots, &mut stream.rng());
        }
        match self.readout {
            Readout::Probabilities => out.copy_from_slice(&probs),
            _ => z_expectations(&probs, out),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Circuit;

    #[test]
    fn exact_z_readout_of_ry() {
        let theta = 0.7f64;
        let psi = Circuit::new(2).ry(theta, 1).x(0).statevector().unwrap();
        let spec = ReadoutSpec::exact(Readout::ExpectationZ);
        let mut out = [0.0; 2];
        spec.features_into(&psi, Stream::new(0), &mut Vec::new(), &mut out)
            .unwrap();
        assert!((out[0] + 1.0).abs() < 1e-15 && (out[1] - theta.cos()).abs() < 1e-15);
    }
}
