//! A recurrent hybrid cell predicting the next value of a noisy sine, against a purely
//! classical recurrent cell with the same number of parameters, both trained by SPSA with the
//! same budget.
//!
//! Quantum cell (9 parameters): x_t and the fed-back output h_{t−1} are encoded as RY angles on
//! two qubits, followed by 3 × [RY(θ) on both qubits, CNOT], ⟨Z_0⟩ and ⟨Z_1⟩ are read exactly,
//! and a dense 2 → 1 tanh layer gives h_t. Classical cell (9 parameters): h_t = tanh(w · tanh(W
//! [x_t, h_{t−1}] + b) + b'), W 2 × 2. The prediction is h after the last step of a window of
//! 6 values.
//!
//! Run with `cargo run --release --example sequence`.

use ndarray::{array, Array2};
use qloop::train::{
    optimize, Activation, CostFunction, HybridModel, Network, Objective, Probe, Readout,
    ReadoutSpec, RecurrentModel, RunOptions, SequenceRegression, Spsa, Stream,
};
use qloop::{Circuit, Param};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;

const WINDOW: usize = 6;
const ITERATIONS: u64 = 1500;

/// Windows of a noisy sine (amplitude 0.8) and the value that follows each.
fn windows(start: usize, count: usize, seed: u64) -> (Vec<Array2<f64>>, Vec<f64>) {
    let mut rng = Stream::new(seed).rng();
    let noise = Normal::new(0.0, 0.05).expect("valid");
    let series: Vec<f64> = (0..start + count + WINDOW + 1)
        .map(|t| 0.8 * (0.35 * t as f64).sin() + noise.sample(&mut rng))
        .collect();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in start..start + count {
        xs.push(Array2::from_shape_fn((WINDOW, 1), |(t, _)| series[s + t]));
        ys.push(series[s + WINDOW]);
    }
    (xs, ys)
}

/// The classical baseline: an Elman-style cell with one hidden layer of width 2.
#[derive(Clone)]
struct ClassicalRnn {
    cell: Network,
    sequences: Vec<Array2<f64>>,
    targets: Vec<f64>,
}

impl ClassicalRnn {
    fn predict(&self, params: &[f64]) -> qloop::Result<Vec<f64>> {
        self.sequences
            .iter()
            .map(|seq| {
                let mut h = 0.0;
                for t in 0..seq.nrows() {
                    h = self.cell.forward(params, array![[seq[[t, 0]], h]].view())?[[0, 0]];
                }
                Ok(h)
            })
            .collect()
    }
}

impl Objective for ClassicalRnn {
    fn num_params(&self) -> usize {
        self.cell.num_params()
    }
}

impl CostFunction for ClassicalRnn {
    type Param = Probe;
    type Output = f64;
    fn cost(&self, probe: &Probe) -> Result<f64, argmin::core::Error> {
        Ok(self.loss(&probe.params)?)
    }
}

impl ClassicalRnn {
    /// The mean squared error at `params` (the cell is deterministic: no stream).
    fn loss(&self, params: &[f64]) -> qloop::Result<f64> {
        Ok(mse(&self.predict(params)?, &self.targets))
    }
}

fn mse(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64
}

fn main() -> qloop::Result<()> {
    let (train_x, train_y) = windows(0, 80, 1);
    let (test_x, test_y) = windows(200, 40, 1);

    let mut circuit = Circuit::new(2)
        .ry(PI / 2.0 * Param::input("x"), 0)
        .ry(PI / 2.0 * Param::input("h"), 1);
    for l in 0..3 {
        circuit = circuit
            .ry(Param::weight(format!("t{l}_0")), 0)
            .ry(Param::weight(format!("t{l}_1")), 1)
            .cx(0, 1);
    }
    let head = Network::dense(&[2, 1], Activation::Tanh, Activation::Tanh)?;
    let cell = HybridModel::new(circuit, ReadoutSpec::exact(Readout::ExpectationZ), head)?;
    let quantum = SequenceRegression {
        model: RecurrentModel::new(cell, 1)?,
        sequences: train_x.clone(),
        targets: train_y.clone(),
    };
    let classical = ClassicalRnn {
        cell: Network::dense(&[2, 2, 1], Activation::Tanh, Activation::Tanh)?,
        sequences: train_x.clone(),
        targets: train_y.clone(),
    };
    let dims = (quantum.num_params(), classical.num_params());
    println!("noisy sine, windows of {WINDOW}, 80 training / 40 test windows; parameters: hybrid {}, classical {}", dims.0, dims.1);

    let options = RunOptions {
        max_iters: ITERATIONS,
        ..Default::default()
    };
    let mut rng = Stream::new(4).rng();
    let init_q: Vec<f64> = (0..dims.0).map(|_| rng.random_range(-0.5..0.5)).collect();
    let init_c: Vec<f64> = (0..dims.1).map(|_| rng.random_range(-0.5..0.5)).collect();
    let start = std::time::Instant::now();
    let q = optimize(
        quantum.clone(),
        Spsa::new(2),
        init_q,
        options.clone(),
        vec![],
    )?;
    let tq = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    let c = optimize(classical.clone(), Spsa::new(2), init_c, options, vec![])?;
    let tc = start.elapsed().as_secs_f64();

    let quantum_test = SequenceRegression {
        sequences: test_x.clone(),
        targets: test_y.clone(),
        ..quantum.clone()
    };
    let classical_test = ClassicalRnn {
        sequences: test_x,
        targets: test_y.clone(),
        ..classical.clone()
    };
    let naive = mse(&test_x_last(&quantum_test.sequences), &test_y);
    println!("{ITERATIONS} SPSA iterations each (qloop defaults):");
    println!(
        "  hybrid recurrent cell:    train MSE {:.5}  test MSE {:.5}  ({tq:.2} s)",
        quantum.loss(&q.params, Stream::new(0))?,
        quantum_test.loss(&q.params, Stream::new(0))?
    );
    println!(
        "  classical recurrent cell: train MSE {:.5}  test MSE {:.5}  ({tc:.2} s)",
        classical.loss(&c.params)?,
        classical_test.loss(&c.params)?
    );
    println!("  repeat-the-last-value baseline: test MSE {naive:.5}; noise floor (σ² of the added noise) 0.00250");
    let preds = quantum_test.predict(&q.params, Stream::new(0))?;
    println!("  first test windows, target vs hybrid prediction:");
    for (t, p) in test_y.iter().zip(&preds).take(5) {
        println!("    {t:+.3}  {p:+.3}");
    }
    Ok(())
}

fn test_x_last(seqs: &[Array2<f64>]) -> Vec<f64> {
    seqs.iter().map(|s| s[[s.nrows() - 1, 0]]).collect()
}
