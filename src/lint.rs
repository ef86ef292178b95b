//! Ansatz diagnostics: what in a parameterized circuit cannot influence what is measured, how
//! much entanglement it can make, and how sensitive its outputs are to each parameter.
//!
//! The *outputs* are the Z-basis distribution `p(θ)` of the measured qubits (every qubit if the
//! circuit measures none). Checks:
//!
//! - **Ineffective gates** (structural, exact): a gate outside the backward light cone of the
//!   measured qubits, or a diagonal gate after which every gate on its qubits is diagonal too
//!   (it commutes to the end, where it only changes phases, which Z measurements do not see).
//! - **Dead parameters** (numerical): `∂p/∂θⱼ` by central differences at `samples` random points
//!   (weights uniform in `[0, 2π)`, inputs uniform in `[0, π]`). `p` is analytic in `θ`, so a
//!   derivative that vanishes at random points vanishes identically with probability 1.
//! - **Redundancy**: the largest rank of the Jacobian `∂p/∂θ` over the points; less than
//!   `min(live parameters, 2^m − 1)` (`Σp = 1` leaves `2^m − 1` directions) means some
//!   combinations of parameters cannot change the outputs.
//! - **Entangling capability**: the mean Meyer–Wallach `Q` of the states the circuit makes at
//!   the random points, against the Haar mean `(d − 2)/(d + 1)`, `d = 2^n` (Sim, Johnson,
//!   Aspuru-Guzik, Adv. Quantum Technol. 2, 1900070 (2019)).
//! - **Sensitivity**: for each parameter, the mean `‖∂p/∂θⱼ‖₁` over the points.
//!
//! ```
//! use qloop::{lint, Circuit, Param};
//! // The seed design: H on every qubit, CNOT chain, RZ(θ), measure.
//! let mut c = Circuit::new(3).h(0).h(1).h(2).cx(0, 1).cx(1, 2);
//! for q in 0..3 {
//!     c = c.rz(Param::weight(format!("t{q}")), q);
//! }
//! let report = lint::lint(&c.measure_all(), &lint::Options::default()).unwrap();
//! assert_eq!(report.dead_parameters().count(), 3);
//! assert!(report.entangling.mean_q < 1e-12);
//! ```

use crate::circuit::Instruction;
use crate::error::{ParamKind, Result};
use crate::gate::{Gate, Structure};
use crate::measure::rng_from_seed;
use crate::{Circuit, Par, StateVector};
use rand::Rng;
use serde::Serialize;

/// How the numerical checks sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Random parameter points (default 16).
    pub samples: usize,
    /// Seed of the points (default 0).
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            samples: 16,
            seed: 0,
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A gate that cannot change the measured distribution.
    IneffectiveGate,
    /// A parameter that cannot change the measured distribution.
    DeadParameter,
    /// Parameter combinations that cannot change the measured distribution.
    RedundantParameters,
    /// Entangling gates that make no entanglement.
    NoEntanglement,
}

/// One diagnostic, with a plain-language explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What it is about.
    pub kind: Kind,
    /// The instruction index (ineffective gates) or parameter name (dead parameters).
    pub subject: String,
    /// Why, in words.
    pub explanation: String,
}

/// The sensitivity of the outputs to one parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The parameter's name.
    pub name: String,
    /// Weight or input.
    pub kind: ParamKind,
    /// Mean `‖∂p/∂θ‖₁` over the random points.
    pub mean: f64,
    /// Largest `‖∂p/∂θ‖₁` over the random points.
    pub max: f64,
}

/// The entanglement the circuit makes at random parameter points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entangling {
    /// Mean Meyer–Wallach `Q`.
    pub mean_q: f64,
    /// Its standard error.
    pub stderr: f64,
    /// `(d − 2)/(d + 1)`: the mean `Q` of Haar-random states of the same size.
    pub haar_q: f64,
    /// Number of points.
    pub samples: usize,
}

/// Everything `lint` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Qubits of the circuit.
    pub num_qubits: usize,
    /// The qubits whose distribution is the output.
    pub measured: Vec<usize>,
    /// Findings, structural ones first.
    pub findings: Vec<Finding>,
    /// Per-parameter sensitivity, in layout order (weights, then inputs).
    pub sensitivity: Vec<Sensitivity>,
    /// The largest rank of the Jacobian `∂p/∂θ` over the points (when it was computed).
    pub jacobian_rank: Option<usize>,
    /// Entangling capability.
    pub entangling: Entangling,
}

