//! Measurement in the computational basis: probabilities, marginals, seeded shot sampling and
//! counts keyed as Qiskit keys them.
//!
//! **Sampling** draws `shots` outcomes from `pᵢ = |ψᵢ|²` in `O(2^n + shots)` with sorted
//! uniforms: if `E₁, …, E_{N+1}` are i.i.d. Exp(1) and `Sₖ = E₁ + … + Eₖ`, then
//! `Sₖ / S_{N+1}` are distributed as the order statistics of `N` uniforms. One merge of these
//! sorted uniforms with the cumulative sums of `p` yields the multinomial histogram directly.
//! Above `max(2^n, 2^20)` shots the histogram is drawn by conditional binomials instead
//! (`nᵢ ~ Binomial(N − Σ_{j<i} nⱼ, pᵢ / Σ_{j≥i} pⱼ)`, the same multinomial law in `O(2^n)`
//! whatever `N`), so `10^12` shots cost no more than `10^6`; at most
//! [`crate::limits::MAX_SHOTS`] shots are accepted. An ordered shot sequence is the histogram
//! expanded and shuffled (Fisher–Yates), which is i.i.d. by exchangeability.
//!
//! Randomness comes from [`crate::rng`]: the same seed gives the same counts on every machine.
//!
//! **Counts keys** are classical-register bitstrings with classical bit 0 rightmost. Without
//! measurements in the circuit every qubit `i` is measured into bit `i`.

use crate::error::{Error, Result};
use crate::state::{PureState, StateVector, StateVector32};
use rand::Rng;
use rand_distr::{Binomial, Distribution};
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::rng::{rng_from_seed, QloopRng};

/// Checks that `qubits` are in range and distinct for an `n`-qubit state.
pub(crate) fn check_subset(context: &str, qubits: &[usize], num_qubits: usize) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (k, &q) in qubits.iter().enumerate() {
        if q >= num_qubits {
            return Err(Error::SubsetOutOfRange {
                context: context.into(),
                qubit: q,
                num_qubits,
            });
        }
        let repeated = if qubits.len() <= 16 {
            qubits[..k].contains(&q)
        } else {
            !seen.insert(q)
        };
        if repeated {
            return Err(Error::SubsetRepeated {
                context: context.into(),
                qubit: q,
            });
        }
    }
    Ok(())
}

impl StateVector {
    /// `pᵢ = |ψᵢ|²` for every basis index.
    ///
    /// ```
    /// let p = qloop::Circuit::new(1).h(0).statevector().unwrap().probabilities();
    /// assert!((p[0] - 0.5).abs() < 1e-15 && (p[1] - 0.5).abs() < 1e-15);
    /// ```
    pub fn probabilities(&self) -> Vec<f64> {
        self.amplitudes().iter().map(|a| a.norm_sqr()).collect()
    }

    /// The marginal distribution of `qubits`: entry `j` is the probability that qubit
    /// `qubits[k]` reads bit `k` of `j`, for every `k` (so `qubits[0]` is the least-significant).
    ///
    /// ```
    /// let psi = qloop::Circuit::new(3).x(2).statevector().unwrap();
    /// assert_eq!(psi.marginal_probabilities(&[2, 0]).unwrap(), vec![0.0, 1.0, 0.0, 0.0]);
    /// ```
    pub fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>> {
        check_subset("marginal", qubits, self.num_qubits())?;
        let mut out = vec![0.0; 1 << qubits.len()];
        for (i, a) in self.amplitudes().iter().enumerate() {
            let j = qubits
                .iter()
                .enumerate()
                .fold(0, |j, (k, &q)| j | (((i >> q) & 1) << k));
            out[j] += a.norm_sqr();
        }
        Ok(out)
    }

    /// `⟨Z_q⟩ = P(q = 0) − P(q = 1)`.
    ///
    /// ```
    /// let theta: f64 = 0.7;
    /// let psi = qloop::Circuit::new(1).ry(theta, 0).statevector().unwrap();
    /// assert!((psi.expectation_z(0).unwrap() - theta.cos()).abs() < 1e-15);
    /// ```
    pub fn expectation_z(&self, qubit: usize) -> Result<f64> {
        check_subset("expectation_z", &[qubit], self.num_qubits())?;
        Ok(crate::sim::simd::z_sum(
            self.amplitudes(),
            qubit,
            crate::sim::simd::Cpu::detect(),
        ))
    }
}

impl StateVector32 {
    /// `pᵢ = |ψᵢ|²` for every basis index, in double precision.
    pub fn probabilities(&self) -> Vec<f64> {
        self.amplitudes()
            .iter()
            .map(|a| (a.re as f64).powi(2) + (a.im as f64).powi(2))
            .collect()
    }

