//! Pauli strings, weighted Pauli sums, and their expectation values.
//!
//! A [`PauliString`] `P = ⊗_q σ_q` acts on basis states as `P|i⟩ = i^{n_Y} (−1)^{|i ∧ z|} |i ⊕ x⟩`
//! where `x` marks the qubits with X or Y and `z` those with Z or Y. So
//! `⟨ψ|P|ψ⟩ = Σᵢ conj(ψ_{i⊕x}) · i^{n_Y} (−1)^{|i∧z|} ψᵢ`, one pass over the state.
//!
//! **Text forms** (parsed by [`str::parse`]): Qiskit labels, where the *rightmost* letter acts on
//! qubit 0 (`"-1.05*II + 0.39*IZ - 0.39*ZI + 0.18*XX"`), or a sparse form with explicit qubit
//! indices (`"0.5*Z0*Z3 + X2"`). Coefficients are any float notation (`1e-3`, `-0.5`); a missing
//! coefficient is 1.
//!
//! **Shot estimates** ([`PauliSum::estimate`]): terms are grouped greedily into qubit-wise
//! commuting groups; each group is measured with `shots` shots after rotating X → Z (H) and
//! Y → Z (S†, then H). For a group, the per-shot value `f = Σₜ cₜ · (−1)^{|outcome ∧ zₜ|}` has
//! sample mean `f̄` and sample variance `s²`; the estimate is `Σ f̄ + Σ(identity terms)` with
//! standard error `sqrt(Σ s²/shots)` over groups (groups are sampled independently).

use crate::error::{Error, Result};
use crate::measure::{rng_from_seed, sample_histogram};
use crate::state::{PureState, StateVector};
use num_complex::Complex64 as C64;
use std::fmt;
use std::str::FromStr;

/// A single-qubit Pauli operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pauli {
    /// Identity.
    I,
    /// Pauli X.
    X,
    /// Pauli Y.
    Y,
    /// Pauli Z.
    Z,
}

impl Pauli {
    fn from_char(c: char) -> Option<Pauli> {
        match c {
            'I' => Some(Pauli::I),
            'X' => Some(Pauli::X),
            'Y' => Some(Pauli::Y),
            'Z' => Some(Pauli::Z),
            _ => None,
        }
    }

    fn letter(self) -> char {
        match self {
            Pauli::I => 'I',
            Pauli::X => 'X',
            Pauli::Y => 'Y',
            Pauli::Z => 'Z',
        }
    }
}

/// A tensor product of Paulis on specific qubits (identity elsewhere), sorted by qubit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PauliString {
    ops: Vec<(usize, Pauli)>,
}

impl PauliString {
    /// A Pauli string from `(qubit, Pauli)` factors; identities are dropped, qubits must be
    /// distinct.
    ///
    /// ```
    /// use qloop::{Pauli, PauliString};
    /// let zz = PauliString::new(&[(0, Pauli::Z), (3, Pauli::Z)]).unwrap();
    /// assert_eq!(zz.to_string(), "Z0*Z3");
    /// ```
    pub fn new(factors: &[(usize, Pauli)]) -> Result<Self> {
        let qubits: Vec<usize> = factors.iter().map(|f| f.0).collect();
        crate::measure::check_subset("Pauli string", &qubits, crate::limits::MAX_QUBITS)?;
        let mut ops: Vec<(usize, Pauli)> = factors
            .iter()
            .copied()
            .filter(|f| f.1 != Pauli::I)
            .collect();
        ops.sort_by_key(|f| f.0);
        Ok(PauliString { ops })
    }

    /// The non-identity factors, sorted by qubit.
    pub fn factors(&self) -> &[(usize, Pauli)] {
        &self.ops
    }

    /// One more than the highest qubit acted on (0 for the identity).
    pub fn min_qubits(&self) -> usize {
        self.ops.last().map_or(0, |f| f.0 + 1)
    }

    /// `(x, z, phase)`: the masks of qubits with X or Y and with Z or Y, and `i^{n_Y}`, so that
    /// `P|i⟩ = phase · (−1)^{|i ∧ z|} |i ⊕ x⟩`.
    pub(crate) fn masks_and_phase(&self) -> (usize, usize, C64) {
        let (x, z, ny) = self.masks();
        let phase = [
            C64::new(1.0, 0.0),
            C64::new(0.0, 1.0),
            C64::new(-1.0, 0.0),
            C64::new(0.0, -1.0),
        ][(ny % 4) as usize];
        (x, z, phase)
    }