impl Report {
    /// The dead-parameter findings.
    pub fn dead_parameters(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.kind == Kind::DeadParameter)
    }

    /// The findings of one kind.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}

/// `‖∂p/∂θ‖₁` at or below this counts as zero (central differences at step `H` are accurate to
/// about `ε/H + H²`, i.e. `1e-10` here).
const ZERO_DERIVATIVE: f64 = 1e-8;
const H: f64 = 1e-4;
/// The largest output distribution (`2^m` entries) whose Jacobian rank is computed.
const MAX_RANK_ROWS: usize = 1 << 12;

/// Runs every check (see the module docs).
pub fn lint(circuit: &Circuit, options: &Options) -> Result<Report> {
    if options.samples > crate::limits::MAX_LINT_SAMPLES {
        return Err(crate::Error::TooLarge {
            what: "the number of lint samples".into(),
            value: options.samples as u128,
            limit: crate::limits::MAX_LINT_SAMPLES as u128,
        });
    }
    let program = circuit.compile()?;
    let n = circuit.num_qubits();
    let mut measured: Vec<usize> = circuit.measurements().iter().map(|m| m.0).collect();
    measured.sort_unstable();
    measured.dedup();
    if measured.is_empty() {
        measured = (0..n).collect();
    }
    let mut findings = structural_findings(circuit, &measured);

    let layout = program.layout();
    let (nw, ni) = (layout.weights.len(), layout.inputs.len());
    let names: Vec<(String, ParamKind)> = layout
        .weights
        .iter()
        .map(|w| (w.clone(), ParamKind::Weight))
        .chain(layout.inputs.iter().map(|x| (x.clone(), ParamKind::Input)))
        .collect();
    let samples = options.samples.max(1);
    let mut rng = rng_from_seed(options.seed);
    let mut state = StateVector::zero(n)?;
    let par = Par::auto(n);
    let outputs = |values: &[f64], state: &mut StateVector| -> Result<Vec<f64>> {
        program.run(&values[..nw], &values[nw..], state, par)?;
        state.marginal_probabilities(&measured)
    };

    let mut sums = vec![0.0; nw + ni];
    let mut maxima = vec![0.0f64; nw + ni];
    let mut q_values = Vec::with_capacity(samples);
    let mut rank: Option<usize> = None;
    let rows = 1usize << measured.len();
    for _ in 0..samples {
        let point: Vec<f64> = (0..nw + ni)
            .map(|j| {
                let top = if j < nw {
                    std::f64::consts::TAU
                } else {
                    std::f64::consts::PI
                };
                rng.random::<f64>() * top
            })
            .collect();
        outputs(&point, &mut state)?;
        q_values.push(state.entanglement().meyer_wallach()?);
        let mut jacobian = Vec::with_capacity(rows * (nw + ni));
        for j in 0..nw + ni {
            let mut shifted = point.clone();
            shifted[j] = point[j] + H;
            let plus = outputs(&shifted, &mut state)?;
            shifted[j] = point[j] - H;
            let minus = outputs(&shifted, &mut state)?;
            let column: Vec<f64> = plus
                .iter()
                .zip(&minus)
                .map(|(a, b)| (a - b) / (2.0 * H))
                .collect();
            let norm: f64 = column.iter().map(|d| d.abs()).sum();
            sums[j] += norm;
            maxima[j] = maxima[j].max(norm);
            jacobian.extend(column);
        }
        if rows <= MAX_RANK_ROWS && nw + ni > 0 {
            let r = numerical_rank(&jacobian, rows, nw + ni)?;
            rank = Some(rank.map_or(r, |best: usize| best.max(r)));
        }
    }

    let sensitivity: Vec<Sensitivity> = names
        .iter()
        .enumerate()
        .map(|(j, (name, kind))| Sensitivity {
            name: name.clone(),
            kind: *kind,
            mean: sums[j] / samples as f64,
            max: maxima[j],
        })
        .collect();
    for s in sensitivity.iter().filter(|s| s.max <= ZERO_DERIVATIVE) {
        findings.push(Finding {
            kind: Kind::DeadParameter,
            subject: s.name.clone(),
            explanation: format!(
                "{} '{}' cannot change the measured outcomes: at {samples} random points the \
                 derivative of the outcome distribution with respect to it is zero (≤ {ZERO_DERIVATIVE:e}), \
                 and a derivative of this analytic function that vanishes at random points vanishes everywhere{}",
                kind_word(s.kind),
                s.name,
                dead_reason(circuit, &s.name, &measured)
                    .map(|r| format!(". {r}"))
                    .unwrap_or_default()
            ),
        });
    }
    let live = sensitivity
        .iter()
        .filter(|s| s.max > ZERO_DERIVATIVE)
        .count();
    // Σp = 1, so at most 2^m − 1 directions exist whatever the parameters.
    if let Some(r) = rank.filter(|&r| r < live.min(rows - 1)) {
        findings.push(Finding {
            kind: Kind::RedundantParameters,
            subject: format!("rank {r} of {live}"),
            explanation: format!(
                "the {live} parameters that do affect the outcomes move them in only {r} independent \
                 directions (rank of the Jacobian of the outcome distribution); {} combination(s) of \
                 them, such as two rotations about the same axis in a row, are redundant",
                live - r
            ),
        });
    }

    let mean_q = q_values.iter().sum::<f64>() / samples as f64;
    let var = if samples > 1 {
        q_values.iter().map(|q| (q - mean_q).powi(2)).sum::<f64>() / (samples - 1) as f64
    } else {
        0.0
    };
    let d = (1u64 << n.min(62)) as f64;
    let entangling = Entangling {
        mean_q,
        stderr: (var / samples as f64).sqrt(),
        haar_q: (d - 2.0) / (d + 1.0),
        samples,
    };
    let multi_qubit = circuit.iter().any(|i| {
        matches!(i, Instruction::Gate { gate, .. } if gate.num_qubits() > 1 && *gate != Gate::I)
    });
    if multi_qubit && q_values.iter().all(|&q| q < 1e-10) {
        findings.push(Finding {
            kind: Kind::NoEntanglement,
            subject: "circuit".into(),
            explanation: format!(
                "the circuit has multi-qubit gates but every state it made at {samples} random points \
                 is a product state (Meyer-Wallach Q = 0): e.g. a CNOT acting on |+⟩ ⊗ |+⟩ leaves it \
                 unchanged, so an H layer followed by a CNOT chain entangles nothing"
            ),
        });
    }

    Ok(Report {
        num_qubits: n,
        measured,
        findings,
        sensitivity,
        jacobian_rank: rank,
        entangling,
    })
}

