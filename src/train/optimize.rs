//! The optimizer seam: [`optimize`] runs any [`Optimizer`] on an objective.
//!
//! An optimizer is an argmin [`Solver`] over a state whose parameters are `Vec<f64>` and whose
//! cost is `f64`, plus what a training run reports of it ([`Optimizer`]): the parameters it
//! ends with, its loss curve, and a record of its name and settings for the model file.
//! [`optimize`] wraps argmin's [`Executor`]: iteration budget, target loss, checkpoints
//! (saved atomically, and at the end of every run, so an interrupted run resumes exactly),
//! Ctrl-C, observers. A new optimizer is a new solver type implementing both traits.
//!
//! **Ctrl-C** (with [`RunOptions::ctrlc`]): the first stops the run after the iteration in
//! progress, which is checkpointed ([`Outcome::interrupted`]); a second exits the process at
//! once with status 130, leaving the last checkpoint saved.

use crate::error::{Error, Result};
use crate::train::checkpoint::AtomicCheckpoint;
use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::Problem;
use argmin::core::{Executor, IterState, Solver, State, TerminationReason, TerminationStatus, KV};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Set by the first Ctrl-C during a run of [`optimize`].
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the process's Ctrl-C handler once: the first press sets [`INTERRUPTED`], the second
/// exits with status 130. When the program already has a handler, that one is kept.
fn install_interrupt_handler() -> Result<()> {
    static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let handler = || {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                eprintln!("\nqloop: interrupted twice; stopping now (the last checkpoint is kept)");
                std::process::exit(130);
            }
        };
        match ctrlc::set_handler(handler) {
            Ok(()) | Err(ctrlc::Error::MultipleHandlers) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    });
    installed
        .clone()
        .map_err(|e| Error::Optimizer(format!("installing the Ctrl-C handler: {e}")))
}

/// A solver that also stops, as interrupted, once [`INTERRUPTED`] is set. Serialized as the
/// solver it wraps, so checkpoints hold the solver itself.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
struct Interruptible<S>(S, #[serde(skip)] Budget);

/// An evaluation budget: the run stops before an iteration that would take the count of loss
/// evaluations past `max`, costing what the solver says ([`Optimizer::next_evaluations`]) or
/// else what the last one did.
#[derive(Clone, Copy, Default)]
struct Budget {
    max: Option<u64>,
    /// Evaluations counted after the previous iteration.
    previous: u64,
}

impl<O, I: State, S: Solver<O, I> + Optimizer<I>> Solver<O, I> for Interruptible<S> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: I,
    ) -> std::result::Result<(I, Option<KV>), argmin::core::Error> {
        self.0.init(problem, state)
    }
    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: I,
    ) -> std::result::Result<(I, Option<KV>), argmin::core::Error> {
        self.0.next_iter(problem, state)
    }
    fn terminate_internal(&mut self, state: &I) -> TerminationStatus {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return TerminationStatus::Terminated(TerminationReason::Interrupt);
        }
        if let Some(max) = self.1.max {
            let used = evaluations(state);
            let next = self
                .0
                .next_evaluations(state)
                .unwrap_or(used - self.1.previous.min(used));
            self.1.previous = used;
            if used + next > max {
                return TerminationStatus::Terminated(TerminationReason::SolverExit(
                    "evaluation budget spent".into(),
                ));
            }
        }
        self.0.terminate_internal(state)
    }
    fn terminate(&mut self, state: &I) -> TerminationStatus {
        self.0.terminate(state)
    }
}

/// Loss evaluations counted in `state` (argmin's cost count).
fn evaluations<I: State>(state: &I) -> u64 {
    state
        .get_func_counts()
        .get("cost_count")
        .copied()
        .unwrap_or(0)
}

/// The argmin state every optimizer works on: parameters `Vec<f64>`, cost `f64`, and a gradient
/// `G` and Hessian `H` for the solvers that keep them (`()` for SPSA).
pub type OptimState<G = (), H = ()> = IterState<Vec<f64>, G, (), H, (), f64>;

/// What a training run needs of an optimizer beyond argmin's [`Solver`].
pub trait Optimizer<I: State>: Clone + Serialize + DeserializeOwned {
    /// The parameters the run ends with (by default the state's; SPSA with averaging: the
    /// averaged iterate).
    fn final_param(&self, state: &I) -> Option<Vec<f64>>;

    /// The loss estimate of every iteration so far.
    fn history(&self) -> Vec<f64>;

    /// The loss evaluations the next iteration will take, for solvers whose iterations differ
    /// in cost; `None` (the default): as many as the previous one.
    fn next_evaluations(&self, _state: &I) -> Option<u64> {
        None
    }

