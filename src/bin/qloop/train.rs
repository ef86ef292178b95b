//! `qloop train`: train a hybrid model, with a progress bar, model.json and loss.svg.

use crate::common::*;

/// The arguments of `qloop train`.
#[derive(clap::Args)]
pub struct Args {
    /// TOML configuration (see the qloop::train::experiment docs for every key).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output directory.
    #[arg(long, default_value = "qloop-run")]
    out: PathBuf,
    /// Continue the interrupted run whose checkpoint is in DIR.
    #[arg(long)]
    resume: bool,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        config,
        out: dir,
        resume,
    } = args;
    // Under `mpirun`, every rank trains with the batches of evaluations split over the
    // ranks; rank 0 reports and writes.
    let ranks = crate::distributed::training_ranks();
    let mut sink = std::io::sink();
    let out: &mut dyn Write = if crate::distributed::is_root() {
        out
    } else {
        &mut sink
    };
    match train(config, dir, resume, out, ranks)? {
        Finished::Completed => Ok(()),
        Finished::Interrupted => Err(Failure::Interrupted),
    }
}

/// How a training run ended.
pub enum Finished {
    Completed,
    /// Stopped by Ctrl-C; the checkpoint is kept for `--resume`.
    Interrupted,
}

use indicatif::{ProgressBar, ProgressStyle};
use qloop::train::experiment::{Experiment, TrainConfig};
use qloop::train::parallel::Ranks;
use qloop::train::{AtomicCheckpoint, OptimState, Optimizer, Stream};
use qloop::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use argmin::core::observers::Observe;
use argmin::core::{State, KV};

/// Training accuracy of a parameter vector, when it can be computed.
type AccuracyFn = Box<dyn Fn(&[f64]) -> Option<f64>>;

/// Shows iteration, loss estimate and (every few iterations) training accuracy.
struct Progress {
    bar: ProgressBar,
    accuracy: AccuracyFn,
    last_accuracy: Option<f64>,
}

impl Observe<OptimState> for Progress {
    fn observe_iter(&mut self, state: &OptimState, _kv: &KV) -> Result<(), argmin::core::Error> {
        let k = state.get_iter() + 1;
        if k.is_multiple_of(25) || k == state.get_max_iters() {
            if let Some(p) = state.get_param() {
                self.last_accuracy = (self.accuracy)(p);
            }
        }
        let acc = self
            .last_accuracy
            .map_or(String::new(), |a| format!("  train acc {:.1}%", 100.0 * a));
        self.bar.set_position(k);
        self.bar
            .set_message(format!("loss {:.4}{acc}", state.get_cost()));
        Ok(())
    }
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The configuration and the experiment of a run, every check done and nothing written:
/// a new run from `config` (or the default), or the interrupted one in `out` (`resume`,
/// refused over MPI ranks).
fn start(
    config: Option<PathBuf>,
    out: &Path,
    resume: bool,
    distributed: bool,
) -> Result<(TrainConfig, Experiment), Error> {
    let checkpoint_path = out.join("checkpoint.bin");
    let run_config = out.join("run.toml");
    let config = if resume {
        if distributed {
            return Err(Error::Distributed(
                "--resume continues a run in one process: run qloop train --resume without mpirun"
                    .into(),
            ));
        }
        if !checkpoint_path.exists() {
            return Err(Error::Config {
                path: checkpoint_path,
                message: "nothing to resume: no checkpoint (it is removed when a run completes)"
                    .into(),
            });
        }
        let saved = TrainConfig::load(&run_config)?;
        if let Some(path) = &config {
            if TrainConfig::load(path)? != saved {
                return Err(Error::Config {
                    path: path.clone(),
                    message: format!(
                        "differs from the configuration of the interrupted run ({})",
                        run_config.display()
                    ),
                });
            }
        }
        saved
    } else {
        if checkpoint_path.exists() {
            return Err(Error::Config {
                path: checkpoint_path,
                message: "an interrupted run's checkpoint is here: continue it with --resume, or delete the file to start over".into(),
            });
        }
        match &config {
            Some(path) => TrainConfig::load(path)?,
            None => TrainConfig::default(),
        }
    };
    let experiment = Experiment::new(config.clone())?;
    Ok((config, experiment))
}

/// Trains from a configuration (or the default), writing `model.json`, `loss.svg` and, while
/// running or after Ctrl-C, `checkpoint.bin` into `out`.
pub fn train(
    config: Option<PathBuf>,
    out: PathBuf,
    resume: bool,
    w: &mut dyn Write,
    ranks: Option<Arc<dyn Ranks>>,
) -> Result<Finished, Error> {
    let setup = start(config, &out, resume, ranks.is_some());
    if let Some(ranks) = &ranks {
        // Every rank starts, or none does (no rank may be left waiting in a sum).
        let mut failed = [f64::from(u8::from(setup.is_err()))];
        ranks.sum(&mut failed);
        if failed[0] > 0.0 && setup.is_ok() {
            return Err(Error::Distributed(
                "another MPI rank could not start the training run".into(),
            ));
        }
    }
    let (config, experiment) = setup?;
    let root = ranks.as_ref().is_none_or(|r| r.rank() == 0);
    let checkpoint_path = out.join("checkpoint.bin");
    let run_config = out.join("run.toml");
    if root {
        std::fs::create_dir_all(&out).map_err(|e| io_err(&out, e))?;
        if !resume {
            // A new run replaces an earlier completed one: its model must not outlive it
            // beside the new configuration, whether or not the new run completes.
            for stale in ["model.json", "loss.svg"] {
                let path = out.join(stale);
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
                }
            }
        }
        let toml_text = toml::to_string(&config).map_err(|e| Error::Config {
            path: run_config.clone(),
            message: e.to_string(),
        })?;
        qloop::atomic::write_atomic(&run_config, toml_text.as_bytes())?;
    }

