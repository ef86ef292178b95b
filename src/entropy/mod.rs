//! Entanglement of pure states: reduced density matrices, Schmidt coefficients, von Neumann and
//! Rényi entropies, mutual information, entropy profiles and the Meyer–Wallach measure.
//!
//! Split the `n` qubits into a subsystem `A` (any qubits, in any order) and its complement `B`
//! (ascending). Reshape `ψ` into the `2^|A| × 2^|B|` matrix `M[a, b] = ψ[i(a, b)]`, where bit `k`
//! of `a` is qubit `A[k]` and bit `k` of `b` is qubit `B[k]`. Then
//!
//! - Schmidt decomposition `M = Σₖ sₖ uₖ vₖ†`; the reduced state is `ρ_A = Tr_B |ψ⟩⟨ψ| = M M†`
//!   with eigenvalues `λₖ = sₖ²` (the entanglement spectrum; `ρ_B` has the same nonzero ones);
//! - von Neumann entropy `S(A) = −Σ λ log λ`; Rényi `S_α(A) = log(Σ λ^α) / (1 − α)`, with
//!   `S_0 = log rank`, `S_1 = S`, `S_2 = −log Tr ρ_A²` (from the purity, no eigenvalues) and
//!   `S_∞ = −log λ_max`; the log base is [`LogBase`] (natural by default, see
//!   `docs/conventions.md`);
//! - mutual information `I(A:B) = S(A) + S(B) − S(AB)` for disjoint `A`, `B`;
//! - Meyer–Wallach `Q = 2 (1 − (1/n) Σ_q Tr ρ_q²)`, in `[0, 1]`, 0 exactly for product states.
//!
//! Two routes give the spectrum ([`Method`]): the singular values of `M`, or the eigenvalues of
//! the Gram matrix of its smaller side (`M M†` or `Mᵀ M̄`, of size `min(2^|A|, 2^|B|)`). Which is
//! cheaper depends on the library, so [`Method::Auto`] follows measurement
//! (`cargo bench --bench entropy`, `docs/performance.md`): with faer the Gram route (one matrix
//! product and one Hermitian eigenvalue problem, 2× faster than faer's SVD at 20 qubits), with
//! LAPACK the SVD (`zgesdd`; OpenBLAS's Hermitian eigensolver is an order of magnitude slower
//! here). Eigenvalues are accurate to `≈ d ε` absolutely, so spectra are clamped at 0 and
//! eigenvalues below that noise floor do not count towards the rank.
//!
//! ```
//! use qloop::entropy::LogBase;
//! let ghz = qloop::Circuit::new(3).h(0).cx(0, 1).cx(1, 2).statevector().unwrap();
//! let s = ghz.entanglement().von_neumann(&[0], LogBase::E).unwrap();
//! assert!((s - std::f64::consts::LN_2).abs() < 1e-12);
//! ```
//!
//! References: M. A. Nielsen and I. L. Chuang, *Quantum Computation and Quantum Information*,
//! §2.5 (Schmidt decomposition) and §11.3 (entropy); D. A. Meyer and N. R. Wallach, J. Math.
//! Phys. 43, 4273 (2002); D. N. Page, Phys. Rev. Lett. 71, 1291 (1993) for the mean entropy of
//! random states ([`page_entropy`]).

mod hermitian_times;
mod linalg;
mod two_stage;

pub use linalg::Backend;

use crate::error::{Error, Result};
use crate::measure::check_subset;
use crate::{Par, StateVector};
use ndarray::Array2;
use num_complex::Complex64 as C64;
use std::borrow::Cow;

/// The base of every logarithm in an entropy: `e` (nats, the default) or 2 (bits).
///
/// ```
/// use qloop::entropy::LogBase;
/// assert_eq!(LogBase::Two.log(8.0), 3.0);
/// assert_eq!("2".parse::<LogBase>().unwrap(), LogBase::Two);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LogBase {
    /// Natural logarithm: entropies in nats.
    #[default]
    #[serde(rename = "e")]
    E,
    /// Base 2: entropies in bits.
    #[serde(rename = "2")]
    Two,
}

impl LogBase {
    /// `log_base(x)`.
    pub fn log(self, x: f64) -> f64 {
        match self {
            LogBase::E => x.ln(),
            LogBase::Two => x.log2(),
        }
    }

