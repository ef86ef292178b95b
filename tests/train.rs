//! Training: SPSA convergence, gradient estimates, reproducibility at any thread count,
//! checkpoint + resume, the parameter layout, and small end-to-end runs.

use argmin::core::checkpointing::CheckpointingFrequency;
use argmin::core::observers::Observe;
use argmin::core::{State, KV};
use qloop::train::experiment::{Experiment, TrainConfig};
use qloop::train::spsa::gradient_estimate;
use qloop::train::{
    ansatz, optimize, Activation, AtomicCheckpoint, Bounds, CostFunction, Energy, HybridModel,
    Network, Objective, Optimizer, Probe, Readout, ReadoutSpec, RecurrentModel, RunOptions, Spsa,
    SpsaState, StepSize, Stream,
};
use qloop::{Circuit, Error, Param, PauliSum};
use std::f64::consts::FRAC_PI_2;

/// `L(x) = Σ w_i (x_i − m_i)²`, optionally with additive Gaussian-free uniform noise from the stream.
struct Quadratic {
    weights: Vec<f64>,
    minimum: Vec<f64>,
    noise: f64,
}

impl Objective for Quadratic {
    fn num_params(&self) -> usize {
        self.minimum.len()
    }
}

impl CostFunction for Quadratic {
    type Param = Probe;
    type Output = f64;
    fn cost(&self, probe: &Probe) -> Result<f64, argmin::core::Error> {
        use rand::Rng;
        let (p, stream) = (&probe.params, probe.stream);
        let value: f64 = p
            .iter()
            .zip(&self.minimum)
            .zip(&self.weights)
            .map(|((x, m), w)| w * (x - m).powi(2))
            .sum();
        let noise = if self.noise > 0.0 {
            self.noise * (stream.rng().random::<f64>() - 0.5)
        } else {
            0.0
        };
        Ok(value + noise)
    }
}

fn quadratic(noise: f64) -> Quadratic {
    Quadratic {
        weights: vec![1.0, 2.0, 0.5, 3.0, 1.5],
        minimum: vec![0.3, -1.2, 2.0, 0.0, -0.7],
        noise,
    }
}

