//! Minimising an energy with its gradient ([`crate::gradient::EnergyGradient`]: exact by
//! adjoint differentiation, or from shots by parameter shifts): argmin's L-BFGS (Moré–Thuente
//! line search) and steepest descent, and Adam.
//!
//! **Cost.** A call returns the energy and the whole gradient and costs the source's
//! [`EnergyGradient::evaluations_per_call`] circuit evaluations (one for the adjoint method, a
//! forward run and a backward sweep; `1 + 2P` or more for parameter shifts); a line search that
//! asks for the cost and then the gradient at the same point pays once.
//!
//! **Budget.** The run stops within `max_evals` circuit evaluations: a call that would exceed
//! it is refused, and the result is the lowest-energy point evaluated (its energy as the source
//! gave it: exact, or an estimate). Adam's update is [`crate::train::adam::Moments`].

use crate::error::{Error, Result};
use crate::gradient::EnergyGradient;
use crate::rng::Stream;
use crate::train::adam::Moments;
use argmin::core::{CostFunction, Executor, Gradient, IterState, Problem, Solver, State, KV};
use argmin::solver::gradientdescent::SteepestDescent;
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// A gradient-based method and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Descent {
    /// L-BFGS keeping `memory` curvature pairs, Moré–Thuente line search.
    Lbfgs {
        /// Curvature pairs kept.
        memory: usize,
    },
    /// Steepest descent with the Moré–Thuente line search.
    Steepest,
    /// Adam with step `lr` and the usual moment decays.
    Adam {
        /// Step size `η`.
        lr: f64,
        /// First-moment decay `β₁`.
        beta1: f64,
        /// Second-moment decay `β₂`.
        beta2: f64,
        /// `ε` in the denominator.
        eps: f64,
    },
}

impl Descent {
    /// L-BFGS with 10 pairs.
    pub const LBFGS: Descent = Descent::Lbfgs { memory: 10 };
    /// Adam with `η = 0.05`, `β₁ = 0.9`, `β₂ = 0.999`, `ε = 10⁻⁸`.
    pub const ADAM: Descent = Descent::Adam {
        lr: 0.05,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
}

/// The result of [`minimize`].
#[derive(Debug, Clone, PartialEq)]
pub struct Minimized {
    /// The lowest energy evaluated.
    pub energy: f64,
    /// Where.
    pub params: Vec<f64>,
    /// Calls of the gradient source (energy and gradient together).
    pub calls: u64,
    /// Circuit evaluations spent (calls × the source's cost per call).
    pub evaluations: u64,
    /// Iterations of the method (`None` when the budget ran out inside one).
    pub iterations: Option<u64>,
    /// Why the run stopped.
    pub termination: String,
}

/// The energy as an argmin problem, with the evaluation count, the budget and the best point.
struct EnergyProblem<'a> {
    energy: &'a dyn EnergyGradient,
    max_evals: u64,
    stream: Stream,
    memo: Arc<Mutex<Memo>>,
}

#[derive(Default)]
struct Memo {
    calls: u64,
    evaluations: u64,
    /// The last point evaluated, its energy and gradient.
    last: Option<(Vec<f64>, f64, Vec<f64>)>,
    best: Option<(f64, Vec<f64>)>,
    exhausted: bool,
}

impl EnergyProblem<'_> {
    fn evaluate(&self, p: &[f64]) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        let mut memo = self
            .memo
            .lock()
            .expect("no evaluation panics while holding it");
        if let Some((q, e, g)) = &memo.last {
            if q.as_slice() == p {
                return Ok((*e, g.clone()));
            }
        }
        let cost = self.energy.evaluations_per_call();
        if memo.evaluations + cost > self.max_evals {
            memo.exhausted = true;
            return Err(argmin::core::Error::msg("evaluation budget spent"));
        }
        let stream = self.stream.child(memo.calls);
        memo.calls += 1;
        memo.evaluations += cost;
        let (e, g) = self.energy.value_and_gradient(p, stream)?;
        if memo.best.as_ref().is_none_or(|(b, _)| e < *b) {
            memo.best = Some((e, p.to_vec()));
        }
        memo.last = Some((p.to_vec(), e, g.clone()));
        Ok((e, g))
    }
}

