//! OpenQASM 2.0 import, export and error reporting.

use qloop::{qasm, Circuit, Error, Gate, Instruction};
use std::f64::consts::PI;
use std::path::Path;

fn parse(src: &str) -> qloop::Result<Circuit> {
    qasm::parse(src, Some(Path::new("test.qasm")))
}

const HEADER: &str = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n";

#[test]
fn every_bundled_circuit_parses_and_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let circuit = Circuit::load(&path).unwrap();
        assert!(circuit.num_qubits() > 0, "{}", path.display());
        if circuit.parameters().is_empty() {
            let text = qasm::export(&circuit).unwrap();
            assert_eq!(
                qasm::parse(&text, None).unwrap(),
                circuit,
                "{}",
                path.display()
            );
        }
        assert_eq!(Circuit::from_json(&circuit.to_json()).unwrap(), circuit);
        seen += 1;
    }
    assert!(seen >= 8);
}

#[test]
fn every_qelib1_gate_is_read() {
    let src = format!(
        "{HEADER}qreg q[3];\n\
         u3(0.1,0.2,0.3) q[0]; u2(0.1,0.2) q[0]; u1(0.3) q[0]; u(0.1,0.2,0.3) q[0]; p(0.4) q[0];\n\
         cx q[0],q[1]; id q[0]; x q[0]; y q[0]; z q[0]; h q[0]; s q[0]; sdg q[0]; t q[0]; tdg q[0];\n\
         sx q[0]; sxdg q[0]; rx(0.1) q[0]; ry(0.1) q[0]; rz(0.1) q[0]; swap q[0],q[1];\n\
         cswap q[0],q[1],q[2]; ccx q[0],q[1],q[2]; cy q[0],q[1]; cz q[0],q[1]; ch q[0],q[1];\n\
         crx(0.1) q[0],q[1]; cry(0.1) q[0],q[1]; crz(0.1) q[0],q[1]; cu1(0.1) q[0],q[1];\n\
         cp(0.1) q[0],q[1]; cu3(0.1,0.2,0.3) q[0],q[1]; rxx(0.1) q[0],q[1]; rzz(0.1) q[0],q[1];\n\
         U(0.1,0.2,0.3) q[0]; CX q[1],q[0];\n"
    );
    let c = parse(&src).unwrap();
    assert_eq!(c.len(), 36);
    assert_eq!(
        c[1],
        Instruction::Gate {
            gate: Gate::U((PI / 2.0).into(), 0.1.into(), 0.2.into()),
            qubits: vec![0]
        }
    );
    assert_eq!(
        c[2],
        Instruction::Gate {
            gate: Gate::P(0.3.into()),
            qubits: vec![0]
        }
    );
    assert_eq!(
        c[35],
        Instruction::Gate {
            gate: Gate::CX,
            qubits: vec![1, 0]
        }
    );
    assert_eq!(qasm::parse(&qasm::export(&c).unwrap(), None).unwrap(), c);
}

#[test]
fn cu_and_csx_expand_to_exact_equivalents() {
    // cu(θ,φ,λ,γ) = diag(1, e^{iγ}) on the control, then cu3; csx = controlled √X.
    let c = parse(&format!(
        "{HEADER}qreg q[2];\nh q[0]; h q[1]; cu(0.3,0.2,0.1,0.7) q[0],q[1]; csx q[1],q[0];"
    ))
    .unwrap();
    let psi = c.statevector().unwrap();
    let reference = Circuit::new(2)
        .h(0)
        .h(1)
        .p(0.7, 0)
        .cu3(0.3, 0.2, 0.1, 0, 1)
        .p(PI / 4.0, 1)
        .crx(PI / 2.0, 1, 0)
        .statevector()
        .unwrap();
    assert!((psi.inner(&reference).norm() - 1.0).abs() < 1e-14);
    assert!(
        (psi.inner(&reference).re - 1.0).abs() < 1e-14,
        "global phase differs"
    );
    // And csx really is controlled-SX: compare with the SX matrix on the target when control = 1.
    let sx = Circuit::new(2).x(1).sx(0).statevector().unwrap();
    let csx = parse(&format!("{HEADER}qreg q[2];\nx q[1]; csx q[1],q[0];"))
        .unwrap()
        .statevector()
        .unwrap();
    assert!((sx.inner(&csx).re - 1.0).abs() < 1e-14);
}