fn run(
    objective: impl Objective,
    solver: Spsa,
    init: Vec<f64>,
    iters: u64,
) -> qloop::train::Outcome<Spsa> {
    let options = RunOptions {
        max_iters: iters,
        ..Default::default()
    };
    optimize(objective, solver, init, options, vec![]).unwrap()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn spsa_converges_on_a_quadratic() {
    let q = quadratic(0.0);
    let minimum = q.minimum.clone();
    let out = run(q, Spsa::new(1), vec![0.0; 5], 500);
    let err = distance(&out.params, &minimum);
    assert!(err < 1e-2, "distance to the optimum {err} (start: 2.5)");
    assert_eq!(out.iterations, 500);
    // 2 resamplings × 2 + 2 blocking evaluations per iteration, plus calibration.
    assert!(out.evaluations >= 6 * 500);
}

#[test]
fn spsa_converges_with_noise_and_averaging() {
    let q = quadratic(0.01);
    let minimum = q.minimum.clone();
    let out = run(q, Spsa::new(3).averaging(400), vec![1.0; 5], 800);
    let err = distance(&out.params, &minimum);
    assert!(err < 0.05, "distance to the optimum {err}");
}

#[test]
fn spsa_gradient_agrees_with_parameter_shift() {
    // A 3-qubit ansatz with 6 angles; the energy gradient by the parameter-shift rule is exact.
    let circuit = ansatz::ry_cx(3, 1);
    let h: PauliSum = "0.7*Z0*Z1 - 0.4*X2 + 0.3*X0*Z2".parse().unwrap();
    let energy = Energy::new(&circuit, h, None).unwrap();
    let theta = [0.3, -0.8, 1.1, 0.2, 2.0, -1.4];
    let exact: Vec<f64> = (0..6)
        .map(|i| {
            let mut p = theta;
            p[i] += FRAC_PI_2;
            let plus = energy.exact(&p).unwrap();
            p[i] -= 2.0 * FRAC_PI_2;
            0.5 * (plus - energy.exact(&p).unwrap())
        })
        .collect();
    let samples = 4000;
    let c = [1e-3; 6];
    let mut mean = [0.0; 6];
    for s in 0..samples {
        let g = gradient_estimate(&energy, &theta, &c, Stream::new(11).child(s)).unwrap();
        mean.iter_mut()
            .zip(&g)
            .for_each(|(m, g)| *m += g / samples as f64);
    }
    // ĝ_i = g_i + Σ_{j≠i} g_j Δ_j/Δ_i + O(c²): the mean of M estimates has standard deviation
    // √(Σ_{j≠i} g_j² / M).
    let total: f64 = exact.iter().map(|g| g * g).sum();
    for i in 0..6 {
        let sd = ((total - exact[i] * exact[i]) / samples as f64).sqrt();
        assert!(
            (mean[i] - exact[i]).abs() < 5.0 * sd + 1e-5,
            "component {i}: {} vs {} (sd {sd})",
            mean[i],
            exact[i]
        );
    }
}

fn small_hybrid(shots: Option<usize>) -> (HybridModel, ndarray::Array2<f64>, ndarray::Array2<f64>) {
    let circuit = ansatz::reuploading(2, 2, 2);
    let readout = ReadoutSpec {
        readout: Readout::ExpectationZ,
        shots,
    };
    let net = Network::dense(&[2, 3, 1], Activation::Tanh, Activation::Sigmoid).unwrap();
    let model = HybridModel::new(circuit, readout, net).unwrap();
    let data = qloop::train::Dataset::two_moons(40, 0.1, 5);
    let scaler = qloop::train::Scaler::fit(&data.features, (0.0, std::f64::consts::PI));
    let x = scaler.transform(&data.features).unwrap();
    let y = ndarray::Array2::from_shape_fn((40, 1), |(i, _)| data.labels[i] as f64);
    (model, x, y)
}

fn supervised(shots: Option<usize>, batch: Option<usize>) -> (qloop::train::Supervised, Vec<f64>) {
    let (model, x, y) = small_hybrid(shots);
    let init = model.init_params(Stream::new(2));
    let obj =
        qloop::train::Supervised::new(model, x, y, qloop::train::Loss::BinaryCrossEntropy, batch)
            .unwrap();
    (obj, init)
}

fn two_block_solver(obj: &qloop::train::Supervised) -> Spsa {
    let layout = obj.model.layout();
    Spsa::new(9)
        .block(
            layout.circuit.clone(),
            StepSize::Calibrated(0.3),
            0.2,
            Bounds::Periodic { lo: -3.2, hi: 3.2 },
        )
        .block(
            layout.network.clone(),
            StepSize::Calibrated(0.3),
            0.2,
            Bounds::Clip { lo: -5.0, hi: 5.0 },
        )
        .averaging(20)
}

#[test]
fn seeded_runs_are_bit_identical_at_one_and_two_threads() {
    let (obj, init) = supervised(Some(100), Some(8));
    let solver = two_block_solver(&obj);
    let go = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(obj.clone(), solver.clone(), init.clone(), 30))
    };
    let (one, two) = (go(1), go(2));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.params), bits(&two.params));
    assert_eq!(bits(one.solver.history()), bits(two.solver.history()));
    assert_ne!(one.params, init);
}

/// Fails the run at a given iteration, as a crash would.
struct CrashAt(u64);

impl Observe<SpsaState> for CrashAt {
    fn observe_iter(&mut self, state: &SpsaState, _: &KV) -> Result<(), argmin::core::Error> {
        if state.get_iter() == self.0 {
            return Err(argmin::core::ArgminError::InvalidParameter {
                text: "simulated crash".into(),
            }
            .into());
        }
        Ok(())
    }
}