    /// Converts an entropy in nats to this base.
    pub fn from_nats(self, nats: f64) -> f64 {
        match self {
            LogBase::E => nats,
            LogBase::Two => nats / std::f64::consts::LN_2,
        }
    }

    /// `"e"` or `"2"`.
    pub fn name(self) -> &'static str {
        match self {
            LogBase::E => "e",
            LogBase::Two => "2",
        }
    }

    /// The unit of an entropy in this base: `"nats"` or `"bits"`.
    pub fn unit(self) -> &'static str {
        match self {
            LogBase::E => "nats",
            LogBase::Two => "bits",
        }
    }
}

impl std::str::FromStr for LogBase {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "e" => Ok(LogBase::E),
            "2" => Ok(LogBase::Two),
            other => Err(format!("log base '{other}' is not one of: e, 2")),
        }
    }
}

/// How the spectrum of a cut is computed (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// The cheaper route for the backend: [`Method::Gram`] with faer, [`Method::Svd`] with
    /// LAPACK (see the module docs).
    #[default]
    Auto,
    /// Singular values of the `2^|A| × 2^|B|` matrix.
    Svd,
    /// Eigenvalues of the Gram matrix of the smaller side (a reduced density matrix).
    Gram,
}

/// The entanglement spectrum of a cut: the eigenvalues `λₖ` of `ρ_A`, descending, clamped at
/// 0, and the noise floor (`8 d ε`, `d` the larger side's dimension) below which an
/// eigenvalue is treated as zero.
///
/// ```
/// let bell = qloop::Circuit::new(2).h(0).cx(0, 1).statevector().unwrap();
/// let spectrum = bell.entanglement().spectrum(&[1]).unwrap();
/// assert_eq!(spectrum.rank(), 2);
/// assert!((spectrum.eigenvalues()[0] - 0.5).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    eigenvalues: Vec<f64>,
    floor: f64,
}

impl Spectrum {
    /// The spectrum from eigenvalues of `ρ_A` in any order; `dim` the larger side's dimension.
    pub(crate) fn new(mut values: Vec<f64>, dim: usize) -> Spectrum {
        for v in &mut values {
            *v = v.max(0.0);
        }
        values.sort_by(|a, b| b.total_cmp(a));
        let floor = 8.0 * dim.max(1) as f64 * f64::EPSILON;
        Spectrum {
            eigenvalues: values,
            floor,
        }
    }

    /// The eigenvalues of `ρ_A` (squared Schmidt coefficients), descending. Their number is
    /// the dimension of the smaller side of the cut.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// The Schmidt coefficients `sₖ = √λₖ`, descending.
    pub fn schmidt_coefficients(&self) -> Vec<f64> {
        self.eigenvalues.iter().map(|l| l.sqrt()).collect()
    }

    /// The entanglement energies `ξₖ = −ln λₖ` (Li–Haldane) of the eigenvalues above the noise
    /// floor, ascending.
    pub fn entanglement_energies(&self) -> Vec<f64> {
        self.significant().map(|l| -l.ln()).collect()
    }

    /// The number of eigenvalues above the noise floor (the Schmidt rank).
    pub fn rank(&self) -> usize {
        self.significant().count()
    }

    fn significant(&self) -> impl Iterator<Item = f64> + '_ {
        self.eigenvalues
            .iter()
            .copied()
            .filter(move |&l| l > self.floor)
    }

    /// `Tr ρ_A² = Σ λ²`.
    pub fn purity(&self) -> f64 {
        self.eigenvalues.iter().map(|l| l * l).sum()
    }

    /// `S = −Σ λ log λ`.
    pub fn von_neumann(&self, base: LogBase) -> f64 {
        let nats: f64 = self
            .eigenvalues
            .iter()
            .filter(|&&l| l > 0.0)
            .map(|&l| -l * l.ln())
            .sum();
        base.from_nats(nats.max(0.0))
    }

    /// `S_α = log(Σ λ^α) / (1 − α)` for `α ≥ 0` (`α = 1` is von Neumann, `α = ∞` is
    /// `−log λ_max`, `α = 0` is `log rank`).
    pub fn renyi(&self, alpha: f64, base: LogBase) -> Result<f64> {
        check_renyi_order(alpha)?;
        let nats = if alpha == 1.0 {
            return Ok(self.von_neumann(base));
        } else if alpha == 0.0 {
            (self.rank().max(1) as f64).ln()
        } else if alpha == f64::INFINITY {
            -self.eigenvalues.first().copied().unwrap_or(1.0).ln()
        } else {
            // ln Σ λ^α = α ln λ_max + ln Σ (λ/λ_max)^α: the sum is in [1, rank], so neither
            // a large α (λ^α underflowing) nor a small one loses the result.
            let max = self.significant().fold(0.0f64, f64::max);
            if max <= 0.0 {
                0.0
            } else {
                let sum: f64 = self.significant().map(|l| (l / max).powf(alpha)).sum();
                (alpha * max.ln() + sum.ln()) / (1.0 - alpha)
            }
        };
        Ok(base.from_nats(nats.max(0.0)))
    }
}

