//! Golden outputs: every bundled circuit through every reporting command of the CLI, and
//! `qloop train` with no arguments, byte for byte against `tests/golden/expected/`.
//!
//! A refactor that changes none of these changes no result. After an intended change of an
//! output, `QLOOP_UPDATE_GOLDEN=1 cargo test --test golden` rewrites the files (read the diff).
//! `QLOOP_GOLDEN_BIN=/path/to/qloop` checks another build (an older one, say) against the same
//! files. Covered: `state` JSON, seeded `run` counts, `expect` (exact and from seeded shots),
//! `entropy` (profile, Rényi in bits), `info`, `convert`, `lint`, `draw` (text, standard and
//! Feynman SVG), and of `train` the trained parameters, the loss curve, the metrics, the
//! report and `loss.svg`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn binary() -> PathBuf {
    std::env::var_os("QLOOP_GOLDEN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_qloop")))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the tool in `dir` and returns standard output and standard error, one after the other.
fn qloop(dir: &Path, args: &[String]) -> Vec<u8> {
    let out = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the qloop binary runs");
    let mut text = out.stdout;
    text.extend(out.stderr);
    text
}

/// Compares `got` with the expected file `name` (or rewrites it); returns a mismatch message.
fn check(name: &str, got: &[u8]) -> Option<String> {
    let path = root().join("tests/golden/expected").join(name);
    if std::env::var_os("QLOOP_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return None;
    }
    match std::fs::read(&path) {
        Ok(want) if want == got => None,
        Ok(_) => Some(format!("{name}: output differs from {}", path.display())),
        Err(e) => Some(format!("{name}: {}: {e}", path.display())),
    }
}

/// `--bind NAME=0.3` for every weight of a symbolic circuit.
fn bindings(circuit: &str) -> Vec<String> {
    let info = qloop(root(), &["info".into(), circuit.into(), "--json".into()]);
    let info: serde_json::Value = serde_json::from_slice(&info).expect("info --json is JSON");
    info["parameters"]["weights"]
        .as_array()
        .expect("a weight list")
        .iter()
        .flat_map(|w| ["--bind".to_string(), format!("{}=0.3", w.as_str().unwrap())])
        .collect()
}

#[test]
fn every_bundled_circuit_gives_its_recorded_outputs() {
    let tmp = std::env::temp_dir().join(format!("qloop-golden-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut circuits: Vec<PathBuf> = std::fs::read_dir(root().join("circuits"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    circuits.sort();
    let mut failures = Vec::new();
    for path in &circuits {
        let file = path.to_str().unwrap().to_string();
        let name = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace('.', "_");
        let bind = bindings(&file);
        let with = |args: &[&str], bound: bool| -> Vec<String> {
            let mut v: Vec<String> = vec![args[0].into(), file.clone()];
            if bound {
                v.extend(bind.iter().cloned());
            }
            v.extend(args[1..].iter().map(|s| s.to_string()));
            v
        };
        let observable = "0.5*Z0*Z1 + X1 - 0.25*Y0";
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("state", with(&["state"], true)),
            (
                "run",
                with(&["run", "--shots", "1000", "--seed", "1", "--json"], true),
            ),
            (
                "expect",
                with(&["expect", "--observable", observable], true),
            ),
            (
                "estimate",
                with(
                    &[
                        "expect",
                        "--observable",
                        observable,
                        "--shots",
                        "4000",
                        "--seed",
                        "2",
                        "--json",
                    ],
                    true,
                ),
            ),
            ("entropy", with(&["entropy", "--profile", "--json"], true)),
            (
                "renyi",
                with(
                    &["entropy", "--subsystem", "0", "--renyi", "2", "--base", "2"],
                    true,
                ),
            ),
            ("info", with(&["info", "--json"], false)),
            ("convert", with(&["convert", "--to", "json"], false)),
            ("lint", with(&["lint", "--json"], false)),
            ("text", with(&["draw", "--format", "text"], false)),
        ];
        for (what, args) in cases {
            failures.extend(check(&format!("{name}.{what}"), &qloop(root(), &args)));
        }
        for (what, style) in [("svg", "standard"), ("feynman.svg", "feynman")] {
            let svg = tmp.join(format!("{name}.{what}"));
            let args = with(
                &["draw", "--style", style, "-o", svg.to_str().unwrap()],
                false,
            );
            let printed = qloop(root(), &args);
            let drawn = std::fs::read(&svg).unwrap_or(printed);
            failures.extend(check(&format!("{name}.{what}"), &drawn));
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn default_training_gives_its_recorded_parameters() {
    let tmp = std::env::temp_dir().join(format!("qloop-golden-train-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let log = String::from_utf8(qloop(&tmp, &["train".into()])).unwrap();
    let model = std::fs::read(tmp.join("qloop-run/model.json")).expect("train writes model.json");
    let plot = std::fs::read(tmp.join("qloop-run/loss.svg")).expect("train writes loss.svg");
    std::fs::remove_dir_all(&tmp).ok();
    let model: serde_json::Value = serde_json::from_slice(&model).unwrap();
    let trained = serde_json::json!({
        "params": model["params"],
        "loss_history": model["loss_history"],
        "metrics": model["metrics"],
    });
    // Every line of the report but the timing.
    let report: String = log
        .lines()
        .filter(|l| !(l.contains("loss evaluations in") && l.contains(" s (")))
        .map(|l| format!("{l}\n"))
        .collect();
    let failures: Vec<String> = [
        check("trained.json", format!("{trained}\n").as_bytes()),
        check("train.log", report.as_bytes()),
        check("loss.svg", &plot),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