#[test]
fn checkpoint_and_resume_equal_an_uninterrupted_run() {
    let (obj, init) = supervised(Some(50), Some(6));
    let solver = two_block_solver(&obj);
    let full = run(obj.clone(), solver.clone(), init.clone(), 40);

    let dir = std::env::temp_dir().join(format!("qloop-ckpt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut checkpoint = AtomicCheckpoint::new(dir.join("run.bin"));
    checkpoint.frequency = CheckpointingFrequency::Every(7);
    let options = RunOptions {
        max_iters: 40,
        checkpoint: Some(checkpoint),
        ..Default::default()
    };
    let crashed = optimize(
        obj.clone(),
        solver.clone(),
        init.clone(),
        options.clone(),
        vec![Box::new(CrashAt(25))],
    );
    assert!(crashed.unwrap_err().to_string().contains("simulated crash"));
    // Resume from the last checkpoint (iteration 21); `init` is ignored.
    let resumed = optimize(obj, solver, vec![0.0; init.len()], options, vec![]).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(resumed.iterations, 40);
    assert_eq!(bits(&resumed.params), bits(&full.params));
    assert_eq!(bits(resumed.solver.history()), bits(full.solver.history()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_layout_rejects_wrong_lengths() {
    let (model, x, _) = small_hybrid(None);
    let layout = model.layout();
    assert_eq!(layout.circuit, 0..4);
    assert_eq!(layout.network, 4..4 + 3 * 3 + 4);
    let params = vec![0.1; layout.len() + 1];
    let err = model
        .forward(&params, x.view(), Stream::new(0))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ModelParameterLength {
                expected: 17,
                got: 18,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "model parameter vector has 18 values, but the layout [circuit angles 0..4 | dense weights and biases 4..17] needs 17"
    );
    let err = model
        .forward(&params[..17], x.slice(ndarray::s![.., ..1]), Stream::new(0))
        .unwrap_err();
    assert!(
        err.to_string().contains("each sample has 1 features"),
        "{err}"
    );
}

#[test]
fn hybrid_forward_matches_the_simulator_and_dense_stack() {
    let (model, x, _) = small_hybrid(None);
    let params = model.init_params(Stream::new(4));
    let y = model
        .forward(&params, x.slice(ndarray::s![..3, ..]), Stream::new(0))
        .unwrap();
    for i in 0..3 {
        let psi = model.state(&params, x.row(i).as_slice().unwrap()).unwrap();
        let z: Vec<f64> = (0..2).map(|q| psi.expectation_z(q).unwrap()).collect();
        let z = ndarray::Array2::from_shape_vec((1, 2), z).unwrap();
        let expected = model.network().forward(&params[4..], z.view()).unwrap();
        assert!((expected[[0, 0]] - y[[i, 0]]).abs() < 1e-14);
    }
}

#[test]
fn shot_noise_is_seeded_and_shrinks_with_shots() {
    let (model, x, _) = small_hybrid(Some(64));
    let params = model.init_params(Stream::new(4));
    let a = model.features(&params, x.view(), Stream::new(1)).unwrap();
    assert_eq!(
        a,
        model.features(&params, x.view(), Stream::new(1)).unwrap()
    );
    assert_ne!(
        a,
        model.features(&params, x.view(), Stream::new(2)).unwrap()
    );
    let (exact, _, _) = small_hybrid(None);
    let e = exact.features(&params, x.view(), Stream::new(0)).unwrap();
    let err = |m: &ndarray::Array2<f64>| (m - &e).mapv(|v| v * v).mean().unwrap().sqrt();
    let (big, _, _) = small_hybrid(Some(100_000));
    let fine = big.features(&params, x.view(), Stream::new(1)).unwrap();
    assert!(
        err(&fine) < 0.01 && err(&a) > 3.0 * err(&fine),
        "{} {}",
        err(&a),
        err(&fine)
    );
}

#[test]
fn recurrent_cell_feeds_outputs_into_the_next_step() {
    // Cell inputs: x0 (data) and h0 (fed back); output h (one value, tanh).
    let circuit = Circuit::new(2)
        .ry(Param::input("x0"), 0)
        .ry(Param::input("h0"), 1)
        .cx(0, 1)
        .ry(Param::weight("t0"), 1);
    let net = Network::dense(&[2, 1], Activation::Tanh, Activation::Tanh).unwrap();
    let cell = HybridModel::new(circuit, ReadoutSpec::exact(Readout::ExpectationZ), net).unwrap();
    let model = RecurrentModel::new(cell.clone(), 1).unwrap();
    let params = [0.4, 0.9, -0.3, 0.1];
    let seq = ndarray::array![[0.5], [1.0], [-0.2]];
    let h = model
        .forward(&params, std::slice::from_ref(&seq), Stream::new(0))
        .unwrap();
    // Unroll by hand.
    let mut hidden = 0.0;
    for t in 0..3 {
        let x = ndarray::array![[seq[[t, 0]], hidden]];
        hidden = cell.forward(&params, x.view(), Stream::new(0)).unwrap()[[0, 0]];
    }
    assert_eq!(h[[0, 0]], hidden);
    // The first input still matters at the end: the output is fed back.
    let other = ndarray::array![[2.5], [1.0], [-0.2]];
    let h2 = model.forward(&params, &[other], Stream::new(0)).unwrap();
    assert!((h2[[0, 0]] - hidden).abs() > 1e-3);
    assert!(RecurrentModel::new(cell, 2).is_err());
}

#[test]
fn seed_design_is_insensitive_to_its_angles_and_the_basis_change_fixes_it() {
    let probe = |circuit: Circuit| -> f64 {
        let program = circuit.compile().unwrap();
        let n = program.layout().weights.len();
        let base: Vec<f64> = (0..n).map(|i| 0.3 + 0.2 * i as f64).collect();
        let p0 = program.statevector(&base, &[]).unwrap().probabilities();
        (0..n)
            .map(|i| {
                let mut t = base.clone();
                t[i] += 0.5;
                let p = program.statevector(&t, &[]).unwrap().probabilities();
                p.iter().zip(&p0).map(|(a, b)| (a - b).abs()).sum::<f64>()
            })
            .fold(0.0, f64::max)
    };
    assert!(probe(ansatz::seed_design(4)) < 1e-12);
    let mut fixed = ansatz::seed_design(4);
    for q in 0..4 {
        fixed = fixed.h(q);
    }
    assert!(probe(fixed) > 0.1);
}

#[test]
fn default_training_run_learns_iris() {
    let mut cfg = TrainConfig::default();
    cfg.train.iterations = 150;
    let exp = Experiment::new(cfg).unwrap();
    let out = exp.train(None, false, vec![]).unwrap();
    let metrics = exp.metrics(&out).unwrap();
    assert!(metrics.test_accuracy.unwrap() >= 0.9, "{metrics:?}");
    assert!(out.solver.history().first() > out.solver.history().last());
}

#[test]
fn adam_on_exact_gradients_learns_iris_within_its_budget() {
    let mut cfg = TrainConfig::default();
    cfg.model.shots = 0;
    cfg.train.optimizer = qloop::train::experiment::Method::Adam;
    cfg.train.iterations = 1000;
    cfg.train.max_evals = 120;
    let exp = Experiment::new(cfg).unwrap();
    let out = exp.train(None, false, vec![]).unwrap();
    assert!(
        out.evaluations <= 120 && out.iterations == out.evaluations,
        "{}",
        out.evaluations
    );
    assert_eq!(out.termination, "evaluation budget spent");
    let metrics = exp.metrics(&out).unwrap();
    assert!(metrics.test_accuracy.unwrap() >= 0.9, "{metrics:?}");
    let history = out.solver.history();
    assert!(history[history.len() - 1] < 0.5 * history[0], "{history:?}");
    assert_eq!(out.solver.record().name, "Adam");
}

#[test]
fn adam_refuses_what_has_no_exact_gradient() {
    for (shots, kind) in [(1000, "dense"), (0, "lif")] {
        let mut cfg = TrainConfig::default();
        cfg.model.shots = shots;
        cfg.model.kind = kind.into();
        cfg.train.optimizer = qloop::train::experiment::Method::Adam;
        let e = Experiment::new(cfg).unwrap_err().to_string();
        assert!(
            e.contains("'train.optimizer'") && e.contains("no exact gradient"),
            "{e}"
        );
    }
    let mut cfg = TrainConfig::default();
    cfg.model.shots = 0;
    cfg.train.optimizer = qloop::train::experiment::Method::Adam;
    cfg.train.learning_rate = f64::NAN;
    let e = Experiment::new(cfg).unwrap_err().to_string();
    assert!(e.contains("'train.learning_rate'"), "{e}");
}

#[test]
fn configuration_errors_name_key_and_file() {
    let path = std::path::Path::new("cfg.toml");
    let err = TrainConfig::parse("seed = 1\n[model]\nlayerz = 3\n", path).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cfg.toml: 3:1: unknown field `layerz`"),
        "{err}"
    );
    let err = TrainConfig::parse("[train]\niterations = \"many\"\n", path).unwrap_err();
    assert!(
        err.to_string().starts_with("cfg.toml: 2:14: invalid type"),
        "{err}"
    );
    let err = TrainConfig::parse("[data]\ndataset = \"mnist\"\n", path).unwrap_err();
    assert!(
        err.to_string()
            .contains("key 'data.dataset': unknown data set 'mnist'"),
        "{err}"
    );
    let err = TrainConfig::load(std::path::Path::new("/no/such/qloop.toml")).unwrap_err();
    assert!(
        err.to_string().starts_with("/no/such/qloop.toml: "),
        "{err}"
    );
}

#[test]
fn sequence_configuration_errors_name_the_key() {
    let path = std::path::Path::new("seq.toml");
    for (text, key, what) in [
        (
            "[model]\nkind = \"lstm\"\n",
            "model.kind",
            "unknown layer kind 'lstm'",
        ),
        (
            "[model]\nkind = \"qs-ltc\"\ncopies = 0\n",
            "model.copies",
            "must lie in 1..=64, got 0",
        ),
        (
            "[model]\nkind = \"ltc\"\ntau = 0.0\n",
            "model.tau",
            "must be positive and finite",
        ),
        (
            "[model]\nkind = \"ltc\"\ntau = -1.0\n",
            "model.tau",
            "got -1",
        ),
        (
            "[model]\nkind = \"ltc\"\nunfolds = 0\n",
            "model.unfolds",
            "got 0",
        ),
        (
            "[data]\ndataset = \"sensors\"\ngap = 0.0\n[model]\nkind = \"ltc\"\n",
            "data.gap",
            "must be positive",
        ),
        (
            "[data]\ndataset = \"sensors\"\njitter = 1.5\n[model]\nkind = \"ltc\"\n",
            "data.jitter",
            "[0, 1)",
        ),
        (
            "[data]\ndataset = \"sensors\"\n",
            "model.kind",
            "needs a layer with a state",
        ),
        (
            "[data]\ndataset = \"sensors\"\n[model]\nkind = \"sparse\"\n",
            "model.kind",
            "needs a layer with a state",
        ),
        (
            "[model]\nkind = \"lif\"\ntau = -2.0\n",
            "model.tau",
            "got -2",
        ),
        (
            "[model]\nkind = \"lif\"\nunits = 0\n",
            "model.units",
            "got 0",
        ),
        (
            "[model]\nkind = \"qlif\"\nunits = 7\n",
            "model.units",
            "7 is odd",
        ),
        (
            "[model]\nkind = \"lif\"\nthreshold = 0.0\n",
            "model.threshold",
            "threshold",
        ),
        (
            "[model]\nkind = \"lif\"\nreset = \"to\"\nv_reset = 1.5\n",
            "model.v_reset",
            "below the threshold",
        ),
        (
            "[model]\nkind = \"lif\"\nsubsteps = 0\n",
            "model.substeps",
            "got 0",
        ),
        (
            "[model]\nkind = \"sparse\"\nsparsity = 1.0\n",
            "model.sparsity",
            "[0, 1), got 1",
        ),
        (
            "[model]\nkind = \"sparse\"\nsparsity = -0.5\n",
            "model.sparsity",
            "got -0.5",
        ),
        (
            "[model]\nkind = \"entangled-block\"\nheads = 0\n",
            "model.heads",
            "got 0",
        ),
        (
            "[data]\ndataset = \"xor-events\"\nbits = 0\n[model]\nkind = \"cfc\"\n",
            "data.bits",
            "got 0",
        ),
        (
            "[data]\ndataset = \"sensors\"\nsamples = 100000000\n[model]\nkind = \"ltc\"\n",
            "data.samples",
            "more than training holds",
        ),
    ] {
        let err = TrainConfig::parse(text, path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("seq.toml: key '{key}'")) && err.contains(what),
            "{text}: {err}"
        );
    }
    for (text, variant) in [
        ("[model]\ncollapse = \"maybe\"\n", "maybe"),
        ("[model]\ncoupling = \"spooky\"\n", "spooky"),
        ("[model]\ndecode = \"phase\"\n", "phase"),
        ("[model]\nreset = \"never\"\n", "never"),
    ] {
        let err = TrainConfig::parse(text, path).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("unknown variant `{variant}`")),
            "{err}"
        );
    }
}

#[test]
fn a_liquid_hybrid_model_beats_the_mean_on_the_sensor_task() {
    let mut cfg = TrainConfig::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/configs/ltc.toml"
    )))
    .unwrap();
    cfg.train.iterations = 200;
    let exp = Experiment::new(cfg).unwrap();
    let out = exp.train(None, false, vec![]).unwrap();
    let m = exp.metrics(&out).unwrap();
    let (mse, mean) = (m.test_mse.unwrap(), m.mean_baseline_mse.unwrap());
    assert!(mse < 0.5 * mean, "test MSE {mse}, mean predictor {mean}");
    // The event-based XOR is a classification: accuracy, no MSE.
    let mut cfg = TrainConfig::default();
    cfg.data.dataset = "xor-events".into();
    cfg.data.bits = 4;
    cfg.data.samples = 40;
    cfg.model.kind = "cfc".into();
    cfg.model.shots = 0;
    cfg.train.iterations = 5;
    let exp = Experiment::new(cfg).unwrap();
    let m = exp
        .metrics(&exp.train(None, false, vec![]).unwrap())
        .unwrap();
    assert!(m.test_accuracy.is_some() && m.test_mse.is_none(), "{m:?}");
}