#[test]
fn registers_are_numbered_in_declaration_order_and_broadcast() {
    let src = format!("{HEADER}qreg a[2];\nqreg b[3];\ncreg x[3];\ncreg y[2];\nh b;\ncx a[1], b[2];\nmeasure b -> x;\nmeasure a -> y;\nbarrier a, b[0];");
    let c = parse(&src).unwrap();
    assert_eq!((c.num_qubits(), c.num_clbits()), (5, 5));
    let expected = Circuit::with_clbits(5, 5)
        .h(2)
        .h(3)
        .h(4)
        .cx(1, 4)
        .measure(2, 0)
        .measure(3, 1)
        .measure(4, 2)
        .measure(0, 3)
        .measure(1, 4);
    assert_eq!(&c.instructions()[..expected.len()], expected.instructions());
    assert_eq!(
        c[c.len() - 1],
        Instruction::Barrier {
            qubits: vec![0, 1, 2]
        }
    );
    // Register-to-register broadcast of a two-qubit gate.
    let c = parse(&format!(
        "{HEADER}qreg a[2];\nqreg b[2];\ncx a, b;\ncx a[0], b;"
    ))
    .unwrap();
    assert_eq!(c, Circuit::new(4).cx(0, 2).cx(1, 3).cx(0, 2).cx(0, 3));
}

#[test]
fn user_gates_expand_with_their_parameters() {
    let src = format!(
        "{HEADER}gate rot(a, b) q {{ rz(a) q; ry(b/2) q; }}\n\
         gate ent(t) p, q {{ rot(t, 2*t) p; cx p, q; barrier p, q; rot(-t, pi) q; }}\n\
         qreg r[2];\nent(0.5) r[1], r[0];"
    );
    let c = parse(&src).unwrap();
    assert_eq!(
        c,
        Circuit::new(2)
            .rz(0.5, 1)
            .ry(0.5, 1)
            .cx(1, 0)
            .rz(-0.5, 0)
            .ry(PI / 2.0, 0)
    );
}

