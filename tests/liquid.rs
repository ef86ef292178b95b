//! The liquid layers against slow references: LTC's fused step against a fine RK4 solve of
//! the same ODE (and its first-order convergence), CfC against its closed form written out by
//! hand, QS-LTC with one copy against LTC bit for bit (in every mode), its interference and
//! sampled collapse against their definitions, the Elman cell against a hand computation,
//! the operation counts against the layer sizes, and seeded training at 1 and 2 threads.

use ndarray::{array, Array1, Array2};
use qloop::rng::Stream;
use qloop::train::{
    ansatz, ops, optimize, Activation, AnyLayer, Cfc, Collapse, Dense, HybridModel, Layer, Loss,
    Ltc, Network, QsLtc, Readout, ReadoutSpec, Rnn, RunOptions, SequenceSupervised, Spsa, TimeStep,
};

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The LTC right-hand side `−(1/τ + f) x + f A`, `f = σ(W x + U I + b)`, from the flat
/// parameters (the layout of `qloop::train::liquid`).
fn ltc_rhs(p: &[f64], n: usize, m: usize, input: &[f64], x: &[f64]) -> Vec<f64> {
    let (w, rest) = p.split_at(n * n);
    let (u, rest) = rest.split_at(n * m);
    let (b, rest) = rest.split_at(n);
    let (a, rho) = rest.split_at(n);
    (0..n)
        .map(|i| {
            let z = b[i]
                + (0..n).map(|j| w[i * n + j] * x[j]).sum::<f64>()
                + (0..m).map(|k| u[i * m + k] * input[k]).sum::<f64>();
            let f = sigmoid(z);
            -((-rho[i]).exp() + f) * x[i] + f * a[i]
        })
        .collect()
}