    /// Masks `(x, z, n_Y)`: qubits with X or Y, qubits with Z or Y, number of Ys.
    fn masks(&self) -> (usize, usize, u32) {
        self.ops
            .iter()
            .fold((0, 0, 0), |(x, z, y), &(q, p)| match p {
                Pauli::I => (x, z, y),
                Pauli::X => (x | 1 << q, z, y),
                Pauli::Z => (x, z | 1 << q, y),
                Pauli::Y => (x | 1 << q, z | 1 << q, y + 1),
            })
    }

    /// `⟨ψ|P|ψ⟩`.
    ///
    /// ```
    /// let psi = qloop::Circuit::new(2).h(0).cx(0, 1).statevector().unwrap();
    /// let xx: qloop::PauliSum = "XX".parse().unwrap();
    /// assert!((xx.terms()[0].1.expectation(&psi).unwrap() - 1.0).abs() < 1e-12);
    /// ```
    pub fn expectation(&self, state: &impl PureState) -> Result<f64> {
        check_fits(self.min_qubits(), state.num_qubits())?;
        let (x, z, phase) = self.masks_and_phase();
        if x == 0 {
            // Z and I only: a signed sum of probabilities.
            return Ok((0..1usize << state.num_qubits())
                .map(|i| {
                    let p = state.amplitude(i).norm_sqr();
                    if (i & z).count_ones() % 2 == 1 {
                        -p
                    } else {
                        p
                    }
                })
                .sum());
        }
        let sum: C64 = (0..1usize << state.num_qubits())
            .map(|i| {
                let v = state.amplitude(i ^ x).conj() * state.amplitude(i);
                if (i & z).count_ones() % 2 == 1 {
                    -v
                } else {
                    v
                }
            })
            .sum();
        Ok((phase * sum).re)
    }
}

fn check_fits(needed: usize, num_qubits: usize) -> Result<()> {
    if needed > num_qubits {
        return Err(Error::ObservableSize {
            observable_qubits: needed,
            num_qubits,
        });
    }
    Ok(())
}

impl fmt::Display for PauliString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ops.is_empty() {
            return f.write_str("I");
        }
        let parts: Vec<String> = self
            .ops
            .iter()
            .map(|(q, p)| format!("{}{q}", p.letter()))
            .collect();
        f.write_str(&parts.join("*"))
    }
}

/// A weighted sum of Pauli strings `Σₜ cₜ Pₜ` (a Hermitian observable).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PauliSum {
    terms: Vec<(f64, PauliString)>,
    /// Width fixed by a Qiskit label (which names every qubit); `None` for the sparse form.
    label_width: Option<usize>,
}

/// A value estimated from shots, with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard error.
    pub stderr: f64,
}

impl PauliSum {
    /// `out = H ψ` for the amplitudes `psi` (`out` is overwritten; both of one length, wide
    /// enough for every term).
    pub(crate) fn apply_into(&self, psi: &[C64], out: &mut [C64]) {
        out.iter_mut().for_each(|o| *o = C64::new(0.0, 0.0));
        for (coeff, string) in &self.terms {
            let (x, z, phase) = string.masks_and_phase();
            let w = phase * coeff;
            for (i, a) in psi.iter().enumerate() {
                let v = w * a;
                out[i ^ x] += if (i & z).count_ones() % 2 == 1 { -v } else { v };
            }
        }
    }

    /// A sum from `(coefficient, string)` terms.
    pub fn new(terms: Vec<(f64, PauliString)>) -> Self {
        PauliSum {
            terms,
            label_width: None,
        }
    }

    /// The terms.
    pub fn terms(&self) -> &[(f64, PauliString)] {
        &self.terms
    }

    /// Checks the observable against an `n`-qubit state: labels must name exactly `n` qubits,
    /// sparse indices must be below `n`.
    pub fn check_width(&self, num_qubits: usize) -> Result<()> {
        match self.label_width {
            Some(w) if w != num_qubits => Err(Error::ObservableSize {
                observable_qubits: w,
                num_qubits,
            }),
            _ => check_fits(
                self.terms
                    .iter()
                    .map(|t| t.1.min_qubits())
                    .max()
                    .unwrap_or(0),
                num_qubits,
            ),
        }
    }

    /// Exact `⟨ψ|H|ψ⟩`.
    ///
    /// ```
    /// let psi = qloop::Circuit::new(2).x(0).statevector().unwrap();
    /// let h: qloop::PauliSum = "0.5*IZ + 2*ZI".parse().unwrap();
    /// assert!((h.expectation(&psi).unwrap() - 1.5).abs() < 1e-15); // ⟨Z0⟩ = −1, ⟨Z1⟩ = 1
    /// ```
    pub fn expectation(&self, state: &impl PureState) -> Result<f64> {
        self.check_width(state.num_qubits())?;
        self.terms
            .iter()
            .map(|(c, p)| Ok(c * p.expectation(state)?))
            .sum()
    }

