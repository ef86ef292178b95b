//! Bad input gets a clear error with the numbers in it, never a panic.

use qloop::{Circuit, Error, Gate, Instruction, Par, Param, StateVector};

#[test]
fn circuit_errors_carry_their_numbers() {
    let cases: Vec<(Circuit, &str)> = vec![
        (Circuit::new(2).h(0).cx(1, 2), "instruction 1 (cx): qubit 2 is out of range for a circuit of 2 qubits"),
        (Circuit::new(3).ccx(0, 1, 0), "instruction 0 (ccx): qubit 0 is used twice; the operands of a gate must be distinct"),
        (Circuit::new(1).rz(f64::NAN, 0), "instruction 0 (rz): angle is NaN, but angles must be finite"),
        (Circuit::new(1).rx(f64::INFINITY, 0), "instruction 0 (rx): angle is inf, but angles must be finite"),
        (Circuit::new(1).measure(0, 0).x(0), "instruction 0 (measure): a measurement is followed by a gate on its qubit, so the circuit has no single statevector; simulate it with `qloop run` / `qloop expect` (methods density or trajectories)"),
        (Circuit::new(1).rz(Param::weight("a"), 0).rx(Param::input("a"), 0), "parameter 'a' is used both as a weight and as an input"),
        (Circuit::new(2).gate(Gate::CX, &[0]), "instruction 0 (cx): expects 2 qubits, got 1"),
    ];
    for (circuit, message) in cases {
        assert_eq!(circuit.compile().unwrap_err().to_string(), message);
    }
    let mut c = Circuit::with_clbits(1, 1);
    c.push(Instruction::Measure { qubit: 0, clbit: 0 });
    assert!(c.compile().is_ok());
}

#[test]
fn parameter_vectors_are_checked() {
    let program = Circuit::new(1)
        .rx(Param::weight("w"), 0)
        .ry(Param::input("x"), 0)
        .compile()
        .unwrap();
    let mut psi = StateVector::zero(1).unwrap();
    let err = program
        .run(&[0.1, 0.2], &[0.3], &mut psi, Par::Seq)
        .unwrap_err();
    assert_eq!(err.to_string(), "expected 1 weight values, got 2");
    let err = program.run(&[0.1], &[], &mut psi, Par::Seq).unwrap_err();
    assert_eq!(err.to_string(), "expected 1 input values, got 0");
    let err = program
        .run(&[f64::NAN], &[0.0], &mut psi, Par::Seq)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "weight value 0 ('w') is NaN, but parameter values must be finite"
    );
    let mut wrong = StateVector::zero(2).unwrap();
    assert!(matches!(
        program.run(&[0.1], &[0.2], &mut wrong, Par::Seq),
        Err(Error::StateSize {
            expected: 1,
            got: 2
        })
    ));
    let err = Circuit::new(1)
        .rz(Param::weight("w"), 0)
        .statevector()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "parameter 'w' (weight) is not bound to a value"
    );
}

#[test]
fn states_too_large_are_refused_before_allocating() {
    for n in [40, 63, 64, 200] {
        match StateVector::zero(n) {
            Err(Error::StateTooLarge {
                num_qubits,
                bytes_needed,
                ..
            }) => {
                assert_eq!(num_qubits, n);
                assert!(bytes_needed >= 16u128 << n.min(100));
            }
            other => panic!("{n} qubits: {other:?}"),
        }
    }
    let msg = StateVector::zero(40).unwrap_err().to_string();
    assert!(
        msg.starts_with("a state of 40 qubits needs 16.0 TiB of memory"),
        "{msg}"
    );
    let err = Circuit::new(50).h(0).statevector().unwrap_err();
    assert!(matches!(err, Error::StateTooLarge { num_qubits: 50, .. }));
}

#[test]
fn inverse_of_a_measuring_circuit_is_an_error() {
    let err = Circuit::new(1).h(0).measure(0, 0).inverse().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot invert instruction 1: a measurement, reset or conditioned instruction has no inverse"
    );
}

#[test]
fn json_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("qloop-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    std::fs::write(
        &path,
        r#"{"num_qubits": 2, "instructions": [{"op": "gate", "gate": "hh", "qubits": [0]}]}"#,
    )
    .unwrap();
    let err = Circuit::load(&path).unwrap_err().to_string();
    assert!(err.contains("bad.json") && err.contains("line 1"), "{err}");
    std::fs::write(
        &path,
        r#"{"num_qubits": 2, "instructions": [{"op": "gate", "gate": "cx", "qubits": [0, 5]}]}"#,
    )
    .unwrap();
    let err = Circuit::load(&path).unwrap_err().to_string();
    assert!(err.contains("qubit 5 is out of range"), "{err}");
    let err = Circuit::load(dir.join("missing.qasm"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.qasm"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
