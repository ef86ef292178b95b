//! `mpirun -n 2` and `-n 4` against the single process, through the CLI (feature `mpi`):
//! random circuits of 10–12 qubits with gates on every local/global combination, the bundled
//! circuits, per-rank state files, expectations, sampled counts, entropies, data-parallel training, a refused rank count, a circuit too small to split and a command
//! that runs undistributed. The ranks talk only over shared memory and loopback, inside a
//! private network namespace with only `lo` when `unshare` can make one.
#![cfg(feature = "mpi")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn qloop() -> &'static str {
    env!("CARGO_BIN_EXE_qloop")
}

/// `qloop ARGS` under `mpirun -n RANKS` (loopback only), or alone for `ranks = 0`.
fn run(ranks: usize, args: &[&str]) -> Output {
    let mut mpirun: Vec<String> = vec![
        "mpirun".into(),
        "-n".into(),
        ranks.to_string(),
        "--oversubscribe".into(),
    ];
    for (k, v) in [
        ("btl", "self,vader"),
        ("pml", "ob1"),
        ("oob_tcp_if_include", "lo"),
        ("btl_tcp_if_include", "lo"),
    ] {
        mpirun.extend(["--mca".into(), k.into(), v.into()]);
    }
    mpirun.push(qloop().into());
    mpirun.extend(args.iter().map(|s| s.to_string()));
    // A private namespace where `unshare` and `ip` (iproute2) can make one; otherwise the
    // shared-memory and loopback transports alone.
    let private = Command::new("unshare")
        .args(["--net", "sh", "-c", "ip link set lo up"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = match (ranks, private) {
        (0, _) => {
            let mut c = Command::new(qloop());
            c.args(args);
            c
        }
        (_, true) => {
            let mut c = Command::new("unshare");
            c.args([
                "--net",
                "sh",
                "-c",
                "ip link set lo up && exec \"$@\"",
                "sh",
            ]);
            c.args(&mpirun);
            c
        }
        (_, false) => {
            let mut c = Command::new(&mpirun[0]);
            c.args(&mpirun[1..]);
            c
        }
    };
    cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .expect("mpirun runs (Debian package openmpi-bin)")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn amplitudes(json: &str) -> Vec<(f64, f64)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["amplitudes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a[0].as_f64().unwrap(), a[1].as_f64().unwrap()))
        .collect()
}

fn assert_same_state(single: &str, distributed: &str, what: &str) {
    let (a, b) = (amplitudes(single), amplitudes(distributed));
    assert_eq!(a.len(), b.len(), "{what}");
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x.0 - y.0).abs().max((x.1 - y.1).abs()))
        .fold(0.0, f64::max);
    assert!(
        worst < 1e-12,
        "{what}: largest amplitude difference {worst}"
    );
}

fn random_qasm(dir: &Path, seed: u64, n: usize) -> PathBuf {
    let circuit = common::random_circuit(n, 150, seed);
    let path = dir.join(format!("random{seed}.qasm"));
    std::fs::write(&path, qloop::qasm::export(&circuit).unwrap()).unwrap();
    path
}

#[test]
fn distributed_state_and_expect_equal_the_single_process() {
    let dir = std::env::temp_dir().join(format!("qloop-mpi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let observable = "0.5*X9*Y8 + Z0*Z9 - 0.25*Y1*X9";
    for (seed, n) in [(1, 10), (2, 11), (3, 12)] {
        let file = random_qasm(&dir, seed, n);
        let file = file.to_str().unwrap();
        let single = stdout(&run(0, &["state", file]));
        let e1: f64 = stdout(&run(0, &["expect", file, "--observable", observable]))
            .trim()
            .parse()
            .unwrap();
        for ranks in [2, 4] {
            let what = format!("seed {seed}, {n} qubits, {ranks} ranks");
            assert_same_state(&single, &stdout(&run(ranks, &["state", file])), &what);
            let e: f64 = stdout(&run(ranks, &["expect", file, "--observable", observable]))
                .trim()
                .parse()
                .unwrap();
            assert!((e - e1).abs() < 1e-12, "{what}: {e} vs {e1}");
        }
        // Counts sampled over the ranks are the single process's, for both samplers.
        for shots in ["3000", "2000000"] {
            let args = ["run", file, "--shots", shots, "--seed", "5", "--json"];
            let single = stdout(&run(0, &args));
            for ranks in [2, 4] {
                assert_eq!(
                    single,
                    stdout(&run(ranks, &args)),
                    "seed {seed}, {ranks} ranks"
                );
            }
        }
        // Entropies over the ranks: cuts through global qubits, the profile, Rényi orders.
        let values = |v: &serde_json::Value| -> Vec<f64> {
            let mut out = vec![
                v["entropy"].as_f64().unwrap(),
                v["renyi"]["value"].as_f64().unwrap(),
            ];
            out.extend(
                v["profile"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap()),
            );
            out
        };
        let last = (n - 1).to_string();
        for (cut, alpha) in [
            ("0,1,2", "2"),
            (&format!("{last},0") as &str, "0.5"),
            ("1,2,3,4,5,6,7,8", "inf"),
        ] {
            let args = [
                "entropy",
                file,
                "--subsystem",
                cut,
                "--renyi",
                alpha,
                "--profile",
                "--json",
            ];
            let single: serde_json::Value = serde_json::from_str(&stdout(&run(0, &args))).unwrap();
            for ranks in [2, 4] {
                let got: serde_json::Value =
                    serde_json::from_str(&stdout(&run(ranks, &args))).unwrap();
                for (a, b) in values(&got).iter().zip(values(&single)) {
                    assert!(
                        (a - b).abs() < 1e-12,
                        "seed {seed}, cut {cut}, {ranks} ranks: {got} vs {single}"
                    );
                }
                assert_eq!(got["subsystem"], single["subsystem"]);
            }
        }
        // Without --seed, rank 0's random seed is the one every rank samples with.
        let v: serde_json::Value =
            serde_json::from_str(&stdout(&run(4, &["run", file, "--shots", "100", "--json"])))
                .unwrap();
        let total: u64 = v["counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c.as_u64().unwrap())
            .sum();
        assert_eq!(total, 100, "{v}");
        let seed = v["seed"].as_u64().unwrap().to_string();
        let again = stdout(&run(
            0,
            &["run", file, "--shots", "100", "--json", "--seed", &seed],
        ));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&again).unwrap(),
            v
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bundled_circuits_and_other_commands_give_the_same_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "qft4.qasm",
        "ghz5.qasm",
        "grover3.qasm",
        "teleport.qasm",
        "syndrome3.qasm",
    ] {
        let file = root.join("circuits").join(name);
        if !file.exists() {
            continue;
        }
        let file = file.to_str().unwrap();
        // Split over 4 ranks (at least 2 local qubits each); over 8, the 3- and 4-qubit ones
        // run on rank 0 alone; dynamic circuits (no statevector) are left to `run`.
        if !name.starts_with("teleport") && !name.starts_with("syndrome") {
            let single = stdout(&run(0, &["state", file]));
            assert_same_state(&single, &stdout(&run(4, &["state", file])), name);
            assert_eq!(single, stdout(&run(8, &["state", file])), "{name}");
        }
        let counts = ["run", file, "--shots", "500", "--seed", "3"];
        assert_eq!(stdout(&run(0, &counts)), stdout(&run(2, &counts)), "{name}");
    }
}

#[test]
fn a_rank_count_that_is_not_a_power_of_two_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("circuits/qft4.qasm");
    let out = run(3, &["state", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 MPI ranks is not a power of two"), "{err}");
    assert_eq!(
        err.matches("qloop: error").count(),
        1,
        "one line, from rank 0: {err}"
    );
}

/// `mpirun -n R qloop train` splits the batches of evaluations over the ranks and writes the
/// single process's model, byte for byte; `--resume` is refused in one line.
#[test]
fn data_parallel_training_writes_the_single_process_model() {
    let dir = std::env::temp_dir().join(format!("qloop-mpi-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("small.toml");
    std::fs::write(
        &config,
        "seed = 3\n[train]\niterations = 30\nresamplings = 2\n",
    )
    .unwrap();
    let train = |ranks: usize, out: &str| {
        let out = dir.join(out);
        let args = [
            "train",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        stdout(&run(ranks, &args));
        std::fs::read(out.join("model.json")).unwrap()
    };
    let single = train(0, "one");
    for ranks in [2, 4] {
        assert!(
            single == train(ranks, &format!("ranks{ranks}")),
            "{ranks} ranks"
        );
    }
    let out = dir.join("ranks2");
    let resume = run(2, &["train", "--resume", "--out", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&resume.stderr);
    assert!(
        !resume.status.success() && err.contains("--resume continues a run in one process"),
        "{err}"
    );
    assert_eq!(err.matches("qloop: error").count(), 1, "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `state --output FILE --per-rank` writes each rank's block and a manifest; put together in
/// the manifest's order they are the single process's state.
#[test]
fn per_rank_state_files_put_together_are_the_state() {
    let dir = std::env::temp_dir().join(format!("qloop-mpi-parts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = random_qasm(&dir, 9, 11);
    let file = file.to_str().unwrap();
    let single = amplitudes(&stdout(&run(0, &["state", file])));
    for ranks in [2, 4] {
        let manifest = dir.join(format!("state{ranks}.json"));
        let args = [
            "state",
            file,
            "--output",
            manifest.to_str().unwrap(),
            "--per-rank",
        ];
        stdout(&run(ranks, &args));
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        let parts = m["parts"].as_array().unwrap();
        assert_eq!(parts.len(), ranks);
        let mut whole = Vec::new();
        for part in parts {
            let text = std::fs::read_to_string(dir.join(part["file"].as_str().unwrap())).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["first"], part["first"]);
            assert_eq!(part["first"].as_u64().unwrap() as usize, whole.len());
            whole.extend(amplitudes(&text));
        }
        assert_eq!(whole.len(), single.len());
        for (a, b) in whole.iter().zip(&single) {
            assert!(
                (a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12,
                "{ranks} ranks"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