/// Classical RK4 of the LTC ODE over `dt` in `steps` steps.
fn rk4(
    p: &[f64],
    n: usize,
    m: usize,
    input: &[f64],
    x0: &[f64],
    dt: f64,
    steps: usize,
) -> Vec<f64> {
    let h = dt / steps as f64;
    let mut x = x0.to_vec();
    let add = |x: &[f64], k: &[f64], s: f64| -> Vec<f64> {
        x.iter().zip(k).map(|(a, b)| a + s * b).collect()
    };
    for _ in 0..steps {
        let k1 = ltc_rhs(p, n, m, input, &x);
        let k2 = ltc_rhs(p, n, m, input, &add(&x, &k1, h / 2.0));
        let k3 = ltc_rhs(p, n, m, input, &add(&x, &k2, h / 2.0));
        let k4 = ltc_rhs(p, n, m, input, &add(&x, &k3, h));
        for i in 0..n {
            x[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    x
}

fn ltc_step(cell: &Ltc, p: &[f64], input: &[f64], x0: &[f64], dt: f64) -> Vec<f64> {
    let mut state = Array2::from_shape_vec((1, x0.len()), x0.to_vec()).unwrap();
    let dts = Array1::from_elem(1, dt);
    let x = Array2::from_shape_vec((1, input.len()), input.to_vec()).unwrap();
    let time = TimeStep {
        state: state.view_mut(),
        dt: dts.view(),
        draws: Stream::new(0),
    };
    let out = cell.forward(p, x.view(), Some(time)).unwrap();
    assert_eq!(out.row(0), state.row(0), "the output is the new state");
    out.row(0).to_vec()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn ltc_fused_steps_converge_to_the_ode_at_first_order() {
    let (m, n) = (3, 5);
    let mut p = Ltc::new(m, n, 1).unwrap().init(Stream::new(4));
    // Time constants between 0.5 and 2 (log τ in the last n entries).
    let len = p.len();
    for (i, r) in p[len - n..].iter_mut().enumerate() {
        *r = (0.5 + 0.4 * i as f64).ln();
    }
    let input = [0.7, -0.3, 1.1];
    let x0 = [0.2, -0.5, 0.0, 0.9, -0.1];
    let dt = 0.8;
    let exact = rk4(&p, n, m, &input, &x0, dt, 4000);
    let errors: Vec<f64> = [8, 16, 32, 64, 128]
        .iter()
        .map(|&l| {
            max_diff(
                &ltc_step(&Ltc::new(m, n, l).unwrap(), &p, &input, &x0, dt),
                &exact,
            )
        })
        .collect();
    for pair in errors.windows(2) {
        let rate = pair[1] / pair[0];
        assert!(
            (0.4..0.6).contains(&rate),
            "errors {errors:?}: halving δ gave ×{rate}"
        );
    }
    assert!(errors[4] < 2e-3, "errors {errors:?}");
}

#[test]
fn cfc_matches_its_closed_form() {
    let (m, n, nb) = (2, 2, 3);
    let cell = Cfc::new(m, n, nb).unwrap();
    let p: Vec<f64> = (0..cell.num_params())
        .map(|k| ((k * 37 % 23) as f64 - 11.0) / 13.0)
        .collect();
    let (input, h0, dt) = ([0.4, -1.2], [0.3, -0.6], 0.7);
    // By hand: z = tanh(W_z [I; h] + b_z), then four heads on z.
    let wz = |i: usize, j: usize| p[i * (m + n) + j];
    let joined = [input[0], input[1], h0[0], h0[1]];
    let bz0 = nb * (m + n);
    let z: Vec<f64> = (0..nb)
        .map(|i| ((0..m + n).map(|j| wz(i, j) * joined[j]).sum::<f64>() + p[bz0 + i]).tanh())
        .collect();
    let head = |k: usize, i: usize| -> f64 {
        let start = bz0 + nb + k * (n * nb + n);
        (0..nb).map(|j| p[start + i * nb + j] * z[j]).sum::<f64>() + p[start + n * nb + i]
    };
    let want: Vec<f64> = (0..n)
        .map(|i| {
            let s = sigmoid(head(2, i) * dt + head(3, i));
            head(0, i).tanh() * (1.0 - s) + head(1, i).tanh() * s
        })
        .collect();
    let mut state = Array2::from_shape_vec((1, n), h0.to_vec()).unwrap();
    let dts = Array1::from_elem(1, dt);
    let time = TimeStep {
        state: state.view_mut(),
        dt: dts.view(),
        draws: Stream::new(0),
    };
    let x = Array2::from_shape_vec((1, m), input.to_vec()).unwrap();
    let got = cell.forward(&p, x.view(), Some(time)).unwrap();
    assert!(max_diff(got.row(0).as_slice().unwrap(), &want) < 1e-14);
    assert_eq!(state.row(0), got.row(0));
}

#[test]
fn one_copy_superposition_ltc_is_ltc_bit_for_bit() {
    let qs = QsLtc::new(3, 4, 6, 1).unwrap();
    for mode in [
        qs,
        qs.with_interference(true),
        qs.with_collapse(Collapse::Sample),
        qs.with_tau(2.5).unwrap(),
    ] {
        one_copy_is_ltc(mode);
    }
}

fn one_copy_is_ltc(qs: QsLtc) {
    let (m, n) = (3, 4);
    let ltc = Ltc::new(m, n, 6).unwrap().with_tau(qs.tau).unwrap();
    let p = qs.init(Stream::new(9));
    assert_eq!(p[..ltc.num_params()], ltc.init(Stream::new(9))[..]);
    let ltc_net = Network::new(vec![ltc.into()]).unwrap();
    let qs_net = Network::new(vec![qs.into()]).unwrap();
    let (mut s1, mut s2) = (Array2::zeros((2, n)), Array2::zeros((2, n)));
    for t in 0..10 {
        let x = array![[0.1 * t as f64, -0.3, 0.5], [0.2, 0.4 * t as f64, -1.0]];
        let dt = array![0.5, 1.0 + 0.1 * t as f64];
        let a = ltc_net
            .step(
                &p[..ltc.num_params()],
                x.view(),
                &mut s1,
                dt.view(),
                Stream::new(0),
            )
            .unwrap();
        let b = qs_net
            .step(&p, x.view(), &mut s2, dt.view(), Stream::new(0))
            .unwrap();
        let bits = |y: &Array2<f64>| y.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "step {t}");
    }
}

#[test]
fn superposition_copies_keep_normalised_weights_and_distinct_time_constants() {
    let cell = QsLtc::new(2, 3, 6, 4).unwrap();
    let mut p = cell.init(Stream::new(1));
    let w = cell.weights(&p);
    assert!(w.iter().all(|&x| (x - 0.25).abs() < 1e-15));
    let len = p.len();
    p[len - 8..].copy_from_slice(&[3.0, 4.0, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0]);
    let w = cell.weights(&p);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    assert!((w[0] - 25.0 / 27.0).abs() < 1e-15 && w[3] == 0.0);
    // Distinct copies: the same input moves them differently.
    let net = Network::new(vec![cell.into()]).unwrap();
    let mut state = Array2::zeros((1, 12));
    net.step(
        &cell.init(Stream::new(1)),
        array![[1.0, -1.0]].view(),
        &mut state,
        array![1.0].view(),
        Stream::new(0),
    )
    .unwrap();
    let copies: Vec<&[f64]> = state.as_slice().unwrap().chunks(3).collect();
    assert!(copies.windows(2).all(|c| c[0] != c[1]));
}

#[test]
fn bad_times_and_sizes_are_refused_with_the_reason() {
    assert!(Ltc::new(2, 0, 6).unwrap_err().to_string().contains("units"));
    assert!(QsLtc::new(2, 3, 6, 0)
        .unwrap_err()
        .to_string()
        .contains("copies"));
    assert!(Cfc::new(0, 3, 3)
        .unwrap_err()
        .to_string()
        .contains("inputs"));
    let net = Network::new(vec![Ltc::new(1, 2, 6).unwrap().into()]).unwrap();
    let p = net.init(Stream::new(0));
    let mut state = Array2::zeros((2, 2));
    let err = net
        .step(
            &p,
            array![[1.0], [2.0]].view(),
            &mut state,
            array![1.0, -0.5].view(),
            Stream::new(0),
        )
        .unwrap_err();
    assert!(err.to_string().contains("dt of sample 1"), "{err}");
    let err = net
        .step(
            &p,
            array![[1.0]].view(),
            &mut state,
            array![1.0].view(),
            Stream::new(0),
        )
        .unwrap_err();
    assert!(err.to_string().contains("state"), "{err}");
}

#[test]
fn liquid_networks_serialize_and_run_after_a_circuit() {
    let net = Network::new(vec![
        Ltc::new(2, 4, 6).unwrap().into(),
        qloop::train::Dense::new(4, 1, qloop::train::Activation::Identity)
            .unwrap()
            .into(),
    ])
    .unwrap();
    let text = serde_json::to_string(&net).unwrap();
    assert!(text.contains("\"kind\":\"ltc\""), "{text}");
    let back: Network = serde_json::from_str(&text).unwrap();
    assert_eq!(back, net);
    let bad = text.replace("\"inputs\":4", "\"inputs\":5");
    assert!(
        serde_json::from_str::<Network>(&bad).is_err(),
        "widths are checked on load"
    );
    let qs: AnyLayer = QsLtc::new(1, 2, 3, 2).unwrap().into();
    assert!(serde_json::to_string(&qs)
        .unwrap()
        .contains("\"kind\":\"qs-ltc\""));

    let model = HybridModel::new(
        ansatz::reuploading(2, 1, 1),
        ReadoutSpec::exact(Readout::ExpectationZ),
        net,
    )
    .unwrap();
    let p = model.init_params(Stream::new(3));
    let seqs: Vec<Array2<f64>> = (0..3)
        .map(|k| Array2::from_shape_fn((6, 1), |(t, _)| (0.3 * (t + k) as f64).sin()))
        .collect();
    let dt: Vec<Vec<f64>> = (0..3).map(|k| vec![0.5 + 0.1 * k as f64; 6]).collect();
    let y = model
        .forward_sequence(&p, &seqs, Some(&dt), Stream::new(1))
        .unwrap();
    assert_eq!(y.dim(), (3, 1));
    let again = model
        .forward_sequence(&p, &seqs, Some(&dt), Stream::new(1))
        .unwrap();
    assert_eq!(y, again);
    // The carried state matters: a longer history gives another output.
    let short: Vec<Array2<f64>> = seqs
        .iter()
        .map(|s| s.slice(ndarray::s![3.., ..]).to_owned())
        .collect();
    let dt_short: Vec<Vec<f64>> = dt.iter().map(|d| d[3..].to_vec()).collect();
    let y_short = model
        .forward_sequence(&p, &short, Some(&dt_short), Stream::new(1))
        .unwrap();
    assert_ne!(y, y_short);
    assert!(model
        .forward_sequence(&p, &seqs, Some(&dt[..2]), Stream::new(1))
        .is_err());
}

#[test]
fn interference_adds_in_phase_and_cancels_in_antiphase() {
    let qs = QsLtc::new(1, 2, 6, 2).unwrap().with_interference(true);
    let mut p = qs.init(Stream::new(1));
    let k = p.len();
    // α = (1, −1): antiphase, equal moduli.
    p[k - 4..].copy_from_slice(&[1.0, 0.0, -1.0, 0.0]);
    assert_eq!(qs.interference_matrix(&p), [0.5, -0.5, -0.5, 0.5]);
    // α = (1, i): a quarter turn apart, no mixing beyond the moduli on the diagonal.
    p[k - 4..].copy_from_slice(&[1.0, 0.0, 0.0, 1.0]);
    let m = qs.interference_matrix(&p);
    assert!(m[1].abs() < 1e-16 && m[2].abs() < 1e-16 && m[0] == 0.5 && m[3] == 0.5);
    // Every row's absolute sum is at most 1 for arbitrary amplitudes.
    let qs = QsLtc::new(1, 2, 6, 5).unwrap().with_interference(true);
    let mut p = qs.init(Stream::new(2));
    let k = p.len();
    for (j, v) in p[k - 10..].iter_mut().enumerate() {
        *v = (1.7 * j as f64).sin();
    }
    let m = qs.interference_matrix(&p);
    for row in m.chunks(5) {
        assert!(row.iter().map(|v| v.abs()).sum::<f64>() <= 1.0 + 1e-15);
    }
    // The layer applies exactly that mixing after the LTC step.
    let net_plain = Network::new(vec![qs.with_interference(false).into()]).unwrap();
    let net = Network::new(vec![qs.into()]).unwrap();
    let (mut plain, mut mixed) = (Array2::zeros((1, 10)), Array2::zeros((1, 10)));
    let x = array![[0.7]];
    let dt = array![0.4];
    net_plain
        .step(&p, x.view(), &mut plain, dt.view(), Stream::new(0))
        .unwrap();
    net.step(&p, x.view(), &mut mixed, dt.view(), Stream::new(0))
        .unwrap();
    for s in 0..5 {
        for i in 0..2 {
            let want: f64 = (0..5).map(|r| m[s * 5 + r] * plain[[0, r * 2 + i]]).sum();
            assert!((mixed[[0, s * 2 + i]] - want).abs() < 1e-15);
        }
    }
}

#[test]
fn sampled_collapse_returns_a_copy_with_probability_its_weight() {
    let qs = QsLtc::new(1, 2, 6, 2)
        .unwrap()
        .with_collapse(Collapse::Sample);
    let mut p = qs.init(Stream::new(3));
    let k = p.len();
    p[k - 4..].copy_from_slice(&[0.8f64.sqrt(), 0.0, 0.0, 0.2f64.sqrt()]);
    assert!((qs.weights(&p)[0] - 0.8).abs() < 1e-15);
    let rows = 4000;
    let net = Network::new(vec![qs.into()]).unwrap();
    let mut state = Array2::zeros((rows, 4));
    let x = Array2::from_elem((rows, 1), 0.9);
    let dt = Array1::from_elem(rows, 0.5);
    let y = net
        .step(&p, x.view(), &mut state, dt.view(), Stream::new(11))
        .unwrap();
    let first = (0..rows)
        .filter(|&r| {
            let copy = if y[[r, 0]] == state[[r, 0]] && y[[r, 1]] == state[[r, 1]] {
                0
            } else {
                assert_eq!(y.row(r).to_vec(), state.row(r).to_vec()[2..]);
                1
            };
            copy == 0
        })
        .count();
    // Binomial(4000, 0.8): standard deviation 25.3; allow 5σ.
    assert!((first as f64 - 3200.0).abs() < 127.0, "{first}");
    // Seeded: the same stream draws the same copies.
    let mut again = Array2::zeros((rows, 4));
    let z = net
        .step(&p, x.view(), &mut again, dt.view(), Stream::new(11))
        .unwrap();
    assert_eq!(y, z);
}

#[test]
fn elman_cell_matches_a_hand_computation() {
    let cell = Rnn::new(1, 2).unwrap();
    // W = [[0.5, -1], [0.25, 0]], U = [[1], [-2]], b = [0.1, 0].
    let p = [0.5, -1.0, 0.25, 0.0, 1.0, -2.0, 0.1, 0.0];
    let net = Network::new(vec![cell.into()]).unwrap();
    let seq = vec![array![[0.3], [-0.7]]];
    let y = net
        .forward_sequence(&p, &seq, None, Stream::new(0))
        .unwrap();
    let h1 = [(0.3f64 + 0.1).tanh(), (-0.6f64).tanh()];
    let h2 = [
        (0.5 * h1[0] - h1[1] - 0.7 + 0.1).tanh(),
        (0.25 * h1[0] + 1.4).tanh(),
    ];
    assert!(max_diff(y.row(0).as_slice().unwrap(), &h2) < 1e-15);
}

#[test]
fn operation_counts_follow_the_layer_sizes() {
    let (m, n, l) = (3, 5, 4);
    let count = |layer: AnyLayer| {
        let net = Network::new(vec![layer]).unwrap();
        let p = net.init(Stream::new(1));
        let mut state = Array2::zeros((1, net.state_width()));
        let x = Array2::from_elem((1, m), 0.2);
        let dt = array![0.5];
        ops::counted(|| {
            net.step(&p, x.view(), &mut state, dt.view(), Stream::new(0))
                .unwrap()
        })
        .1
    };
    let ltc = count(Ltc::new(m, n, l).unwrap().into());
    assert_eq!(ltc.mul_add as usize, n * m + l * n * n);
    assert_eq!(ltc.transcendental as usize, l * n);
    assert_eq!(ltc.div as usize, 2 * l * n);
    for s in [2, 4] {
        let qs = count(QsLtc::new(m, n, l, s).unwrap().into());
        // One shared drive, S copies of the unfolds, the collapse Σ_s p_s x_s.
        assert_eq!(qs.mul_add as usize, n * m + s * l * n * n + s * n);
        assert_eq!(qs.transcendental, s as u64 * ltc.transcendental);
        let mixed = count(
            QsLtc::new(m, n, l, s)
                .unwrap()
                .with_interference(true)
                .into(),
        );
        assert_eq!(mixed.mul_add, qs.mul_add + (s * s * n) as u64);
    }
    let cfc = count(Cfc::new(m, n, 7).unwrap().into());
    assert_eq!(cfc.mul_add as usize, 7 * (m + n) + 4 * n * 7 + n);
    assert_eq!(cfc.transcendental as usize, 7 + 3 * n);
    let rnn = count(Rnn::new(m, n).unwrap().into());
    assert_eq!(rnn.mul_add as usize, n * m + n * n);
    let dense = count(Dense::new(m, n, Activation::Tanh).unwrap().into());
    assert_eq!(
        (dense.mul_add, dense.transcendental),
        ((m * n) as u64, n as u64)
    );
}

#[test]
fn elapsed_time_matters_to_liquid_cells_and_not_to_the_elman_cell() {
    let seq = vec![array![[0.5], [-0.2], [0.9]]];
    for (layer, continuous) in [
        (AnyLayer::from(Ltc::new(1, 3, 6).unwrap()), true),
        (Cfc::new(1, 3, 3).unwrap().into(), true),
        (QsLtc::new(1, 3, 6, 2).unwrap().into(), true),
        (Rnn::new(1, 3).unwrap().into(), false),
    ] {
        let net = Network::new(vec![layer]).unwrap();
        let p = net.init(Stream::new(4));
        let run = |dt: Vec<f64>| {
            net.forward_sequence(&p, &seq, Some(&[dt]), Stream::new(0))
                .unwrap()
        };
        let (a, b) = (run(vec![1.0, 1.0, 1.0]), run(vec![1.0, 0.2, 3.0]));
        assert_eq!(a != b, continuous, "{:?}", net.layers()[0]);
    }
}

#[test]
fn seeded_training_is_bit_identical_at_one_and_two_threads() {
    let data = qloop::train::tasks::sensors(24, 2, 5, 0.3, 0.5, 0.05, 8).unwrap();
    let cell = QsLtc::new(2, 3, 6, 2)
        .unwrap()
        .with_collapse(Collapse::Sample);
    let net = Network::new(vec![
        cell.into(),
        Dense::new(3, 1, Activation::Identity).unwrap().into(),
    ])
    .unwrap();
    let objective = SequenceSupervised::new(net.clone(), data, Loss::Mse, Some(8)).unwrap();
    let train = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let options = RunOptions {
                    max_iters: 15,
                    ..Default::default()
                };
                optimize(
                    objective.clone(),
                    Spsa::new(5),
                    net.init(Stream::new(5)),
                    options,
                    vec![],
                )
                .unwrap()
            })
    };
    let (one, two) = (train(1), train(2));
    let bits = |p: &[f64]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.params), bits(&two.params));
    assert_eq!(one.solver.history(), two.solver.history());
    assert!(one.solver.history().first() != one.solver.history().last());
}
