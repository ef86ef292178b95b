//! OpenQASM 2.0 import and export.
//!
//! **Import** ([`parse`], [`load`]) reads `OPENQASM 2.0; include "qelib1.inc";` programs with
//! every gate of Qiskit's extended `qelib1.inc` (`u1 u2 u3 u p cx id x y z h s sdg t tdg sx sxdg
//! rx ry rz swap cswap ccx cy cz ch crx cry crz cu1 cp cu3 cu csx rxx rzz u0`), the builtins `U`
//! and `CX`, user `gate` definitions (expanded at each call), several `qreg`/`creg` (numbered in
//! declaration order), `barrier`, `measure` on bits and whole registers, and expressions in `pi`
//! with `+ - * / ^`, unary minus, parentheses and `sin cos tan exp ln sqrt`. Constructs qloop
//! cannot simulate (`if`, `reset`, calls of `opaque` gates) are errors naming file, line and
//! column.
//!
//! **Export** ([`export`]) writes one `q` and one `c` register and each angle as the shortest
//! decimal that reads back to the same `f64`, so `parse(export(c)) == c` exactly. `ryy` is not
//! in `qelib1.inc`; when used, its definition is written first (as Qiskit's exporter does) and
//! qloop's reader maps that definition back to the native gate.
//!
//! ```
//! let c = qloop::qasm::parse(r#"
//!     OPENQASM 2.0;
//!     include "qelib1.inc";
//!     qreg q[2];
//!     creg c[2];
//!     h q[0];
//!     cx q[0], q[1];
//!     measure q -> c;
//! "#, None).unwrap();
//! assert_eq!(c, qloop::Circuit::new(2).h(0).cx(0, 1).measure(0, 0).measure(1, 1));
//! assert_eq!(qloop::qasm::parse(&qloop::qasm::export(&c).unwrap(), None).unwrap(), c);
//! ```

mod lexer;
mod parser;

pub use parser::{load, parse};

use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, Result};
use crate::gate::Gate;
use std::fmt::Write;

/// The shortest decimal that parses back to exactly `v`, always with a `.` in the mantissa
/// (`1.0e-9`, `-0.5`, `3.0`), as the OpenQASM 2.0 grammar requires.
fn real(v: f64) -> String {
    let s = format!("{v:?}");
    match s.find('e') {
        Some(e) if !s[..e].contains('.') => format!("{}.0{}", &s[..e], &s[e..]),
        _ => s,
    }
}

const RYY_DEFINITION: &str = "gate ryy(param0) q0,q1 { rx(pi/2) q0; rx(pi/2) q1; cx q0,q1; rz(param0) q1; cx q0,q1; rx(-pi/2) q0; rx(-pi/2) q1; }\n";

/// Writes `circuit` as OpenQASM 2.0. Fails if an angle still depends on a parameter.
pub fn export(circuit: &Circuit) -> Result<String> {
    let mut out = String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    let uses_ryy = circuit.iter().any(|i| {
        matches!(
            i,
            Instruction::Gate {
                gate: Gate::RYY(_),
                ..
            }
        )
    });
    if uses_ryy {
        out.push_str(RYY_DEFINITION);
    }
    if circuit.num_qubits() > 0 {
        writeln!(out, "qreg q[{}];", circuit.num_qubits()).expect("write to String");
    }
    if circuit.num_clbits() > 0 {
        writeln!(out, "creg c[{}];", circuit.num_clbits()).expect("write to String");
    }
    let operands = |qubits: &[usize]| {
        qubits
            .iter()
            .map(|q| format!("q[{q}]"))
            .collect::<Vec<_>>()
            .join(",")
    };
    for (index, inst) in circuit.iter().enumerate() {
        match inst {
            Instruction::Gate { gate, qubits } => {
                let mut values = Vec::new();
                for angle in gate.angles() {
                    if let Some(p) = angle.params().next() {
                        return Err(Error::QasmExport {
                            instruction: index,
                            reason: format!(
                                "its angle depends on parameter '{}'; bind it first",
                                p.name
                            ),
                        });
                    }
                    values.push(real(angle.constant_part()));
                }
                let args = if values.is_empty() {
                    String::new()
                } else {
                    format!("({})", values.join(","))
                };
                writeln!(out, "{}{args} {};", gate.name(), operands(qubits))
                    .expect("write to String");
            }
            Instruction::Measure { qubit, clbit } => {
                writeln!(out, "measure q[{qubit}] -> c[{clbit}];").expect("write to String")
            }
            Instruction::Barrier { qubits } if qubits.is_empty() => {}
            Instruction::Barrier { qubits } => {
                writeln!(out, "barrier {};", operands(qubits)).expect("write to String")
            }
        }
    }
    Ok(out)
}