impl CostFunction for EnergyProblem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.evaluate(p)?.0)
    }
}

impl Gradient for EnergyProblem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(p)?.1)
    }
}

type DescentState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// Adam as an argmin solver (see the [module docs](self)).
#[derive(Clone)]
struct Adam(Moments);

impl<O> Solver<O, DescentState> for Adam
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    fn name(&self) -> &str {
        "Adam"
    }
    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: DescentState,
    ) -> std::result::Result<(DescentState, Option<KV>), argmin::core::Error> {
        let mut p = state
            .take_param()
            .ok_or_else(|| argmin::core::Error::msg("Adam needs a starting point"))?;
        let g = problem.gradient(&p)?;
        self.0.step(&mut p, &g);
        let cost = problem.cost(&p)?;
        Ok((state.param(p).gradient(g).cost(cost), None))
    }
}

/// Minimises `energy` from `init` with `method`, for at most `max_iters` iterations and
/// `max_evals` circuit evaluations, stopping early once the gradient's norm falls below
/// `tolerance` (L-BFGS and steepest descent; also the cost change for L-BFGS). Call `k` draws
/// any shots from `stream.child(k)`.
pub fn minimize(
    energy: &dyn EnergyGradient,
    stream: Stream,
    init: Vec<f64>,
    method: Descent,
    max_iters: u64,
    max_evals: u64,
    tolerance: f64,
) -> Result<Minimized> {
    if init.len() != energy.num_weights() {
        return Err(Error::Shape {
            context: "minimize".into(),
            message: format!(
                "{} starting values for {} weights",
                init.len(),
                energy.num_weights()
            ),
        });
    }
    let memo = Arc::new(Mutex::new(Memo::default()));
    let problem = EnergyProblem {
        energy,
        max_evals,
        stream,
        memo: Arc::clone(&memo),
    };
    let bad = |e: argmin::core::Error| Error::Optimizer(e.to_string());
    let configure = |state: DescentState| state.param(init.clone()).max_iters(max_iters);
    let run = match method {
        Descent::Lbfgs { memory } => {
            let solver = LBFGS::new(MoreThuenteLineSearch::new(), memory.max(1))
                .with_tolerance_grad(tolerance)
                .map_err(bad)?
                .with_tolerance_cost(f64::EPSILON)
                .map_err(bad)?;
            finish(Executor::new(problem, solver).configure(configure).run())
        }
        Descent::Steepest => {
            let solver = SteepestDescent::new(MoreThuenteLineSearch::new());
            finish(Executor::new(problem, solver).configure(configure).run())
        }
        Descent::Adam {
            lr,
            beta1,
            beta2,
            eps,
        } => {
            let solver = Adam(Moments::new(lr, beta1, beta2, eps));
            finish(Executor::new(problem, solver).configure(configure).run())
        }
    };
    let memo = std::mem::take(&mut *memo.lock().expect("no evaluation panicked"));
    let (iterations, termination) = match run {
        Ok(_) if memo.exhausted => (None, "evaluation budget spent".to_string()),
        Ok((iterations, reason)) => (Some(iterations), reason),
        Err(_) if memo.exhausted => (None, "evaluation budget spent".to_string()),
        Err(e) => return Err(bad(e)),
    };
    let (energy_min, params) = memo
        .best
        .ok_or_else(|| Error::Optimizer("the run ended before any evaluation".into()))?;
    Ok(Minimized {
        energy: energy_min,
        params,
        calls: memo.calls,
        evaluations: memo.evaluations,
        iterations,
        termination,
    })
}

/// The iterations and the termination reason of a finished argmin run.
fn finish<O, S: Solver<O, DescentState>>(
    run: std::result::Result<
        argmin::core::OptimizationResult<O, S, DescentState>,
        argmin::core::Error,
    >,
) -> std::result::Result<(u64, String), argmin::core::Error> {
    let result = run?;
    let state = result.state();
    Ok((
        state.get_iter(),
        state
            .get_termination_reason()
            .map_or("running".into(), |r| r.text().to_string()),
    ))
}