    /// Estimates `⟨ψ|H|ψ⟩` from `shots` shots per measurement group, seeded; see the
    /// [module docs](self) for the estimator and its standard error.
    ///
    /// ```
    /// let psi = qloop::Circuit::new(1).h(0).statevector().unwrap();
    /// let x: qloop::PauliSum = "X".parse().unwrap();
    /// let est = x.estimate(&psi, 1000, 3).unwrap();
    /// assert_eq!((est.value, est.stderr), (1.0, 0.0)); // |+⟩ is an X eigenstate
    /// ```
    pub fn estimate(&self, state: &StateVector, shots: usize, seed: u64) -> Result<Estimate> {
        crate::measure::check_shots(shots)?;
        self.check_width(state.num_qubits())?;
        if shots < 2 {
            return Err(Error::TooFewShots {
                context: "estimate with a standard error".into(),
                min: 2,
                got: shots,
            });
        }
        let mut rng = rng_from_seed(seed);
        let mut value = 0.0;
        let mut variance = 0.0;
        for group in self.qubitwise_commuting_groups() {
            let basis = group.basis;
            if basis.is_empty() {
                value += group.terms.iter().map(|t| t.0).sum::<f64>();
                continue;
            }
            let mut rotated = state.clone();
            rotate_to_z(&mut rotated, &basis);
            let hist = sample_histogram(&rotated.probabilities(), shots, &mut rng);
            // After the rotation every factor of a term reads as Z: its sign is the parity of
            // the outcome on the qubits the term acts on.
            let parity_masks: Vec<(f64, usize)> = group
                .terms
                .iter()
                .map(|(c, p)| (*c, p.masks().0 | p.masks().1))
                .collect();
            let (mut sum, mut sum_sq) = (0.0, 0.0);
            for (outcome, count) in hist {
                let f: f64 = parity_masks
                    .iter()
                    .map(|&(c, mask)| {
                        if (outcome & mask).count_ones() % 2 == 1 {
                            -c
                        } else {
                            c
                        }
                    })
                    .sum();
                sum += f * count as f64;
                sum_sq += f * f * count as f64;
            }
            let n = shots as f64;
            let mean = sum / n;
            value += mean;
            variance += ((sum_sq - n * mean * mean) / (n - 1.0)).max(0.0) / n;
        }
        Ok(Estimate {
            value,
            stderr: variance.sqrt(),
        })
    }

    /// Greedy qubit-wise commuting grouping, in term order.
    fn qubitwise_commuting_groups(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        for (c, p) in &self.terms {
            let fits = |g: &Group| {
                p.ops
                    .iter()
                    .all(|&(q, op)| g.basis.iter().all(|&(gq, gop)| gq != q || gop == op))
            };
            let group = match groups.iter_mut().position(|g| fits(g)) {
                Some(k) => &mut groups[k],
                None => {
                    groups.push(Group::default());
                    groups.last_mut().expect("just pushed")
                }
            };
            for &f in &p.ops {
                if !group.basis.contains(&f) {
                    group.basis.push(f);
                }
            }
            group.terms.push((*c, p.clone()));
        }
        groups
    }
}

/// Rotates `state` so that measuring Z on each qubit of `basis` measures its Pauli: `H` for
/// X, `H·S†` for Y (one fused 2×2 per qubit), qubit by qubit in ascending order, straight
/// through the simulator's kernels: no circuit is compiled per estimate.
fn rotate_to_z(state: &mut StateVector, basis: &[(usize, Pauli)]) {
    use crate::sim::kernels::{apply, one_target_kernel, Subspace};
    use crate::sim::mat2::Mat2;
    use crate::sim::simd::Cpu;
    use crate::Gate;
    let matrix = |g: Gate| Mat2::detect(g.one_target_matrix(&[]).expect("one target"));
    let mut qubits: Vec<(usize, Pauli)> = basis.to_vec();
    qubits.sort_by_key(|&(q, _)| q);
    let par = crate::Par::auto(state.num_qubits());
    for (q, p) in qubits {
        let m = match p {
            Pauli::X => matrix(Gate::H),
            Pauli::Y => matrix(Gate::H).mul(&matrix(Gate::Sdg)),
            Pauli::I | Pauli::Z => continue,
        };
        let kernel = one_target_kernel(q, Mat2::detect(m.dense()));
        let sub = Subspace::new(&[], &[q]);
        apply(state.amplitudes_mut(), &kernel, &sub, par, Cpu::detect());
    }
}

#[derive(Default)]
struct Group {
    basis: Vec<(usize, Pauli)>,
    terms: Vec<(f64, PauliString)>,
}

