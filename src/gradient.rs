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
//!
//! **Parameter shifts** ([`ShiftEnergy`]), for energies estimated from shots: `E` as a function
//! of one gate angle `a` is a trigonometric polynomial. For every gate of the set except the
//! controlled rotations it has frequencies 0 and 1, and
//! `∂E/∂a = ½ (E(a + π/2) − E(a − π/2))` (two circuits). A controlled rotation (`crx`, `cry`,
//! `crz`, `cu3`'s `θ`) adds frequency ½, and the four-term rule
//! `∂E/∂a = c₊ (E(a + π/2) − E(a − π/2)) − c₋ (E(a + 3π/2) − E(a − 3π/2))`,
//! `c± = (√2 ± 1)/(4√2)`, is exact (Anselmetti et al., New J. Phys. 23, 113010, 2021). Each
//! shifted circuit is one evaluation with its own shots.

use crate::circuit::{Circuit, Instruction};
use crate::error::{ParamKind, Result};
use crate::gate::BaseMatrix;
use crate::gate::Gate;
use crate::noise::local_offsets;
use crate::par::Par;
use crate::pauli::PauliSum;
use crate::program::Program;
use crate::rng::Stream;
use crate::sim::kernels::{apply, kernel_for, Kernel, Subspace};
use crate::sim::simd::Cpu;
use crate::state::StateVector;
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
    sweep: AdjointSweep,
    hamiltonian: PauliSum,
}

/// A circuit prepared for backward sweeps: `∂⟨ψ|M|ψ⟩/∂w` for any Hermitian `M`, given `ψ` and
/// `λ = Mψ` (the energy's `M` is its Hamiltonian; a hybrid model's is the readout's
/// operators weighted by the loss's cotangent).
#[derive(Debug, Clone)]
pub(crate) struct AdjointSweep {
    program: Program,
    /// The unitary part of the circuit, in order (barriers and final measurements dropped).
    steps: Vec<Step>,
    num_weights: usize,
}

/// An angle's constant and `(kind, vector position, coefficient)` per term, in the angle's
/// order (so its value is [`crate::Angle::eval`]'s).
type ResolvedAngle = (f64, Vec<(ParamKind, usize, f64)>);

/// One gate of the backward sweep: the gate, its operands, its angles with the parameters
/// resolved to vector positions, and how it is undone.
#[derive(Debug, Clone)]
struct Step {
    gate: Gate,
    qubits: Vec<usize>,
    angles: Vec<ResolvedAngle>,
    undo: Undo,
}

impl AdjointEnergy {
    /// Checks that the circuit compiles (no mid-circuit measurement, reset or condition) and
    /// that `hamiltonian` fits it.
    pub fn new(circuit: &Circuit, hamiltonian: PauliSum) -> Result<Self> {
        hamiltonian.check_width(circuit.num_qubits())?;
        Ok(AdjointEnergy {
            sweep: AdjointSweep::new(circuit)?,
            hamiltonian,
        })
    }

    /// The number of weights (the gradient's length).
    pub fn num_weights(&self) -> usize {
        self.sweep.num_weights
    }

    /// `E` and `∂E/∂w` at the weights `weights` and data inputs `inputs` (in the circuit's
    /// [`crate::ParameterLayout`] order).
    pub fn value_and_gradient(&self, weights: &[f64], inputs: &[f64]) -> Result<(f64, Vec<f64>)> {
        let phi = self.sweep.program.statevector(weights, inputs)?;
        let mut lambda = vec![C64::new(0.0, 0.0); phi.len()];
        self.hamiltonian.apply_into(phi.amplitudes(), &mut lambda);
        let energy = phi
            .amplitudes()
            .iter()
            .zip(&lambda)
            .map(|(p, l)| (p.conj() * l).re)
            .sum();
        Ok((energy, self.sweep.gradient(phi, lambda, weights, inputs)))
    }
}

impl AdjointSweep {
    /// Checks that the circuit compiles (no mid-circuit measurement, reset or condition).
    pub(crate) fn new(circuit: &Circuit) -> Result<Self> {
        let program = circuit.compile()?;
        let layout = program.layout();
        let index = |names: &[String]| -> HashMap<String, usize> {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect()
        };
        let (weights, inputs) = (index(&layout.weights), index(&layout.inputs));
        let steps = circuit
            .iter()
            .filter_map(|i| match i {
                Instruction::Gate { gate, qubits } => Some((gate, qubits)),
                _ => None,
            })
            .map(|(gate, qubits)| {
                let angles = gate
                    .angles()
                    .iter()
                    .map(|a| {
                        let terms = a
                            .terms()
                            .iter()
                            .map(|t| {
                                let at = match t.param.kind {
                                    ParamKind::Weight => weights[&t.param.name],
                                    ParamKind::Input => inputs[&t.param.name],
                                };
                                (t.param.kind, at, t.coeff)
                            })
                            .collect();
                        (a.constant_part(), terms)
                    })
                    .collect();
                let (controls, targets) = qubits.split_at(gate.num_controls());
                let mut undo = Undo {
                    subspace: Subspace::new(controls, targets),
                    targets: [targets[0], *targets.last().expect("validated arity")],
                    fixed: None,
                };
                if gate.angles().is_empty() {
                    undo.fixed = Some(undo.kernel(gate, &[]));
                }
                Step {
                    gate: gate.clone(),
                    qubits: qubits.clone(),
                    angles,
                    undo,
                }
            })
            .collect();
        Ok(AdjointSweep {
            num_weights: layout.weights.len(),
            program,
            steps,
        })
    }

