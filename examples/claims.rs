//! The claims benchmarks of qloop's founding documents, one subcommand per document; what
//! they printed is quoted, with verdicts, in `docs/claims.md`.
//!
//! `cargo run --release --example claims -- liquid [--seeds N] [--iterations N] [--bits N] [--quick]`
//!
//! **liquid** (the quantum-superposition liquid network document). `QsLtc` for
//! S ∈ {1, 2, 4, 8} (plus S = 4 with interference and with a sampled collapse) against `Ltc`,
//! `Cfc` and an Elman `Rnn`, CfC and RNN sized to the LTC's parameter count, every cell
//! followed by a dense head and trained with the same SPSA budget (qloop's defaults, the same
//! iterations) on three tasks of `qloop::train::tasks`:
//! 1. multi-sensor regression with jittered sampling (test MSE; the mean predictor's MSE
//!    for scale);
//! 2. imitation of an LQR expert on the 1 kHz pendulum, then run closed-loop (cost of 2 s
//!    runs from 5 initial states; the expert's and doing nothing's costs for scale);
//! 3. the event-based bit-stream XOR (test accuracy; 50 % is chance).
//!
//! Quality is mean ± standard deviation over the seeds. Operations per step are counted by
//! the layer kernels as they run (`qloop::train::ops`), energy is that count times
//! Horowitz's 45 nm per-operation energies (a model: this machine has no power counters), and
//! latency is the median and 99th percentile of single steps at batch 1 (32 units, 6
//! unfolds, 4 inputs).

use ndarray::{Array1, Array2};
use qloop::train::ops::{self, OpCount};
use qloop::train::tasks::{self, Pendulum, SequenceSet};
use qloop::train::{
    optimize, Activation, AnyLayer, Cfc, Collapse, Coupling, Dataset, Decode, Dense,
    EntangledBlock, Layer, Lif, Loss, Ltc, Membrane, Network, QLifPair, QsLtc, Rnn, RunOptions,
    Scaler, SequenceSupervised, SparseDense, Spsa, Stream, TimeStep,
};
use rayon::prelude::*;
use std::time::Instant;

/// The cell kinds compared.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Ltc,
    Cfc,
    Rnn,
    QsLtc(usize),
    QsInterference(usize),
    QsSampled(usize),
}

impl Kind {
    const ALL: [Kind; 9] = [
        Kind::Ltc,
        Kind::Cfc,
        Kind::Rnn,
        Kind::QsLtc(1),
        Kind::QsLtc(2),
        Kind::QsLtc(4),
        Kind::QsLtc(8),
        Kind::QsInterference(4),
        Kind::QsSampled(4),
    ];

    fn name(self) -> String {
        match self {
            Kind::Ltc => "LTC".into(),
            Kind::Cfc => "CfC".into(),
            Kind::Rnn => "RNN".into(),
            Kind::QsLtc(s) => format!("QS-LTC S={s}"),
            Kind::QsInterference(s) => format!("QS-LTC S={s} interf."),
            Kind::QsSampled(s) => format!("QS-LTC S={s} sampled"),
        }
    }

    /// The cell reading `inputs` values with `units` units (CfC and RNN sized to the LTC's
    /// parameter count with the same head).
    fn cell(self, inputs: usize, units: usize) -> AnyLayer {
        let ltc = Ltc::new(inputs, units, 6).expect("valid");
        let target = ltc.num_params() + units + 1;
        let closest = |count: &dyn Fn(usize) -> usize| {
            (1..=4 * units)
                .min_by_key(|&w| count(w).abs_diff(target))
                .expect("non-empty")
        };
        match self {
            Kind::Ltc => ltc.into(),
            Kind::Cfc => {
                let b = closest(&|b| Cfc::new(inputs, units, b).unwrap().num_params() + units + 1);
                Cfc::new(inputs, units, b).expect("valid").into()
            }
            Kind::Rnn => {
                let m = closest(&|m| Rnn::new(inputs, m).unwrap().num_params() + m + 1);
                Rnn::new(inputs, m).expect("valid").into()
            }
            Kind::QsLtc(s) => QsLtc::new(inputs, units, 6, s).expect("valid").into(),
            Kind::QsInterference(s) => QsLtc::new(inputs, units, 6, s)
                .expect("valid")
                .with_interference(true)
                .into(),
            Kind::QsSampled(s) => QsLtc::new(inputs, units, 6, s)
                .expect("valid")
                .with_collapse(Collapse::Sample)
                .into(),
        }
    }

    fn network(self, inputs: usize, units: usize, output: Activation) -> Network {
        let cell = self.cell(inputs, units);
        let head = Dense::new(cell.output_width(), 1, output).expect("valid");
        Network::new(vec![cell, head.into()]).expect("valid")
    }
}

