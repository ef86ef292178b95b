//! Second-order SPSA as an `argmin` [`Solver`]: 2-SPSA (Spall, IEEE TAC 45, 2000), which
//! estimates the loss's Hessian, and QN-SPSA (Gacon et al., Quantum 5, 567, 2021), which
//! estimates the Fubini–Study metric of the circuit's states from fidelities.
//!
//! Iteration `k` with Rademacher directions `Δ₁`, `Δ₂` and `c_k = c/(k+1)^γ`:
//!
//! ```text
//! ĝ   = (L(θ + c_kΔ₁) − L(θ − c_kΔ₁)) / (2c_k) · Δ₁
//! δ   = f(θ + c_kΔ₁ + c_kΔ₂) − f(θ + c_kΔ₁) − f(θ − c_kΔ₁ + c_kΔ₂) + f(θ − c_kΔ₁)
//! Ĥ   = s · δ / (2c_k²) · (Δ₁Δ₂ᵀ + Δ₂Δ₁ᵀ)/2       2-SPSA: f = L, s = 1
//!                                               QN-SPSA: f = F(θ, ·) = |⟨ψ(θ)|ψ(·)⟩|², s = −½
//! H̄_k = ((k+1) H̄_{k−1} + Ĥ)/(k + 2),  H̄_{−1} = (Δ₁ᵀHΔ₁/d) I   (running mean from a prior)
//! θ  ← θ − a_k (|H̄_k| + βI)⁻¹ ĝ,               a_k = a/(k+1)^α
//! ```
//!
//! `|H̄|` replaces each eigenvalue by its modulus (`√(H̄²)`, as both papers do), so the step is
//! a descent direction; `β` keeps it bounded. The mean starts from the identity scaled by the
//! first iteration's curvature along `Δ₁` (a second difference: of the loss, which costs one
//! more evaluation, or of the fidelities already taken), so the first steps are scaled
//! gradient steps while the estimates, rank two each, accumulate. An iteration costs four loss evaluations (2-SPSA)
//! or two losses and four fidelities (QN-SPSA, fidelities exact from statevectors, counted as
//! evaluations, one circuit each as on hardware) plus, for both, one loss at the new point
//! (the cost argmin records, so the curve is the loss actually reached). Every draw is
//! addressed by `(seed, iteration)`.

use crate::rng::{role, Stream};
use crate::train::objective::{Objective, Probe};
use crate::train::optimize::{OptimState, Optimizer, OptimizerRecord};
use crate::train::spsa::rademacher;
use argmin::core::{Error as ArgminError, Problem, Solver, State, KV};
use serde::{Deserialize, Serialize};

/// Where the curvature comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Curvature {
    /// The loss's Hessian (2-SPSA).
    Hessian,
    /// The states' Fubini–Study metric (QN-SPSA); the objective must give fidelities
    /// ([`Objective::fidelity`]).
    Metric,
}

/// 2-SPSA or QN-SPSA (see the [module docs](self)).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecondOrderSpsa {
    seed: u64,
    curvature: Curvature,
    /// Step `a`, perturbation `c`, exponents `α`, `γ`, regularisation `β`.
    a: f64,
    c: f64,
    alpha: f64,
    gamma: f64,
    beta: f64,
    /// The running mean `H̄` (row-major, `d × d`).
    mean: Vec<f64>,
    history: Vec<f64>,
}

impl SecondOrderSpsa {
    /// 2-SPSA with `a = 1`, `c = 0.1`, `α = 0.602`, `γ = 0.101`, `β = 0.3` (these and
    /// [`SecondOrderSpsa::metric`]'s from a sweep on TFIM-4 at 651 and 2,051 evaluations,
    /// `docs/performance.md`).
    pub fn hessian(seed: u64) -> Self {
        SecondOrderSpsa {
            seed,
            curvature: Curvature::Hessian,
            a: 1.0,
            c: 0.1,
            alpha: 0.602,
            gamma: 0.101,
            beta: 0.3,
            mean: Vec::new(),
            history: Vec::new(),
        }
    }

    /// QN-SPSA with `a = 0.4`, `c = 0.1`, `α = 0.602`, `γ = 0.101`, `β = 0.2`.
    pub fn metric(seed: u64) -> Self {
        SecondOrderSpsa {
            curvature: Curvature::Metric,
            a: 0.4,
            beta: 0.2,
            ..SecondOrderSpsa::hessian(seed)
        }
    }

    /// Sets the step `a`, the perturbation `c` and the regularisation `β`.
    #[must_use]
    pub fn gains(mut self, a: f64, c: f64, beta: f64) -> Self {
        self.a = a;
        self.c = c;
        self.beta = beta;
        self
    }

    /// "2-SPSA" or "QN-SPSA".
    pub fn label(&self) -> &'static str {
        match self.curvature {
            Curvature::Hessian => "2-SPSA",
            Curvature::Metric => "QN-SPSA",
        }
    }

    /// `(|H̄| + βI)⁻¹ g` by the eigendecomposition of the running mean.
    fn precondition(&self, g: &[f64]) -> Result<Vec<f64>, ArgminError> {
        let d = g.len();
        let h = faer::Mat::<f64>::from_fn(d, d, |i, j| self.mean[i * d + j]);
        let evd = h
            .self_adjoint_eigen(faer::Side::Lower)
            .map_err(|e| ArgminError::msg(format!("curvature eigendecomposition: {e:?}")))?;
        let (u, s) = (evd.U(), evd.S().column_vector());
        // x = U diag(1/(|λ| + β)) Uᵀ g
        let mut x = vec![0.0; d];
        for k in 0..d {
            let proj: f64 = (0..d).map(|i| u[(i, k)] * g[i]).sum();
            let scale = proj / (s[k].abs() + self.beta);
            for (i, xi) in x.iter_mut().enumerate() {
                *xi += scale * u[(i, k)];
            }
        }
        Ok(x)
    }
}