fn check_renyi_order(alpha: f64) -> Result<()> {
    if alpha.is_nan() || alpha < 0.0 {
        return Err(Error::RenyiOrder { alpha });
    }
    Ok(())
}

/// Entanglement measures of one pure state, with the route, backend and parallelism chosen
/// once. Made by [`StateVector::entanglement`].
///
/// ```
/// use qloop::entropy::{LogBase, Method};
/// let psi = qloop::Circuit::new(4).h(0).cx(0, 2).statevector().unwrap();
/// let e = psi.entanglement().method(Method::Svd);
/// assert!((e.von_neumann(&[0, 1], LogBase::Two).unwrap() - 1.0).abs() < 1e-12);
/// assert!(e.von_neumann(&[0, 2], LogBase::Two).unwrap().abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Entanglement<'s> {
    state: &'s StateVector,
    method: Method,
    backend: Backend,
    par: Par,
}

impl StateVector {
    /// Entanglement measures of this state (faer, the Gram route, parallel from
    /// [`Par::THRESHOLD_QUBITS`] qubits).
    pub fn entanglement(&self) -> Entanglement<'_> {
        Entanglement {
            state: self,
            method: Method::Auto,
            backend: Backend::default(),
            par: Par::auto(self.num_qubits()),
        }
    }
}

/// The basis-index offsets of the `2^k` assignments of `qubits`: entry `j` has bit `qubits[k]`
/// set where bit `k` of `j` is.
pub(crate) fn offsets(qubits: &[usize]) -> Vec<usize> {
    let mut out = vec![0usize; 1 << qubits.len()];
    for (k, &q) in qubits.iter().enumerate() {
        let half = 1 << k;
        for j in 0..half {
            out[half + j] = out[j] | (1 << q);
        }
    }
    out
}

impl<'s> Entanglement<'s> {
    /// Chooses the route (default [`Method::Auto`]).
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Chooses the linear-algebra backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Chooses the parallelism of the matrix product and decompositions.
    pub fn par(mut self, par: Par) -> Self {
        self.par = par;
        self
    }

    fn n(&self) -> usize {
        self.state.num_qubits()
    }

    /// Checks a subsystem (non-empty, in range, no repeats) and the state's norm.
    fn check(&self, context: &str, subsystem: &[usize]) -> Result<()> {
        if subsystem.is_empty() {
            return Err(Error::SubsetEmpty {
                context: context.into(),
            });
        }
        check_subset(context, subsystem, self.n())?;
        let norm = self.state.norm_sqr();
        let tolerance = 1e-9;
        if (norm - 1.0).abs() > tolerance {
            return Err(Error::NotNormalized { norm_sqr: norm });
        }
        Ok(())
    }

    /// The matrix `M` of the cut `A | B` (column-major, `2^|A|` rows), borrowed from the state
    /// when `A = [0, 1, …, k−1]`.
    fn matrix(&self, a: &[usize]) -> (Cow<'s, [C64]>, usize, usize) {
        let n = self.n();
        let rows = 1usize << a.len();
        let cols = 1usize << (n - a.len());
        let psi = self.state.amplitudes();
        if a.iter().enumerate().all(|(k, &q)| k == q) {
            return (Cow::Borrowed(psi), rows, cols);
        }
        let b: Vec<usize> = (0..n).filter(|q| !a.contains(q)).collect();
        let (row_off, col_off) = (offsets(a), offsets(&b));
        let mut m = Vec::with_capacity(rows * cols);
        for &cb in &col_off {
            m.extend(row_off.iter().map(|&ra| psi[ra | cb]));
        }
        (Cow::Owned(m), rows, cols)
    }