    let cfg = &experiment.config;
    let model = experiment.task.model();
    let layout = model.layout();
    let (train_size, test_size) = experiment.task.sizes();
    let what = match (cfg.data.is_sequence(), experiment.classes.len()) {
        (false, k) => format!("samples, {k} classes"),
        (true, 0) => "sequences, regression".to_string(),
        (true, k) => format!("sequences, {k} classes"),
    };
    writeln!(
        w,
        "training on {} ({train_size} train / {test_size} test {what}), seed {}",
        cfg.data.dataset, cfg.seed
    )
    .ok();
    let layers = model.network().layers();
    let network = match cfg.model.kind.as_str() {
        "dense" => format!(
            "dense {:?}",
            layers
                .iter()
                .map(qloop::train::Layer::output_width)
                .collect::<Vec<_>>()
        ),
        kind => format!(
            "{kind} {} → dense {:?}",
            cfg.model.units,
            layers[1..]
                .iter()
                .map(qloop::train::Layer::output_width)
                .collect::<Vec<_>>()
        ),
    };
    writeln!(
        w,
        "model: {} qubits × {} re-uploading layers → {} ({}) → {network}; {} parameters {}",
        model.circuit().num_qubits(),
        cfg.model.layers,
        cfg.model.readout,
        cfg.model.shots.to_string() + " shots",
        layout.len(),
        layout
    )
    .ok();

