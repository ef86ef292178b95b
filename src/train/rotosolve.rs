//! Rotosolve, the sequential minimal optimizer of parameterized circuits, as an `argmin`
//! [`Solver`]: exact minimization along one angle at a time from a few evaluations.
//!
//! Fixing every weight but `θᵢ`, the expectation of an observable after a circuit whose
//! angles are affine in `θᵢ` is a trigonometric polynomial
//!
//! ```text
//! L(θᵢ + x) = a₀ + Σ_{m=1..K} (a_m cos mωx + b_m sin mωx)
//! ```
//!
//! whose frequencies are the positive part of the Minkowski sum, over the angles `θᵢ` enters
//! with coefficient `c`, of `{0} ∪ ±c·Sᵢ`, with `Sᵢ` the gate's [`Gate::angle_spectrum`]
//! (`{1}` for rotations, `{½, 1}` for controlled rotations); measurement, reset, classical
//! conditions and noise channels are linear maps that do not depend on angles, so they keep
//! it. [`WeightSpectrum`] holds that set on its grid `ω, 2ω, …, Kω`. The `2K + 1` values at
//! `x_k = 2πk / ((2K + 1)ω)`, `k = 0 … 2K`, determine the coefficients exactly by the discrete
//! Fourier transform (Wierichs et al. 2022):
//!
//! ```text
//! a₀ = ȳ,   a_m = (2/N) Σ_k y_k cos(2πmk/N),   b_m = (2/N) Σ_k y_k sin(2πmk/N),   N = 2K + 1
//! ```
//!
//! and `θᵢ` moves to the polynomial's global minimum (closed form `ωx* = atan2(b₁, a₁) + π`
//! for `K = 1`; a grid of `64K` points refined by Newton steps otherwise). The value at the
//! current point, `y₀`, is the one the previous step predicted, so an iteration (one
//! coordinate) costs `2K` evaluations: two for a rotation. Coordinates are visited in
//! layout order, one sweep after another. With noisy (shot) estimates the prediction carries
//! their noise, so [`Rotosolve::remeasure`] measures `y₀` afresh at the start of each sweep.
//!
//! Each step cannot raise an exact loss, so the run stops ("converged") when a whole sweep
//! lowers it by no more than the tolerance. Exact losses involve no randomness; shot noise is
//! drawn from [`Rotosolve::with_seed`]'s seed.
//!
//! References: K. M. Nakanishi, K. Fujii, S. Todo, *Sequential minimal optimization for
//! quantum-classical hybrid algorithms*, Phys. Rev. Research 2, 043158 (2020); M.
//! Ostaszewski, E. Grant, M. Benedetti, *Structure optimization for parameterized quantum
//! circuits*, Quantum 5, 391 (2021); D. Wierichs, J. Izaac, C. Wang, C. Y.-Y. Lin, *General
//! parameter-shift rules for quantum gradients*, Quantum 6, 677 (2022).
//!
//! ```
//! use qloop::train::{optimize, Energy, Rotosolve, RunOptions};
//! use qloop::{Circuit, Param, PauliSum};
//! // ⟨Z⟩ after RY(θ) is cos θ: one step reaches −1 at θ = π from any start.
//! let c = Circuit::new(1).ry(Param::weight("t"), 0);
//! let energy = Energy::new(&c, "Z0".parse::<PauliSum>()?, None)?;
//! let solver = Rotosolve::for_circuit(&c)?;
//! let options = RunOptions { max_iters: 5, ..Default::default() };
//! let out = optimize(energy.clone(), solver, vec![0.3], options, vec![])?;
//! assert!((energy.exact(&out.params)? + 1.0).abs() < 1e-12);
//! assert_eq!(out.evaluations, 1 + 2 * out.iterations);
//! # Ok::<(), qloop::Error>(())
//! ```

use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, ParamKind, Result};
use crate::gate::Gate;
use crate::rng::{role, Stream};
use crate::train::objective::{Objective, Probe};
use crate::train::optimize::{OptimState, Optimizer, OptimizerRecord};
use crate::ParameterLayout;
use argmin::core::{
    Error as ArgminError, Problem, Solver, State, TerminationReason, TerminationStatus, KV,
};
use serde::{Deserialize, Serialize};
use std::f64::consts::{PI, TAU};