fn kind_word(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Weight => "weight",
        ParamKind::Input => "input",
    }
}

/// Which instructions cannot affect the measured distribution, and why (index → reason).
fn ineffective(circuit: &Circuit, measured: &[usize]) -> Vec<(usize, &'static str)> {
    let n = circuit.num_qubits();
    let mut in_cone: Vec<bool> = (0..n).map(|q| measured.contains(&q)).collect();
    let mut diagonal_tail = vec![true; n];
    let mut out = Vec::new();
    for (index, inst) in circuit.iter().enumerate().rev() {
        let Instruction::Gate { gate, qubits } = inst else {
            continue;
        };
        if *gate == Gate::I {
            continue;
        }
        if !qubits.iter().any(|&q| in_cone[q]) {
            out.push((
                index,
                "it acts only on qubits that never influence a measured qubit afterwards",
            ));
        } else if gate.structure() == Structure::Diagonal
            && qubits.iter().all(|&q| diagonal_tail[q])
        {
            out.push((
                index,
                "it is diagonal in the Z basis and only diagonal gates follow it on its qubits, so it \
                 only changes phases that a Z-basis measurement cannot see",
            ));
        }
        if qubits.iter().any(|&q| in_cone[q]) {
            for &q in qubits {
                in_cone[q] = true;
            }
        }
        if gate.structure() != Structure::Diagonal {
            for &q in qubits {
                diagonal_tail[q] = false;
            }
        }
    }
    out.reverse();
    out
}

