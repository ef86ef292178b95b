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
    for cmd in [
        "state", "run", "expect", "info", "convert", "train", "predict", "entropy", "lint", "draw",
    ] {
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

fn stderr_line(out: &Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn train_writes_model_and_plot_and_predict_reads_them() {
    let dir = std::env::temp_dir().join(format!("qloop-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("small.toml");
    std::fs::write(&cfg, "seed = 3\n[data]\ndataset = \"moons\"\nsamples = 60\n[model]\nqubits = 2\nshots = 200\nhidden = [4]\n[train]\niterations = 30\nbatch = 16\n").unwrap();
    let out_dir = dir.join("run");
    let out = qloop(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("30 iterations") && text.contains("test accuracy"),
        "{text}"
    );
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("model.json")).unwrap()).unwrap();
    assert_eq!(model["config"]["seed"], 3);
    assert_eq!(model["loss_history"].as_array().unwrap().len(), 30);
    assert_eq!(model["layout"]["circuit"]["end"], 4);
    let e = &model["metrics"]["entanglement"];
    assert_eq!(e["subsystem"], serde_json::json!([0]));
    assert_eq!(e["base"], "e");
    let mean = e["mean"].as_f64().unwrap();
    assert!(
        (0.0..=std::f64::consts::LN_2 + 1e-12).contains(&mean),
        "{e}"
    );
    assert!(
        text.contains("entanglement of the trained states"),
        "{text}"
    );
    let svg = std::fs::read_to_string(out_dir.join("loss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
    assert!(
        !out_dir.join("checkpoint.bin").exists(),
        "a completed run leaves no checkpoint"
    );

    let model_path = out_dir.join("model.json");
    let v = qloop(&[
        "predict",
        "--model",
        model_path.to_str().unwrap(),
        "--input",
        "0.5,0.2",
        "--input",
        "-0.8,1.1",
        "--json",
    ]);
    assert!(v.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&v.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(["upper", "lower"].contains(&lines[0]["class"].as_str().unwrap()));
    let err = stderr_line(&qloop(&[
        "predict",
        "--model",
        model_path.to_str().unwrap(),
        "--input",
        "1,2,3",
    ]));
    assert!(err.contains("the model takes 2 features, got 3"), "{err}");

    let err = stderr_line(&qloop(&[
        "train",
        "--out",
        out_dir.to_str().unwrap(),
        "--resume",
    ]));
    assert!(err.contains("nothing to resume"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_config_errors_name_file_and_key() {
    let dir = std::env::temp_dir().join(format!("qloop-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[model]\nqubits = 4\nlearning_rate = 0.1\n").unwrap();
    let err = stderr_line(&qloop(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]));
    assert!(
        err.starts_with(&format!(
            "qloop: error: {}: 3:1: unknown field `learning_rate`",
            cfg.display()
        )),
        "{err}"
    );
    let err = stderr_line(&qloop(&["train", "--config", "/no/such.toml"]));
    assert!(err.contains("/no/such.toml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ctrl_c_keeps_a_checkpoint_and_resume_ends_as_an_uninterrupted_run() {
    let dir = std::env::temp_dir().join(format!("qloop-sigint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, "[data]\ndataset = \"moons\"\nsamples = 40\n[model]\nqubits = 2\nshots = 100\nhidden = [3]\n[train]\niterations = 20000\nbatch = 8\n").unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    let args = |out: &std::path::Path| {
        vec![
            "train".to_string(),
            "--config".into(),
            cfg.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let exe = env!("CARGO_BIN_EXE_qloop");
    let child = Command::new(exe)
        .args(args(&b))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !b.join("checkpoint.bin").exists() {
        assert!(start.elapsed().as_secs() < 60, "no checkpoint appeared");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // Interrupted is not finished: exit status 130, as shells expect after SIGINT.
    assert!(
        out.status.code() == Some(130) && text.contains("interrupted after"),
        "{:?} {text}",
        out.status
    );
    assert!(b.join("checkpoint.bin").exists() && !b.join("model.json").exists());
    // A fresh start over an interrupted run is refused rather than losing it.
    let err = stderr_line(&Command::new(exe).args(args(&b)).output().unwrap());
    assert!(err.contains("--resume"), "{err}");
    let resumed = Command::new(exe)
        .args(args(&b))
        .arg("--resume")
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let full = Command::new(exe).args(args(&a)).output().unwrap();
    assert!(full.status.success());
    let params = |d: &std::path::Path| {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("model.json")).unwrap()).unwrap();
        (
            v["params"].clone(),
            v["loss_history"].as_array().unwrap().len(),
        )
    };
    assert_eq!(params(&a), params(&b));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn entropy_of_ghz_and_bell_in_json_and_text() {
    let v = stdout_json(&qloop(&["entropy", "circuits/ghz5.qasm", "--json"]));
    assert!((v["entropy"].as_f64().unwrap() - std::f64::consts::LN_2).abs() < 1e-12);
    assert_eq!(v["base"], "e");
    assert_eq!(v["subsystem"], serde_json::json!([0, 1]));
    assert!(v.get("profile").is_none() && v.get("renyi").is_none());

    let v = stdout_json(&qloop(&[
        "entropy",
        "circuits/ghz5.qasm",
        "--subsystem",
        "4,1,2",
        "--base",
        "2",
        "--renyi",
        "2",
        "--profile",
        "--json",
    ]));
    assert!((v["entropy"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(v["subsystem"], serde_json::json!([4, 1, 2]));
    assert_eq!(v["renyi"]["alpha"], 2.0);
    assert!((v["renyi"]["value"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let profile = v["profile"].as_array().unwrap();
    assert_eq!(profile.len(), 4);
    assert!(profile
        .iter()
        .all(|s| (s.as_f64().unwrap() - 1.0).abs() < 1e-12));

    // The whole system of a pure state: zero.
    let v = stdout_json(&qloop(&[
        "entropy",
        "circuits/bell.qasm",
        "--subsystem",
        "0,1",
        "--json",
    ]));
    assert!(v["entropy"].as_f64().unwrap().abs() < 1e-12);

    let out = qloop(&["entropy", "circuits/bell.qasm"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0.693147180560 nats"), "{text}");

    let svg = std::env::temp_dir().join(format!("qloop-profile-{}.svg", std::process::id()));
    let out = qloop(&[
        "entropy",
        "circuits/qft4.qasm",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("<polyline"));
    std::fs::remove_file(svg).unwrap();
}

#[test]
fn entropy_refuses_bad_subsystems_with_the_reason() {
    for (subsystem, expected) in [
        ("0,7", "qubit 7 is out of range for a state of 5 qubits"),
        ("1,1", "qubit 1 appears more than once"),
        ("", "the subsystem is empty"),
        ("0,x", "'x' is not a qubit index"),
    ] {
        let err = stderr_line(&qloop(&[
            "entropy",
            "circuits/ghz5.qasm",
            "--subsystem",
            subsystem,
        ]));
        assert!(err.contains(expected), "{subsystem}: {err}");
    }
    let err = stderr_line(&qloop(&["entropy", "circuits/ghz5.qasm", "--renyi", "-2"]));
    assert!(err.contains("Rényi order"), "{err}");
    // Argument errors are clap's (usage follows the message).
    let out = qloop(&["entropy", "circuits/ghz5.qasm", "--base", "10"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("log base '10' is not one of: e, 2"), "{err}");
}

#[test]
fn lint_flags_the_seed_design_and_passes_an_entangling_ansatz() {
    let v = stdout_json(&qloop(&["lint", "circuits/seed_ansatz.json", "--json"]));
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "dead_parameter").count(), 4);
    assert_eq!(
        kinds.iter().filter(|k| **k == "ineffective_gate").count(),
        4
    );
    assert!(kinds.contains(&"no_entanglement"));
    assert!(v["entangling"]["mean_q"].as_f64().unwrap() < 1e-12);

    let out = qloop(&["lint", "circuits/seed_ansatz.qasm"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("rz on qubit 3) cannot change the measured outcomes"),
        "{text}"
    );

    let v = stdout_json(&qloop(&["lint", "circuits/hea4.json", "--json"]));
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["kind"] != "dead_parameter"));
    assert!(v["entangling"]["mean_q"].as_f64().unwrap() > 0.1);
}

#[test]
fn draw_writes_svg_and_text_and_draws_a_trained_model() {
    let out = qloop(&["draw", "circuits/bell.qasm"]);
    let svg = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success() && svg.starts_with("<svg"), "{svg}");
    assert_eq!(svg.matches("class=\"op\"").count(), 4);

    let out = qloop(&[
        "draw",
        "circuits/ghz5.qasm",
        "--format",
        "text",
        "--fold",
        "3",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("┤H├") && text.contains('»'), "{text}");

    let dir = std::env::temp_dir().join(format!("qloop-draw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("grover.svg");
    let out = qloop(&[
        "draw",
        "circuits/grover3.qasm",
        "--style",
        "feynman",
        "--theme",
        "dark",
        "--activations",
        "--entropy",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("class=\"activations\"") && svg.contains("class=\"cut-entropy\""));

    // Overlays need every angle bound.
    let err = stderr_line(&qloop(&["draw", "circuits/hea4.json", "--activations"]));
    assert!(err.contains("parameter 'theta0'"), "{err}");
    let err = stderr_line(&qloop(&["draw", "circuits/bell.qasm", "--entropy"]));
    assert!(err.contains("--style feynman"), "{err}");

    // A trained model: its angles are bound, its inputs stay symbolic unless --input is given.
    let run = dir.join("run");
    let cfg = dir.join("tiny.toml");
    std::fs::write(&cfg, "seed = 1\n[data]\ndataset = \"moons\"\nsamples = 40\n[model]\nqubits = 2\nshots = 0\nhidden = []\n[train]\niterations = 5\nbatch = 8\n").unwrap();
    let out = qloop(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = run.join("model.json");
    let out = qloop(&["draw", model.to_str().unwrap(), "--format", "text"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("x₀") && !text.contains("θ"),
        "{text}"
    );
    let out = qloop(&[
        "draw",
        model.to_str().unwrap(),
        "--input",
        "0.3,0.1",
        "--activations",
        "--style",
        "feynman",
    ]);
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(svg.contains("model output for input 0.3,0.1") && !svg.contains("x₀"));

    let plot = dir.join("counts.svg");
    let out = qloop(&[
        "run",
        "circuits/grover3.qasm",
        "--shots",
        "500",
        "--seed",
        "3",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("101"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bundled_liquid_configs_train_and_predict_reads_sequences() {
    let dir = std::env::temp_dir().join(format!("qloop-liquid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for kind in ["ltc", "cfc", "qs-ltc"] {
        let config = format!("examples/configs/{kind}.toml");
        let out_dir = dir.join(kind);
        let out = qloop(&[
            "train",
            "--config",
            &config,
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("sequences, regression") && text.contains(&format!("→ {kind} 8 →")),
            "{text}"
        );
        let model: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("model.json")).unwrap()).unwrap();
        let metrics = &model["metrics"];
        let (mse, mean) = (
            metrics["test_mse"].as_f64().unwrap(),
            metrics["mean_baseline_mse"].as_f64().unwrap(),
        );
        assert!(
            mse < 0.5 * mean,
            "{kind}: test MSE {mse} against the mean's {mean}"
        );
        assert!(metrics.get("test_accuracy").is_none());
        let model_path = out_dir.join("model.json");
        let v = qloop(&[
            "predict",
            "--model",
            model_path.to_str().unwrap(),
            "--sequence",
            "0.1,0.2,0.3;0.2,0.3,0.1",
            "--dt",
            "0.3,0.25",
            "--sequence",
            "0.5,0.5,0.5",
            "--dt",
            "1",
            "--json",
        ]);
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&v.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(v.status.success() && lines.len() == 2, "{lines:?}");
        assert_eq!(lines[0]["steps"], 2);
        assert!(lines[1]["output"][0].as_f64().unwrap().is_finite());
    }
    let model = dir.join("ltc/model.json");
    let model = model.to_str().unwrap();
    for (args, want) in [
        (
            vec!["--input", "1,2,3"],
            "reads sequences (sensors); give them with --sequence",
        ),
        (
            vec!["--sequence", "0.1,0.2"],
            "--sequence 1, step 1: the model reads 3 channels, got 2",
        ),
        (
            vec!["--sequence", "1,2,3;1,2,3", "--dt", "1"],
            "--dt 1: 1 elapsed times for a sequence of 2 steps",
        ),
        (
            vec!["--sequence", "1,2,3", "--dt", "-1"],
            "elapsed times must be positive",
        ),
    ] {
        let mut all = vec!["predict", "--model", model];
        all.extend(args);
        let err = stderr_line(&qloop(&all));
        assert!(err.contains(want), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bundled_spiking_and_sparse_configs_train_and_predict() {
    let dir = std::env::temp_dir().join(format!("qloop-spiking-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (kind, summary, input, floor) in [
        ("lif", "→ lif 16 → dense [3]", "5.1,3.5,1.4,0.2", 0.9),
        ("qlif", "→ qlif 16 → dense [3]", "5.1,3.5,1.4,0.2", 0.9),
        ("sparse", "→ sparse 32 → dense [8, 1]", "0.5,0.25", 0.85),
    ] {
        let out_dir = dir.join(kind);
        let out = qloop(&[
            "train",
            "--config",
            &format!("examples/configs/{kind}.toml"),
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(summary), "{text}");
        let model_path = out_dir.join("model.json");
        let model: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&model_path).unwrap()).unwrap();
        let accuracy = model["metrics"]["test_accuracy"].as_f64().unwrap();
        assert!(accuracy >= floor, "{kind}: test accuracy {accuracy}");
        let layer = &model["model"]["network"]["layers"][0];
        assert_eq!(layer["kind"], kind, "{layer}");
        let v = qloop(&[
            "predict",
            "--model",
            model_path.to_str().unwrap(),
            "--input",
            input,
        ]);
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
        // Spiking predictions are seeded by the input: the same twice.
        let again = qloop(&[
            "predict",
            "--model",
            model_path.to_str().unwrap(),
            "--input",
            input,
        ]);
        assert_eq!(v.stdout, again.stdout);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn crafted_files_get_one_line_errors_from_every_command() {
    let dir = std::env::temp_dir().join(format!("qloop-crafted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let header = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n";
    let mut bomb = format!("{header}qreg q[1];\ngate g0 a {{ x a; }}\n");
    for i in 1..=40 {
        bomb += &format!("gate g{i} a {{ g{0} a; g{0} a; }}\n", i - 1);
    }
    bomb += "g40 q[0];\n";
    let files = [
        ("parens.qasm", format!("{header}qreg q[1];\nrx({}1{}) q[0];\n", "(".repeat(10_000), ")".repeat(10_000)), "nested more than"),
        ("bomb.qasm", bomb, "limit of"),
        ("wide.qasm", format!("{header}qreg q[100000000000];\n"), "limit of"),
        ("wrap.qasm", format!("{header}qreg a[9223372036854775808];\nqreg b[9223372036854775808];\nqreg c[2];\nh c[0];\n"), "limit of"),
        ("huge.json", "{\"num_qubits\": 18446744073709551615, \"num_clbits\": 0, \"instructions\": []}".to_string(), "limit of"),
    ];
    for (name, text, needle) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        for args in [
            vec!["info", path],
            vec!["draw", path, "--format", "text"],
            vec!["state", path],
            vec!["run", path, "--shots", "5"],
        ] {
            let out = qloop(&args);
            let err = stderr_line(&out);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains(name) || err.contains(needle),
                "{args:?}: {err}"
            );
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
    let bell = "circuits/bell.qasm";
    for (args, needle) in [
        (
            vec!["expect", bell, "--observable", "1e999*ZZ"],
            "must be finite",
        ),
        (
            vec!["run", bell, "--shots", "100000000000000000"],
            "limit of",
        ),
        (
            vec!["state", bell, "--bind", "theta=1"],
            "no parameter named 'theta'",
        ),
    ] {
        let err = stderr_line(&qloop(&args));
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let doubled = dir.join("doubled.json");
    let json = "{\"num_qubits\": 1, \"num_clbits\": 0, \"instructions\": [{\"op\": \"gate\", \"gate\": {\"rx\": {\"constant\": 0.0, \"terms\": [{\"coeff\": 2.0, \"name\": \"t\", \"kind\": \"weight\"}]}}, \"qubits\": [0]}]}";
    std::fs::write(&doubled, json).unwrap();
    let args = [
        "convert",
        doubled.to_str().unwrap(),
        "--to",
        "qasm",
        "--bind",
        "t=1e308",
    ];
    assert!(stderr_line(&qloop(&args)).contains("angle is inf"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_with_nothing_held_out_reports_training_metrics_and_replaces_the_earlier_model() {
    let dir = std::env::temp_dir().join(format!("qloop-noheld-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("c.toml");
    let out = dir.join("run");
    let write = |fraction: &str| {
        std::fs::write(&cfg, format!("[data]\ndataset = \"moons\"\nsamples = 40\ntest_fraction = {fraction}\n[model]\nqubits = 2\nshots = 0\nhidden = [3]\n[train]\niterations = 20\n")).unwrap();
    };
    let train = || {
        qloop(&[
            "train",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    write("0.0");
    let first = train();
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        text.contains("nothing held out") && text.contains("training set"),
        "{text}"
    );
    assert!(out.join("model.json").exists());
    // A new run that is refused leaves nothing of itself behind; one that fails while
    // preparing removes nothing either; a run that starts replaces the earlier model.
    write("0.999");
    let err = stderr_line(&train());
    assert!(err.contains("no training sample"), "{err}");
    assert!(out.join("model.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

const TFIM4: &str = "-1*Z0*Z1 + -1*Z1*Z2 + -1*Z2*Z3 + -1*X0 + -1*X1 + -1*X2 + -1*X3";

#[test]
fn minimize_reaches_the_tfim_ground_energy_within_its_budget() {
    let v = stdout_json(&qloop(&[
        "minimize",
        "circuits/hea4.json",
        "--observable",
        TFIM4,
        "--optimizer",
        "lbfgs",
        "--max-evals",
        "800",
        "--seed",
        "3",
        "--json",
    ]));
    assert!(
        (v["energy"].as_f64().unwrap() + 4.758770483).abs() < 1e-6,
        "{v}"
    );
    assert!(v["evaluations"].as_u64().unwrap() <= 800);
    assert_eq!(v["params"].as_array().unwrap().len(), 16);
    let spsa = stdout_json(&qloop(&[
        "minimize",
        "circuits/hea4.json",
        "--observable",
        TFIM4,
        "--optimizer",
        "spsa",
        "--max-evals",
        "300",
        "--json",
    ]));
    let used = spsa["evaluations"].as_u64().unwrap();
    assert!(used <= 300 && used > 250, "{spsa}");
    // The default, Rotosolve: 1 + 2 evaluations per step, the whole budget used.
    let roto = stdout_json(&qloop(&[
        "minimize",
        "circuits/hea4.json",
        "--observable",
        TFIM4,
        "--max-evals",
        "651",
        "--seed",
        "3",
        "--json",
    ]));
    assert_eq!(roto["evaluations"].as_u64(), Some(651), "{roto}");
    assert!(roto["optimizer"].as_str().unwrap().starts_with("Rotosolve"));
    assert!(roto["energy"].as_f64().unwrap() < -4.65, "{roto}");
}

#[test]
fn minimize_names_a_bad_start_file() {
    let path = std::env::temp_dir().join(format!("qloop-init-{}.txt", std::process::id()));
    std::fs::write(&path, "0.1 0.2").unwrap();
    let out = qloop(&[
        "minimize",
        "circuits/hea4.json",
        "--observable",
        TFIM4,
        "--init",
        path.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("2 starting values for 16 weights"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    std::fs::remove_file(&path).ok();
    let out = qloop(&["minimize", "circuits/bell.qasm", "--observable", "ZZ"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("has no weights"),
        "{err}"
    );
    std::fs::write(&path, "0 ".repeat(3000)).unwrap();
    let init = path.to_str().unwrap();
    let args = ["minimize", "circuits/hea4.json", "--observable", TFIM4];
    let out = qloop(&[&args[..], &["--init", init]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("6000 bytes for 16 starting values"),
        "{err}"
    );
    std::fs::remove_file(&path).ok();
    let out = qloop(&[&args[..], &["--max-evals", "0"]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--max-evals must lie in"),
        "{err}"
    );
}

#[test]
fn single_precision_commands_agree_with_double_and_refuse_what_they_cannot_run() {
    let expect = |extra: &[&str]| {
        let mut args = vec![
            "expect",
            "circuits/qft4.qasm",
            "--observable",
            "0.5*Z0*Z1 + X2 - Y3*Y0",
            "--json",
        ];
        args.extend_from_slice(extra);
        stdout_json(&qloop(&args))["value"].as_f64().unwrap()
    };
    let (single, double) = (expect(&["--precision", "single"]), expect(&[]));
    assert!((single - double).abs() < 1e-6, "{single} vs {double}");
    let state = |precision: &str| {
        let v = stdout_json(&qloop(&[
            "state",
            "circuits/ghz5.qasm",
            "--precision",
            precision,
        ]));
        v["amplitudes"].as_array().unwrap()[31][0].as_f64().unwrap()
    };
    // The f32 amplitude, written as the double it equals.
    assert_eq!(state("single"), std::f32::consts::FRAC_1_SQRT_2 as f64);
    assert_eq!(state("double"), std::f64::consts::FRAC_1_SQRT_2);
    let counts = stdout_json(&qloop(&[
        "run",
        "circuits/grover3.qasm",
        "--shots",
        "500",
        "--seed",
        "3",
        "--json",
        "--precision",
        "single",
    ]));
    assert_eq!(counts["method"], "statevector");
    let total: u64 = counts["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 500);
    let entropy = stdout_json(&qloop(&[
        "entropy",
        "circuits/ghz5.qasm",
        "--json",
        "--precision",
        "single",
    ]));
    assert!((entropy["entropy"].as_f64().unwrap() - std::f64::consts::LN_2).abs() < 1e-6);
    // Noise, dynamic circuits and other methods: one line naming why.
    for args in [
        &[
            "expect",
            "circuits/bell.qasm",
            "--observable",
            "ZZ",
            "--precision",
            "single",
            "--noise",
            "circuits/noise/depolarizing.toml",
        ][..],
        &[
            "run",
            "circuits/teleport.qasm",
            "--shots",
            "10",
            "--precision",
            "single",
        ],
        &[
            "expect",
            "circuits/bell.qasm",
            "--observable",
            "ZZ",
            "--precision",
            "single",
            "--method",
            "density",
        ],
    ] {
        let out = qloop(args);
        assert!(!out.status.success());
        let line = stderr_line(&out);
        assert!(
            line.contains("single precision") && line.contains("--precision double"),
            "{line}"
        );
    }
    let out = qloop(&["state", "circuits/bell.qasm", "--precision", "half"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'half'"));
}

#[test]
fn state_per_rank_writes_a_manifest_and_one_part_in_one_process() {
    let dir = std::env::temp_dir().join(format!("qloop-parts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("ghz.json");
    let out = qloop(&[
        "state",
        "circuits/ghz5.qasm",
        "--output",
        manifest.to_str().unwrap(),
        "--per-rank",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(m["parts"][0]["file"], "ghz.rank0.json");
    assert_eq!(
        (
            m["parts"][0]["first"].as_u64(),
            m["parts"][0]["count"].as_u64()
        ),
        (Some(0), Some(32))
    );
    let part: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ghz.rank0.json")).unwrap())
            .unwrap();
    let whole = stdout_json(&qloop(&["state", "circuits/ghz5.qasm"]));
    assert_eq!(part["amplitudes"], whole["amplitudes"]);
    let refused = qloop(&["state", "circuits/ghz5.qasm", "--per-rank"]);
    assert!(!refused.status.success());
    std::fs::remove_dir_all(&dir).ok();
}