/// The most multiples of the base frequency a weight's spectrum may span (`2K` evaluations a
/// step); a weight that enters more angles than this allows is refused.
pub const MAX_DEGREE: usize = 16;

/// The frequencies of the loss in one weight: a subset of `ω, 2ω, …, Kω` (`K = 0`: the loss
/// does not depend on the weight).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightSpectrum {
    /// The base frequency `ω`.
    pub base: f64,
    /// The degree `K`.
    pub degree: usize,
}

impl WeightSpectrum {
    /// The spectrum of every weight of `circuit`, in layout order, from its angles (see the
    /// [module docs](self)). Refuses a weight whose frequencies need more than
    /// [`MAX_DEGREE`] multiples of one base.
    ///
    /// ```
    /// use qloop::train::rotosolve::WeightSpectrum;
    /// use qloop::{Circuit, Param};
    /// let t = Param::weight("t");
    /// let c = Circuit::new(2).ry(&t, 0).crz(2.0 * &t, 0, 1);
    /// // {0, ±1} ⊕ {0, ±1, ±2}: frequencies 1, 2, 3.
    /// let s = WeightSpectrum::of(&c)?;
    /// assert_eq!((s[0].base, s[0].degree), (1.0, 3));
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn of(circuit: &Circuit) -> Result<Vec<WeightSpectrum>> {
        let layout = ParameterLayout::of(circuit);
        let mut sets: Vec<Vec<f64>> = vec![vec![0.0]; layout.weights.len()];
        for gate in circuit.instructions().iter().filter_map(gate_of) {
            for (j, angle) in gate.angles().into_iter().enumerate() {
                let Some(spectrum) = gate.angle_spectrum(j) else {
                    continue;
                };
                for term in angle.terms() {
                    if term.param.kind != ParamKind::Weight || term.coeff == 0.0 {
                        continue;
                    }
                    let i = layout
                        .weights
                        .iter()
                        .position(|n| *n == term.param.name)
                        .ok_or_else(|| {
                            Error::Optimizer(format!(
                                "weight '{}' is not in the layout",
                                term.param.name
                            ))
                        })?;
                    let c = term.coeff.abs();
                    let mut step = vec![0.0];
                    for &s in spectrum {
                        step.extend([c * s, -c * s]);
                    }
                    sets[i] = minkowski(&sets[i], &step);
                    if sets[i].len() > 2 * MAX_DEGREE + 1 {
                        return Err(Error::Optimizer(format!(
                            "rotosolve: the loss along weight '{}' has more than {MAX_DEGREE} \
                             frequencies (it enters too many angles); a step would need more \
                             than {} evaluations: use a gradient or SPSA optimizer",
                            layout.weights[i],
                            2 * MAX_DEGREE
                        )));
                    }
                }
            }
        }
        sets.iter()
            .zip(&layout.weights)
            .map(|(set, name)| {
                let positive: Vec<f64> = set.iter().copied().filter(|&f| f > 0.0).collect();
                grid(&positive).ok_or_else(|| incommensurate(name, &positive))
            })
            .collect()
    }

    /// The `2K + 1` sample points' spacing `2π / ((2K + 1)ω)`.
    fn spacing(&self) -> f64 {
        TAU / ((2 * self.degree + 1) as f64 * self.base)
    }
}

/// The gate of an instruction, looking through classical conditions.
fn gate_of(instruction: &Instruction) -> Option<&Gate> {
    match instruction {
        Instruction::Gate { gate, .. } => Some(gate),
        Instruction::Conditional { instruction, .. } => gate_of(instruction),
        _ => None,
    }
}

/// `{a + b}` over both sets, equal values (to 1e-12 relative) merged.
fn minkowski(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut sum: Vec<f64> = a
        .iter()
        .flat_map(|x| b.iter().map(move |y| x + y))
        .collect();
    sum.sort_by(f64::total_cmp);
    sum.dedup_by(|x, y| (*x - *y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0));
    sum
}