impl<O: Objective> Solver<O, OptimState> for SecondOrderSpsa {
    fn name(&self) -> &str {
        self.label()
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: OptimState,
    ) -> Result<(OptimState, Option<KV>), ArgminError> {
        let k = state.get_iter();
        let theta = state
            .take_param()
            .ok_or_else(|| ArgminError::msg("second-order SPSA needs a starting point"))?;
        let d = theta.len();
        let root = Stream::new(self.seed).child(k);
        let d1 = rademacher(root.child(role::PERTURB), d);
        let d2 = rademacher(root.child(role::PERTURB).child(1), d);
        let ck = self.c / (k as f64 + 1.0).powf(self.gamma);
        let at = |s1: f64, s2: f64| -> Vec<f64> {
            (0..d)
                .map(|i| theta[i] + ck * (s1 * d1[i] + s2 * d2[i]))
                .collect()
        };
        let eval = root.child(role::EVAL);
        let points = [at(1.0, 0.0), at(-1.0, 0.0), at(1.0, 1.0), at(-1.0, 1.0)];
        let mut fidelities = [0.0; 4];
        let (ys, delta, sign) = match self.curvature {
            Curvature::Hessian => {
                let probes: Vec<Probe> =
                    points.iter().map(|p| Probe::new(p.clone(), eval)).collect();
                let y = problem.bulk_cost(&probes)?;
                ([y[0], y[1]], y[2] - y[0] - y[3] + y[1], 1.0)
            }
            Curvature::Metric => {
                let probes = [
                    Probe::new(points[0].clone(), eval),
                    Probe::new(points[1].clone(), eval),
                ];
                let y = problem.bulk_cost(&probes)?;
                let objective = problem
                    .problem
                    .as_ref()
                    .ok_or_else(|| ArgminError::msg("the objective is missing"))?;
                let f = &mut fidelities;
                for (fi, p) in f.iter_mut().zip(&points) {
                    *fi = objective.fidelity(&theta, p).ok_or_else(|| {
                        ArgminError::msg("QN-SPSA needs an objective with state fidelities")
                    })??;
                }
                // Counted as circuit evaluations, as on hardware.
                problem
                    .counts
                    .entry("cost_count")
                    .and_modify(|c| *c += 4)
                    .or_insert(4);
                ([y[0], y[1]], f[2] - f[0] - f[3] + f[1], -0.5)
            }
        };
        if let Some(bad) = ys.iter().find(|y| !y.is_finite()) {
            return Err(ArgminError::msg(format!(
                "the loss is {bad} at iteration {k}"
            )));
        }
        if self.mean.is_empty() {
            // The prior: the identity times the mean curvature along Δ₁, `Δ₁ᵀHΔ₁/d`, from the
            // second difference (the loss at θ costs one more evaluation, once).
            let along = match self.curvature {
                Curvature::Hessian => {
                    let at_theta = problem.cost(&Probe::new(theta.clone(), eval))?;
                    (ys[0] + ys[1] - 2.0 * at_theta) / (ck * ck)
                }
                Curvature::Metric => (2.0 - fidelities[0] - fidelities[1]) / (2.0 * ck * ck),
            };
            let scale = (along.abs() / d as f64).max(f64::MIN_POSITIVE);
            self.mean = (0..d * d)
                .map(|i| if i % (d + 1) == 0 { scale } else { 0.0 })
                .collect();
        }
        let diff = (ys[0] - ys[1]) / (2.0 * ck);
        let g: Vec<f64> = d1.iter().map(|x| diff * x).collect();
        let scale = sign * delta / (2.0 * ck * ck);
        let w = (k as f64 + 1.0) / (k as f64 + 2.0);
        for i in 0..d {
            for j in 0..d {
                let sample = scale * 0.5 * (d1[i] * d2[j] + d2[i] * d1[j]);
                let m = &mut self.mean[i * d + j];
                *m = w * *m + (1.0 - w) * sample;
            }
        }
        let step = self.precondition(&g)?;
        let ak = self.a / (k as f64 + 1.0).powf(self.alpha);
        let next: Vec<f64> = theta.iter().zip(&step).map(|(t, s)| t - ak * s).collect();
        let cost = problem.cost(&Probe::new(next.clone(), root.child(role::BLOCK)))?;
        self.history.push(cost);
        Ok((state.param(next).cost(cost), None))
    }
}

impl Optimizer<OptimState> for SecondOrderSpsa {
    fn final_param(&self, state: &OptimState) -> Option<Vec<f64>> {
        state.get_param().cloned()
    }
    fn history(&self) -> Vec<f64> {
        self.history.clone()
    }
    fn record(&self) -> OptimizerRecord {
        OptimizerRecord {
            name: self.label().into(),
            settings: serde_json::json!({
                "seed": self.seed, "a": self.a, "c": self.c, "alpha": self.alpha,
                "gamma": self.gamma, "beta": self.beta,
            }),
        }
    }
}
