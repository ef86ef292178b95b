//! Training: hybrid models and the SPSA optimizer.
//!
//! ```text
//! data x ──bind inputs──▶ circuit U(θ, x) ──readout──▶ features ──dense stack──▶ y ──loss──▶ L
//!                              ▲                                      ▲                    │
//!                              └──── SPSA (argmin Solver) tunes [θ | W, b] jointly ◀───────┘
//! ```
//!
//! - [`readout`]: probabilities, `⟨Z_q⟩`, Pauli sums; exact or from shots.
//! - [`layer`]: the classical [`Network`] of [`Layer`]s; [`dense`]: the dense layer.
//! - [`model`]: [`HybridModel`] with its flat parameter [`ModelLayout`], and the
//!   [`RecurrentModel`] that feeds outputs of step `t` into circuit inputs of step `t + 1`.
//! - [`objective`]: losses, and the [`Objective`]s SPSA minimizes (supervised, sequence,
//!   energy).
//! - [`spsa`]: the solver; [`checkpoint`]: atomic checkpoint files; [`stream`]: addressable
//!   randomness; [`data`]: embedded data sets.
//!
//! [`optimize`] runs an argmin [`Executor`] with checkpointing and observers. Conventions
//! (parameter layout, angle signs) are in `docs/conventions.md`.

pub mod ansatz;
pub mod checkpoint;
pub mod data;
pub mod dense;
#[cfg(feature = "cli")]
pub mod experiment;
pub mod layer;
pub mod model;
pub mod objective;
pub mod readout;
pub mod spsa;
pub mod stream;

pub use checkpoint::AtomicCheckpoint;
pub use data::{Dataset, Scaler};
pub use dense::{Activation, Dense};
pub use layer::{AnyLayer, Layer, Network, TimeStep};
pub use model::{HybridModel, ModelLayout, RecurrentModel, StateEntanglement};
pub use objective::{Energy, Loss, Objective, SequenceRegression, Supervised};
pub use readout::{Readout, ReadoutSpec};
pub use spsa::{Blocking, Bounds, Gains, Spsa, SpsaState, Stall, StepSize};
pub use stream::Stream;

use crate::error::{Error, Result};
use argmin::core::checkpointing::Checkpoint;
use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{Executor, State, TerminationReason};

/// How long to run and where to keep checkpoints.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Iteration budget.
    pub max_iters: u64,
    /// Stop once the loss estimate reaches this value.
    pub target_loss: Option<f64>,
    /// Checkpoint file: loaded if present (resume), saved during and at the end of the run.
    pub checkpoint: Option<AtomicCheckpoint>,
    /// Stop cleanly on Ctrl-C (argmin's handler; the last iteration is checkpointed).
    pub ctrlc: bool,
}

/// The result of [`optimize`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The final parameters ([`Spsa::final_param`]: averaged if averaging was on).
    pub params: Vec<f64>,
    /// The solver at the end (gains, loss history, rejected steps).
    pub solver: Spsa,
    /// Iterations done (over all resumed parts of the run).
    pub iterations: u64,
    /// Loss evaluations in this part of the run (calibration included).
    pub evaluations: u64,
    /// Why the run stopped.
    pub termination: String,
    /// Whether it stopped because of Ctrl-C.
    pub interrupted: bool,
}

/// Runs SPSA on `objective` from `init` (ignored when a checkpoint is resumed).
pub fn optimize<O: Objective>(
    objective: O,
    solver: Spsa,
    init: Vec<f64>,
    options: RunOptions,
    observers: Vec<Box<dyn Observe<SpsaState>>>,
) -> Result<Outcome> {
    let mut exec = Executor::new(objective, solver).configure(|state| {
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
        .ctrlc(options.ctrlc)
        .timer(false)
        .run()
        .map_err(|e| Error::Optimizer(e.to_string()))?;
    let (solver, state) = (&result.solver, &result.state);
    let reason = state.get_termination_reason().cloned();
    let interrupted = reason == Some(TerminationReason::Interrupt);
    if let Some(cp) = &options.checkpoint {
        // An interrupted run is saved as still running, so that resuming it continues.
        let mut saved = state.clone();
        if interrupted {
            saved.termination_status = argmin::core::TerminationStatus::NotTerminated;
        }
        cp.save(solver, &saved).map_err(|e| {
            Error::Optimizer(format!("saving checkpoint {}: {e}", cp.path.display()))
        })?;
    }
    Ok(Outcome {
        params: solver
            .final_param(state)
            .ok_or_else(|| Error::Optimizer("the solver ended without parameters".into()))?,
        solver: solver.clone(),
        iterations: state.get_iter(),
        evaluations: state
            .get_func_counts()
            .get("cost_count")
            .copied()
            .unwrap_or(0),
        termination: reason
            .as_ref()
            .map_or("running".into(), |r| r.text().to_string()),
        interrupted,
    })
}

/// Adapter so boxed observers can be handed to argmin.
struct BoxedObserver(Box<dyn Observe<SpsaState>>);

impl Observe<SpsaState> for BoxedObserver {
    fn observe_init(
        &mut self,
        name: &str,
        state: &SpsaState,
        kv: &argmin::core::KV,
    ) -> std::result::Result<(), argmin::core::Error> {
        self.0.observe_init(name, state, kv)
    }
    fn observe_iter(
        &mut self,
        state: &SpsaState,
        kv: &argmin::core::KV,
    ) -> std::result::Result<(), argmin::core::Error> {
        self.0.observe_iter(state, kv)
    }
    fn observe_final(&mut self, state: &SpsaState) -> std::result::Result<(), argmin::core::Error> {
        self.0.observe_final(state)
    }
}
