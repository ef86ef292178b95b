//! A cost model of distributed runs on a cluster: the global swaps qloop's planner inserts
//! (`qloop::dist::PlanSummary`, no state allocated) for W1, a QFT and a random two-qubit-gate
//! circuit at 30–36 qubits on 2–64 ranks, and the modelled time per circuit
//! (`PlanSummary::seconds`) for a network and memory bandwidth given on the command line.
//!
//! ```sh
//! cargo run --release --example cluster_cost -- [NETWORK_GB_S] [LATENCY_US] [MEMORY_GB_S] [PASSES]
//! ```
//!
//! Defaults: 12.5 GB/s (100 Gb/s InfiniBand), 2 µs, 100 GB/s of memory bandwidth per rank,
//! 2 passes over the slice per run of local gates (the cache-blocked, fused program). The
//! table is in `docs/scale.md`.

use qloop::dist::PlanSummary;
use qloop::Circuit;
use rand::{Rng, SeedableRng};

/// W1: `layers × [H on every qubit, CX chain, RZ on every qubit]`.
fn w1(n: usize, layers: usize) -> Circuit {
    let mut c = Circuit::new(n);
    for l in 0..layers {
        for q in 0..n {
            c = c.h(q);
        }
        for q in 0..n - 1 {
            c = c.cx(q, q + 1);
        }
        for q in 0..n {
            c = c.rz(0.1 * (l * n + q + 1) as f64, q);
        }
    }
    c
}

/// The textbook QFT: H and controlled phases on each qubit from the top, then the swaps that
/// reverse the order (as Qiskit's `QFT` decomposes into `h`, `cp`, `swap`).
fn qft(n: usize) -> Circuit {
    let mut c = Circuit::new(n);
    for j in (0..n).rev() {
        c = c.h(j);
        for k in (0..j).rev() {
            c = c.cp(std::f64::consts::PI / (1u64 << (j - k)) as f64, k, j);
        }
    }
    for q in 0..n / 2 {
        c = c.swap(q, n - 1 - q);
    }
    c
}

/// `depth` layers, each pairing the qubits at random: a CX on a random pair or a random `u`
/// on a lone qubit (the shape of Qiskit's `random_circuit(n, depth, max_operands=2)`).
fn random(n: usize, depth: usize, seed: u64) -> Circuit {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut c = Circuit::new(n);
    for _ in 0..depth {
        let mut qubits: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            qubits.swap(i, rng.random_range(0..=i));
        }
        let mut rest = &qubits[..];
        while !rest.is_empty() {
            if rest.len() >= 2 && rng.random_bool(0.5) {
                c = c.cx(rest[0], rest[1]);
                rest = &rest[2..];
            } else {
                let a = [(); 3].map(|_| rng.random_range(-3.0..3.0));
                c = c.u(a[0], a[1], a[2], rest[0]);
                rest = &rest[1..];
            }
        }
    }
    c
}

fn main() -> qloop::Result<()> {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .expect("numbers: network GB/s, latency µs, memory GB/s, passes")
        })
        .collect();
    let arg = |i: usize, default: f64| args.get(i).copied().unwrap_or(default);
    let (network, latency, memory, passes) = (
        arg(0, 12.5) * 1e9,
        arg(1, 2.0) * 1e-6,
        arg(2, 100.0) * 1e9,
        arg(3, 2.0),
    );
    println!(
        "network {:.1} GB/s, latency {:.1} µs, memory {:.0} GB/s per rank, {passes} passes per run",
        network / 1e9,
        latency * 1e6,
        memory / 1e9
    );
    println!(
        "| circuit | n | ranks | gates | swaps | runs | GiB sent per rank | modelled time | of which exchange | compute-only time |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for n in [30usize, 33, 36] {
        let circuits = [
            ("W1 (10 layers)", w1(n, 10)),
            ("QFT", qft(n)),
            ("random, depth 40", random(n, 40, 7)),
        ];
        for (name, c) in &circuits {
            for k in [1usize, 3, 6] {
                let plan = PlanSummary::of(c, 1 << k)?;
                let total = plan.seconds(passes, memory, network, latency);
                let compute =
                    PlanSummary { swaps: 0, ..plan }.seconds(passes, memory, network, latency);
                println!(
                    "| {name} | {n} | {} | {} | {} | {} | {:.1} | {:.2} s | {:.0} % | {:.2} s |",
                    1 << k,
                    c.len(),
                    plan.swaps,
                    plan.runs,
                    plan.bytes_per_rank as f64 / (1u64 << 30) as f64,
                    total,
                    100.0 * (total - compute) / total,
                    compute,
                );
            }
        }
    }
    Ok(())
}
