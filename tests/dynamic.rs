//! Dynamic circuits (mid-circuit measurement, reset, `if`) and the two noisy executors: the
//! density-matrix executor against the dense reference and the statevector, trajectories
//! against the density matrix within stated statistical bounds, and known results.

mod common;

use common::random_circuit;
use num_complex::Complex64 as C;
use qloop::noise::{
    expectation, sample_counts, Channel, DensityMatrix, DensityProgram, GateError, Method,
    NoiseModel, ReadoutError,
};
use qloop::{Circuit, Error, Gate, Instruction, PauliSum};

fn errors(entries: Vec<(Vec<&str>, Channel)>) -> NoiseModel {
    NoiseModel {
        gate_errors: entries
            .into_iter()
            .map(|(gates, channel)| GateError {
                gates: gates.into_iter().map(String::from).collect(),
                qubits: None,
                channel,
            })
            .collect(),
        ..Default::default()
    }
}

/// A noise model touching every gate with every kind of channel.
fn rich_model() -> NoiseModel {
    let one: Vec<&str> = Gate::all()
        .iter()
        .filter(|g| g.num_qubits() == 1)
        .map(Gate::name)
        .collect();
    let two: Vec<&str> = Gate::all()
        .iter()
        .filter(|g| g.num_qubits() == 2)
        .map(Gate::name)
        .collect();
    let s = 0.3f64.sqrt();
    let kraus2 = {
        // A two-qubit Kraus set: √0.7·I and √0.3·(X⊗Z).
        let mut a = vec![C::new(0.0, 0.0); 16];
        let mut b = vec![C::new(0.0, 0.0); 16];
        for i in 0..4 {
            a[i * 4 + i] = C::new(0.7f64.sqrt(), 0.0);
            let j = i ^ 1; // X on operand 0
            let sign = if i & 2 != 0 { -1.0 } else { 1.0 }; // Z on operand 1
            b[j * 4 + i] = C::new(s * sign, 0.0);
        }
        Channel::Kraus {
            qubits: 2,
            operators: vec![a, b],
        }
    };
    errors(vec![
        (one.clone(), Channel::AmplitudeDamping { gamma: 0.05 }),
        (
            one,
            Channel::Pauli {
                px: 0.01,
                py: 0.02,
                pz: 0.03,
            },
        ),
        (two.clone(), Channel::Depolarizing { qubits: 2, p: 0.04 }),
        (two, kraus2),
        (
            vec!["ccx", "cswap"],
            Channel::Depolarizing { qubits: 3, p: 0.05 },
        ),
        (
            vec!["h"],
            Channel::ThermalRelaxation {
                t1: 40.0,
                t2: 30.0,
                time: 2.0,
            },
        ),
        (vec!["sx"], Channel::PhaseDamping { lambda: 0.1 }),
    ])
}