/// The base `ω` and degree `K` of a set of positive frequencies: the largest `ω` that divides
/// every one of them (to 1e-9), with `K ≤ MAX_DEGREE`.
fn grid(positive: &[f64]) -> Option<WeightSpectrum> {
    let Some(&low) = positive.first() else {
        return Some(WeightSpectrum {
            base: 1.0,
            degree: 0,
        });
    };
    let high = positive.last().copied().unwrap_or(low);
    (1..=MAX_DEGREE).find_map(|m| {
        let base = low / m as f64;
        let degree = (high / base).round();
        let on_grid = positive
            .iter()
            .all(|f| ((f / base) - (f / base).round()).abs() <= 1e-9 * (f / base).max(1.0));
        (on_grid && degree as usize <= MAX_DEGREE).then_some(WeightSpectrum {
            base,
            degree: degree as usize,
        })
    })
}

fn incommensurate(name: &str, positive: &[f64]) -> Error {
    let list: Vec<String> = positive.iter().map(|f| format!("{f}")).collect();
    Error::Optimizer(format!(
        "rotosolve: weight '{name}' enters the loss with frequencies {{{}}}, which are not \
         multiples 1..={MAX_DEGREE} of one base frequency; use a gradient or SPSA optimizer",
        list.join(", ")
    ))
}

/// The trigonometric polynomial `a₀ + Σ_m (a_m cos mu + b_m sin mu)` fitted to the `2K + 1`
/// equidistant values `y_k = p(2πk/N)`.
#[derive(Debug, Clone, PartialEq)]
struct TrigPoly {
    a0: f64,
    /// `(a_m, b_m)` for `m = 1 … K`.
    ab: Vec<(f64, f64)>,
}

impl TrigPoly {
    fn fit(y: &[f64]) -> TrigPoly {
        let n = y.len();
        let k = (n - 1) / 2;
        let a0 = y.iter().sum::<f64>() / n as f64;
        let ab = (1..=k)
            .map(|m| {
                let (mut a, mut b) = (0.0, 0.0);
                for (j, yj) in y.iter().enumerate() {
                    let t = TAU * ((m * j) % n) as f64 / n as f64;
                    a += yj * t.cos();
                    b += yj * t.sin();
                }
                (2.0 * a / n as f64, 2.0 * b / n as f64)
            })
            .collect();
        TrigPoly { a0, ab }
    }

    /// The value and first two derivatives at `u`.
    fn eval(&self, u: f64) -> (f64, f64, f64) {
        let (mut v, mut d1, mut d2) = (self.a0, 0.0, 0.0);
        for (m, &(a, b)) in self.ab.iter().enumerate() {
            let m = (m + 1) as f64;
            let (s, c) = (m * u).sin_cos();
            v += a * c + b * s;
            d1 += m * (b * c - a * s);
            d2 -= m * m * (a * c + b * s);
        }
        (v, d1, d2)
    }

    /// The global minimum `(u*, p(u*))` with `u*` in `(−π, π]`; `u = 0` when nothing is lower
    /// than `p(0)`.
    fn minimum(&self) -> (f64, f64) {
        let at_zero = self.eval(0.0).0;
        let candidate = if let [(a, b)] = self.ab[..] {
            b.atan2(a) + PI
        } else {
            let points = 64 * self.ab.len();
            let mut best = (0.0, at_zero);
            for j in 1..points {
                let u = TAU * j as f64 / points as f64;
                let v = self.eval(u).0;
                if v < best.1 {
                    best = (u, v);
                }
            }
            let mut u = best.0;
            for _ in 0..30 {
                let (_, d1, d2) = self.eval(u);
                if d2 <= 0.0 {
                    break;
                }
                let next = u - d1 / d2;
                if (next - u).abs() <= 1e-15 * u.abs().max(1.0) {
                    u = next;
                    break;
                }
                u = next;
            }
            if self.eval(u).0 < best.1 {
                u
            } else {
                best.0
            }
        };
        let u = (candidate + PI).rem_euclid(TAU) - PI;
        let u = if u == -PI { PI } else { u };
        let v = self.eval(u).0;
        if v < at_zero {
            (u, v)
        } else {
            (0.0, at_zero)
        }
    }
}