    /// The Gram matrix (lower triangle) of the smaller side of the cut, and its size. The
    /// larger of `A` and its complement becomes the column index, so that `G` is `ρ_A` or
    /// `ρ_B`, which share their nonzero spectrum. For an even cut `M` is square and `M† M`
    /// (a conjugated `ρ_B`: the same spectrum) is the faster product.
    fn smaller_gram(&self, a: &[usize]) -> (Vec<C64>, usize) {
        let complement: Vec<usize>;
        let rows_side = if 2 * a.len() <= self.n() {
            a
        } else {
            complement = (0..self.n()).filter(|q| !a.contains(q)).collect();
            &complement
        };
        let (m, rows, cols) = self.matrix(rows_side);
        if rows == cols {
            return (self.backend.adjoint_gram(&m, rows, cols, self.par), cols);
        }
        (self.backend.gram(&m, rows, cols, self.par), rows)
    }

    /// The entanglement spectrum of the cut `A | rest`.
    pub fn spectrum(&self, subsystem: &[usize]) -> Result<Spectrum> {
        self.check("entropy subsystem", subsystem)?;
        let (small, large) = {
            let (a, b) = (subsystem.len(), self.n() - subsystem.len());
            (a.min(b), a.max(b))
        };
        let method = match (self.method, self.backend) {
            (Method::Auto, Backend::Faer) => Method::Gram,
            #[cfg(feature = "lapack")]
            (Method::Auto, Backend::Lapack) => Method::Svd,
            (chosen, _) => chosen,
        };
        let values = match method {
            Method::Auto | Method::Gram => {
                let (g, d) = self.smaller_gram(subsystem);
                self.backend.hermitian_eigenvalues(&g, d, self.par)?
            }
            Method::Svd => {
                let (m, rows, cols) = self.matrix(subsystem);
                let s = self.backend.singular_values(&m, rows, cols, self.par)?;
                s.into_iter().map(|s| s * s).collect()
            }
        };
        debug_assert_eq!(values.len(), 1 << small);
        Ok(Spectrum::new(values, 1 << large))
    }

    /// The Schmidt coefficients of the cut, descending (always from an SVD of `M`, whatever the
    /// method; the other side's coefficients are the same).
    ///
    /// ```
    /// let bell = qloop::Circuit::new(2).h(0).cx(0, 1).statevector().unwrap();
    /// let s = bell.entanglement().schmidt_coefficients(&[0]).unwrap();
    /// assert!((s[0] - 0.5f64.sqrt()).abs() < 1e-15 && (s[1] - 0.5f64.sqrt()).abs() < 1e-15);
    /// ```
    pub fn schmidt_coefficients(&self, subsystem: &[usize]) -> Result<Vec<f64>> {
        Ok(self
            .method(Method::Svd)
            .spectrum(subsystem)?
            .schmidt_coefficients())
    }

    /// The reduced density matrix `ρ_A = Tr_B |ψ⟩⟨ψ|`, `2^|A| × 2^|A|`, with bit `k` of its
    /// row and column index the state of qubit `subsystem[k]` (as in
    /// [`StateVector::marginal_probabilities`], which is its diagonal).
    ///
    /// ```
    /// let plus = qloop::Circuit::new(2).h(1).statevector().unwrap();
    /// let rho = plus.entanglement().reduced_density_matrix(&[1]).unwrap();
    /// assert!((rho[[0, 1]].re - 0.5).abs() < 1e-15);
    /// ```
    pub fn reduced_density_matrix(&self, subsystem: &[usize]) -> Result<Array2<C64>> {
        self.check("reduced density matrix subsystem", subsystem)?;
        let (m, rows, cols) = self.matrix(subsystem);
        let g = self.backend.gram(&m, rows, cols, self.par);
        Ok(Array2::from_shape_fn((rows, rows), |(i, j)| {
            if i >= j {
                g[i + rows * j]
            } else {
                g[j + rows * i].conj()
            }
        }))
    }