    /// `⟨Z_q⟩ = P(q = 0) − P(q = 1)`, summed in double precision.
    ///
    /// ```
    /// use qloop::{Circuit, Par, StateVector32};
    /// let program = Circuit::new(1).ry(0.7, 0).compile().unwrap();
    /// let mut psi = StateVector32::zero(1).unwrap();
    /// program.run_single(&[], &[], &mut psi, Par::Seq).unwrap();
    /// assert!((psi.expectation_z(0).unwrap() - 0.7f64.cos()).abs() < 1e-6);
    /// ```
    pub fn expectation_z(&self, qubit: usize) -> Result<f64> {
        check_subset("expectation_z", &[qubit], self.num_qubits())?;
        Ok(self
            .amplitudes()
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let p = (a.re as f64).powi(2) + (a.im as f64).powi(2);
                if i >> qubit & 1 == 1 {
                    -p
                } else {
                    p
                }
            })
            .sum())
    }
}

/// Samples `shots` outcomes from the (possibly unnormalized) weights `probs` and returns the
/// histogram as `(index, count)` pairs in increasing index order, zero counts omitted.
/// Cost `O(len + shots)`; see the [module docs](self).
///
/// ```
/// let mut rng = qloop::measure::rng_from_seed(7);
/// let hist = qloop::measure::sample_histogram(&[0.5, 0.0, 0.5], 1000, &mut rng);
/// assert_eq!(hist.iter().map(|&(_, c)| c).sum::<usize>(), 1000);
/// assert!(hist.iter().all(|&(i, _)| i != 1));
/// ```
pub fn sample_histogram(probs: &[f64], shots: usize, rng: &mut impl Rng) -> Vec<(usize, usize)> {
    let batch = probs.len().max(1 << 20);
    if shots <= batch {
        return sample_batch(probs, shots, rng);
    }
    let mut counts = probs.to_vec();
    multinomial_counts(&mut counts, shots as u64, rng);
    counts
        .into_iter()
        .enumerate()
        .filter(|&(_, c)| c > 0.0)
        .map(|(i, c)| (i, c as usize))
        .collect()
}

/// Refuses more than [`crate::limits::MAX_SHOTS`] shots.
pub(crate) fn check_shots(shots: usize) -> Result<()> {
    if shots as u64 > crate::limits::MAX_SHOTS {
        return Err(Error::TooLarge {
            what: "the number of shots".into(),
            value: shots as u128,
            limit: crate::limits::MAX_SHOTS as u128,
        });
    }
    Ok(())
}

/// Replaces the weights `p` by the counts of one multinomial draw of `shots` shots (as `f64`,
/// exact below 2^53): conditional binomials, `O(len)` whatever the number of shots.
pub(crate) fn multinomial_counts(p: &mut [f64], shots: u64, rng: &mut impl Rng) {
    let mut remaining_mass: f64 = p.iter().sum();
    let mut remaining = shots;
    for v in p.iter_mut() {
        let prob = *v;
        let n = if remaining == 0 || prob <= 0.0 {
            0
        } else if prob >= remaining_mass {
            remaining
        } else {
            Binomial::new(remaining, (prob / remaining_mass).clamp(0.0, 1.0))
                .expect("probability in [0, 1]")
                .sample(rng)
        };
        remaining_mass -= prob;
        remaining -= n;
        *v = n as f64;
    }
}

/// One batch of the sorted-uniform merge described in the [module docs](self).
fn sample_batch(probs: &[f64], shots: usize, rng: &mut impl Rng) -> Vec<(usize, usize)> {
    let Some(last_nonzero) = probs.iter().rposition(|&p| p > 0.0) else {
        return Vec::new();
    };
    if shots == 0 {
        return Vec::new();
    }
    let spacings: Vec<f64> = (0..=shots)
        .map(|_| -(1.0 - rng.random::<f64>()).ln())
        .collect();
    let total: f64 = probs.iter().sum();
    // Shot k falls in bin i when S_k / S_{N+1} < C_i / total, i.e. S_k < C_i · scale.
    let scale = spacings.iter().sum::<f64>() / total;
    let mut hist = Vec::new();
    let (mut k, mut s_k) = (0usize, spacings[0]);
    let mut cumulative = 0.0;
    for (i, &p) in probs[..=last_nonzero].iter().enumerate() {
        cumulative += p;
        // Rounding must not leave shots past the last bin that can receive them.
        let bound = if i == last_nonzero {
            f64::INFINITY
        } else {
            cumulative * scale
        };
        let start = k;
        while k < shots && s_k < bound {
            k += 1;
            s_k += spacings[k];
        }
        if k > start {
            hist.push((i, k - start));
        }
        if k == shots {
            break;
        }
    }
    hist
}

