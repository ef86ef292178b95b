//! Training: hybrid models and the SPSA optimizer.
//!
//! ```text
//! data x ──bind inputs──▶ circuit U(θ, x) ──readout──▶ features ──dense stack──▶ y ──loss──▶ L
//!                              ▲                                      ▲                    │
//!                              └──── SPSA (argmin Solver) tunes [θ | W, b] jointly ◀───────┘
//! ```
//!
//! - [`readout`]: probabilities, `⟨Z_q⟩`, Pauli sums; exact or from shots.
//! - [`layer`]: the classical [`Network`] of [`Layer`]s; [`dense`]: the dense layer;
//!   [`liquid`]: the liquid time-constant cells (LTC, CfC, QS-LTC); [`rnn`]: the Elman cell;
//!   [`spiking`]: leaky integrate-and-fire neurons and the entangled qLIF pairs; [`sparse`]:
//!   the CSR sparse layer and the shared-trunk entangled block;
//!   [`ops`]: operations counted as the layers run, and the energy model on them.
//! - [`model`]: [`HybridModel`] with its flat parameter [`ModelLayout`], and the
//!   [`RecurrentModel`] that feeds outputs of step `t` into circuit inputs of step `t + 1`.
//! - [`objective`]: losses, and the [`Objective`]s SPSA minimizes (supervised, sequence,
//!   energy).
//! - [`mod@optimize`]: the optimizer seam and the run loop; [`spsa`]: the SPSA solver;
//!   [`spsa2`]: 2-SPSA and QN-SPSA; [`rotosolve`]: exact minimization one angle at a time;
//!   [`parallel`]: batches of evaluations split over ranks (data-parallel training);
//!   [`checkpoint`]: atomic checkpoint files; [`stream`]: addressable
//!   randomness; [`data`]: embedded data sets.
//!
//! [`optimize()`] runs any [`Optimizer`] (an argmin solver; [`Spsa`] today) in an argmin
//! executor with checkpointing and observers. Conventions
//! (parameter layout, angle signs) are in `docs/conventions.md`.

pub mod adam;
pub mod ansatz;
pub mod checkpoint;
pub mod data;
pub mod dense;
pub mod descent;
#[cfg(feature = "cli")]
pub mod experiment;
pub mod layer;
pub mod liquid;
pub mod model;
pub mod objective;
pub mod ops;
pub mod optimize;
pub mod parallel;
pub mod readout;
pub mod rnn;
pub mod rotosolve;
pub mod sparse;
pub mod spiking;
pub mod spsa;
pub mod spsa2;
pub mod tasks;

/// Addressable randomness ([`crate::rng`], where it lives).
pub use crate::rng as stream;
pub use crate::rng::Stream;
pub use adam::Adam;
pub use argmin::core::CostFunction;
pub use checkpoint::{fingerprint, AtomicCheckpoint};
pub use data::{Dataset, Scaler};
pub use dense::{Activation, Dense};
pub use descent::{minimize, Descent, Minimized};
pub use layer::{AnyLayer, Layer, Network, TimeStep};
pub use liquid::{Cfc, Collapse, Ltc, QsLtc};
pub use model::{HybridModel, LayerRange, ModelLayout, RecurrentModel, StateEntanglement};
pub use objective::{
    Energy, Loss, Objective, Probe, SequenceModel, SequenceRegression, SequenceSupervised,
    Supervised,
};
pub use optimize::{optimize, OptimState, Optimizer, OptimizerRecord, Outcome, RunOptions};
pub use readout::{Readout, ReadoutSpec};
pub use rnn::Rnn;
pub use rotosolve::Rotosolve;
pub use sparse::{EntangledBlock, Mask, SparseDense};
pub use spiking::{Coupling, Decode, Lif, Membrane, QLifPair, Reset};
pub use spsa::{Bounds, Gains, Spsa, SpsaState, Stall, StepBlocking, StepSize};
pub use spsa2::{Curvature, SecondOrderSpsa};
pub use tasks::SequenceSet;
