//! Ready-made circuits used by the examples, the CLI and the tests.
//!
//! Weight names are `θ{layer}_{qubit}`-style strings (`t{l}_{q}`); input names are `x{j}`.

use crate::circuit::Circuit;
use crate::param::Param;

/// The design this project started from: H on every qubit, a CNOT chain `(q, q+1)`, then
/// `RZ(θ_q)` on every qubit. Before a Z-basis measurement its outcome distribution does not
/// depend on θ (the chain leaves `|+…+⟩` unchanged and RZ only adds phases); see `qloop lint`.
pub fn seed_design(n: usize) -> Circuit {
    seed_layers(n, 1)
}

/// `layers` repetitions of the [`seed_design`], with weights `t{l}_{q}` of their own (`n·layers`
/// weights, layer-major). The simulator workloads of `docs/performance.md`: W1 is 10 layers,
/// W2 is 3.
///
/// ```
/// let c = qloop::train::ansatz::seed_layers(4, 3);
/// assert_eq!(c.len(), 3 * (4 + 3 + 4));
/// assert_eq!(c.compile().unwrap().layout().weights[5], "t1_1");
/// ```
pub fn seed_layers(n: usize, layers: usize) -> Circuit {
    let mut c = Circuit::new(n);
    for l in 0..layers {
        for q in 0..n {
            c = c.h(q);
        }
        for q in 0..n.saturating_sub(1) {
            c = c.cx(q, q + 1);
        }
        for q in 0..n {
            c = c.rz(Param::weight(format!("t{l}_{q}")), q);
        }
    }
    c
}

/// Hardware-efficient ansatz: `reps` × [RY(θ) on every qubit, CNOT chain], then a final RY
/// layer: `n (reps + 1)` weights.
pub fn ry_cx(n: usize, reps: usize) -> Circuit {
    let mut c = Circuit::new(n);
    for l in 0..=reps {
        for q in 0..n {
            c = c.ry(Param::weight(format!("t{l}_{q}")), q);
        }
        if l < reps {
            for q in 0..n.saturating_sub(1) {
                c = c.cx(q, q + 1);
            }
        }
    }
    c
}

/// The seed design made trainable with data re-uploading: `layers` × [RY(x_{q mod d}) on every
/// qubit, H on every qubit, CNOT chain, RZ(θ), H (the basis change that makes RZ visible to a
/// Z-basis readout)], for `d` = `features` data inputs.
pub fn reuploading(n: usize, layers: usize, features: usize) -> Circuit {
    let mut c = Circuit::new(n);
    for l in 0..layers {
        for q in 0..n {
            c = c.ry(Param::input(format!("x{}", q % features.max(1))), q);
        }
        for q in 0..n {
            c = c.h(q);
        }
        for q in 0..n.saturating_sub(1) {
            c = c.cx(q, q + 1);
        }
        for q in 0..n {
            c = c.rz(Param::weight(format!("t{l}_{q}")), q).h(q);
        }
    }
    c
}

/// The transverse-field Ising chain `H = −J Σ Z_i Z_{i+1} − h Σ X_i` with open ends, in the
/// sparse observable syntax.
pub fn tfim(n: usize, j: f64, h: f64) -> String {
    let mut terms: Vec<String> = (0..n.saturating_sub(1))
        .map(|i| format!("{}*Z{i}*Z{}", -j, i + 1))
        .collect();
    terms.extend((0..n).map(|i| format!("{}*X{i}", -h)));
    terms.join(" + ")
}