    /// The optimizer's name and settings (with any values it fitted, such as calibrated
    /// gains), as the model file records them.
    fn record(&self) -> OptimizerRecord;
}

/// Which optimizer trained a model, and how: its name and its settings as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerRecord {
    /// The solver's name ("SPSA").
    pub name: String,
    /// Its settings and fitted values.
    pub settings: serde_json::Value,
}

/// How long to run and where to keep checkpoints.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Iteration budget.
    pub max_iters: u64,
    /// Budget of loss evaluations (calibration and blocking checks included): the run stops
    /// before an iteration that would exceed it ([`Optimizer::next_evaluations`]).
    pub max_evals: Option<u64>,
    /// Stop once the loss estimate reaches this value.
    pub target_loss: Option<f64>,
    /// Checkpoint file: loaded if present (resume), saved during and at the end of the run.
    pub checkpoint: Option<AtomicCheckpoint>,
    /// Stop cleanly on Ctrl-C (argmin's handler; the last iteration is checkpointed).
    pub ctrlc: bool,
}

/// The result of [`optimize`].
#[derive(Debug, Clone)]
pub struct Outcome<S> {
    /// The final parameters ([`Optimizer::final_param`]).
    pub params: Vec<f64>,
    /// The solver at the end (settings, fitted values, loss history).
    pub solver: S,
    /// Iterations done (over all resumed parts of the run).
    pub iterations: u64,
    /// Loss evaluations in this part of the run (calibration included).
    pub evaluations: u64,
    /// Why the run stopped.
    pub termination: String,
    /// Whether it stopped because of Ctrl-C.
    pub interrupted: bool,
}

/// Runs `solver` on `objective` from `init` (ignored when a checkpoint is resumed).
pub fn optimize<O, S, G, H>(
    objective: O,
    solver: S,
    init: Vec<f64>,
    options: RunOptions,
    observers: Vec<Box<dyn Observe<OptimState<G, H>>>>,
) -> Result<Outcome<S>>
where
    S: Solver<O, OptimState<G, H>> + Optimizer<OptimState<G, H>>,
    G: Clone + Serialize + DeserializeOwned + 'static,
    H: Clone + Serialize + DeserializeOwned + 'static,
{
    if options.ctrlc {
        install_interrupt_handler()?;
        INTERRUPTED.store(false, Ordering::SeqCst);
    }
    let budget = Budget {
        max: options.max_evals,
        previous: 0,
    };
    let mut exec = Executor::new(objective, Interruptible(solver, budget)).configure(|state| {
        let state = state
            .param(init)
            .max_iters(options.max_iters)
            .counting(true);
        match options.target_loss {
            Some(t) => state.target_cost(t),
            None => state,
        }
    });
    if let Some(cp) = &options.checkpoint {
        exec = exec.checkpointing(cp.clone());
    }
    for obs in observers {
        exec = exec.add_observer(BoxedObserver(obs), ObserverMode::Always);
    }
    let result = exec
        .ctrlc(false)
        .timer(false)
        .run()
        .map_err(Error::from_argmin)?;
    let (solver, state) = (&result.solver.0, &result.state);
    let reason = state.get_termination_reason().cloned();
    let interrupted = reason == Some(TerminationReason::Interrupt);
    if let Some(cp) = &options.checkpoint {
        // An interrupted run is saved as still running, so that resuming it continues.
        let mut saved = state.clone();
        if interrupted {
            saved.termination_status = TerminationStatus::NotTerminated;
        }
        argmin::core::checkpointing::Checkpoint::save(cp, &result.solver, &saved).map_err(|e| {
            Error::Optimizer(format!("saving checkpoint {}: {e}", cp.path.display()))
        })?;
    }
    Ok(Outcome {
        params: solver
            .final_param(state)
            .ok_or_else(|| Error::Optimizer("the solver ended without parameters".into()))?,
        solver: solver.clone(),
        iterations: state.get_iter(),
        evaluations: evaluations(state),
        termination: reason
            .as_ref()
            .map_or("running".into(), |r| r.text().to_string()),
        interrupted,
    })
}

/// Adapter so boxed observers can be handed to argmin.
struct BoxedObserver<I>(Box<dyn Observe<I>>);

impl<I> Observe<I> for BoxedObserver<I> {
    fn observe_init(&mut self, name: &str, state: &I, kv: &KV) -> Result<(), argmin::core::Error> {
        self.0.observe_init(name, state, kv)
    }
    fn observe_iter(&mut self, state: &I, kv: &KV) -> Result<(), argmin::core::Error> {
        self.0.observe_iter(state, kv)
    }
    fn observe_final(&mut self, state: &I) -> Result<(), argmin::core::Error> {
        self.0.observe_final(state)
    }
}
