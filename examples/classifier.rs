//! Hybrid classifier on Iris with shot-based readout: 4 qubits with the features re-uploaded
//! in 2 layers, ⟨Z_q⟩ estimated from 1000 shots per circuit evaluation, a dense 4 → 8 → 3
//! stack, cross-entropy, SPSA on all 75 parameters at once (`qloop train`'s default model).
//!
//! Run with `cargo run --release --example classifier`.

use qloop::train::experiment::{Experiment, Task, TrainConfig};
use qloop::train::objective::argmax_rows;
use qloop::train::Stream;

fn main() -> qloop::Result<()> {
    let config = TrainConfig::default();
    let experiment = Experiment::new(config.clone())?;
    let Task::Samples { objective, test } = &experiment.task else {
        unreachable!("Iris is a data set of samples")
    };
    let layout = objective.model.layout();
    println!(
        "Iris: {} training / {} test samples; {} qubits, {} layers, {} shots per evaluation; {} parameters {layout}",
        objective.x.nrows(),
        test.0.nrows(),
        objective.model.circuit().num_qubits(),
        config.model.layers,
        config.model.shots,
        layout.len()
    );
    let start = std::time::Instant::now();
    let outcome = experiment.train(None, false, vec![])?;
    let metrics = experiment.metrics(&outcome)?;
    println!(
        "{} SPSA iterations in {:.2} s (seed {}); calibrated gains a = {:.3?}",
        outcome.iterations,
        start.elapsed().as_secs_f64(),
        config.seed,
        outcome.solver.as_spsa().map(|s| s.gains().a)
    );
    println!(
        "train accuracy {:.1}%, test accuracy {:.1}% with exact readout, {:.1}% with {} shots",
        100.0 * metrics.train_accuracy.unwrap_or(f64::NAN),
        100.0 * metrics.test_accuracy.unwrap_or(f64::NAN),
        100.0 * metrics.test_accuracy_shots.unwrap_or(f64::NAN),
        config.model.shots
    );
    // Confusion matrix on the test part, shot-based readout.
    let y = objective
        .model
        .forward(&outcome.params, test.0.view(), Stream::new(1))?;
    let (pred, truth) = (argmax_rows(y.view()), argmax_rows(test.1.view()));
    let k = experiment.classes.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (p, t) in pred.iter().zip(&truth) {
        confusion[*t][*p] += 1;
    }
    println!("confusion matrix (rows: true class, columns: predicted):");
    for (t, row) in confusion.iter().enumerate() {
        println!("  {:<11} {:?}", experiment.classes[t], row);
    }
    let target = 0.9;
    let acc = metrics
        .test_accuracy_shots
        .or(metrics.test_accuracy)
        .unwrap_or(0.0);
    println!(
        "target ≥ {:.0}% test accuracy: {}",
        100.0 * target,
        if acc >= target { "met" } else { "NOT met" }
    );
    Ok(())
}
