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
    let mut hist = Vec::new();
    if uses_merge(probs.len(), shots) {
        let spacings = exponential_spacings(shots, rng);
        let scan = Scan::of(probs);
        let mut merge = Merge::new(&spacings, scan.total);
        merge.bins(probs, 0, scan.last_nonzero, &spacings, &mut hist);
    } else {
        let mut draw = Conditional::new(probs.iter().sum(), shots as u64);
        draw.bins(probs, 0, rng, &mut hist);
    }
    hist
}

/// Whether `shots` shots of `len` outcomes are drawn by the sorted-uniform merge (else by
/// conditional binomials): up to `max(len, 2^20)` shots.
pub(crate) fn uses_merge(len: usize, shots: usize) -> bool {
    shots <= len.max(1 << 20)
}

/// The `shots + 1` exponential spacings `E₁ … E_{N+1}` of the merge.
pub(crate) fn exponential_spacings(shots: usize, rng: &mut impl Rng) -> Vec<f64> {
    (0..=shots)
        .map(|_| -(1.0 - rng.random::<f64>()).ln())
        .collect()
}

/// The sum of the weights and the index of the last non-zero one, accumulated in index order
/// (a distributed state continues it block after block: the same additions in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Scan {
    pub(crate) total: f64,
    pub(crate) last_nonzero: Option<usize>,
}

impl Scan {
    pub(crate) const EMPTY: Scan = Scan {
        total: 0.0,
        last_nonzero: None,
    };

    fn of(probs: &[f64]) -> Scan {
        let mut scan = Scan::EMPTY;
        scan.extend(probs, 0);
        scan
    }

    /// Continues the scan with `probs`, whose first entry is outcome `offset`.
    pub(crate) fn extend(&mut self, probs: &[f64], offset: usize) {
        for (i, &p) in probs.iter().enumerate() {
            self.total += p;
            if p > 0.0 {
                self.last_nonzero = Some(offset + i);
            }
        }
    }
}

/// The sorted-uniform merge of the [module docs](self), resumable: shot `k` falls in bin `i`
/// when `S_k < C_i · scale`, `C_i` the running sum of the weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Merge {
    scale: f64,
    cumulative: f64,
    /// Shots placed so far, and the running sum `S_k` of the spacings.
    k: usize,
    s_k: f64,
    shots: usize,
}

impl Merge {
    pub(crate) fn new(spacings: &[f64], total: f64) -> Merge {
        Merge {
            scale: spacings.iter().sum::<f64>() / total,
            cumulative: 0.0,
            k: 0,
            s_k: spacings[0],
            shots: spacings.len() - 1,
        }
    }

    /// Places the shots that fall in the bins `probs` (outcomes `offset …`), appending
    /// `(outcome, count)` to `hist`; `last_nonzero` is the last bin of all that can receive
    /// shots.
    pub(crate) fn bins(
        &mut self,
        probs: &[f64],
        offset: usize,
        last_nonzero: Option<usize>,
        spacings: &[f64],
        hist: &mut Vec<(usize, usize)>,
    ) {
        let Some(last) = last_nonzero else {
            return;
        };
        for (j, &p) in probs.iter().enumerate() {
            let i = offset + j;
            if self.k == self.shots || i > last {
                return;
            }
            self.cumulative += p;
            // Rounding must not leave shots past the last bin that can receive them.
            let bound = if i == last {
                f64::INFINITY
            } else {
                self.cumulative * self.scale
            };
            let start = self.k;
            while self.k < self.shots && self.s_k < bound {
                self.k += 1;
                self.s_k += spacings[self.k];
            }
            if self.k > start {
                hist.push((i, self.k - start));
            }
        }
    }
}

/// Conditional binomials `nᵢ ~ Binomial(N − Σ_{j<i} nⱼ, pᵢ / Σ_{j≥i} pⱼ)`, resumable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Conditional {
    remaining_mass: f64,
    remaining: u64,
}

impl Conditional {
    pub(crate) fn new(total: f64, shots: u64) -> Conditional {
        Conditional {
            remaining_mass: total,
            remaining: shots,
        }
    }

    /// The count of one bin of weight `prob`.
    fn next(&mut self, prob: f64, rng: &mut impl Rng) -> u64 {
        let n = if self.remaining == 0 || prob <= 0.0 {
            0
        } else if prob >= self.remaining_mass {
            self.remaining
        } else {
            Binomial::new(self.remaining, (prob / self.remaining_mass).clamp(0.0, 1.0))
                .expect("probability in [0, 1]")
                .sample(rng)
        };
        self.remaining_mass -= prob;
        self.remaining -= n;
        n
    }

    /// Draws the bins `probs` (outcomes `offset …`), appending the non-zero counts to `hist`.
    pub(crate) fn bins(
        &mut self,
        probs: &[f64],
        offset: usize,
        rng: &mut impl Rng,
        hist: &mut Vec<(usize, usize)>,
    ) {
        for (j, &p) in probs.iter().enumerate() {
            let n = self.next(p, rng);
            if n > 0 {
                hist.push((offset + j, n as usize));
            }
        }
    }
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
    let mut draw = Conditional::new(p.iter().sum(), shots);
    for v in p.iter_mut() {
        *v = draw.next(*v, rng) as f64;
    }
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
        let (measurements, width) = Counts::check(state.num_qubits(), measurements, num_clbits)?;
        check_shots(shots)?;
        let mut rng = rng_from_seed(seed);
        let hist = sample_histogram(&state.probabilities(), shots, &mut rng);
        Ok(Counts::from_histogram(&hist, &measurements, width, shots))
    }

    /// The measurements `(qubit, clbit)` of an `n`-qubit state checked, and the register
    /// width: every qubit `i` into bit `i` when `measurements` is empty.
    pub(crate) fn check(
        n: usize,
        measurements: &[(usize, usize)],
        num_clbits: usize,
    ) -> Result<(Vec<(usize, usize)>, usize)> {
        let (measurements, width) = if measurements.is_empty() {
            ((0..n).map(|q| (q, q)).collect(), n)
        } else {
            (measurements.to_vec(), num_clbits)
        };
        for &(q, _) in &measurements {
            check_subset("measurement", &[q], n)?;
        }
        if let Some(&(_, c)) = measurements.iter().find(|&&(_, c)| c >= width) {
            return Err(Error::ClbitOutOfRange {
                instruction: 0,
                clbit: c,
                num_clbits: width,
            });
        }
        Ok((measurements, width))
    }

    /// The counts of a histogram of basis-state outcomes `(index, count)` read through
    /// checked `measurements` into a register of `width` bits.
    pub(crate) fn from_histogram(
        hist: &[(usize, usize)],
        measurements: &[(usize, usize)],
        width: usize,
        shots: usize,
    ) -> Counts {
        // Keys are built in one pass, sorted, and merged (several basis states share a key when
        // not every qubit is measured); a sorted Vec bulk-loads the map in linear time.
        let mut keyed: Vec<(String, usize)> = Vec::with_capacity(hist.len());
        let mut key = vec![b'0'; width];
        for &(index, c) in hist {
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
        Counts { shots, counts }
    }
}
