//! `qloop predict`: evaluate a trained model (model.json) on samples or, for a model trained
//! on sequences, on sequences with their elapsed times.

use crate::common::*;
use qloop::train::experiment::SavedModel;

/// The arguments of `qloop predict`.
#[derive(clap::Args)]
pub struct Args {
    /// The model file written by `qloop train`.
    #[arg(long)]
    model: PathBuf,
    /// One sample as comma-separated raw feature values (repeatable).
    #[arg(
        long = "input",
        required_unless_present = "sequences",
        value_name = "X1,X2,...",
        allow_hyphen_values = true
    )]
    inputs: Vec<String>,
    /// One sequence for a sequence model: steps separated by ';', each step's raw channel
    /// values by ',' (repeatable).
    #[arg(
        long = "sequence",
        value_name = "X1,X2;X1,X2;...",
        allow_hyphen_values = true,
        conflicts_with = "inputs"
    )]
    sequences: Vec<String>,
    /// Elapsed time before each step of the matching --sequence, comma-separated (repeatable,
    /// in the order of the sequences; all 1 when absent).
    #[arg(
        long = "dt",
        value_name = "DT1,DT2,...",
        requires = "sequences",
        allow_hyphen_values = true
    )]
    dts: Vec<String>,
    /// Print one JSON object per sample.
    #[arg(long)]
    json: bool,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        model,
        inputs,
        sequences,
        dts,
        json,
    } = args;
    if sequences.is_empty() {
        predict(&model, &inputs, json, out)?;
    } else {
        predict_sequences(&model, &sequences, &dts, json, out)?;
    }
    Ok(())
}

/// Evaluates a saved sequence model on sequences given as `;`-separated steps of
/// comma-separated channel values, with optional elapsed times.
pub fn predict_sequences(
    model: &Path,
    sequences: &[String],
    dts: &[String],
    json: bool,
    w: &mut dyn Write,
) -> Result<(), Error> {
    let saved = SavedModel::load(model)?;
    if !saved.reads_sequences() {
        return Err(Error::Shape {
            context: "--sequence".into(),
            message: format!(
                "{} was trained on samples ({}); give them with --input",
                model.display(),
                saved.config.data.dataset
            ),
        });
    }
    if !dts.is_empty() && dts.len() != sequences.len() {
        return Err(Error::Shape {
            context: "--dt".into(),
            message: format!(
                "{} lists of elapsed times for {} sequences; give one --dt per --sequence or none",
                dts.len(),
                sequences.len()
            ),
        });
    }
    let width = saved.scaler.min.len();
    let mut parsed = Vec::new();
    for (k, text) in sequences.iter().enumerate() {
        let context = format!("--sequence {}", k + 1);
        let mut values = Vec::new();
        let steps: Vec<&str> = text.split(';').filter(|s| !s.trim().is_empty()).collect();
        for (t, step) in steps.iter().enumerate() {
            let row = parse_sample(step, &format!("{context}, step {}", t + 1))?;
            if row.len() != width {
                return Err(Error::Shape {
                    context: format!("{context}, step {}", t + 1),
                    message: format!("the model reads {width} channels, got {}", row.len()),
                });
            }
            values.extend(row);
        }
        if steps.is_empty() {
            return Err(Error::Shape {
                context,
                message: "a sequence needs at least one step".into(),
            });
        }
        parsed.push(
            ndarray::Array2::from_shape_vec((steps.len(), width), values).expect("steps × width"),
        );
    }
    let mut elapsed = Vec::new();
    for (k, text) in dts.iter().enumerate() {
        let context = format!("--dt {}", k + 1);
        let d = parse_sample(text, &context)?;
        if d.len() != parsed[k].nrows() {
            return Err(Error::Shape {
                context,
                message: format!(
                    "{} elapsed times for a sequence of {} steps",
                    d.len(),
                    parsed[k].nrows()
                ),
            });
        }
        if let Some(bad) = d.iter().find(|&&v| v <= 0.0) {
            return Err(Error::Shape {
                context,
                message: format!("elapsed times must be positive, got {bad}"),
            });
        }
        elapsed.push(d);
    }
    let y = saved.predict_sequences(&parsed, (!elapsed.is_empty()).then_some(&elapsed[..]))?;
    for (k, row) in y.outer_iter().enumerate() {
        let value = row[0];
        let class =
            (!saved.classes.is_empty()).then(|| saved.classes[(value >= 0.5) as usize].clone());
        if json {
            let v = serde_json::json!({"sequence": k + 1, "steps": parsed[k].nrows(), "output": row.to_vec(), "class": class});
            writeln!(w, "{v}").ok();
        } else {
            let label = class.map_or(String::new(), |c| format!("  →  {c}"));
            writeln!(
                w,
                "sequence {} ({} steps): {value:.4}{label}",
                k + 1,
                parsed[k].nrows()
            )
            .ok();
        }
    }
    Ok(())
}

/// Evaluates a saved model on samples given as comma-separated feature values.
pub fn predict(
    model: &Path,
    inputs: &[String],
    json: bool,
    w: &mut dyn Write,
) -> Result<(), Error> {
    let saved = SavedModel::load(model)?;
    if saved.reads_sequences() {
        return Err(Error::Shape {
            context: "--input".into(),
            message: format!(
                "{} reads sequences ({}); give them with --sequence",
                model.display(),
                saved.config.data.dataset
            ),
        });
    }
    let width = saved.scaler.min.len();
    let mut values = Vec::new();
    for (k, text) in inputs.iter().enumerate() {
        let row = parse_sample(text, &format!("--input {}", k + 1))?;
        if row.len() != width {
            return Err(Error::Shape {
                context: format!("--input {}", k + 1),
                message: format!("the model takes {width} features, got {}", row.len()),
            });
        }
        values.extend(row);
    }
    let x = ndarray::Array2::from_shape_vec((inputs.len(), width), values).expect("rows × width");
    let y = saved.predict(&x)?;
    let classes = qloop::train::objective::argmax_rows(y.view());
    let label = |i: usize, row: &[f64]| -> String {
        if row.len() == 1 {
            saved.classes[(row[0] >= 0.5) as usize].clone()
        } else {
            saved.classes[classes[i]].clone()
        }
    };
    for (i, row) in y.outer_iter().enumerate() {
        let row = row.to_vec();
        if json {
            let v = serde_json::json!({"input": x.row(i).to_vec(), "output": row, "class": label(i, &row)});
            writeln!(w, "{v}").ok();
        } else {
            let probs: Vec<String> = row.iter().map(|p| format!("{p:.4}")).collect();
            writeln!(
                w,
                "{}  →  {}  [{}]",
                inputs[i],
                label(i, &row),
                probs.join(", ")
            )
            .ok();
        }
    }
    Ok(())
}
