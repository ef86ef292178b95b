//! `qloop predict`: evaluate a trained model (model.json) on samples.

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
        required = true,
        value_name = "X1,X2,...",
        allow_hyphen_values = true
    )]
    inputs: Vec<String>,
    /// Print one JSON object per sample.
    #[arg(long)]
    json: bool,
}

/// Runs the command, writing its report to `out`.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Failure> {
    let Args {
        model,
        inputs,
        json,
    } = args;
    predict(&model, &inputs, json, out)?;
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