fn structural_findings(circuit: &Circuit, measured: &[usize]) -> Vec<Finding> {
    ineffective(circuit, measured)
        .into_iter()
        .map(|(index, reason)| {
            let inst = &circuit.instructions()[index];
            Finding {
                kind: Kind::IneffectiveGate,
                subject: format!("instruction {index}"),
                explanation: format!(
                    "instruction {index} ({} on qubit{} {}) cannot change the measured outcomes: {reason}",
                    inst.name(),
                    if inst.qubits().len() == 1 { "" } else { "s" },
                    inst.qubits()
                        .iter()
                        .map(|q| q.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        })
        .collect()
}

/// A structural explanation of a dead parameter: every gate that reads it is ineffective.
fn dead_reason(circuit: &Circuit, name: &str, measured: &[usize]) -> Option<String> {
    let users: Vec<usize> = circuit
        .iter()
        .enumerate()
        .filter(|(_, inst)| match inst {
            Instruction::Gate { gate, .. } => gate
                .angles()
                .iter()
                .any(|a| a.params().any(|p| p.name == name)),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    let dead = ineffective(circuit, measured);
    let all_dead = users.iter().all(|u| dead.iter().any(|(i, _)| i == u));
    (all_dead && !users.is_empty()).then(|| {
        let list: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        format!(
            "It feeds only instruction(s) {}, which cannot affect the outcomes (see above)",
            list.join(", ")
        )
    })
}

/// The number of singular values above `max(1e-6 · σ_max, ZERO_DERIVATIVE)` (finite-difference
/// noise is ~1e-10).
fn numerical_rank(column_major: &[f64], rows: usize, cols: usize) -> Result<usize> {
    let m = faer::MatRef::from_column_major_slice(column_major, rows, cols);
    let values = m
        .singular_values()
        .map_err(|e| crate::Error::Linalg(format!("Jacobian SVD did not converge ({e:?})")))?;
    let top = values.iter().copied().fold(0.0, f64::max);
    let floor = (1e-6 * top).max(ZERO_DERIVATIVE);
    Ok(values.iter().filter(|&&s| s > floor).count())
}

impl std::fmt::Display for Report {
    /// The report in words, as `qloop lint` prints it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let measured: Vec<String> = self.measured.iter().map(|q| q.to_string()).collect();
        writeln!(
            f,
            "{} qubits; outputs: Z-basis distribution of qubit(s) {}",
            self.num_qubits,
            measured.join(", ")
        )?;
        if self.findings.is_empty() {
            writeln!(f, "no problems found")?;
        }
        for finding in &self.findings {
            writeln!(f, "- [{:?}] {}", finding.kind, finding.explanation)?;
        }
        let e = &self.entangling;
        writeln!(
            f,
            "entangling capability: mean Meyer-Wallach Q = {:.4} ± {:.4} over {} random points \
             (Haar-random states: {:.4})",
            e.mean_q, e.stderr, e.samples, e.haar_q
        )?;
        if let Some(rank) = self.jacobian_rank {
            writeln!(
                f,
                "Jacobian rank of the outcome distribution: {rank} of {} parameters",
                self.sensitivity.len()
            )?;
        }
        if !self.sensitivity.is_empty() {
            writeln!(f, "sensitivity  mean ‖∂p/∂θ‖₁   max      parameter")?;
            for s in &self.sensitivity {
                writeln!(
                    f,
                    "             {:<14.3e} {:<8.3e} {} ({})",
                    s.mean,
                    s.max,
                    s.name,
                    kind_word(s.kind)
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Param;

    #[test]
    fn light_cone_and_diagonal_tail() {
        // q2 is never measured and never interacts: its gate is outside the cone. The rz on
        // q0 sits before an h: effective. The cz at the end is diagonal: ineffective.
        let c = Circuit::with_clbits(3, 2)
            .rz(0.3, 0)
            .h(0)
            .x(2)
            .cx(0, 1)
            .cz(0, 1)
            .measure(0, 0)
            .measure(1, 1);
        let found: Vec<usize> = ineffective(&c, &[0, 1]).into_iter().map(|f| f.0).collect();
        assert_eq!(found, vec![2, 4]);
    }

    #[test]
    fn effective_parameters_are_not_flagged() {
        let c = Circuit::new(2)
            .ry(Param::weight("a"), 0)
            .cx(0, 1)
            .rx(Param::input("x"), 1);
        let report = lint(&c, &Options::default()).unwrap();
        assert_eq!(report.dead_parameters().count(), 0);
        assert!(report.sensitivity.iter().all(|s| s.mean > 0.1));
        assert_eq!(report.jacobian_rank, Some(2));
        assert!(report.entangling.mean_q > 0.05);
    }

    #[test]
    fn consecutive_rotations_about_one_axis_are_redundant() {
        let c = Circuit::new(2)
            .ry(Param::weight("a"), 0)
            .ry(Param::weight("b"), 0)
            .ry(Param::weight("c"), 1);
        let report = lint(&c, &Options::default()).unwrap();
        assert_eq!(report.jacobian_rank, Some(2));
        assert_eq!(report.of_kind(Kind::RedundantParameters).count(), 1);
    }
}
