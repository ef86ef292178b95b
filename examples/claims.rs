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
    optimize, Activation, AnyLayer, Cfc, Collapse, Dense, Layer, Loss, Ltc, Network, QsLtc, Rnn,
    RunOptions, SequenceSupervised, Spsa, Stream,
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
        other => {
            eprintln!(
                "error: unknown benchmark {:?}; expected: liquid [--seeds N] [--iterations N] [--bits N] [--quick]",
                other.unwrap_or("(none)")
            );
            std::process::exit(2);
        }
    }
}
