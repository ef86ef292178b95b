//! The backend seam: where a compiled [`Program`] runs.
//!
//! A backend owns a kind of state and applies a program's steps to it. Binding (parameter
//! values → kernels) is shared by every backend; what differs is the state and how a kernel
//! acts on it: `K·ψ` on a statevector, `K·ρ·K†` on a density matrix, `K` on each rank's slice
//! of a distributed state. A new backend is a new type implementing [`Backend`], with no edit to
//! the others; [`Statevector`] is the first.
//!
//! ```
//! use qloop::sim::{Backend, Statevector};
//! use qloop::{Circuit, Par};
//! let program = Circuit::new(2).h(0).cx(0, 1).compile().unwrap();
//! let mut psi = Statevector.zero_state(&program).unwrap();
//! Statevector.run(&program, &[], &[], &mut psi, Par::Seq).unwrap();
//! assert!((psi.amplitudes()[3].re - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
//! ```

use super::program::Program;
use crate::error::Result;
use crate::par::Par;
use crate::state::{StateVector, StateVector32};

/// Where a compiled program runs: a kind of state, how to make `|0…0⟩` of it, and a run.
pub trait Backend {
    /// The state this backend evolves.
    type State;

    /// `|0…0⟩` for `program`'s qubits (refusing states too large for memory).
    fn zero_state(&self, program: &Program) -> Result<Self::State>;

    /// Resets `state` to `|0…0⟩` and applies `program` with the given parameter values
    /// (checked: lengths, finiteness, the state's size).
    fn run(
        &self,
        program: &Program,
        weights: &[f64],
        inputs: &[f64],
        state: &mut Self::State,
        par: Par,
    ) -> Result<()>;
}

/// The dense statevector: `2^n` amplitudes, the fused, cache-blocked and vectorized executor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Statevector;

impl Backend for Statevector {
    type State = StateVector;

    fn zero_state(&self, program: &Program) -> Result<StateVector> {
        StateVector::zero(program.num_qubits())
    }

    fn run(
        &self,
        program: &Program,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
    ) -> Result<()> {
        program.run(weights, inputs, state, par)
    }
}

/// The dense statevector in single precision ([`super::Precision::Single`]): the same
/// compiled program, every kernel rounded to `f32` as it is applied.
///
/// ```
/// use qloop::sim::{Backend, SingleStatevector};
/// use qloop::{Circuit, Par, PauliSum};
/// let program = Circuit::new(2).h(0).cx(0, 1).compile().unwrap();
/// let mut psi = SingleStatevector.zero_state(&program).unwrap();
/// SingleStatevector.run(&program, &[], &[], &mut psi, Par::Seq).unwrap();
/// let zz: PauliSum = "ZZ".parse().unwrap();
/// assert!((zz.expectation(&psi).unwrap() - 1.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SingleStatevector;

impl Backend for SingleStatevector {
    type State = StateVector32;

    fn zero_state(&self, program: &Program) -> Result<StateVector32> {
        StateVector32::zero(program.num_qubits())
    }

    fn run(
        &self,
        program: &Program,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector32,
        par: Par,
    ) -> Result<()> {
        program.run_single(weights, inputs, state, par)
    }
}
