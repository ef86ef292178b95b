//! # qloop
//!
//! Hybrid variational quantum circuits in Rust: a circuit DSL and OpenQASM 2.0 reader/writer,
//! a compiled statevector simulator, measurement sampling and Pauli expectation values.
//!
//! ```
//! use qloop::{Circuit, Par, PauliSum, StateVector};
//! let bell = Circuit::new(2).h(0).cx(0, 1);
//! let psi = bell.statevector().unwrap();
//! let zz: PauliSum = "ZZ".parse().unwrap();
//! assert!((zz.expectation(&psi).unwrap() - 1.0).abs() < 1e-12);
//! ```
//!
//! Conventions (qubit order, gate matrices, angle signs, parameter layout) are stated once, in
//! `docs/conventions.md`; the data flow and module ownership in `docs/architecture.md`.

#![warn(missing_docs)]

mod aligned;
pub mod atomic;
pub mod circuit;
pub mod dist;
pub mod draw;
pub mod entropy;
pub mod error;
pub mod gate;
pub mod gradient;
pub mod limits;
pub mod lint;
mod load;
pub mod measure;
pub mod noise;
pub mod par;
pub mod param;
pub mod pauli;
pub mod plot;
pub mod qasm;
pub mod rng;
pub mod sim;
pub mod state;
pub mod train;

/// The simulator's modules under their short paths (`qloop::program`, `qloop::blocking`,
/// `qloop::batch`).
pub use sim::{batch, blocking, program};

pub use blocking::Blocking;
pub use circuit::{Circuit, ClassicalRegister, Condition, Instruction};
pub use error::{Error, Location, ParamKind, Result};
pub use gate::{BaseMatrix, Gate, Structure};
pub use measure::Counts;
pub use par::Par;
pub use param::{Angle, Param};
pub use pauli::{Pauli, PauliString, PauliSum};
pub use program::{ParameterLayout, Program, WeightBinding};
pub use sim::Precision;
pub use state::{PureState, StateVector, StateVector32};

/// The README's tour is compiled and run as a doctest, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