impl fmt::Display for PauliSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, (c, p)) in self.terms.iter().enumerate() {
            if k > 0 {
                f.write_str(" + ")?;
            }
            write!(f, "{c}*{p}")?;
        }
        Ok(())
    }
}

/// Serialized as its text form (sparse notation, shortest round-trip coefficients).
impl serde::Serialize for PauliSum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PauliSum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A tiny scanner over the observable text that reports 1-based columns.
struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    fn err<T>(&self, message: impl Into<String>) -> Result<T> {
        Err(Error::Observable {
            column: self.pos + 1,
            message: message.into(),
        })
    }
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }
    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }
    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|&c| pred(c)) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }
    fn number(&mut self) -> Result<f64> {
        let start = self.pos;
        let mut text = self.take_while(|c| c.is_ascii_digit() || c == '.');
        if matches!(self.chars.get(self.pos), Some('e' | 'E')) {
            text.push('e');
            self.pos += 1;
            if let Some(&s @ ('+' | '-')) = self.chars.get(self.pos) {
                text.push(s);
                self.pos += 1;
            }
            text += &self.take_while(|c| c.is_ascii_digit());
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            Ok(v) => {
                self.pos = start;
                self.err(format!("'{text}' is {v}; coefficients must be finite"))
            }
            Err(_) => {
                self.pos = start;
                self.err(format!("'{text}' is not a number"))
            }
        }
    }
}

impl FromStr for PauliSum {
    type Err = Error;

    /// Parses the label or sparse form described in the [module docs](self).
    fn from_str(text: &str) -> Result<Self> {
        let mut s = Scanner {
            chars: text.chars().collect(),
            pos: 0,
        };
        let mut terms = Vec::new();
        let mut label_width: Option<usize> = None;
        let mut sign = 1.0;
        loop {
            // Signs before a term (`-Z0`, `+ -0.5*ZZ`) multiply its coefficient.
            while let Some(c @ ('+' | '-')) = s.peek() {
                sign *= if c == '-' { -1.0 } else { 1.0 };
                s.pos += 1;
            }
            let mut coeff = sign;
            if s.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                coeff *= s.number()?;
                if s.peek() == Some('*') {
                    s.pos += 1;
                }
            }
            s.skip_ws();
            let start = s.pos;
            let word = s.take_while(|c| c.is_ascii_alphanumeric());
            if word.is_empty() {
                return s.err(match s.chars.get(s.pos) {
                    Some(c) => format!("expected a Pauli term, found '{c}'"),
                    None => "expected a Pauli term, found the end".into(),
                });
            }
            let string = if word.chars().skip(1).any(|c| c.is_ascii_digit()) {
                s.pos = start;
                let mut factors = Vec::new();
                loop {
                    s.skip_ws();
                    let at = s.pos;
                    let Some(p) = s.chars.get(s.pos).copied().and_then(Pauli::from_char) else {
                        return s.err("expected a Pauli factor such as Z0");
                    };
                    s.pos += 1;
                    let digits = s.take_while(|c| c.is_ascii_digit());
                    let Ok(q) = digits.parse::<usize>() else {
                        s.pos = at;
                        return s.err("expected a qubit index after the Pauli letter (e.g. Z0)");
                    };
                    if factors.iter().any(|&(fq, _)| fq == q) {
                        s.pos = at;
                        return s.err(format!("qubit {q} appears twice in one term"));
                    }
                    factors.push((q, p));
                    let save = s.pos;
                    if s.peek() == Some('*') {
                        s.pos += 1;
                        if s.peek().and_then(Pauli::from_char).is_some() {
                            continue;
                        }
                    }
                    s.pos = save;
                    break;
                }
                PauliString::new(&factors)?
            } else {
                let mut factors = Vec::new();
                let n = word.chars().count();
                for (k, c) in word.chars().enumerate() {
                    let Some(p) = Pauli::from_char(c) else {
                        s.pos = start + k;
                        return s.err(format!("'{c}' is not a Pauli letter (I, X, Y, Z)"));
                    };
                    factors.push((n - 1 - k, p));
                }
                match label_width {
                    Some(w) if w != n => {
                        s.pos = start;
                        return s.err(format!(
                            "label '{word}' has {n} letters but earlier labels have {w}"
                        ));
                    }
                    _ => label_width = Some(n),
                }
                PauliString::new(&factors)?
            };
            terms.push((coeff, string));
            match s.peek() {
                None => break,
                Some('+') => sign = 1.0,
                Some('-') => sign = -1.0,
                Some(c) => return s.err(format!("expected '+', '-' or the end, found '{c}'")),
            }
            s.pos += 1;
        }
        Ok(PauliSum { terms, label_width })
    }
}