fn max_diff(a: &DensityMatrix, b: &DensityMatrix) -> f64 {
    a.entries()
        .iter()
        .zip(b.entries())
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

#[test]
fn a_noiseless_density_run_is_the_projector_on_the_statevector() {
    for seed in 0..6 {
        let c = random_circuit(5, 60, seed);
        let psi = c.compile().unwrap().statevector(&[], &[]).unwrap();
        let rho = DensityProgram::new(&c, None)
            .unwrap()
            .run()
            .unwrap()
            .state();
        let want = DensityMatrix::from_pure(&psi).unwrap();
        let d = max_diff(&rho, &want);
        assert!(d < 1e-12, "seed {seed}: |Δρ| = {d:e}");
    }
}

/// The executor's final state and the dense reference's, for one circuit and model.
fn executor_and_reference(c: &Circuit, model: &NoiseModel) -> (DensityMatrix, DensityMatrix) {
    let fast = DensityProgram::new(c, Some(model))
        .unwrap()
        .run()
        .unwrap()
        .state();
    let mut slow = DensityMatrix::zero(c.num_qubits()).unwrap();
    slow.apply_noisy_circuit(c, model).unwrap();
    (fast, slow)
}

#[test]
fn the_density_executor_matches_the_dense_reference_under_every_channel_kind() {
    let model = rich_model();
    for seed in 0..4 {
        let c = random_circuit(4, 40, 100 + seed);
        let (fast, slow) = executor_and_reference(&c, &model);
        let d = max_diff(&fast, &slow);
        assert!(d < 1e-12, "seed {seed}: |Δρ| = {d:e}");
        assert!((fast.trace() - 1.0).abs() < 1e-12);
        assert!(fast.purity() < 1.0 - 1e-3, "the noise mixes the state");
    }
}

#[test]
fn the_cache_blocked_density_executor_matches_the_dense_reference() {
    // 9 qubits: ρ is an 18-bit vector, above the block size, so the channel kernels run
    // remapped inside cache blocks. (Without the three-qubit channel, slow in the reference.)
    let mut model = rich_model();
    model.gate_errors.retain(|e| e.channel.num_qubits() < 3);
    let (fast, slow) = executor_and_reference(&random_circuit(9, 24, 77), &model);
    let d = max_diff(&fast, &slow);
    assert!(d < 1e-12, "|Δρ| = {d:e}");
}

/// Total-variation distance between counts and a distribution.
fn total_variation(counts: &qloop::Counts, dist: &std::collections::BTreeMap<String, f64>) -> f64 {
    let mut keys: std::collections::BTreeSet<&String> = counts.counts.keys().collect();
    keys.extend(dist.keys());
    keys.into_iter()
        .map(|k| {
            let f = *counts.counts.get(k).unwrap_or(&0) as f64 / counts.shots as f64;
            (f - dist.get(k).copied().unwrap_or(0.0)).abs()
        })
        .sum::<f64>()
        / 2.0
}

/// A dynamic, noisy circuit: syndrome-style mid-circuit measurements with reset and
/// conditioned corrections.
fn syndrome_rounds(rounds: usize) -> Circuit {
    let mut c = Circuit::new(4)
        .creg("s", 2)
        .creg("d", 3)
        .h(0)
        .cx(0, 1)
        .ry(0.9, 2);
    for _ in 0..rounds {
        c = c
            .cx(0, 3)
            .cx(1, 3)
            .measure(3, 0)
            .reset(3)
            .cx(1, 3)
            .cx(2, 3)
            .measure(3, 1)
            .reset(3)
            .c_if(0..2, 1, |b| b.x(0))
            .c_if(0..2, 3, |b| b.x(1))
            .c_if(0..2, 2, |b| b.x(2));
    }
    c.measure(0, 2).measure(1, 3).measure(2, 4)
}

#[test]
fn trajectories_sample_the_density_distribution_within_the_statistical_bound() {
    let mut model = rich_model();
    model.readout = Some(ReadoutError::new(0.03, 0.08).unwrap());
    let c = syndrome_rounds(2);
    let exact = DensityProgram::new(&c, Some(&model))
        .unwrap()
        .run()
        .unwrap()
        .distribution();
    assert!((exact.values().sum::<f64>() - 1.0).abs() < 1e-12);
    let shots = 20_000;
    let (counts, method) =
        sample_counts(&c, Some(&model), Method::Trajectories, shots, 11).unwrap();
    assert_eq!(method, Method::Trajectories);
    assert_eq!(counts.counts.values().sum::<usize>(), shots);
    // E[TV] ≤ ½ Σ √(p(1−p)/N) ≤ ½ √(K/N) for K outcomes; allow three times that.
    let bound = 1.5 * (exact.len() as f64 / shots as f64).sqrt();
    let tv = total_variation(&counts, &exact);
    assert!(tv < bound, "TV {tv} ≥ {bound}");
    // The density method's own samples obey the same bound.
    let (dm_counts, _) = sample_counts(&c, Some(&model), Method::Density, shots, 12).unwrap();
    assert!(total_variation(&dm_counts, &exact) < bound);
}

#[test]
fn trajectory_expectations_agree_with_the_exact_noisy_value_within_four_standard_errors() {
    let model = rich_model();
    let h: PauliSum = "0.7*Z0*Z1 + 0.4*X2 - 0.3*Y0*X1*Z2 + 0.2*Z3"
        .parse()
        .unwrap();
    for seed in 0..3 {
        let c = random_circuit(4, 30, 200 + seed);
        let exact = expectation(&c, Some(&model), &h, Method::Density, None, 0).unwrap();
        assert_eq!(exact.stderr, None);
        let est =
            expectation(&c, Some(&model), &h, Method::Trajectories, Some(4000), seed).unwrap();
        let se = est.stderr.unwrap();
        assert!(se > 0.0);
        assert!(
            (est.value - exact.value).abs() < 4.0 * se,
            "seed {seed}: {} vs {} (se {se})",
            est.value,
            exact.value
        );
    }
}

#[test]
fn trajectories_are_bit_identical_at_any_thread_count() {
    let mut model = rich_model();
    model.readout = Some(ReadoutError::new(0.02, 0.05).unwrap());
    let c = syndrome_rounds(3);
    let h: PauliSum = "Z0*Z1 + 0.5*X2".parse().unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (counts, _) =
                sample_counts(&c, Some(&model), Method::Trajectories, 3000, 5).unwrap();
            let e = expectation(&c, Some(&model), &h, Method::Trajectories, Some(3000), 5).unwrap();
            (counts, e.value.to_bits(), e.stderr.unwrap().to_bits())
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
}

#[test]
fn teleportation_with_mid_circuit_measurement_and_if_reproduces_the_state() {
    // Teleport RY(θ)RZ(φ)|0⟩ from qubit 0 to qubit 2, then undo the preparation there: qubit 2
    // must read 0 every time, and without the undo it reads 1 with probability sin²(θ/2).
    let (theta, phi) = (1.1, 0.4);
    let teleport = |undo: bool| {
        let c = Circuit::new(3)
            .creg("m", 2)
            .creg("out", 1)
            .ry(theta, 0)
            .rz(phi, 0)
            .h(1)
            .cx(1, 2)
            .cx(0, 1)
            .h(0)
            .measure(0, 0)
            .measure(1, 1)
            .c_if([1], 1, |b| b.x(2))
            .c_if([0], 1, |b| b.z(2));
        if undo {
            c.rz(-phi, 2).ry(-theta, 2).measure(2, 2)
        } else {
            c.measure(2, 2)
        }
    };
    for method in [Method::Density, Method::Trajectories] {
        let (counts, _) = sample_counts(&teleport(true), None, method, 2000, 3).unwrap();
        assert!(
            counts.counts.keys().all(|k| k.starts_with('0')),
            "{method}: {counts:?}"
        );
        // All four Bell outcomes occur, equally likely.
        assert_eq!(counts.counts.len(), 4, "{method}");
    }
    let dist = DensityProgram::new(&teleport(false), None)
        .unwrap()
        .run()
        .unwrap()
        .distribution();
    let p_one: f64 = dist
        .iter()
        .filter(|(k, _)| k.starts_with('1'))
        .map(|(_, p)| p)
        .sum();
    assert!((p_one - (theta / 2.0).sin().powi(2)).abs() < 1e-12);
}

#[test]
fn reset_returns_zero_from_any_state() {
    for seed in 0..4 {
        let c = random_circuit(3, 20, 300 + seed).reset(1);
        let out = DensityProgram::new(&c, None).unwrap().run().unwrap();
        let rho = out.state();
        let z1: PauliSum = "Z1".parse().unwrap();
        assert!((rho.expectation(&z1).unwrap() - 1.0).abs() < 1e-12);
        assert!((rho.trace() - 1.0).abs() < 1e-12);
        let (counts, _) =
            sample_counts(&c.measure_all(), None, Method::Trajectories, 500, seed).unwrap();
        assert!(counts.counts.keys().all(|k| &k[1..2] == "0"), "{counts:?}");
    }
}

#[test]
fn readout_error_flips_counts_at_the_stated_rates() {
    let model = NoiseModel {
        gate_errors: Vec::new(),
        readout: Some(ReadoutError::new(0.1, 0.25).unwrap()),
        ..Default::default()
    };
    // Qubit 0 is 0, qubit 1 is 1; both measured at the end, then qubit 1 mid-circuit too.
    let c = Circuit::new(2)
        .x(1)
        .measure(1, 2)
        .measure(0, 0)
        .measure(1, 1);
    let dist = DensityProgram::new(&c, Some(&model))
        .unwrap()
        .run()
        .unwrap()
        .distribution();
    let p = |bit: usize, value: char| -> f64 {
        dist.iter()
            .filter(|(k, _)| k.as_bytes()[2 - bit] as char == value)
            .map(|(_, p)| p)
            .sum()
    };
    assert!((p(0, '1') - 0.1).abs() < 1e-12);
    assert!((p(1, '0') - 0.25).abs() < 1e-12);
    assert!((p(2, '0') - 0.25).abs() < 1e-12);
    let shots = 40_000;
    let (counts, _) = sample_counts(&c, Some(&model), Method::Trajectories, shots, 9).unwrap();
    let f = |bit: usize, value: char| -> f64 {
        counts
            .counts
            .iter()
            .filter(|(k, _)| k.as_bytes()[2 - bit] as char == value)
            .map(|(_, &c)| c as f64)
            .sum::<f64>()
            / shots as f64
    };
    for (bit, value, want) in [(0, '1', 0.1), (1, '0', 0.25), (2, '0', 0.25)] {
        let sigma = (want * (1.0 - want) / shots as f64).sqrt();
        assert!((f(bit, value) - want).abs() < 5.0 * sigma, "bit {bit}");
    }
}

#[test]
fn t1_decay_of_the_excited_state_and_depolarized_bell_fidelity() {
    let (t1, step) = (30.0, 4.0);
    let model = errors(vec![(
        vec!["id"],
        Channel::ThermalRelaxation {
            t1,
            t2: 2.0 * t1,
            time: step,
        },
    )]);
    let z: PauliSum = "Z0".parse().unwrap();
    for k in [1usize, 5, 12] {
        let mut c = Circuit::new(1).x(0);
        for _ in 0..k {
            c = c.id(0);
        }
        let e = expectation(&c, Some(&model), &z, Method::Density, None, 0).unwrap();
        let excited = (1.0 - e.value) / 2.0;
        let want = (-(k as f64) * step / t1).exp();
        assert!(
            (excited - want).abs() < 1e-12,
            "{k} steps: {excited} vs {want}"
        );
    }
    let p = 0.12;
    let model = errors(vec![(vec!["cx"], Channel::Depolarizing { qubits: 2, p })]);
    let bell = Circuit::new(2).h(0).cx(0, 1);
    let psi = bell.compile().unwrap().statevector(&[], &[]).unwrap();
    let rho = DensityProgram::new(&bell, Some(&model))
        .unwrap()
        .run()
        .unwrap()
        .state();
    let f = rho.fidelity_with_pure(&psi).unwrap();
    assert!((f - (1.0 - p + p / 4.0)).abs() < 1e-12);
}

#[test]
fn dynamic_circuits_round_trip_through_qasm_and_json() {
    let c = syndrome_rounds(2);
    let text = qloop::qasm::export(&c).unwrap();
    assert!(text.contains("if(s==3) x q[1];"), "{text}");
    assert!(text.contains("reset q[3];"));
    assert!(text.contains("measure q[3] -> s[0];"));
    assert_eq!(qloop::qasm::parse(&text, None).unwrap(), c);
    assert_eq!(Circuit::from_json(&c.to_json()).unwrap(), c);
    let source = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[1];\ncreg d[2];\n\
                  h q[0];\nmeasure q[0] -> c[0];\nif(c==1) x q[1];\nreset q;\nif(d==2) measure q[1] -> d[0];\n";
    let parsed = qloop::qasm::parse(source, None).unwrap();
    assert!(
        matches!(&parsed[2], Instruction::Conditional { condition, .. }
        if condition.clbits == vec![0] && condition.value == 1)
    );
    assert_eq!(parsed.gate_counts()["reset"], 2);
    assert_eq!(
        qloop::qasm::parse(&qloop::qasm::export(&parsed).unwrap(), None).unwrap(),
        parsed
    );
}

#[test]
fn bad_dynamic_input_is_refused_with_its_position() {
    let cases = [
        (
            "qreg q[1];\ncreg c[1];\nif(c==2) x q[0];",
            3,
            7,
            "does not fit",
        ),
        (
            "qreg q[1];\ncreg c[1];\nif(q==1) x q[0];",
            3,
            4,
            "not a declared classical register",
        ),
        (
            "qreg q[1];\ncreg c[1];\nif(c==1) barrier q;",
            3,
            10,
            "cannot be conditioned",
        ),
        (
            "qreg q[1];\nreset r;",
            2,
            7,
            "not a declared quantum register",
        ),
    ];
    for (body, line, column, message) in cases {
        let err = qloop::qasm::parse(&format!("OPENQASM 2.0;\n{body}"), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(message), "{body}: {text}");
        assert!(
            text.contains(&format!("{}:{column}", line + 1)),
            "{body}: {text}"
        );
    }
    // A unitary program refuses a dynamic circuit, pointing to run and expect.
    let err = Circuit::new(1).measure(0, 0).h(0).compile().unwrap_err();
    assert!(
        matches!(err, Error::Dynamic { instruction: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("qloop run"));
    // Conditions out of range, too wide a value, nested conditions.
    let bad = Circuit::new(1).c_if([3], 1, |b| b.x(0));
    assert!(matches!(bad.validate(), Err(Error::BadCondition { .. })));
    let bad = Circuit::with_clbits(1, 1).c_if([0], 2, |b| b.x(0));
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("does not fit"));
    // The statevector method refuses noise and dynamic circuits by name.
    let model = errors(vec![(vec!["x"], Channel::AmplitudeDamping { gamma: 0.1 })]);
    let err = sample_counts(
        &Circuit::new(1).x(0),
        Some(&model),
        Method::Statevector,
        10,
        0,
    )
    .unwrap_err();
    assert!(err.to_string().contains("method statevector"), "{err}");
    // Trajectory estimates need shots.
    let z: PauliSum = "Z".parse().unwrap();
    let err = expectation(
        &Circuit::new(1).x(0),
        Some(&model),
        &z,
        Method::Trajectories,
        None,
        0,
    )
    .unwrap_err();
    assert!(matches!(err, Error::TooFewShots { .. }), "{err}");
}

#[test]
fn auto_picks_statevector_density_or_trajectories_and_says_which() {
    let model = errors(vec![(
        vec!["h"],
        Channel::Depolarizing { qubits: 1, p: 0.1 },
    )]);
    let unitary = Circuit::new(2).h(0).cx(0, 1).measure_all();
    let pick =
        |c: &Circuit, m: Option<&NoiseModel>| sample_counts(c, m, Method::Auto, 10, 0).unwrap().1;
    assert_eq!(pick(&unitary, None), Method::Statevector);
    assert_eq!(pick(&unitary, Some(&model)), Method::Density);
    assert_eq!(pick(&syndrome_rounds(1), None), Method::Trajectories);
    let wide = Circuit::new(12).h(0);
    assert_eq!(pick(&wide, Some(&model)), Method::Trajectories);
}

#[test]
fn a_hybrid_model_under_noise_reads_the_noisy_state() {
    use qloop::train::{ansatz, HybridModel, Network, Readout, ReadoutSpec, Stream};
    let circuit = ansatz::reuploading(3, 2, 2);
    let model = HybridModel::new(
        circuit.clone(),
        ReadoutSpec::exact(Readout::ExpectationZ),
        Network::identity(),
    )
    .unwrap();
    let params = model.init_params(Stream::new(4));
    let x = ndarray::array![[0.3, 1.2], [2.0, -0.4]];
    let clean = model.features(&params, x.view(), Stream::new(0)).unwrap();
    // An empty model changes nothing (to rounding), through the density path.
    let empty = model.clone().with_noise(NoiseModel::default()).unwrap();
    let same = empty.features(&params, x.view(), Stream::new(0)).unwrap();
    assert!(clean.iter().zip(&same).all(|(a, b)| (a - b).abs() < 1e-12));
    // Complete depolarization after every gate leaves ⟨Z⟩ = 0; readout error then shifts it to
    // P(0|1) − P(1|0) (Z = 1 − 2·P(read 1)).
    let all: Vec<&str> = Gate::all().iter().map(Gate::name).collect();
    let mut full = errors(vec![(all, Channel::Depolarizing { qubits: 1, p: 1.0 })]);
    full.readout = Some(ReadoutError::new(0.1, 0.3).unwrap());
    let noisy = model.clone().with_noise(full).unwrap();
    let z = noisy.features(&params, x.view(), Stream::new(0)).unwrap();
    assert!(z.iter().all(|v| (v - (0.3 - 0.1)).abs() < 1e-12), "{z:?}");
    // An observable readout with shots is refused under noise.
    let h: PauliSum = "Z0".parse().unwrap();
    let sampled = HybridModel::new(
        circuit,
        ReadoutSpec::sampled(Readout::Observables(vec![h]), 100),
        Network::identity(),
    )
    .unwrap();
    assert!(sampled.with_noise(NoiseModel::default()).is_err());
}

#[test]
fn a_training_configuration_names_its_noise_file() {
    use qloop::train::experiment::{Experiment, TrainConfig};
    let dir = std::env::temp_dir().join(format!("qloop-noise-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("noise.toml"),
        "[[gate_error]]\ngates = [\"cx\"]\nchannel = \"depolarizing\"\nnum_qubits = 2\np = 0.05\n",
    )
    .unwrap();
    let config = "seed = 3\nnoise = \"noise.toml\"\n[data]\ndataset = \"moons\"\nsamples = 40\n\
                  [model]\nqubits = 2\nlayers = 1\n[train]\niterations = 3\n";
    std::fs::write(dir.join("run.toml"), config).unwrap();
    let cfg = TrainConfig::load(&dir.join("run.toml")).unwrap();
    let exp = Experiment::new(cfg).unwrap();
    assert!(exp.task.model().noise().is_some());
    let out = exp.train(None, false, vec![]).unwrap();
    assert_eq!(out.iterations, 3);
    // A bad noise file is named with its key.
    std::fs::write(
        dir.join("noise.toml"),
        "[[gate_error]]\ngates = [\"cx\"]\nchannel = \"depolarizing\"\nnum_qubits = 2\np = 1.5\n",
    )
    .unwrap();
    let err = TrainConfig::load(&dir.join("run.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("noise.toml") && err.contains("gate_error[0].p"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(feature = "cli")]
#[test]
fn per_qubit_readout_errors_replace_the_common_one_on_their_qubits() {
    let path = std::path::Path::new("readout.toml");
    let model = NoiseModel::parse_toml(
        "[readout_error]\np1_given_0 = 0.1\np0_given_1 = 0.2\n\
         [[readout_error.qubit]]\nqubit = 1\np1_given_0 = 0.3\np0_given_1 = 0.0\n",
        path,
    )
    .unwrap();
    assert_eq!(
        model.readout_of(0),
        Some(ReadoutError::new(0.1, 0.2).unwrap())
    );
    assert_eq!(
        model.readout_of(1),
        Some(ReadoutError::new(0.3, 0.0).unwrap())
    );
    // Both qubits read 0: bit 0 flips with 0.1, bit 1 with 0.3, mid-circuit as at the end.
    let c = Circuit::new(2)
        .measure(1, 2)
        .h(1)
        .h(1)
        .measure(0, 0)
        .measure(1, 1);
    let dist = DensityProgram::new(&c, Some(&model))
        .unwrap()
        .run()
        .unwrap()
        .distribution();
    let p = |bit: usize| -> f64 {
        dist.iter()
            .filter(|(k, _)| k.as_bytes()[2 - bit] == b'1')
            .map(|(_, p)| p)
            .sum()
    };
    assert!((p(0) - 0.1).abs() < 1e-12 && (p(1) - 0.3).abs() < 1e-12 && (p(2) - 0.3).abs() < 1e-12);
    let (counts, _) = sample_counts(&c, Some(&model), Method::Trajectories, 40_000, 1).unwrap();
    let f = |bit: usize| -> f64 {
        counts
            .counts
            .iter()
            .filter(|(k, _)| k.as_bytes()[2 - bit] == b'1')
            .map(|(_, &n)| n as f64)
            .sum::<f64>()
            / 40_000.0
    };
    for (bit, want) in [(0, 0.1), (1, 0.3), (2, 0.3)] {
        assert!(
            (f(bit) - want).abs() < 5.0 * (want * (1.0 - want) / 40_000.0f64).sqrt(),
            "bit {bit}"
        );
    }
    for (text, key) in [
        ("[readout_error]\np1_given_0 = 0.1\n", "readout_error.p0_given_1"),
        ("[[readout_error.qubit]]\nqubit = 0\np1_given_0 = 2.0\np0_given_1 = 0.0\n", "readout_error.qubit[0].p1_given_0"),
        ("[[readout_error.qubit]]\nqubit = 0\np1_given_0 = 0.0\np0_given_1 = 0.0\n[[readout_error.qubit]]\nqubit = 0\np1_given_0 = 0.0\np0_given_1 = 0.0\n", "readout_error.qubit[1].qubit"),
    ] {
        let err = NoiseModel::parse_toml(text, path).unwrap_err().to_string();
        assert!(err.contains(key) && err.starts_with("readout.toml"), "{err}");
    }
}