/// `out[q] = Σ_i (−1)^{bit q of i} p_i` for every qubit `q < out.len()` at once, from
/// probabilities or shot frequencies `p` (one pass; [`StateVector::expectation_z`] is the
/// vectorized single-qubit reduction of a state's amplitudes).
///
/// ```
/// let mut z = [0.0; 2];
/// qloop::measure::z_expectations(&[0.5, 0.5, 0.0, 0.0], &mut z);
/// assert_eq!(z, [0.0, 1.0]);
/// ```
pub fn z_expectations(probs: &[f64], out: &mut [f64]) {
    out.iter_mut().for_each(|v| *v = 0.0);
    for (i, &p) in probs.iter().enumerate() {
        for (q, v) in out.iter_mut().enumerate() {
            if (i >> q) & 1 == 0 {
                *v += p;
            } else {
                *v -= p;
            }
        }
    }
}

/// Replaces the probabilities `p` by the frequencies of one multinomial draw of `shots` shots:
/// `n_i ~ Binomial(shots − Σ_{j<i} n_j, p_i / Σ_{j≥i} p_j)`, `O(len)` binomial draws whatever
/// the number of shots. The training readout's sampler (many shots of small states, where it
/// beats [`sample_histogram`]'s `O(shots)` exponential spacings; the two give different draws
/// from one seed, so each keeps its seeded outputs).
///
/// ```
/// let mut f = vec![0.25, 0.0, 0.75];
/// qloop::measure::multinomial_frequencies(&mut f, 1000, &mut qloop::measure::rng_from_seed(3));
/// assert_eq!(f[1], 0.0);
/// assert!((f.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// ```
pub fn multinomial_frequencies(p: &mut [f64], shots: usize, rng: &mut impl Rng) {
    multinomial_counts(p, shots as u64, rng);
    for v in p.iter_mut() {
        *v /= shots as f64;
    }
}

/// Samples an ordered sequence of `shots` i.i.d. outcomes from `probs`.
///
/// ```
/// let mut rng = qloop::measure::rng_from_seed(1);
/// let shots = qloop::measure::sample_shots(&[0.0, 1.0], 5, &mut rng);
/// assert_eq!(shots, vec![1; 5]);
/// ```
pub fn sample_shots(probs: &[f64], shots: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut out = Vec::with_capacity(shots);
    for (i, c) in sample_histogram(probs, shots, rng) {
        out.extend(std::iter::repeat_n(i, c));
    }
    for k in (1..out.len()).rev() {
        let j = rng.random_range(0..=k);
        out.swap(k, j);
    }
    out
}

/// Measurement counts keyed by classical-register bitstring (classical bit 0 rightmost).
///
/// Serializes as `{"shots": N, "counts": {"01": 480, "10": 520}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Number of shots.
    pub shots: usize,
    /// Count of each observed bitstring, sorted by key.
    pub counts: BTreeMap<String, usize>,
}

impl Counts {
    /// Samples `shots` measurements of `state` with the circuit's terminal `measurements`
    /// `(qubit, clbit)` into a register of `num_clbits` bits. An empty `measurements` list
    /// measures every qubit `i` into bit `i`.
    ///
    /// ```
    /// use qloop::{Circuit, Counts};
    /// let psi = Circuit::new(2).x(0).statevector().unwrap();
    /// let counts = Counts::sample(&psi, &[], 2, 100, 42).unwrap();
    /// assert_eq!(counts.counts["01"], 100); // qubit 0 is rightmost
    /// ```
    pub fn sample(
        state: &impl PureState,
        measurements: &[(usize, usize)],
        num_clbits: usize,
        shots: usize,
        seed: u64,
    ) -> Result<Counts> {
        let n = state.num_qubits();
        let all: Vec<(usize, usize)>;
        let (measurements, width) = if measurements.is_empty() {
            all = (0..n).map(|q| (q, q)).collect();
            (&all[..], n)
        } else {
            (measurements, num_clbits)
        };
        for &(q, _) in measurements {
            check_subset("measurement", &[q], n)?;
        }
        if let Some(&(_, c)) = measurements.iter().find(|&&(_, c)| c >= width) {
            return Err(Error::ClbitOutOfRange {
                instruction: 0,
                clbit: c,
                num_clbits: width,
            });
        }
        check_shots(shots)?;
        let mut rng = rng_from_seed(seed);
        let hist = sample_histogram(&state.probabilities(), shots, &mut rng);
        // Keys are built in one pass, sorted, and merged (several basis states share a key when
        // not every qubit is measured); a sorted Vec bulk-loads the map in linear time.
        let mut keyed: Vec<(String, usize)> = Vec::with_capacity(hist.len());
        let mut key = vec![b'0'; width];
        for (index, c) in hist {
            key.fill(b'0');
            for &(q, clbit) in measurements {
                key[width - 1 - clbit] = b'0' + ((index >> q) & 1) as u8;
            }
            keyed.push((String::from_utf8(key.clone()).expect("ASCII digits"), c));
        }
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
            }
            same
        });
        let counts: BTreeMap<String, usize> = keyed.into_iter().collect();
        Ok(Counts { shots, counts })
    }
}