    /// The compiled circuit (for the forward run).
    pub(crate) fn program(&self) -> &Program {
        &self.program
    }

    /// `∂⟨ψ|M|ψ⟩/∂w` from the final state `phi = ψ` and `lambda = Mψ`, by one backward sweep
    /// (consumes both vectors).
    pub(crate) fn gradient(
        &self,
        mut phi: StateVector,
        mut lambda: Vec<C64>,
        weights: &[f64],
        inputs: &[f64],
    ) -> Vec<f64> {
        let par = Par::auto(phi.num_qubits());
        let mut gradient = vec![0.0; weights.len()];
        let cpu = Cpu::detect();
        for step in self.steps.iter().rev() {
            let value = |kind: ParamKind, at: usize| match kind {
                ParamKind::Weight => weights[at],
                ParamKind::Input => inputs[at],
            };
            let angles: Vec<f64> = step
                .angles
                .iter()
                .map(|(c, terms)| {
                    terms
                        .iter()
                        .fold(*c, |acc, &(k, at, w)| acc + w * value(k, at))
                })
                .collect();
            let kernel = match &step.undo.fixed {
                Some(k) => k.clone(),
                None => step.undo.kernel(&step.gate, &angles),
            };
            apply(phi.amplitudes_mut(), &kernel, &step.undo.subspace, par, cpu);
            for (j, (_, terms)) in step.angles.iter().enumerate() {
                if !terms.iter().any(|t| t.0 == ParamKind::Weight) {
                    continue;
                }
                let derivative = matrix_derivative(&step.gate, &angles, j);
                let g =
                    2.0 * local_element(&lambda, &derivative, phi.amplitudes(), &step.qubits).re;
                for &(kind, at, coeff) in terms {
                    if kind == ParamKind::Weight {
                        gradient[at] += coeff * g;
                    }
                }
            }
            apply(&mut lambda, &kernel, &step.undo.subspace, par, cpu);
        }
        gradient
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

/// A source of energies with gradients, as the gradient-based optimizers use it.
pub trait EnergyGradient: Sync {
    /// The number of weights.
    fn num_weights(&self) -> usize;
    /// Circuit evaluations one call of [`EnergyGradient::value_and_gradient`] costs.
    fn evaluations_per_call(&self) -> u64;
    /// The energy (exact or estimated) and its gradient at `weights`; `stream` seeds any
    /// sampling.
    fn value_and_gradient(&self, weights: &[f64], stream: Stream) -> Result<(f64, Vec<f64>)>;
}

impl EnergyGradient for AdjointEnergy {
    fn num_weights(&self) -> usize {
        AdjointEnergy::num_weights(self)
    }
    /// One: a forward run and a backward sweep (about three forward runs of work).
    fn evaluations_per_call(&self) -> u64 {
        1
    }
    fn value_and_gradient(&self, weights: &[f64], _: Stream) -> Result<(f64, Vec<f64>)> {
        AdjointEnergy::value_and_gradient(self, weights, &[])
    }
}

/// One gate angle that depends on weights: where it is, its shift rule and its weights.
#[derive(Debug, Clone)]
struct Shifted {
    instruction: usize,
    angle: usize,
    four_term: bool,
    /// `(weight index, coefficient)`.
    weights: Vec<(usize, f64)>,
}

/// The energy estimated from shots (or exact with `shots = None`) and its gradient by the
/// parameter-shift rules of the [module docs](self).
///
/// ```
/// use qloop::gradient::{AdjointEnergy, EnergyGradient, ShiftEnergy};
/// use qloop::{rng::Stream, Circuit, Param, PauliSum};
/// let circuit = Circuit::new(2).h(0).crx(Param::weight("t"), 0, 1).ry(Param::weight("u"), 1);
/// let h: PauliSum = "Z1 + 0.5*X1".parse()?;
/// let exact = ShiftEnergy::new(&circuit, h.clone(), None)?;
/// let (_, g) = exact.value_and_gradient(&[0.7, -0.2], Stream::new(0))?;
/// let (_, a) = AdjointEnergy::new(&circuit, h)?.value_and_gradient(&[0.7, -0.2], &[])?;
/// assert!((g[0] - a[0]).abs() < 1e-12 && (g[1] - a[1]).abs() < 1e-12);
/// assert_eq!(exact.evaluations_per_call(), 1 + 4 + 2);
/// # Ok::<(), qloop::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShiftEnergy {
    circuit: Circuit,
    layout: crate::program::ParameterLayout,
    hamiltonian: PauliSum,
    shots: Option<usize>,
    shifted: Vec<Shifted>,
}

impl ShiftEnergy {
    /// Checks the circuit (compiles, no data inputs), the observable's width and the shots.
    pub fn new(circuit: &Circuit, hamiltonian: PauliSum, shots: Option<usize>) -> Result<Self> {
        let program = circuit.compile()?;
        hamiltonian.check_width(circuit.num_qubits())?;
        let layout = program.layout().clone();
        if let Some(name) = layout.inputs.first() {
            return Err(crate::Error::Shape {
                context: "parameter-shift gradient".into(),
                message: format!("the circuit has an input parameter '{name}'; bind it first"),
            });
        }
        if let Some(s) = shots {
            crate::measure::check_shots(s)?;
            if s < 2 {
                return Err(crate::Error::TooFewShots {
                    context: "parameter-shift gradient".into(),
                    min: 2,
                    got: s,
                });
            }
        }
        let index: HashMap<&str, usize> = layout
            .weights
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut shifted = Vec::new();
        for (k, instruction) in circuit.iter().enumerate() {
            let Instruction::Gate { gate, .. } = instruction else {
                continue;
            };
            for (j, angle) in gate.angles().iter().enumerate() {
                let weights: Vec<(usize, f64)> = angle
                    .terms()
                    .iter()
                    .filter(|t| t.param.kind == ParamKind::Weight)
                    .map(|t| (index[t.param.name.as_str()], t.coeff))
                    .collect();
                if !weights.is_empty() {
                    shifted.push(Shifted {
                        instruction: k,
                        angle: j,
                        four_term: gate.angle_spectrum(j) == Some(&[0.5, 1.0]),
                        weights,
                    });
                }
            }
        }
        Ok(ShiftEnergy {
            circuit: circuit.clone(),
            layout,
            hamiltonian,
            shots,
            shifted,
        })
    }