    /// `Tr ρ_A²`, from the Gram matrix of the smaller side (no eigenvalues).
    pub fn purity(&self, subsystem: &[usize]) -> Result<f64> {
        self.check("entropy subsystem", subsystem)?;
        let (g, d) = self.smaller_gram(subsystem);
        let mut sum = 0.0;
        for j in 0..d {
            sum += g[j + d * j].norm_sqr();
            for i in j + 1..d {
                sum += 2.0 * g[i + d * j].norm_sqr();
            }
        }
        Ok(sum)
    }

    /// The von Neumann entropy `S(A)`.
    pub fn von_neumann(&self, subsystem: &[usize], base: LogBase) -> Result<f64> {
        Ok(self.spectrum(subsystem)?.von_neumann(base))
    }

    /// The Rényi-α entropy `S_α(A)`, `α ≥ 0` (`α = 2` from the purity).
    pub fn renyi(&self, subsystem: &[usize], alpha: f64, base: LogBase) -> Result<f64> {
        check_renyi_order(alpha)?;
        if alpha == 2.0 {
            let purity = self.purity(subsystem)?;
            return Ok(base.from_nats((-purity.ln()).max(0.0)));
        }
        self.spectrum(subsystem)?.renyi(alpha, base)
    }

    /// The mutual information `I(A:B) = S(A) + S(B) − S(AB)` of disjoint subsystems.
    ///
    /// ```
    /// use qloop::entropy::LogBase;
    /// let bell = qloop::Circuit::new(3).h(0).cx(0, 2).statevector().unwrap();
    /// let e = bell.entanglement();
    /// assert!((e.mutual_information(&[0], &[2], LogBase::Two).unwrap() - 2.0).abs() < 1e-12);
    /// assert!(e.mutual_information(&[0], &[1], LogBase::Two).unwrap().abs() < 1e-12);
    /// ```
    pub fn mutual_information(&self, a: &[usize], b: &[usize], base: LogBase) -> Result<f64> {
        self.check("mutual information, first subsystem", a)?;
        self.check("mutual information, second subsystem", b)?;
        if let Some(&q) = a.iter().find(|q| b.contains(q)) {
            return Err(Error::SubsetsOverlap {
                context: "mutual information".into(),
                qubit: q,
            });
        }
        let ab: Vec<usize> = a.iter().chain(b).copied().collect();
        let value = self.von_neumann(a, base)? + self.von_neumann(b, base)?
            - self.von_neumann(&ab, base)?;
        Ok(value.max(0.0))
    }

    /// The `2 × 2` reduced density matrices of every qubit as `(p₀, p₁, ρ₀₁)`, in one pass
    /// per qubit.
    fn single_qubit_states(&self) -> Vec<(f64, f64, C64)> {
        let psi = self.state.amplitudes();
        (0..self.n())
            .map(|q| {
                let bit = 1usize << q;
                let (mut p0, mut p1, mut off) = (0.0, 0.0, C64::new(0.0, 0.0));
                for i in (0..psi.len()).filter(|i| i & bit == 0) {
                    let (a0, a1) = (psi[i], psi[i | bit]);
                    p0 += a0.norm_sqr();
                    p1 += a1.norm_sqr();
                    off += a0 * a1.conj();
                }
                (p0, p1, off)
            })
            .collect()
    }

    /// The entropy of each qubit alone, `S(q)` for `q = 0 … n−1`, from closed-form `2 × 2`
    /// eigenvalues `(1 ± √((p₀ − p₁)² + 4|ρ₀₁|²)) / 2`.
    ///
    /// ```
    /// use qloop::entropy::LogBase;
    /// let bell = qloop::Circuit::new(3).h(0).cx(0, 1).statevector().unwrap();
    /// let s = bell.entanglement().single_qubit_entropies(LogBase::Two).unwrap();
    /// assert!((s[0] - 1.0).abs() < 1e-12 && (s[1] - 1.0).abs() < 1e-12 && s[2].abs() < 1e-12);
    /// ```
    pub fn single_qubit_entropies(&self, base: LogBase) -> Result<Vec<f64>> {
        self.check("single-qubit entropies", &[0])?;
        Ok(self
            .single_qubit_states()
            .into_iter()
            .map(|(p0, p1, off)| {
                let r = ((p0 - p1).powi(2) + 4.0 * off.norm_sqr()).sqrt();
                let values = vec![(1.0 + r) / 2.0, (1.0 - r) / 2.0];
                Spectrum::new(values, 2).von_neumann(base)
            })
            .collect())
    }

