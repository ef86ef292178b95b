//! The `qloop` binary: output formats, exit codes and one-line errors.

use std::process::{Command, Output};

fn qloop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qloop"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn state_writes_full_precision_amplitudes() {
    let v = stdout_json(&qloop(&["state", "circuits/bell.qasm"]));
    assert_eq!(v["num_qubits"], 2);
    let amps = v["amplitudes"].as_array().unwrap();
    assert_eq!(amps.len(), 4);
    assert_eq!(
        amps[0][0].as_f64().unwrap(),
        std::f64::consts::FRAC_1_SQRT_2
    );
    assert_eq!(
        amps[3][0].as_f64().unwrap(),
        std::f64::consts::FRAC_1_SQRT_2
    );
    let path = std::env::temp_dir().join(format!("qloop-state-{}.json", std::process::id()));
    let out = qloop(&[
        "state",
        "circuits/ghz5.qasm",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["amplitudes"].as_array().unwrap().len(), 32);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn run_prints_counts_keyed_as_qiskit() {
    let v = stdout_json(&qloop(&[
        "run",
        "circuits/bell.qasm",
        "--shots",
        "1000",
        "--seed",
        "7",
        "--json",
    ]));
    assert_eq!(v["shots"], 1000);
    let counts = v["counts"].as_object().unwrap();
    assert_eq!(counts.keys().collect::<Vec<_>>(), ["00", "11"]);
    assert_eq!(
        counts.values().map(|c| c.as_u64().unwrap()).sum::<u64>(),
        1000
    );
    // Same seed, same counts.
    let again = stdout_json(&qloop(&[
        "run",
        "circuits/bell.qasm",
        "--shots",
        "1000",
        "--seed",
        "7",
        "--json",
    ]));
    assert_eq!(v, again);
    // No measurements: all qubits, qubit 0 rightmost (x on q0 and q2 of the QFT input is not measured).
    let v = stdout_json(&qloop(&[
        "run",
        "circuits/ghz5.qasm",
        "--shots",
        "10",
        "--seed",
        "1",
        "--json",
    ]));
    assert!(v["counts"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| k == "00000" || k == "11111"));
    let text = qloop(&[
        "run",
        "circuits/grover3.qasm",
        "--shots",
        "100",
        "--seed",
        "1",
    ]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("101"));
}

#[test]
fn expect_exact_and_from_shots() {
    let v = stdout_json(&qloop(&[
        "expect",
        "circuits/bell.qasm",
        "--observable",
        "-1.05*II + 0.39*IZ - 0.39*ZI + 0.18*XX",
        "--json",
    ]));
    assert!((v["value"].as_f64().unwrap() - (-0.87)).abs() < 1e-12);
    assert!(v.get("stderr").is_none());
    let v = stdout_json(&qloop(&[
        "expect",
        "circuits/bell.qasm",
        "--observable",
        "0.5*Z0*Z1 + X1",
        "--shots",
        "4000",
        "--seed",
        "2",
        "--json",
    ]));
    let (value, stderr) = (v["value"].as_f64().unwrap(), v["stderr"].as_f64().unwrap());
    assert!(
        stderr > 0.0 && (value - 0.5).abs() < 5.0 * stderr,
        "{value} ± {stderr}"
    );
}

#[test]
fn info_reports_structure_and_parameters() {
    let v = stdout_json(&qloop(&["info", "circuits/seed_ansatz.json", "--json"]));
    assert_eq!(v["num_qubits"], 4);
    assert_eq!(v["gate_counts"]["cx"], 3);
    assert_eq!(v["parameters"]["weights"].as_array().unwrap().len(), 4);
    let text = String::from_utf8(qloop(&["info", "circuits/qft4.qasm"]).stdout).unwrap();
    assert!(text.contains("qubits:      4"), "{text}");
}

#[test]
fn bindings_make_symbolic_circuits_runnable() {
    let out = qloop(&["run", "circuits/seed_ansatz.json", "--shots", "10"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("parameter 'theta0' (weight) is not bound")
            && err.contains("--bind theta0=VALUE"),
        "{err}"
    );
    let v = stdout_json(&qloop(&[
        "expect",
        "circuits/seed_ansatz.json",
        "--observable",
        "ZZZZ",
        "--json",
        "--bind",
        "theta0=0.1",
        "--bind",
        "theta1=0.2",
        "--bind",
        "theta2=0.3",
        "--bind",
        "theta3=0.4",
    ]));
    assert!(v["value"].as_f64().unwrap().abs() < 1e-12);
}

#[test]
fn errors_are_one_line_with_a_nonzero_status() {
    let dir = std::env::temp_dir().join(format!("qloop-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.qasm");
    std::fs::write(
        &bad,
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\nh q[0]\ncx q[0], q[1];\n",
    )
    .unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "run".into(),
                bad.display().to_string(),
                "--shots".into(),
                "5".into(),
            ],
            "bad.qasm:5:1: expected ';', found 'cx'",
        ),
        (
            vec!["state".into(), "no/such/file.qasm".into()],
            "no/such/file.qasm",
        ),
        (
            vec![
                "expect".into(),
                "circuits/bell.qasm".into(),
                "--observable".into(),
                "ZZZ".into(),
            ],
            "observable acts on 3 qubits but the circuit has 2",
        ),
        (
            vec![
                "expect".into(),
                "circuits/bell.qasm".into(),
                "--observable".into(),
                "Z0 +".into(),
            ],
            "observable, column 5",
        ),
        (
            vec![
                "expect".into(),
                "circuits/bell.qasm".into(),
                "--observable".into(),
                "ZZ".into(),
                "--shots".into(),
                "1".into(),
            ],
            "need at least 2 shots",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = qloop(&args);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Usage errors come from clap with status 2.
    assert_eq!(qloop(&["run", "circuits/bell.qasm"]).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_command_has_help() {
    for cmd in ["state", "run", "expect", "info", "convert"] {
        let out = qloop(&[cmd, "--help"]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: qloop"));
    }
}

#[test]
fn convert_round_trips_between_qasm_and_json() {
    let out = qloop(&["convert", "circuits/grover3.qasm", "--to", "json"]);
    assert!(out.status.success());
    let from_json = qloop::Circuit::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    let original = qloop::Circuit::load(format!(
        "{}/circuits/grover3.qasm",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(from_json, original);
    let out = qloop(&["convert", "circuits/hea4.json", "--to", "qasm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("parameter 'theta0'"));
    let out = qloop(&[
        "convert",
        "circuits/seed_ansatz.json",
        "--to",
        "qasm",
        "--bind",
        "theta0=0.5",
        "--bind",
        "theta1=1",
        "--bind",
        "theta2=2",
        "--bind",
        "theta3=3",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("rz(0.5) q[0];"), "{text}");
}