#[test]
fn single_precision_training_follows_double_and_refuses_what_it_cannot_run() {
    let run = |precision: qloop::Precision| {
        let mut cfg = TrainConfig::default();
        cfg.model.shots = 0;
        cfg.model.qubits = 6;
        cfg.model.precision = precision;
        cfg.train.iterations = 40;
        let exp = Experiment::new(cfg).unwrap();
        let out = exp.train(None, false, vec![]).unwrap();
        (out.solver.history().to_vec(), exp.metrics(&out).unwrap())
    };
    let (double, _) = run(qloop::Precision::Double);
    let (single, metrics) = run(qloop::Precision::Single);
    assert_eq!(double.len(), single.len());
    for (d, s) in double.iter().zip(&single) {
        assert!((d - s).abs() < 1e-5, "{d} against {s}");
    }
    assert!(metrics.train_loss.is_finite());

    let parse = |text: &str| TrainConfig::parse(text, std::path::Path::new("p.toml"));
    let err = parse("[model]\nprecision = \"half\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("p.toml: 2:13: "), "{err}");
    let mut cfg =
        parse("[model]\nprecision = \"single\"\nshots = 0\n[train]\noptimizer = \"adam\"\n")
            .unwrap();
    let e = Experiment::new(cfg.clone()).unwrap_err().to_string();
    assert!(
        e.contains("'train.optimizer'") && e.contains("single-precision"),
        "{e}"
    );
    cfg.train.optimizer = qloop::train::experiment::Method::Spsa;
    cfg.noise = Some(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("circuits/noise/depolarizing.toml"),
    );
    let e = Experiment::new(cfg).unwrap_err().to_string();
    assert!(
        e.contains("'model.precision'") && e.contains("density matrix"),
        "{e}"
    );
}

#[test]
fn a_single_precision_model_reads_the_features_of_the_double_one() {
    let net = Network::dense(&[3, 2], Activation::Tanh, Activation::Identity).unwrap();
    let model = HybridModel::new(
        ansatz::reuploading(3, 2, 2),
        ReadoutSpec::exact(Readout::ExpectationZ),
        net,
    )
    .unwrap();
    let single = model
        .clone()
        .with_precision(qloop::Precision::Single)
        .unwrap();
    let p = model.init_params(Stream::new(4));
    let x = ndarray::array![[0.1, 0.7], [1.2, -0.4], [-2.0, 0.3]];
    let a = model.forward(&p, x.view(), Stream::new(0)).unwrap();
    let b = single.forward(&p, x.view(), Stream::new(0)).unwrap();
    assert!((&a - &b).iter().all(|d| d.abs() < 1e-6), "{a} {b}");
    let e = single.gradient(&p, x.view(), |y| Ok(ndarray::Array2::ones(y.dim())));
    assert!(matches!(e, Err(Error::NotDifferentiable { .. })), "{e:?}");
}
