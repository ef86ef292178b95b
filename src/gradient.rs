//! Exact gradients of an energy `E(θ) = ⟨ψ(θ)|H|ψ(θ)⟩` by adjoint differentiation (Jones and
//! Gacon, arXiv:2009.02823), the method pennylane-lightning calls `adjoint`.
//!
//! With `|ψ⟩ = U_m ⋯ U_1 |0⟩`, gate `k`'s angle `a` enters only `U_k`, so
//!
//! ```text
//! ∂E/∂a = 2 Re ⟨λ_k| ∂U_k/∂a |ψ_{k−1}⟩,    λ_k = U_{k+1}† ⋯ U_m† H |ψ⟩,  ψ_{k−1} = U_k† ψ_k.
//! ```
//!
//! One forward run gives `ψ` and `λ_m = Hψ`; one backward sweep applies `U_k†` to both
//! vectors and, at every gate whose angles depend on a weight, takes the local matrix element
//! above without forming `∂U_k ψ_{k−1}`: two statevectors besides the forward's, whatever the
//! number of parameters. `∂U/∂a` is exact, `(ω/2)(U(a + π/2ω) − U(a − π/2ω))` with the
//! angle's frequency `ω` ([`crate::Gate::angle_frequency`]). An angle is affine in the
//! weights (`c₀ + Σ cₖ wₖ`, see `docs/conventions.md`), so `∂E/∂wₖ` sums `cₖ ∂E/∂a` over every
//! angle `wₖ` appears in.

use crate::circuit::{Circuit, Instruction};
use crate::error::{ParamKind, Result};
use crate::gate::BaseMatrix;
use crate::gate::Gate;
use crate::noise::local_offsets;
use crate::par::Par;
use crate::pauli::PauliSum;
use crate::program::Program;
use crate::sim::kernels::{apply, kernel_for, Kernel, Subspace};
use crate::sim::simd::Cpu;
use num_complex::Complex64 as C64;
use std::collections::HashMap;

/// A circuit and an observable prepared for energies with their exact gradients.
///
/// ```
/// use qloop::{gradient::AdjointEnergy, Circuit, Param, PauliSum};
/// let theta = Param::weight("theta");
/// let circuit = Circuit::new(1).ry(theta, 0);
/// let z: PauliSum = "Z".parse()?;
/// let energy = AdjointEnergy::new(&circuit, z)?;
/// // ⟨Z⟩ = cos θ, so the gradient is −sin θ.
/// let (e, g) = energy.value_and_gradient(&[0.3], &[])?;
/// assert!((e - 0.3f64.cos()).abs() < 1e-14 && (g[0] + 0.3f64.sin()).abs() < 1e-14);
/// # Ok::<(), qloop::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdjointEnergy {
    program: Program,
    hamiltonian: PauliSum,
    /// The unitary part of the circuit, in order (barriers and final measurements dropped).
    gates: Vec<(Gate, Vec<usize>)>,
    /// How each gate is undone: its subspace, targets, and the kernel of a gate without
    /// angles (computed once).
    undo: Vec<Undo>,
    /// Weight name → position in the weight vector.
    weight_index: HashMap<String, usize>,
    input_index: HashMap<String, usize>,
}

impl AdjointEnergy {
    /// Checks that the circuit compiles (no mid-circuit measurement, reset or condition) and
    /// that `hamiltonian` fits it.
    pub fn new(circuit: &Circuit, hamiltonian: PauliSum) -> Result<Self> {
        let program = circuit.compile()?;
        hamiltonian.check_width(circuit.num_qubits())?;
        let gates: Vec<(Gate, Vec<usize>)> = circuit
            .iter()
            .filter_map(|i| match i {
                Instruction::Gate { gate, qubits } => Some((gate.clone(), qubits.clone())),
                _ => None,
            })
            .collect();
        let index = |names: &[String]| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect::<HashMap<_, _>>()
        };
        let undo = gates
            .iter()
            .map(|(gate, qubits): &(Gate, Vec<usize>)| {
                let (controls, targets) = qubits.split_at(gate.num_controls());
                let mut undo = Undo {
                    subspace: Subspace::new(controls, targets),
                    targets: [targets[0], *targets.last().expect("validated arity")],
                    fixed: None,
                };
                if gate.angles().is_empty() {
                    undo.fixed = Some(undo.kernel(gate, &[]));
                }
                undo
            })
            .collect();
        let layout = program.layout();
        Ok(AdjointEnergy {
            weight_index: index(&layout.weights),
            input_index: index(&layout.inputs),
            program,
            hamiltonian,
            gates,
            undo,
        })
    }

    /// The number of weights (the gradient's length).
    pub fn num_weights(&self) -> usize {
        self.weight_index.len()
    }

    /// The number of gate angles that depend on a weight: a parameter-shift gradient shifts
    /// each of them twice.
    pub fn num_shifted_angles(&self) -> usize {
        self.gates
            .iter()
            .flat_map(|(gate, _)| gate.angles())
            .filter(|a| a.terms().iter().any(|t| t.param.kind == ParamKind::Weight))
            .count()
    }

    /// `E` and `∂E/∂w` at the weights `weights` and data inputs `inputs` (in the circuit's
    /// [`crate::ParameterLayout`] order).
    pub fn value_and_gradient(&self, weights: &[f64], inputs: &[f64]) -> Result<(f64, Vec<f64>)> {
        let mut phi = self.program.statevector(weights, inputs)?;
        let n = phi.num_qubits();
        let par = Par::auto(n);
        let mut lambda = vec![C64::new(0.0, 0.0); phi.len()];
        self.hamiltonian.apply_into(phi.amplitudes(), &mut lambda);
        let energy = phi
            .amplitudes()
            .iter()
            .zip(&lambda)
            .map(|(p, l)| (p.conj() * l).re)
            .sum();
        let mut gradient = vec![0.0; weights.len()];
        let value_of = |p: &crate::param::Param| match p.kind {
            ParamKind::Weight => weights[self.weight_index[&p.name]],
            ParamKind::Input => inputs[self.input_index[&p.name]],
        };
        let cpu = Cpu::detect();
        for ((gate, qubits), undo) in self.gates.iter().zip(&self.undo).rev() {
            let angles: Vec<f64> = gate.angles().iter().map(|a| a.eval(value_of)).collect();
            let kernel = match &undo.fixed {
                Some(k) => *k,
                None => undo.kernel(gate, &angles),
            };
            apply(phi.amplitudes_mut(), &kernel, &undo.subspace, par, cpu);
            for (j, angle) in gate.angles().iter().enumerate() {
                let mut weighted = angle
                    .terms()
                    .iter()
                    .filter(|t| t.param.kind == ParamKind::Weight)
                    .peekable();
                if weighted.peek().is_none() {
                    continue;
                }
                let derivative = matrix_derivative(gate, &angles, j);
                let g = 2.0 * local_element(&lambda, &derivative, phi.amplitudes(), qubits).re;
                for term in weighted {
                    gradient[self.weight_index[&term.param.name]] += term.coeff * g;
                }
            }
            apply(&mut lambda, &kernel, &undo.subspace, par, cpu);
        }
        Ok((energy, gradient))
    }
}