struct Settings {
    seeds: u64,
    iterations: u64,
    bits: usize,
    quick: bool,
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

fn train(net: &Network, data: &SequenceSet, loss: Loss, seed: u64, iterations: u64) -> Vec<f64> {
    let objective =
        SequenceSupervised::new(net.clone(), data.clone(), loss, Some(32)).expect("shapes agree");
    let options = RunOptions {
        max_iters: iterations,
        ..Default::default()
    };
    optimize(
        objective,
        Spsa::new(seed),
        net.init(Stream::new(seed)),
        options,
        vec![],
    )
    .expect("training runs")
    .params
}

/// One step of each network at batch 1: operations counted, and the median and p99 latency
/// in µs. The networks are timed in interleaved rounds (every network a block of steps per
/// round), so that the machine's drift reaches all of them alike.
fn step_costs(nets: &[&Network], repeats: usize) -> Vec<(OpCount, f64, f64)> {
    let x = Array2::from_shape_fn((1, 4), |(_, k)| 0.2 * k as f64 - 0.3);
    let dt = Array1::from_elem(1, 0.1);
    let params: Vec<Vec<f64>> = nets.iter().map(|n| n.init(Stream::new(1))).collect();
    let mut states: Vec<Array2<f64>> = nets
        .iter()
        .map(|n| Array2::zeros((1, n.state_width())))
        .collect();
    let step = |k: usize, state: &mut Array2<f64>| {
        nets[k]
            .step(&params[k], x.view(), state, dt.view(), Stream::new(3))
            .expect("sized")
    };
    let counts: Vec<OpCount> = (0..nets.len())
        .map(|k| ops::counted(|| step(k, &mut states[k])).1)
        .collect();
    let rounds = 20;
    let mut times = vec![Vec::with_capacity(repeats); nets.len()];
    for _ in 0..rounds {
        for (k, state) in states.iter_mut().enumerate() {
            for _ in 0..repeats / rounds / 10 {
                std::hint::black_box(step(k, state));
            }
            for _ in 0..repeats / rounds {
                let start = Instant::now();
                std::hint::black_box(step(k, state));
                times[k].push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    counts
        .into_iter()
        .zip(times)
        .map(|(c, mut t)| {
            t.sort_by(f64::total_cmp);
            (c, t[t.len() / 2], t[t.len() * 99 / 100])
        })
        .collect()
}

fn liquid(settings: &Settings) {
    println!("# liquid: QS-LTC against LTC, CfC and an RNN");
    println!(
        "machine: {}, {} threads; seeds {}, {} SPSA iterations per training (qloop defaults, minibatch 32)",
        cpu_name(),
        rayon::current_num_threads(),
        settings.seeds,
        settings.iterations
    );

    println!("\n## One step at batch 1: 32 units, 6 unfolds, 4 inputs, dense head 32 → 1");
    println!("energy model: counted ops × Horowitz ISSCC 2014 45 nm fp32 (add 0.9 pJ, mul 3.7 pJ; divide = 4 mul, exp/tanh = 10 mul-add: assumptions; memory excluded)");
    println!(
        "{:<22} {:>7} {:>9} {:>8} {:>6} {:>7} {:>11} {:>10} {:>9}",
        "cell", "params", "mul-add", "other", "div", "transc.", "energy pJ", "median µs", "p99 µs"
    );
    let repeats = if settings.quick { 2_000 } else { 50_000 };
    let head = |cell: AnyLayer| {
        let width = cell.output_width();
        Network::new(vec![
            cell,
            Dense::new(width, 1, Activation::Identity)
                .expect("valid")
                .into(),
        ])
        .expect("valid")
    };
    let mut rows: Vec<(String, Network)> = Kind::ALL
        .iter()
        .map(|k| (k.name(), k.network(4, 32, Activation::Identity)))
        .collect();
    rows.push((
        "CfC backbone 32".into(),
        head(Cfc::new(4, 32, 32).expect("valid").into()),
    ));
    rows.push((
        "LTC 1 unfold".into(),
        head(Ltc::new(4, 32, 1).expect("valid").into()),
    ));
    let mut measured = Vec::new();
    let costs = step_costs(&rows.iter().map(|r| &r.1).collect::<Vec<_>>(), repeats);
    let ltc_energy = costs[0].0.energy_pj();
    for ((name, net), (c, median, p99)) in rows.iter().zip(costs) {
        println!(
            "{:<22} {:>7} {:>9} {:>8} {:>6} {:>7} {:>11.0} {:>10.2} {:>9.2}   ({:.2}× LTC energy)",
            name,
            net.num_params(),
            c.mul_add,
            c.elementwise,
            c.div,
            c.transcendental,
            c.energy_pj(),
            median,
            p99,
            c.energy_pj() / ltc_energy
        );
        measured.push((c, median));
    }
    let at = |kind: Kind| measured[Kind::ALL.iter().position(|&k| k == kind).expect("listed")];
    let (ltc, ltc_us) = at(Kind::Ltc);
    for s in [2, 4, 8] {
        let (qs, us) = at(Kind::QsLtc(s));
        println!(
            "QS-LTC S={s}: {:.2}× LTC's modelled energy, {:.2}× its median latency, latency / (S × LTC) = {:.2}",
            qs.energy_pj() / ltc.energy_pj(),
            us / ltc_us,
            us / (s as f64 * ltc_us)
        );
    }
    let (qs8, _) = at(Kind::QsLtc(8));
    println!(
        "collapse Σ_s p_s x_s at S=8: {} of {} multiply-adds per step ({:.2} %)",
        8 * 32,
        qs8.mul_add,
        100.0 * 256.0 / qs8.mul_add as f64
    );
    let cfc_wide = measured[Kind::ALL.len()].1;
    println!(
        "LTC (6 unfolds) median / CfC median: {:.2} (CfC sized to LTC's parameters), {:.2} (backbone 32)",
        ltc_us / at(Kind::Cfc).1,
        ltc_us / cfc_wide
    );

    let units = 8;
    let seeds: Vec<u64> = (1..=settings.seeds).collect();
    let jobs: Vec<(Kind, u64)> = Kind::ALL
        .iter()
        .flat_map(|&k| seeds.iter().map(move |&s| (k, s)))
        .collect();
    let report =
        |title: &str, metric: &str, results: Vec<(Kind, f64)>, params: &dyn Fn(Kind) -> usize| {
            println!("\n## {title}");
            println!(
                "{:<22} {:>7}  {metric} (mean ± std over {} seeds)",
                "cell", "params", settings.seeds
            );
            for kind in Kind::ALL {
                let v: Vec<f64> = results
                    .iter()
                    .filter(|r| r.0 == kind)
                    .map(|r| r.1)
                    .collect();
                let (m, s) = mean_std(&v);
                println!("{:<22} {:>7}  {m:.4} ± {s:.4}", kind.name(), params(kind));
            }
        };

    // Task 1: multi-sensor regression.
    let (samples, steps) = if settings.quick { (120, 8) } else { (400, 16) };
    let data = tasks::sensors(samples, 3, steps, tasks::SENSOR_GAP, 0.5, 0.05, 100).expect("valid");
    let (train_set, test_set) = data.split(0.25, 100).expect("valid");
    let sensors: Vec<(Kind, f64)> = jobs
        .par_iter()
        .map(|&(kind, seed)| {
            let net = kind.network(3, units, Activation::Identity);
            let p = train(&net, &train_set, Loss::Mse, seed, settings.iterations);
            let eval = SequenceSupervised::new(net, test_set.clone(), Loss::Mse, None).unwrap();
            (kind, eval.loss(&p, Stream::new(0)).unwrap())
        })
        .collect();
    report(
        &format!(
            "Task 1: 3-sensor regression, {steps} jittered steps (±50 %), {} train / {} test; mean predictor MSE {:.4}",
            train_set.len(),
            test_set.len(),
            test_set.mean_baseline_mse(&train_set)
        ),
        "test MSE",
        sensors,
        &|k| k.network(3, units, Activation::Identity).num_params(),
    );

    // Task 2: pendulum imitation, then closed loop.
    let pendulum = Pendulum::new();
    let window = 20;
    let cell_dt = 0.5;
    let imitation = pendulum
        .imitation(if settings.quick { 200 } else { 600 }, window, cell_dt, 200)
        .expect("valid");
    let held_out = pendulum
        .imitation(if settings.quick { 100 } else { 200 }, window, cell_dt, 201)
        .expect("valid");
    let rollouts = 5;
    let expert: Vec<f64> = (0..rollouts)
        .map(|r| {
            pendulum
                .closed_loop(Stream::new(900 + r), pendulum.expert_controller())
                .cost
        })
        .collect();
    let nothing: Vec<f64> = (0..rollouts)
        .map(|r| pendulum.closed_loop(Stream::new(900 + r), |_| 0.0).cost)
        .collect();
    let control: Vec<(Kind, (f64, f64, f64))> = jobs
        .par_iter()
        .map(|&(kind, seed)| {
            let net = kind.network(2, units, Activation::Identity);
            let p = train(&net, &imitation, Loss::Mse, seed, settings.iterations);
            let imitation_mse =
                SequenceSupervised::new(net.clone(), held_out.clone(), Loss::Mse, None)
                    .unwrap()
                    .loss(&p, Stream::new(0))
                    .unwrap();
            let runs: Vec<tasks::ClosedLoop> = (0..rollouts)
                .map(|r| {
                    let mut state = Array2::zeros((1, net.state_width()));
                    let dt = Array1::from_elem(1, cell_dt);
                    let mut t = 0u64;
                    pendulum.closed_loop(Stream::new(900 + r), |obs| {
                        t += 1;
                        let x = Array2::from_shape_vec((1, 2), obs.to_vec()).unwrap();
                        net.step(&p, x.view(), &mut state, dt.view(), Stream::new(t))
                            .unwrap()[[0, 0]]
                    })
                })
                .collect();
            let costs: Vec<f64> = runs.iter().map(|r| r.cost).collect();
            let upright = runs.iter().filter(|r| r.final_angle < 0.05).count();
            (
                kind,
                (
                    mean_std(&costs).0,
                    imitation_mse,
                    upright as f64 / rollouts as f64,
                ),
            )
        })
        .collect();
    println!(
        "\n## Task 2: 1 kHz pendulum, imitation of LQR on {} windows of {window} ms, then 2 s closed loop from {rollouts} states; expert cost {:.4}, no control {:.4}",
        imitation.len(),
        mean_std(&expert).0,
        mean_std(&nothing).0
    );
    println!(
        "{:<22} {:>7}  {:<20} {:<20} upright at 2 s (mean ± std over {} seeds)",
        "cell", "params", "imitation MSE", "closed-loop cost", settings.seeds
    );
    for kind in Kind::ALL {
        let of = |f: &dyn Fn(&(f64, f64, f64)) -> f64| {
            let v: Vec<f64> = control
                .iter()
                .filter(|r| r.0 == kind)
                .map(|r| f(&r.1))
                .collect();
            mean_std(&v)
        };
        let (cost, imit, up) = (of(&|r| r.0), of(&|r| r.1), of(&|r| r.2));
        println!(
            "{:<22} {:>7}  {:<20} {:<20} {:.0} %",
            kind.name(),
            kind.network(2, units, Activation::Identity).num_params(),
            format!("{:.4} ± {:.4}", imit.0, imit.1),
            format!("{:.3} ± {:.3}", cost.0, cost.1),
            100.0 * up.0
        );
    }

    // Task 3: event-based XOR.
    let bits = settings.bits;
    let data = tasks::xor_events(if settings.quick { 200 } else { 800 }, bits, 300).expect("valid");
    let (train_set, test_set) = data.split(0.25, 300).expect("valid");
    let xor: Vec<(Kind, f64)> = jobs
        .par_iter()
        .map(|&(kind, seed)| {
            let net = kind.network(1, units, Activation::Sigmoid);
            let p = train(
                &net,
                &train_set,
                Loss::BinaryCrossEntropy,
                seed,
                settings.iterations,
            );
            let eval =
                SequenceSupervised::new(net, test_set.clone(), Loss::BinaryCrossEntropy, None)
                    .unwrap();
            let y = eval.predict(&p, Stream::new(0)).unwrap();
            (
                kind,
                qloop::train::objective::accuracy(y.view(), test_set.targets.view()),
            )
        })
        .collect();
    report(
        &format!(
            "Task 3: event-based XOR of {bits} bits, {} train / {} test (chance 0.5)",
            train_set.len(),
            test_set.len()
        ),
        "test accuracy",
        xor,
        &|k| k.network(1, units, Activation::Sigmoid).num_params(),
    );
}

/// Each sample of `data` (features scaled to `[0, 1]`) as a sequence of one step (a static
/// input), for the classical-only objectives; targets one-hot, or the class for two classes.
fn static_set(data: &Dataset, x: &Array2<f64>) -> SequenceSet {
    let targets = if data.classes.len() == 2 {
        Array2::from_shape_fn((data.len(), 1), |(r, _)| data.labels[r] as f64)
    } else {
        data.one_hot()
    };
    SequenceSet {
        sequences: x
            .rows()
            .into_iter()
            .map(|r| r.to_owned().insert_axis(ndarray::Axis(0)))
            .collect(),
        dt: vec![vec![1.0]; x.nrows()],
        targets,
    }
}

/// Iris rate-coded as Poisson-like spike trains: over `steps` steps channel `j` spikes with
/// probability `x_j` (features scaled to `[0, 1]`), drawn from `seed`.
fn rate_coded_iris(steps: usize, seed: u64) -> SequenceSet {
    use rand::Rng;
    let data = Dataset::iris();
    let x = Scaler::fit(&data.features, (0.0, 1.0))
        .transform(&data.features)
        .expect("fitted");
    let sequences = (0..data.len())
        .map(|k| {
            let mut rng = Stream::new(seed).child(k as u64).rng();
            Array2::from_shape_fn((steps, 4), |(_, j)| {
                f64::from(u8::from(rng.random::<f64>() < x[[k, j]]))
            })
        })
        .collect();
    SequenceSet {
        sequences,
        dt: vec![vec![1.0; steps]; data.len()],
        targets: data.one_hot(),
    }
}

/// The spiking variants compared.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spiking {
    Lif,
    Independent,
    Entangled,
    Classical,
}

impl Spiking {
    const ALL: [Spiking; 4] = [
        Spiking::Lif,
        Spiking::Independent,
        Spiking::Entangled,
        Spiking::Classical,
    ];

    fn name(self) -> &'static str {
        match self {
            Spiking::Lif => "LIF (deterministic)",
            Spiking::Independent => "pairs, independent",
            Spiking::Entangled => "qLIF pairs, entangled",
            Spiking::Classical => "pairs, classical control",
        }
    }

    /// One spiking layer of `pairs` pairs reading `inputs` values, one sub-step per input
    /// step, decoding `decode`.
    fn layer(self, inputs: usize, pairs: usize, decode: Decode) -> AnyLayer {
        let membrane = Membrane {
            substeps: 1,
            decode,
            tau: 4.0,
            ..Membrane::default()
        };
        let pair = |c: Coupling| {
            QLifPair::new(inputs, pairs)
                .and_then(|l| l.with_membrane(membrane))
                .expect("valid")
                .with_coupling(c)
                .into()
        };
        match self {
            Spiking::Lif => Lif::new(inputs, 2 * pairs)
                .and_then(|l| l.with_membrane(membrane))
                .expect("valid")
                .into(),
            Spiking::Independent => pair(Coupling::Independent),
            Spiking::Entangled => pair(Coupling::Entangled),
            Spiking::Classical => pair(Coupling::Classical),
        }
    }

    /// Two spiking layers (the first feeding its spikes, the second its rates) and a
    /// softmax head.
    fn network(self, pairs: usize) -> Network {
        Network::new(vec![
            self.layer(4, pairs, Decode::Spikes),
            self.layer(2 * pairs, pairs, Decode::Rate),
            Dense::new(2 * pairs, 3, Activation::Softmax)
                .expect("valid")
                .into(),
        ])
        .expect("valid")
    }
}

/// Pearson's correlation of two equally long series (0 when either is constant).
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// What the spike trains of a trained two-layer network show on `data`.
struct SpikeStats {
    within_pairs: f64,
    across_layers: f64,
    spikes_per_inference: f64,
    entropy: f64,
}

/// Runs the two spiking layers of `net` over every sequence of `data`, recording layer 1's
/// spikes (its output) and layer 2's (its state's spikes-this-step columns).
fn spike_stats(net: &Network, params: &[f64], data: &SequenceSet, pairs: usize) -> SpikeStats {
    let layers = net.layers();
    let ranges = net.ranges(0);
    let n = 2 * pairs;
    let (mut within, mut across, mut spikes, mut entropy, mut steps_seen) =
        (Vec::new(), Vec::new(), 0.0, 0.0, 0.0);
    for (k, seq) in data.sequences.iter().enumerate() {
        let mut s1 = Array2::zeros((1, layers[0].state_width()));
        let mut s2 = Array2::zeros((1, layers[1].state_width()));
        let dt = Array1::from_elem(1, 1.0);
        let (mut a, mut b, mut pop1, mut pop2) = (
            vec![Vec::new(); pairs],
            vec![Vec::new(); pairs],
            Vec::new(),
            Vec::new(),
        );
        for t in 0..seq.nrows() {
            let draws = Stream::new(77).child(k as u64).child(t as u64);
            let x = seq.slice(ndarray::s![t..t + 1, ..]);
            let y1 = layers[0]
                .forward(
                    &params[ranges[0].clone()],
                    x,
                    Some(TimeStep {
                        state: s1.view_mut(),
                        dt: dt.view(),
                        draws: draws.child(0),
                    }),
                )
                .expect("sized");
            layers[1]
                .forward(
                    &params[ranges[1].clone()],
                    y1.view(),
                    Some(TimeStep {
                        state: s2.view_mut(),
                        dt: dt.view(),
                        draws: draws.child(1),
                    }),
                )
                .expect("sized");
            let y2: Vec<f64> = (0..n).map(|i| s2[[0, 3 * n + i]]).collect();
            for p in 0..pairs {
                a[p].push(y1[[0, 2 * p]]);
                b[p].push(y1[[0, 2 * p + 1]]);
            }
            pop1.push(y1.sum());
            pop2.push(y2.iter().sum());
            spikes += y1.sum() + y2.iter().sum::<f64>();
            if let AnyLayer::QLifPair(l) = &layers[0] {
                let cols = l.entropy_columns();
                entropy += s1.slice(ndarray::s![0, cols]).sum() / pairs as f64;
            }
            steps_seen += 1.0;
        }
        within.extend((0..pairs).map(|p| pearson(&a[p], &b[p])));
        // Layer 2 answers layer 1's spikes of the same step.
        across.push(pearson(&pop1, &pop2));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    SpikeStats {
        within_pairs: mean(&within),
        across_layers: mean(&across),
        spikes_per_inference: spikes / data.len() as f64,
        entropy: entropy / steps_seen,
    }
}

fn spiking(settings: &Settings) {
    println!("# spiking: entangled qLIF pairs against independent pairs, deterministic LIF and a classical control");
    println!(
        "machine: {}, {} threads; seeds {}, {} SPSA iterations per training (qloop defaults, minibatch 32)",
        cpu_name(),
        rayon::current_num_threads(),
        settings.seeds,
        settings.iterations
    );
    let pairs = 8;
    let steps = if settings.quick { 10 } else { 20 };
    let data = rate_coded_iris(steps, 5);
    let (train_set, test_set) = data.split(0.3, 5).expect("valid");
    println!(
        "task: Iris rate-coded as spike trains of {steps} steps (4 channels), {} train / {} test; network: spiking layer of {pairs} pairs (spikes) → spiking layer of {pairs} pairs (rates) → dense softmax",
        train_set.len(),
        test_set.len()
    );
    let seeds: Vec<u64> = (1..=settings.seeds).collect();
    let jobs: Vec<(Spiking, u64)> = Spiking::ALL
        .iter()
        .flat_map(|&k| seeds.iter().map(move |&s| (k, s)))
        .collect();
    let results: Vec<(Spiking, f64, SpikeStats)> = jobs
        .par_iter()
        .map(|&(kind, seed)| {
            let net = kind.network(pairs);
            let p = train(
                &net,
                &train_set,
                Loss::CrossEntropy,
                seed,
                settings.iterations,
            );
            let y = net
                .forward_sequence(&p, &test_set.sequences, None, Stream::new(9))
                .expect("sized");
            let accuracy = qloop::train::objective::accuracy(y.view(), test_set.targets.view());
            (kind, accuracy, spike_stats(&net, &p, &test_set, pairs))
        })
        .collect();
    println!(
        "\n{:<26} {:>6} {:>15} {:>13} {:>13} {:>10} {:>12}",
        "network",
        "params",
        "test accuracy",
        "corr. pairs",
        "corr. layers",
        "spikes",
        "entropy nats"
    );
    for kind in Spiking::ALL {
        let rows: Vec<&(Spiking, f64, SpikeStats)> =
            results.iter().filter(|r| r.0 == kind).collect();
        let col = |f: &dyn Fn(&(Spiking, f64, SpikeStats)) -> f64| {
            mean_std(&rows.iter().map(|r| f(r)).collect::<Vec<_>>())
        };
        let (acc, acc_s) = col(&|r| r.1);
        let (wp, _) = col(&|r| r.2.within_pairs);
        let (al, _) = col(&|r| r.2.across_layers);
        let (sp, _) = col(&|r| r.2.spikes_per_inference);
        let (en, _) = col(&|r| r.2.entropy);
        println!(
            "{:<26} {:>6} {:>8.3} ± {:.3} {:>13.3} {:>13.3} {:>10.1} {:>12.3}",
            kind.name(),
            kind.network(pairs).num_params(),
            acc,
            acc_s,
            wp,
            al,
            sp,
            en
        );
    }

    println!("\n## One step at batch 1 (the network above, 4 inputs)");
    println!("energy model: counted ops × Horowitz ISSCC 2014 45 nm fp32 (see the liquid section)");
    let nets: Vec<Network> = Spiking::ALL.iter().map(|k| k.network(pairs)).collect();
    let repeats = if settings.quick { 2_000 } else { 50_000 };
    let costs = step_costs(&nets.iter().collect::<Vec<_>>(), repeats);
    println!(
        "{:<26} {:>9} {:>8} {:>6} {:>7} {:>11} {:>10} {:>9}",
        "network", "mul-add", "other", "div", "transc.", "energy pJ", "median µs", "p99 µs"
    );
    for (kind, (c, median, p99)) in Spiking::ALL.iter().zip(costs) {
        println!(
            "{:<26} {:>9} {:>8} {:>6} {:>7} {:>11.0} {:>10.2} {:>9.2}",
            kind.name(),
            c.mul_add,
            c.elementwise,
            c.div,
            c.transcendental,
            c.energy_pj(),
            median,
            p99
        );
    }
}

/// The median time in µs of `f` over `repeats` runs.
fn median_us(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn sparse(settings: &Settings) {
    println!("# sparse: the QINN article's CSR layer and entangled blocks");
    println!(
        "machine: {}, {} threads; seeds {}, {} SPSA iterations per training",
        cpu_name(),
        rayon::current_num_threads(),
        settings.seeds,
        settings.iterations
    );
    println!("\n## Forward latency, dense layer against CSR (identity activation), median µs");
    println!(
        "{:>6} {:>6} {:>12} {}",
        "units",
        "batch",
        "dense",
        [0.0, 0.5, 0.8, 0.9, 0.95, 0.99]
            .iter()
            .map(|s| format!("{:>16}", format!("CSR {:.0}%", s * 100.0)))
            .collect::<String>()
    );
    let sizes: &[usize] = if settings.quick {
        &[256, 1024]
    } else {
        &[256, 1024, 4096]
    };
    for &units in sizes {
        for batch in [1, 32] {
            let repeats = (2_000_000_000 / (units * units * batch)).clamp(5, 2_000);
            let x = Array2::from_shape_fn((batch, units), |(r, k)| ((r + 3 * k) % 7) as f64 * 0.1);
            let dense = Dense::new(units, units, Activation::Identity).expect("valid");
            let dp = dense.init(Stream::new(1));
            let dense_us = median_us(repeats, || {
                std::hint::black_box(dense.forward(&dp, x.view(), None).expect("sized"));
            });
            let mut line = format!("{units:>6} {batch:>6} {dense_us:>12.1}");
            for s in [0.0, 0.5, 0.8, 0.9, 0.95, 0.99] {
                let layer =
                    SparseDense::random(units, units, s, Activation::Identity, Stream::new(2))
                        .expect("valid");
                let p = layer.init(Stream::new(3));
                let us = median_us(repeats, || {
                    std::hint::black_box(layer.forward(&p, x.view(), None).expect("sized"));
                });
                line += &format!("{:>16}", format!("{us:.1} ({:.1}×)", dense_us / us));
            }
            println!("{line}");
        }
    }

    println!("\n## Modelled energy per sample, 1,024 × 1,024 (counted multiply-adds × Horowitz 45 nm fp32)");
    for s in [0.0, 0.5, 0.9, 0.99] {
        let layer =
            SparseDense::random(1024, 1024, s, Activation::Tanh, Stream::new(2)).expect("valid");
        let p = layer.init(Stream::new(3));
        let x = Array2::from_elem((1, 1024), 0.1);
        let (_, c) = ops::counted(|| layer.forward(&p, x.view(), None));
        println!(
            "sparsity {:>4.0} %: {:>8} multiply-adds, {:>10.0} pJ ({:.3} of dense)",
            s * 100.0,
            c.mul_add,
            c.energy_pj(),
            c.mul_add as f64 / (1024.0 * 1024.0)
        );
    }

    // Accuracy against sparsity: circles, 2 → 32 tanh → 32 (sparse) tanh → 1 sigmoid.
    let data = Dataset::circles(400, 0.08, 0.5, 11);
    let x = Scaler::fit(&data.features, (-1.0, 1.0))
        .transform(&data.features)
        .expect("fitted");
    let set = static_set(&data, &x);
    let (train_set, test_set) = set.split(0.3, 11).expect("valid");
    let hidden = 32;
    let network = |middle: AnyLayer| {
        Network::new(vec![
            Dense::new(2, hidden, Activation::Tanh)
                .expect("valid")
                .into(),
            middle,
            Dense::new(hidden, 1, Activation::Sigmoid)
                .expect("valid")
                .into(),
        ])
        .expect("valid")
    };
    let accuracy = |net: &Network, p: &[f64]| {
        let y = net
            .forward_sequence(p, &test_set.sequences, None, Stream::new(0))
            .expect("sized");
        qloop::train::objective::accuracy(y.view(), test_set.targets.view())
    };
    let seeds: Vec<u64> = (1..=settings.seeds).collect();
    let sparsities = [0.0, 0.5, 0.8, 0.9, 0.95];
    // Dense training once per seed, then magnitude pruning of the middle layer.
    let dense_runs: Vec<(u64, Network, Vec<f64>)> = seeds
        .par_iter()
        .map(|&seed| {
            let net = network(
                Dense::new(hidden, hidden, Activation::Tanh)
                    .expect("valid")
                    .into(),
            );
            let p = train(
                &net,
                &train_set,
                Loss::BinaryCrossEntropy,
                seed,
                settings.iterations,
            );
            (seed, net, p)
        })
        .collect();
    println!(
        "\n## Accuracy against sparsity: circles ({} train / {} test), 2 → 32 tanh → 32 tanh (sparse) → 1 sigmoid, {} seeds",
        train_set.len(),
        test_set.len(),
        settings.seeds
    );
    println!(
        "{:>9} {:>22} {:>26}",
        "sparsity", "random mask, trained", "magnitude-pruned dense"
    );
    for s in sparsities {
        let random: Vec<f64> = seeds
            .par_iter()
            .map(|&seed| {
                let middle = SparseDense::random(
                    hidden,
                    hidden,
                    s,
                    Activation::Tanh,
                    Stream::new(seed + 100),
                )
                .expect("valid");
                let net = network(middle.into());
                let p = train(
                    &net,
                    &train_set,
                    Loss::BinaryCrossEntropy,
                    seed,
                    settings.iterations,
                );
                accuracy(&net, &p)
            })
            .collect();
        let pruned: Vec<f64> = dense_runs
            .iter()
            .map(|(_, net, p)| {
                let ranges = net.ranges(0);
                let AnyLayer::Dense(d) = &net.layers()[1] else {
                    unreachable!("dense middle")
                };
                let (sparse, sp) = SparseDense::prune(d, &p[ranges[1].clone()], s).expect("valid");
                let mut q = p[ranges[0].clone()].to_vec();
                q.extend(sp);
                q.extend(&p[ranges[2].clone()]);
                accuracy(&network(sparse.into()), &q)
            })
            .collect();
        let (rm, rs) = mean_std(&random);
        let (pm, ps) = mean_std(&pruned);
        println!(
            "{:>8.0}% {:>14.3} ± {:.3} {:>18.3} ± {:.3}",
            s * 100.0,
            rm,
            rs,
            pm,
            ps
        );
    }

    // Entangled block against k separate networks: k regression targets sharing structure.
    let k = 3;
    let samples = 300;
    let mut rng_x = Stream::new(21).rng();
    use rand::Rng;
    let xs: Vec<[f64; 2]> = (0..samples)
        .map(|_| [rng_x.random_range(-1.0..1.0), rng_x.random_range(-1.0..1.0)])
        .collect();
    let target = |x: &[f64; 2], j: usize| ((1.0 + j as f64) * 0.8 * (x[0] + 0.5 * x[1])).sin();
    let multi = SequenceSet {
        sequences: xs
            .iter()
            .map(|x| Array2::from_shape_vec((1, 2), x.to_vec()).expect("sized"))
            .collect(),
        dt: vec![vec![1.0]; samples],
        targets: Array2::from_shape_fn((samples, k), |(r, j)| target(&xs[r], j)),
    };
    let (mtrain, mtest) = multi.split(0.3, 21).expect("valid");
    let single = |set: &SequenceSet, j: usize| SequenceSet {
        targets: set.targets.slice(ndarray::s![.., j..j + 1]).to_owned(),
        ..set.clone()
    };
    let h = 16;
    let block = || {
        Network::new(vec![EntangledBlock::new(2, h, k, 1, Activation::Tanh)
            .expect("valid")
            .into()])
        .expect("valid")
    };
    let separate = |width: usize| {
        Network::dense(&[2, width, 1], Activation::Tanh, Activation::Identity).expect("valid")
    };
    // The same parameter count as the block, split over k networks.
    let fair_width = (1..=h)
        .min_by_key(|&w| (k * separate(w).num_params()).abs_diff(block().num_params()))
        .expect("non-empty");
    let mse = |net: &Network, p: &[f64], set: &SequenceSet| {
        SequenceSupervised::new(net.clone(), set.clone(), Loss::Mse, None)
            .expect("sized")
            .loss(p, Stream::new(0))
            .expect("sized")
    };
    let x1 = Array2::from_elem((1, 2), 0.3);
    let count = |net: &Network| {
        let p = net.init(Stream::new(1));
        ops::counted(|| net.forward(&p, x1.view())).1
    };
    // k networks of hidden width `width`, one per target, each with the full SPSA budget.
    let separate_row = |width: usize| {
        let net = separate(width);
        let v = seeds
            .par_iter()
            .map(|&seed| {
                (0..k)
                    .map(|j| {
                        let p = train(
                            &net,
                            &single(&mtrain, j),
                            Loss::Mse,
                            seed,
                            settings.iterations,
                        );
                        mse(&net, &p, &single(&mtest, j))
                    })
                    .sum::<f64>()
                    / k as f64
            })
            .collect();
        let c = count(&net);
        (
            format!("{k} separate networks (hidden {width})"),
            k * net.num_params(),
            k,
            c + c + c,
            v,
        )
    };
    let rows: Vec<(String, usize, usize, OpCount, Vec<f64>)> = vec![
        {
            let net = block();
            let v = seeds
                .par_iter()
                .map(|&seed| {
                    let p = train(&net, &mtrain, Loss::Mse, seed, settings.iterations);
                    mse(&net, &p, &mtest)
                })
                .collect();
            (
                format!("entangled block (trunk {h}, {k} heads)"),
                net.num_params(),
                1,
                count(&net),
                v,
            )
        },
        separate_row(h),
        separate_row(fair_width),
    ];
    println!(
        "\n## Entangled block against {k} separate networks: {k} targets sin((j+1)·0.8·(x₁ + x₂/2)), {} train / {} test; each network trained with the same {} SPSA iterations",
        mtrain.len(),
        mtest.len(),
        settings.iterations
    );
    println!(
        "{:<36} {:>7} {:>15} {:>9} {:>11} {:>20}",
        "model", "params", "forward passes", "mul-add", "energy pJ", "test MSE per target"
    );
    let base = rows[1].3.mul_add as f64;
    for (name, params, passes, c, v) in &rows {
        let (m, s) = mean_std(v);
        println!(
            "{:<36} {:>7} {:>15} {:>9} {:>11.0} {:>12.4} ± {:.4}   ({:.0} % fewer multiply-adds than hidden {h} ×{k})",
            name, params, passes, c.mul_add, c.energy_pj(), m, s, 100.0 * (1.0 - c.mul_add as f64 / base)
        );
    }
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str, default: u64| -> u64 {
        match args.iter().position(|a| a == flag) {
            None => default,
            Some(i) => match args.get(i + 1).and_then(|v| v.parse().ok()) {
                Some(v) if v > 0 => v,
                _ => {
                    eprintln!("error: {flag} needs a positive integer");
                    std::process::exit(2);
                }
            },
        }
    };
    let quick = args.iter().any(|a| a == "--quick");
    let settings = Settings {
        seeds: value("--seeds", if quick { 2 } else { 5 }),
        iterations: value("--iterations", if quick { 60 } else { 600 }),
        bits: value("--bits", if quick { 6 } else { 8 }) as usize,
        quick,
    };
    match args.first().map(String::as_str) {
        Some("liquid") => liquid(&settings),
        Some("spiking") => spiking(&settings),
        Some("sparse") => sparse(&settings),
        other => {
            eprintln!(
                "error: unknown benchmark {:?}; expected: liquid | spiking | sparse [--seeds N] [--iterations N] [--bits N] [--quick]",
                other.unwrap_or("(none)")
            );
            std::process::exit(2);
        }
    }
}