#[test]
fn expressions_follow_the_usual_precedence() {
    let cases: [(&str, f64); 10] = [
        ("pi/2", PI / 2.0),
        ("-pi", -PI),
        ("2*pi/4+1", 2.0 * PI / 4.0 + 1.0),
        ("2^3^2", 512.0),
        ("-2^2", -4.0),
        ("(1+2)*3", 9.0),
        ("sin(pi/6)*2", (PI / 6.0).sin() * 2.0),
        ("cos(0)+tan(0)+exp(0)+ln(1)+sqrt(4)", 4.0),
        ("1.5e-3", 1.5e-3),
        ("3 - 2 - 1", 0.0),
    ];
    for (expr, value) in cases {
        let c = parse(&format!("{HEADER}qreg q[1];\nrz({expr}) q[0];")).unwrap();
        match &c[0] {
            Instruction::Gate {
                gate: Gate::RZ(a), ..
            } => {
                assert!(
                    (a.constant_part() - value).abs() < 1e-12,
                    "{expr} = {} ≠ {value}",
                    a.constant_part()
                )
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Parses `body` after the header and returns the error's (line, column, message).
fn error_of(body: &str) -> (usize, usize, String) {
    match parse(&format!("{HEADER}{body}")).unwrap_err() {
        Error::Qasm { location, message } => {
            assert_eq!(location.file.as_deref(), Some(Path::new("test.qasm")));
            (location.line, location.column, message)
        }
        other => panic!("not a located error: {other}"),
    }
}

#[test]
fn errors_name_line_column_and_what_was_expected() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("qreg q[2];\nh q[0]", 4, 7, "expected ';'"),
        ("qreg q[2];\nfoo q[0];", 4, 1, "gate 'foo' is not defined"),
        (
            "qreg q[2];\nh q[2];",
            4,
            5,
            "out of range for register 'q' of size 2",
        ),
        ("qreg q[2];\ncx q[0], q[0];", 4, 1, "used twice"),
        ("qreg q[2];\nrz(1/0) q[0];", 4, 1, "must be finite"),
        (
            "qreg q[1];\ncreg c[1];\nif (c==3) x q[0];",
            5,
            8,
            "the value 3 does not fit in register 'c' of 1 bits",
        ),
        (
            "qreg q[1];\nreset q[1];",
            4,
            9,
            "out of range for register 'q'",
        ),
        ("opaque magic q;\nqreg q[1];\nmagic q[0];", 5, 1, "opaque"),
        (
            "qreg q[1];\nrz(theta) q[0];",
            4,
            4,
            "unknown identifier 'theta'",
        ),
        (
            "qreg q[1];\nrx(0.1, 0.2) q[0];",
            4,
            1,
            "takes 1 parameters, got 2",
        ),
        ("qreg q[1];\nqreg q[2];", 4, 1, "already declared"),
        (
            "qreg q[1];\nh r[0];",
            4,
            3,
            "not a declared quantum register",
        ),
        ("qreg q[2];\n# comment", 4, 1, "unexpected character '#'"),
        (
            "qreg q[2];\ncreg c[1];\nmeasure q -> c;",
            5,
            9,
            "cannot measure a register of 2 qubits into one of 1",
        ),
        ("qreg q[1];\n/* never closed", 4, 1, "unterminated comment"),
        (
            "qreg q[1];\ngate g a { h b; }",
            4,
            14,
            "'b' is not a qubit argument",
        ),
        (
            "qreg q[1];\nh q[0];\nmeasure q[0] -> q[0];",
            5,
            17,
            "not a declared classical register",
        ),
    ];
    for &(body, line, column, needle) in cases {
        let (l, col, message) = error_of(body);
        assert!(
            message.contains(needle),
            "{body:?}: message {message:?} lacks {needle:?}"
        );
        assert_eq!((l, col), (line, column), "{body:?}: {message}");
    }
}

#[test]
fn header_and_include_are_checked() {
    let err = qasm::parse("OPENQASM 3.0;\nqreg q[1];", None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("<input>:1:10: OpenQASM 3 is not supported"),
        "{err}"
    );
    let err = qasm::parse("OPENQASM 2.0;\ninclude \"other.inc\";", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("only \"qelib1.inc\""), "{err}");
    let err = qasm::parse("OPENQASM 2.0;\nqreg q[1];\nh q[0];", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("add include \"qelib1.inc\""), "{err}");
    // Without the include, the builtins still work.
    let c = qasm::parse(
        "OPENQASM 2.0;\nqreg q[2];\nU(pi/2,0,pi) q[0];\nCX q[0],q[1];",
        None,
    )
    .unwrap();
    assert_eq!(c.len(), 2);
}

#[test]
fn a_gate_after_a_measurement_makes_the_circuit_dynamic() {
    let c = parse(&format!(
        "{HEADER}qreg q[1];\ncreg c[1];\nmeasure q[0] -> c[0];\nh q[0];"
    ))
    .unwrap();
    let err = c.compile().unwrap_err();
    assert!(
        matches!(err, Error::Dynamic { instruction: 0, .. }),
        "{err}"
    );
}

#[test]
fn export_writes_exact_angles_and_defines_ryy() {
    let c = Circuit::new(2)
        .rz(0.1, 0)
        .rx(1e-9, 1)
        .ry(-0.0, 0)
        .p(1e300, 1)
        .ryy(0.25, 0, 1)
        .u(PI, -PI / 3.0, 2.0, 1)
        .measure(1, 0);
    let text = qasm::export(&c).unwrap();
    assert!(text.contains("gate ryy(param0) q0,q1"), "{text}");
    assert!(text.contains("rx(1.0e-9) q[1];"), "{text}");
    assert_eq!(qasm::parse(&text, None).unwrap(), c);
    // The ryy definition that export writes is RYY itself (what Qiskit will read).
    let body = "qreg q[2];\nh q[0];\nrx(0.4) q[0]; rx(pi/2) q[0]; rx(pi/2) q[1]; cx q[0],q[1]; rz(0.25) q[1]; cx q[0],q[1]; rx(-pi/2) q[0]; rx(-pi/2) q[1];";
    let expanded = parse(&format!("{HEADER}{body}"))
        .unwrap()
        .statevector()
        .unwrap();
    let native = Circuit::new(2)
        .h(0)
        .rx(0.4, 0)
        .ryy(0.25, 0, 1)
        .statevector()
        .unwrap();
    assert!((expanded.inner(&native).re - 1.0).abs() < 1e-14);
    // Symbolic angles cannot be exported.
    let err = qasm::export(&Circuit::new(1).rz(qloop::Param::weight("w"), 0)).unwrap_err();
    assert!(err.to_string().contains("parameter 'w'"), "{err}");
}