/// Rotosolve (see the [module docs](self)).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rotosolve {
    spectra: Vec<WeightSpectrum>,
    /// Seed of the evaluations' randomness (shot noise).
    seed: u64,
    tolerance: f64,
    remeasure: bool,
    /// The loss at the current point: measured, or predicted by the last step.
    value: Option<f64>,
    /// The loss at the start of the current sweep.
    sweep_start: f64,
    /// The next coordinate to visit.
    next: usize,
    converged: bool,
    history: Vec<f64>,
}

impl Rotosolve {
    /// Rotosolve over weights with the given spectra (tolerance `1e-12`, no re-measurement).
    pub fn new(spectra: Vec<WeightSpectrum>) -> Self {
        Rotosolve {
            spectra,
            seed: 0,
            tolerance: 1e-12,
            remeasure: false,
            value: None,
            sweep_start: f64::INFINITY,
            next: 0,
            converged: false,
            history: Vec::new(),
        }
    }

    /// Rotosolve over the weights of `circuit` ([`WeightSpectrum::of`]).
    pub fn for_circuit(circuit: &Circuit) -> Result<Self> {
        Ok(Rotosolve::new(WeightSpectrum::of(circuit)?))
    }

    /// Seeds the randomness of the evaluations (shot noise; every draw is addressed by
    /// `(seed, iteration)`).
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Stop once a sweep lowers the loss by no more than `tolerance · max(1, |L|)`
    /// (`0`: never).
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Measure the loss at the current point at the start of every sweep instead of trusting
    /// the previous prediction (for noisy estimates); no convergence stop then.
    #[must_use]
    pub fn remeasure(mut self, yes: bool) -> Self {
        self.remeasure = yes;
        self
    }

    /// The spectra it was built with.
    pub fn spectra(&self) -> &[WeightSpectrum] {
        &self.spectra
    }

    /// The coordinate visited at or after `from`, wrapping, that the loss depends on.
    fn coordinate_from(&self, from: usize) -> Option<usize> {
        let d = self.spectra.len();
        (0..d)
            .map(|k| (from + k) % d)
            .find(|&i| self.spectra[i].degree > 0)
    }
}

