//! `qloop minimize`: the ground energy of an observable over a parameterized circuit's
//! weights: gradient-free with Rotosolve (the default: exact minimization along one angle at a
//! time), SPSA, 2-SPSA or QN-SPSA, or with gradients (L-BFGS, steepest descent, Adam): exact
//! adjoint gradients, or parameter-shift gradients from `--shots`.

use crate::common::*;
use qloop::gradient::{AdjointEnergy, EnergyGradient, ShiftEnergy};
use qloop::limits::MAX_ITERATIONS;
use qloop::train::{
    minimize, optimize, Descent, Energy, Rotosolve, RunOptions, SecondOrderSpsa, Spsa, Stream,
};
use qloop::PauliSum;
use rand::Rng;

/// The optimizers of `qloop minimize`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    /// Rotosolve: each weight in turn moves to the exact minimum of the energy along it,
    /// reconstructed from 2K evaluations (two for a rotation angle); stops when a sweep no
    /// longer lowers the energy. With --shots the current energy is measured afresh every
    /// sweep.
    Rotosolve,
    /// SPSA tuned for a fixed budget (`Spsa::budgeted`: two energies per iteration, no
    /// blocking, c = 0.15, calibrated first step 2.5).
    Spsa,
    /// 2-SPSA: SPSA with a running Hessian estimate (four energies per iteration, and one at
    /// the new point).
    #[value(name = "2spsa")]
    TwoSpsa,
    /// QN-SPSA: SPSA preconditioned by the states' Fubini–Study metric from four fidelities
    /// per iteration (exact states; not with --shots).
    Qnspsa,
    /// L-BFGS on exact gradients, Moré–Thuente line search.
    Lbfgs,
    /// Steepest descent on exact gradients, Moré–Thuente line search.
    Steepest,
    /// Adam on exact gradients (step 0.05).
    Adam,
}

