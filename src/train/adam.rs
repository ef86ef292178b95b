//! Adam (Kingma and Ba, ICLR 2015) on exact minibatch gradients, as an `argmin` [`Solver`] for
//! training objectives ([`Objective::gradient`]: backpropagation through the network and an
//! adjoint sweep of the circuit per sample).
//!
//! Iteration `k` draws its minibatch from `Stream::new(seed).child(k)`, takes the loss `L_k`
//! and gradient `g` there, and steps
//!
//! ```text
//! m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,   θ ← θ − η m̂/(√v̂ + ε),
//! m̂ = m/(1−β₁ᵏ⁺¹),     v̂ = v/(1−β₂ᵏ⁺¹).
//! ```
//!
//! The cost argmin records is `L_k`, the minibatch loss before the step (no extra
//! evaluation); one gradient counts as one loss evaluation (a forward and a backward pass per
//! sample, the convention of [`crate::gradient::AdjointEnergy`]), so evaluation budgets
//! compare with SPSA's two or more per iteration.

use crate::rng::Stream;
use crate::train::objective::{Objective, Probe};
use crate::train::optimize::{OptimState, Optimizer, OptimizerRecord};
use argmin::core::{Error as ArgminError, Problem, Solver, State, KV};
use serde::{Deserialize, Serialize};

/// Adam's moments and settings: the update rule, shared by every Adam in qloop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Step size `η`.
    pub lr: f64,
    /// First-moment decay `β₁`.
    pub beta1: f64,
    /// Second-moment decay `β₂`.
    pub beta2: f64,
    /// `ε` in the denominator.
    pub eps: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    steps: i32,
}

impl Moments {
    /// Fresh moments for the given settings.
    pub fn new(lr: f64, beta1: f64, beta2: f64, eps: f64) -> Self {
        Moments {
            lr,
            beta1,
            beta2,
            eps,
            m: Vec::new(),
            v: Vec::new(),
            steps: 0,
        }
    }

    /// One bias-corrected step of `p` along the gradient `g`.
    pub fn step(&mut self, p: &mut [f64], g: &[f64]) {
        if self.m.len() != p.len() {
            self.m = vec![0.0; p.len()];
            self.v = vec![0.0; p.len()];
            self.steps = 0;
        }
        self.steps += 1;
        let (c1, c2) = (
            1.0 - self.beta1.powi(self.steps),
            1.0 - self.beta2.powi(self.steps),
        );
        for (((x, g), m), v) in p.iter_mut().zip(g).zip(&mut self.m).zip(&mut self.v) {
            *m = self.beta1 * *m + (1.0 - self.beta1) * g;
            *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
            *x -= self.lr * (*m / c1) / ((*v / c2).sqrt() + self.eps);
        }
    }
}

/// Adam on a training objective's exact gradients (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    seed: u64,
    moments: Moments,
    history: Vec<f64>,
}

impl Adam {
    /// Adam with step `lr`, `β₁ = 0.9`, `β₂ = 0.999`, `ε = 10⁻⁸`, minibatches drawn from
    /// `seed`.
    pub fn new(seed: u64, lr: f64) -> Self {
        Adam {
            seed,
            moments: Moments::new(lr, 0.9, 0.999, 1e-8),
            history: Vec::new(),
        }
    }
}

impl<O: Objective> Solver<O, OptimState> for Adam {
    fn name(&self) -> &str {
        "Adam"
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: OptimState,
    ) -> Result<(OptimState, Option<KV>), ArgminError> {
        let k = state.get_iter();
        let mut p = state
            .take_param()
            .ok_or_else(|| ArgminError::msg("Adam needs a starting point"))?;
        let probe = Probe::new(p.clone(), Stream::new(self.seed).child(k));
        let (loss, g) = problem.problem("cost_count", |o| {
            o.gradient(&probe)
                .ok_or_else(|| ArgminError::msg("this objective has no exact gradient"))?
                .map_err(ArgminError::from)
        })?;
        if !loss.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(ArgminError::msg(format!(
                "the loss or its gradient is not finite at iteration {k} (loss {loss})"
            )));
        }
        self.moments.step(&mut p, &g);
        self.history.push(loss);
        Ok((state.param(p).cost(loss), None))
    }
}

impl Optimizer<OptimState> for Adam {
    fn final_param(&self, state: &OptimState) -> Option<Vec<f64>> {
        state.get_param().cloned()
    }
    fn history(&self) -> Vec<f64> {
        self.history.clone()
    }
    fn record(&self) -> OptimizerRecord {
        let m = &self.moments;
        OptimizerRecord {
            name: "Adam".into(),
            settings: serde_json::json!({
                "seed": self.seed, "lr": m.lr, "beta1": m.beta1, "beta2": m.beta2, "eps": m.eps,
            }),
        }
    }
}