impl<O: Objective> Solver<O, OptimState> for Rotosolve {
    fn name(&self) -> &str {
        "Rotosolve"
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: OptimState,
    ) -> Result<(OptimState, Option<KV>), ArgminError> {
        let theta = state
            .get_param()
            .cloned()
            .ok_or_else(|| ArgminError::msg("Rotosolve needs a starting point"))?;
        if theta.len() != self.spectra.len() {
            return Err(ArgminError::msg(format!(
                "Rotosolve has spectra for {} weights, the start has {}",
                self.spectra.len(),
                theta.len()
            )));
        }
        if self.value.is_some() {
            return Ok((state, None)); // resumed from a checkpoint
        }
        let stream = Stream::new(self.seed).child(role::CALIBRATE);
        let y = problem.cost(&Probe::new(theta, stream))?;
        if !y.is_finite() {
            return Err(ArgminError::msg(format!("the loss is {y} at the start")));
        }
        self.value = Some(y);
        self.sweep_start = y;
        Ok((state.cost(y), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: OptimState,
    ) -> Result<(OptimState, Option<KV>), ArgminError> {
        let k = state.get_iter();
        let mut theta = state
            .take_param()
            .ok_or_else(|| ArgminError::msg("Rotosolve needs a starting point"))?;
        let i = self
            .coordinate_from(self.next)
            .ok_or_else(|| ArgminError::msg("the loss depends on no weight"))?;
        let root = Stream::new(self.seed).child(k);
        let mut y0 = self.value.unwrap_or(f64::NAN);
        if self.remeasure && k > 0 && i < self.next {
            y0 = problem.cost(&Probe::new(theta.clone(), root.child(role::BLOCK)))?;
        }
        let spectrum = self.spectra[i];
        let h = spectrum.spacing();
        let probes: Vec<Probe> = (1..=2 * spectrum.degree)
            .map(|j| {
                let mut p = theta.clone();
                p[i] += j as f64 * h;
                Probe::new(p, root.child(role::EVAL).child(j as u64))
            })
            .collect();
        let mut y = vec![y0];
        y.extend(problem.bulk_cost(&probes)?);
        if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
            return Err(ArgminError::msg(format!(
                "the loss is {bad} at iteration {k}"
            )));
        }
        let (u, value) = TrigPoly::fit(&y).minimum();
        theta[i] += u / spectrum.base;
        self.value = Some(value);
        self.history.push(value);
        self.next = i + 1;
        if self.coordinate_from(self.next).is_some_and(|j| j <= i) {
            // The sweep ends with this coordinate.
            let drop = self.sweep_start - value;
            if !self.remeasure && drop <= self.tolerance * value.abs().max(1.0) {
                self.converged = true;
            }
            self.sweep_start = value;
        }
        let mut kv = KV::new();
        kv.insert("coordinate", (i as u64).into());
        kv.insert("move", (u / spectrum.base).into());
        Ok((state.param(theta).cost(value), Some(kv)))
    }

    fn terminate(&mut self, _state: &OptimState) -> TerminationStatus {
        if self.converged {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        if self.coordinate_from(0).is_none() {
            return TerminationStatus::Terminated(TerminationReason::SolverExit(
                "the loss depends on no weight".into(),
            ));
        }
        TerminationStatus::NotTerminated
    }
}

impl Optimizer<OptimState> for Rotosolve {
    fn final_param(&self, state: &OptimState) -> Option<Vec<f64>> {
        state.get_param().cloned()
    }
    fn history(&self) -> Vec<f64> {
        self.history.clone()
    }
    fn next_evaluations(&self, state: &OptimState) -> Option<u64> {
        let i = self.coordinate_from(self.next)?;
        let again = self.remeasure && state.get_iter() > 0 && i < self.next;
        Some(2 * self.spectra[i].degree as u64 + u64::from(again))
    }
    fn record(&self) -> OptimizerRecord {
        OptimizerRecord {
            name: "Rotosolve".into(),
            settings: serde_json::json!({
                "seed": self.seed,
                "tolerance": self.tolerance,
                "remeasure": self.remeasure,
                "spectra": self.spectra,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_trigonometric_polynomial_and_its_minimum() {
        let p = TrigPoly {
            a0: 0.3,
            ab: vec![(0.7, -0.2), (0.1, 0.4), (-0.25, 0.05)],
        };
        let n = 7;
        let y: Vec<f64> = (0..n)
            .map(|j| p.eval(TAU * j as f64 / n as f64).0)
            .collect();
        let q = TrigPoly::fit(&y);
        assert!((q.a0 - p.a0).abs() < 1e-14);
        for (x, z) in q.ab.iter().zip(&p.ab) {
            assert!((x.0 - z.0).abs() < 1e-14 && (x.1 - z.1).abs() < 1e-14);
        }
        let (u, v) = q.minimum();
        let fine = (0..200_000)
            .map(|j| p.eval(TAU * j as f64 / 200_000.0).0)
            .fold(f64::INFINITY, f64::min);
        assert!(v <= fine + 1e-12, "{v} vs grid {fine}");
        assert!((p.eval(u).0 - v).abs() < 1e-14);
        assert!(p.eval(u).1.abs() < 1e-9);
    }

    #[test]
    fn one_frequency_minimum_is_closed_form() {
        // 2 + cos u − sin u = 2 + √2 cos(u + π/4): minimum 2 − √2 at u = 3π/4.
        let p = TrigPoly {
            a0: 2.0,
            ab: vec![(1.0, -1.0)],
        };
        let (u, v) = p.minimum();
        assert!((u - 0.75 * PI).abs() < 1e-15);
        assert!((v - (2.0 - 2f64.sqrt())).abs() < 1e-15);
    }

    #[test]
    fn grids_and_refusals() {
        assert_eq!(
            grid(&[0.5, 1.0]),
            Some(WeightSpectrum {
                base: 0.5,
                degree: 2
            })
        );
        assert_eq!(
            grid(&[1.0, 2.0, 3.0]),
            Some(WeightSpectrum {
                base: 1.0,
                degree: 3
            })
        );
        let tenths = grid(&[0.3, 0.7]).unwrap();
        assert!(
            (tenths.base - 0.1).abs() < 1e-15 && tenths.degree == 7,
            "{tenths:?}"
        );
        assert_eq!(grid(&[]).map(|s| s.degree), Some(0));
        assert_eq!(grid(&[1.0, std::f64::consts::SQRT_2]), None);
    }
}