    /// The energy of the circuit bound at `weights`, with angle `shift.0` of the instruction
    /// `shift.1` moved by `shift.2` when given; one estimate seeded by `stream`.
    fn energy(
        &self,
        bound: &Circuit,
        shift: Option<(usize, usize, f64)>,
        stream: Stream,
    ) -> Result<f64> {
        let mut circuit = Circuit::with_clbits(bound.num_qubits(), bound.num_clbits());
        for (k, instruction) in bound.iter().enumerate() {
            let mut instruction = instruction.clone();
            if let (Some((i, j, delta)), Instruction::Gate { gate, .. }) = (shift, &mut instruction)
            {
                if i == k {
                    let a = &mut gate.angles_mut()[j];
                    **a = crate::param::Angle::constant(a.constant_part() + delta);
                }
            }
            circuit.push(instruction);
        }
        let psi = circuit.compile()?.statevector(&[], &[])?;
        match self.shots {
            None => self.hamiltonian.expectation(&psi),
            Some(s) => Ok(self.hamiltonian.estimate(&psi, s, stream.key())?.value),
        }
    }
}

impl EnergyGradient for ShiftEnergy {
    fn num_weights(&self) -> usize {
        self.layout.weights.len()
    }
    /// One for the energy, two per shifted angle and four per controlled rotation.
    fn evaluations_per_call(&self) -> u64 {
        1 + self
            .shifted
            .iter()
            .map(|s| if s.four_term { 4 } else { 2 })
            .sum::<u64>()
    }
    fn value_and_gradient(&self, weights: &[f64], stream: Stream) -> Result<(f64, Vec<f64>)> {
        use std::f64::consts::{FRAC_PI_2, SQRT_2};
        let bound = self.layout.bind(&self.circuit, weights, &[])?;
        let value = self.energy(&bound, None, stream.child(0))?;
        let mut gradient = vec![0.0; weights.len()];
        for (n, s) in self.shifted.iter().enumerate() {
            let stream = stream.child(1 + n as u64);
            let at = |delta: f64, m: u64| {
                self.energy(
                    &bound,
                    Some((s.instruction, s.angle, delta)),
                    stream.child(m),
                )
            };
            let mut d = 0.5 * (at(FRAC_PI_2, 0)? - at(-FRAC_PI_2, 1)?);
            if s.four_term {
                let (plus, minus) = (
                    (SQRT_2 + 1.0) / (4.0 * SQRT_2),
                    (SQRT_2 - 1.0) / (4.0 * SQRT_2),
                );
                let far = at(3.0 * FRAC_PI_2, 2)? - at(-3.0 * FRAC_PI_2, 3)?;
                d = plus * (2.0 * d) - minus * far;
            }
            for &(w, c) in &s.weights {
                gradient[w] += c * d;
            }
        }
        Ok((value, gradient))
    }
}