/// The arguments of `qloop minimize`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// The observable (as for `qloop expect`).
    #[arg(long, allow_hyphen_values = true)]
    observable: String,
    /// The optimizer.
    #[arg(long, value_enum, default_value = "rotosolve")]
    optimizer: Choice,
    /// Budget of circuit evaluations: energies for Rotosolve and SPSA; for the gradient methods one per
    /// adjoint gradient, or, with --shots, one per energy and per shifted circuit.
    #[arg(long, default_value_t = 2000)]
    max_evals: u64,
    /// Estimate every energy from this many shots per measurement group (gradients then by
    /// parameter shifts); exact without.
    #[arg(long)]
    shots: Option<usize>,
    /// Starting weights: whitespace-separated numbers in the order `qloop info` lists the
    /// weights (default: uniform in [−π, π) from --seed).
    #[arg(long, value_name = "FILE")]
    init: Option<PathBuf>,
    /// Seed of the optimizer's randomness and of the random start.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print {"energy": e, "evaluations": n, "params": [...], "optimizer": name}.
    #[arg(long)]
    json: bool,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let circuit = load_bound(&args.input)?;
    let observable: PauliSum = args.observable.parse()?;
    let energy = Energy::new(&circuit, observable.clone(), args.shots)?;
    let shift = ShiftEnergy::new(&circuit, observable.clone(), args.shots)?;
    let n = shift.num_weights();
    if n == 0 {
        return Err(Error::Optimizer(format!(
            "{} has no weights to minimize over",
            args.input.file.display()
        ))
        .into());
    }
    let init = match &args.init {
        Some(path) => read_init(path, n)?,
        None => {
            let mut rng = Stream::new(args.seed).child(99).rng();
            (0..n)
                .map(|_| rng.random_range(-std::f64::consts::PI..std::f64::consts::PI))
                .collect()
        }
    };
    if !(1..=MAX_ITERATIONS).contains(&args.max_evals) {
        return Err(Error::Optimizer(format!(
            "--max-evals must lie in 1..={MAX_ITERATIONS}, got {}",
            args.max_evals
        ))
        .into());
    }
    let options = RunOptions {
        max_iters: u64::MAX,
        max_evals: Some(args.max_evals),
        ..Default::default()
    };
    let (params, evaluations, settings) = match args.optimizer {
        Choice::Rotosolve => {
            let solver = Rotosolve::for_circuit(&circuit)?
                .with_seed(args.seed)
                .remeasure(args.shots.is_some());
            let outcome = optimize(energy.clone(), solver, init, options, vec![])?;
            let settings = format!("Rotosolve, {}", outcome.termination);
            (outcome.params, outcome.evaluations, settings)
        }
        Choice::Spsa => {
            let solver = Spsa::budgeted(args.seed, n);
            let outcome = optimize(energy.clone(), solver, init, options, vec![])?;
            let settings = format!("SPSA, seed {}, {}", args.seed, outcome.termination);
            (outcome.params, outcome.evaluations, settings)
        }
        Choice::TwoSpsa | Choice::Qnspsa => {
            if args.optimizer == Choice::Qnspsa && args.shots.is_some() {
                return Err(Error::Optimizer(
                    "qnspsa computes exact state fidelities; it does not take --shots".into(),
                )
                .into());
            }
            let solver = match args.optimizer {
                Choice::TwoSpsa => SecondOrderSpsa::hessian(args.seed),
                _ => SecondOrderSpsa::metric(args.seed),
            };
            let name = solver.label();
            let outcome = optimize(energy.clone(), solver, init, options, vec![])?;
            let settings = format!("{name}, seed {}, {}", args.seed, outcome.termination);
            (outcome.params, outcome.evaluations, settings)
        }
        choice => {
            let method = match choice {
                Choice::Lbfgs => Descent::LBFGS,
                Choice::Steepest => Descent::Steepest,
                _ => Descent::ADAM,
            };
            let stream = Stream::new(args.seed).child(7);
            let (run, gradients) = match args.shots {
                None => {
                    let adjoint = AdjointEnergy::new(&circuit, observable)?;
                    let run = minimize(
                        &adjoint,
                        stream,
                        init,
                        method,
                        u64::MAX,
                        args.max_evals,
                        1e-10,
                    )?;
                    let shifted = run.calls * shift.evaluations_per_call();
                    let note = format!(
                        "adjoint gradients; {shifted} circuit evaluations with parameter shifts"
                    );
                    (run, note)
                }
                Some(s) => {
                    let run =
                        minimize(&shift, stream, init, method, u64::MAX, args.max_evals, 0.0)?;
                    (
                        run,
                        format!("parameter-shift gradients, {s} shots per estimate"),
                    )
                }
            };
            let settings = format!("{method:?}, {}; {gradients}", run.termination);
            (run.params, run.evaluations, settings)
        }
    };
    let e = energy.exact(&params)?;
    if args.json {
        let v = serde_json::json!({
            "energy": e,
            "evaluations": evaluations,
            "params": params,
            "optimizer": settings,
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "energy {e} after {evaluations} evaluations ({settings})"
        )?;
        let list: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        writeln!(out, "params {}", list.join(" "))?;
    }
    Ok(())
}

/// `n` finite numbers separated by whitespace, from `path` (refused unread when the file is
/// far longer than `n` numbers can be).
fn read_init(path: &Path, n: usize) -> Result<Vec<f64>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let limit = 64 * n as u64 + 4096;
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > limit {
        return Err(Error::Shape {
            context: format!("{}", path.display()),
            message: format!("{size} bytes for {n} starting values (at most {limit})"),
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut values = Vec::new();
    for (i, word) in text.split_whitespace().enumerate() {
        match word.parse::<f64>() {
            Ok(v) if v.is_finite() => values.push(v),
            _ => {
                return Err(Error::Shape {
                    context: format!("{}", path.display()),
                    message: format!("value {} ('{word}') is not a finite number", i + 1),
                })
            }
        }
    }
    if values.len() != n {
        return Err(Error::Shape {
            context: format!("{}", path.display()),
            message: format!("{} starting values for {n} weights", values.len()),
        });
    }
    Ok(values)
}