    /// The entropy across every cut of the chain: entry `k − 1` is `S({0, …, k−1})` for
    /// `k = 1 … n−1` (empty for one qubit).
    ///
    /// ```
    /// use qloop::entropy::LogBase;
    /// let ghz = qloop::Circuit::new(4).h(0).cx(0, 1).cx(1, 2).cx(2, 3).statevector().unwrap();
    /// let profile = ghz.entanglement().profile(LogBase::Two).unwrap();
    /// assert_eq!(profile.len(), 3);
    /// assert!(profile.iter().all(|s| (s - 1.0).abs() < 1e-12));
    /// ```
    pub fn profile(&self, base: LogBase) -> Result<Vec<f64>> {
        (1..self.n())
            .map(|k| self.von_neumann(&(0..k).collect::<Vec<_>>(), base))
            .collect()
    }

    /// The Meyer–Wallach global entanglement `Q = 2 (1 − (1/n) Σ_q Tr ρ_q²)` (0 for product
    /// states, 1 for GHZ states of two or more qubits).
    ///
    /// ```
    /// let ghz = qloop::Circuit::new(3).h(0).cx(0, 1).cx(1, 2).statevector().unwrap();
    /// assert!((ghz.entanglement().meyer_wallach().unwrap() - 1.0).abs() < 1e-12);
    /// ```
    pub fn meyer_wallach(&self) -> Result<f64> {
        self.check("Meyer-Wallach", &[0])?;
        let n = self.n() as f64;
        let purity_sum: f64 = self
            .single_qubit_states()
            .into_iter()
            .map(|(p0, p1, off)| p0 * p0 + p1 * p1 + 2.0 * off.norm_sqr())
            .sum();
        Ok((2.0 * (1.0 - purity_sum / n)).clamp(0.0, 1.0))
    }
}

/// The first `⌊n/2⌋` qubits (at least one): the default subsystem of `qloop entropy`.
pub fn half_cut(num_qubits: usize) -> Vec<usize> {
    (0..(num_qubits / 2).max(1).min(num_qubits)).collect()
}

/// Page's mean entanglement entropy (nats) of a Haar-random pure state of a `m·n`-dimensional
/// system across an `m | n` cut: `Σ_{k=n+1}^{mn} 1/k − (m − 1)/(2n)` for `m ≤ n`
/// (symmetric in `m` and `n`).
///
/// ```
/// // Two qubits: 1/3 + 1/4 − 1/4 = 1/3 nats.
/// assert!((qloop::entropy::page_entropy(2, 2) - 1.0 / 3.0).abs() < 1e-15);
/// ```
pub fn page_entropy(m: usize, n: usize) -> f64 {
    let (m, n) = (m.min(n), m.max(n));
    let harmonic: f64 = (n + 1..=m * n).map(|k| 1.0 / k as f64).sum();
    harmonic - (m as f64 - 1.0) / (2.0 * n as f64)
}

/// A Haar-random pure state of `num_qubits` qubits: independent standard complex Gaussian
/// amplitudes, normalized.
///
/// ```
/// let psi = qloop::entropy::haar_state(5, &mut qloop::measure::rng_from_seed(7)).unwrap();
/// assert!((psi.norm_sqr() - 1.0).abs() < 1e-12);
/// ```
pub fn haar_state(num_qubits: usize, rng: &mut impl rand::Rng) -> Result<StateVector> {
    use rand_distr::{Distribution, StandardNormal};
    crate::state::check_state_fits(num_qubits)?;
    let mut amps: Vec<C64> = (0..1usize << num_qubits)
        .map(|_| {
            let re: f64 = StandardNormal.sample(rng);
            let im: f64 = StandardNormal.sample(rng);
            C64::new(re, im)
        })
        .collect();
    let norm = amps.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    for a in &mut amps {
        *a /= norm;
    }
    StateVector::from_amplitudes(amps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_scatter_bits() {
        assert_eq!(offsets(&[2, 0]), vec![0, 4, 1, 5]);
        assert_eq!(offsets(&[]), vec![0]);
    }
}