    let bar = match root {
        true => ProgressBar::new(cfg.train.iterations),
        false => ProgressBar::hidden(),
    }
    .with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} it  {msg}",
        )
        .expect("valid template"),
    );
    let task = experiment.task.clone();
    let seed = cfg.seed;
    let progress = Progress {
        bar: bar.clone(),
        accuracy: Box::new(move |p| task.train_accuracy(p, Stream::new(seed))),
        last_accuracy: None,
    };
    let start = Instant::now();
    // Over MPI ranks only rank 0 keeps a checkpoint, and Ctrl-C ends the job (mpirun's
    // signal) instead of stopping after an iteration.
    let distributed = ranks.is_some();
    let outcome = experiment.train_on(
        ranks,
        root.then(|| AtomicCheckpoint::new(&checkpoint_path)),
        !distributed,
        vec![Box::new(progress)],
    )?;
    bar.finish_and_clear();
    if !root {
        return Ok(Finished::Completed);
    }
    let wall = start.elapsed().as_secs_f64();
    match outcome.solver.as_spsa() {
        Some(spsa) => {
            let gains = spsa.gains();
            writeln!(
                w,
                "SPSA gains: a = {:?} (calibrated), c = {:?}, A = {}, α = {}, γ = {}; {} steps rejected by blocking",
                gains.a, gains.c, gains.big_a, gains.alpha, gains.gamma,
                spsa.rejected_steps()
            )
        }
        None => {
            let record = outcome.solver.record();
            writeln!(w, "{}: {}", record.name, record.settings)
        }
    }
    .ok();
    if outcome.interrupted {
        writeln!(
            w,
            "interrupted after {} iterations; checkpoint kept in {} (continue with --resume)",
            outcome.iterations,
            checkpoint_path.display()
        )
        .ok();
        return Ok(Finished::Interrupted);
    }
    let metrics = experiment.metrics(&outcome)?;
    let saved = experiment.saved_model(&outcome, metrics.clone());
    let model_path = out.join("model.json");
    let json = serde_json::to_string_pretty(&saved).map_err(|e| Error::Optimizer(e.to_string()))?;
    qloop::atomic::write_atomic(&model_path, (json + "\n").as_bytes())?;
    let plot_path = out.join("loss.svg");
    qloop::plot::loss_curve(
        &plot_path,
        &format!("qloop train: {} loss", outcome.solver.record().name),
        "loss",
        &[(
            "training loss (minibatch estimate)",
            &outcome.solver.history(),
        )],
    )?;
    std::fs::remove_file(&checkpoint_path).map_err(|e| io_err(&checkpoint_path, e))?;
    writeln!(
        w,
        "{} iterations, {} loss evaluations in {wall:.2} s ({})",
        metrics.iterations, outcome.evaluations, metrics.termination
    )
    .ok();
    match (metrics.train_accuracy, metrics.test_accuracy) {
        (Some(train), None) => writeln!(
            w,
            "train loss {:.4}  train accuracy {:.1}% (exact readout); nothing held out (test_fraction = 0)",
            metrics.train_loss,
            100.0 * train,
        ),
        (None, _) if metrics.test_mse.is_none() => writeln!(
            w,
            "train MSE {:.4} (exact readout); nothing held out (test_fraction = 0)",
            metrics.train_loss,
        ),
        (Some(train), Some(test)) => writeln!(
            w,
            "train loss {:.4}  train accuracy {:.1}%  test accuracy {:.1}% (exact readout){}",
            metrics.train_loss,
            100.0 * train,
            100.0 * test,
            metrics
                .test_accuracy_shots
                .map_or(String::new(), |a| format!(
                    ", {:.1}% ({} shots)",
                    100.0 * a,
                    cfg.model.shots
                ))
        ),
        _ => writeln!(
            w,
            "train MSE {:.4}  test MSE {:.4} (exact readout); predicting the mean: test MSE {:.4}",
            metrics.train_loss,
            metrics.test_mse.unwrap_or(f64::NAN),
            metrics.mean_baseline_mse.unwrap_or(f64::NAN)
        ),
    }
    .ok();
    if let Some(e) = &metrics.entanglement {
        let a: Vec<String> = e.subsystem.iter().map(|q| q.to_string()).collect();
        writeln!(
            w,
            "entanglement of the trained states ({} set, {} states): S({{{}}}) = {:.4} ± {:.4} {} \
             (min {:.4}, max {:.4}); mean Meyer-Wallach Q = {:.4}",
            if test_size == 0 { "training" } else { "test" },
            e.samples,
            a.join(", "),
            e.mean,
            e.std,
            e.base.unit(),
            e.min,
            e.max,
            e.meyer_wallach_mean
        )
        .ok();
    }
    writeln!(
        w,
        "wrote {} and {}",
        model_path.display(),
        plot_path.display()
    )
    .ok();
    Ok(Finished::Completed)
}