/// How one gate is undone in the backward sweep: `U†` as the simulator's kernel on the gate's
/// subspace (controls and targets).
#[derive(Debug, Clone)]
struct Undo {
    subspace: Subspace,
    targets: [usize; 2],
    /// The kernel of a gate without angles.
    fixed: Option<Kernel>,
}

impl Undo {
    /// The kernel of `U(angles)†`: the adjoint of the gate's base matrix, with the gate's
    /// structure (the adjoint of a diagonal or permutation block is one too).
    fn kernel(&self, gate: &Gate, angles: &[f64]) -> Kernel {
        let adjoint = match gate.base_matrix(angles) {
            BaseMatrix::One(m) => {
                BaseMatrix::One([m[0].conj(), m[2].conj(), m[1].conj(), m[3].conj()])
            }
            BaseMatrix::Two(m) => {
                BaseMatrix::Two(std::array::from_fn(|i| m[(i % 4) * 4 + i / 4].conj()))
            }
        };
        kernel_for(gate.structure(), self.targets, &adjoint)
    }
}

/// `∂M/∂a_j` of the gate's full matrix at `angles`, from two shifted matrices (exact for a
/// single-frequency dependence, see the [module docs](self)).
fn matrix_derivative(gate: &Gate, angles: &[f64], j: usize) -> Vec<C64> {
    let omega = gate
        .angle_frequency(j)
        .expect("every angle of the gate set has a frequency");
    let shift = std::f64::consts::PI / (2.0 * omega);
    let at = |delta: f64| {
        let mut shifted = angles.to_vec();
        shifted[j] += delta;
        gate.matrix(&shifted)
    };
    at(shift)
        .iter()
        .zip(at(-shift))
        .map(|(plus, minus)| (plus - minus) * (omega / 2.0))
        .collect()
}

/// `⟨λ| M |φ⟩` for a matrix `M` on the bits `qubits` (local index bit `j` = `qubits[j]`).
fn local_element(lambda: &[C64], m: &[C64], phi: &[C64], qubits: &[usize]) -> C64 {
    if let [q] = *qubits {
        return local_element_one(lambda, [m[0], m[1], m[2], m[3]], phi, q);
    }
    let dim = 1usize << qubits.len();
    let (mask, offsets) = local_offsets(qubits);
    let mut sum = C64::new(0.0, 0.0);
    for base in (0..phi.len()).filter(|b| b & mask == 0) {
        for (row, &o) in offsets.iter().enumerate() {
            let mut s = C64::new(0.0, 0.0);
            for (col, &p) in offsets.iter().enumerate() {
                s += m[row * dim + col] * phi[base + p];
            }
            sum += lambda[base + o].conj() * s;
        }
    }
    sum
}

/// [`local_element`] for one qubit `q`: over blocks of `2^{q+1}` amplitudes, the lower and
/// upper halves pair up entry by entry.
fn local_element_one(lambda: &[C64], m: [C64; 4], phi: &[C64], q: usize) -> C64 {
    let stride = 1usize << q;
    let mut sum = C64::new(0.0, 0.0);
    for (l, p) in lambda
        .chunks_exact(2 * stride)
        .zip(phi.chunks_exact(2 * stride))
    {
        let (l0, l1) = l.split_at(stride);
        let (p0, p1) = p.split_at(stride);
        for (((l0, l1), p0), p1) in l0.iter().zip(l1).zip(p0).zip(p1) {
            sum += l0.conj() * (m[0] * p0 + m[1] * p1) + l1.conj() * (m[2] * p0 + m[3] * p1);
        }
    }
    sum
}
