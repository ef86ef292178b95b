//! The design this project was asked for, and why it cannot learn as drawn.
//!
//! Circuit: 4 qubits, the Iris features encoded as RY(x_q), then H on every qubit, a CNOT
//! chain, RZ(θ_q), measure all; the four ⟨Z_q⟩ feed a 3-layer dense stack 4 → 4 → 4 → 3
//! (tanh, tanh, softmax); SPSA tunes θ and the dense weights together.
//!
//! RZ directly before a Z-basis measurement only adds phases, so the outcome distribution — and
//! therefore the loss — does not depend on θ at all. This example measures that (every
//! ∂L/∂θ_q is exactly zero), then adds the smallest change that makes θ matter: an H on every
//! qubit after RZ (a basis change, turning RZ(θ) into an X rotation), and trains both.
//!
//! Run with `cargo run --release --example recursive_qnn`.

use qloop::train::objective::accuracy;
use qloop::train::{
    optimize, Activation, Bounds, Dataset, HybridModel, Loss, Network, Readout, ReadoutSpec,
    RunOptions, Scaler, Spsa, StepSize, Stream, Supervised,
};
use qloop::{Circuit, Param};
use std::f64::consts::PI;

const ITERATIONS: u64 = 300;

fn circuit(basis_change: bool) -> Circuit {
    let mut c = Circuit::new(4);
    for q in 0..4 {
        c = c.ry(Param::input(format!("x{q}")), q);
    }
    for q in 0..4 {
        c = c.h(q);
    }
    for q in 0..3 {
        c = c.cx(q, q + 1);
    }
    for q in 0..4 {
        c = c.rz(Param::weight(format!("theta{q}")), q);
        if basis_change {
            c = c.h(q);
        }
    }
    c.measure_all()
}

fn main() -> qloop::Result<()> {
    let iris = Dataset::iris();
    let (train, test) = iris.split(0.3, 1)?;
    let scaler = Scaler::fit(&train.features, (0.0, PI));
    let (x, x_test) = (
        scaler.transform(&train.features)?,
        scaler.transform(&test.features)?,
    );
    let (y, y_test) = (train.one_hot(), test.one_hot());

    for (name, basis_change) in [
        ("seed design (H, CNOT chain, RZ, measure)", false),
        ("with H after RZ", true),
    ] {
        println!("== {name} ==");
        let net = Network::dense(&[4, 4, 4, 3], Activation::Tanh, Activation::Softmax)?;
        let model = HybridModel::new(
            circuit(basis_change),
            ReadoutSpec::exact(Readout::ExpectationZ),
            net,
        )?;
        let layout = model.layout();
        let objective = Supervised::new(
            model.clone(),
            x.clone(),
            y.clone(),
            Loss::CrossEntropy,
            None,
        )?;
        let init = model.init_params(Stream::new(3));

        // Central differences of the full-batch loss with respect to each parameter block.
        let h = 1e-4;
        let sensitivity = |i: usize| -> qloop::Result<f64> {
            let (mut plus, mut minus) = (init.clone(), init.clone());
            plus[i] += h;
            minus[i] -= h;
            let s = Stream::new(0);
            Ok(
                (objective_loss(&objective, &plus, s)? - objective_loss(&objective, &minus, s)?)
                    / (2.0 * h),
            )
        };
        let circuit_grad: Vec<f64> = layout
            .circuit
            .clone()
            .map(sensitivity)
            .collect::<qloop::Result<_>>()?;
        let dense_grad: Vec<f64> = layout
            .network
            .clone()
            .map(sensitivity)
            .collect::<qloop::Result<_>>()?;
        let max_dense = dense_grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        println!(
            "∂L/∂θ_q at the initial point: [{}]",
            circuit_grad
                .iter()
                .map(|g| format!("{g:+.3e}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "largest |∂L/∂w| over the {} dense weights: {max_dense:.3e}",
            dense_grad.len()
        );

        let spsa = Spsa::new(5)
            .block(
                layout.circuit.clone(),
                StepSize::Calibrated(0.3),
                0.2,
                Bounds::Periodic { lo: -PI, hi: PI },
            )
            .block(
                layout.network.clone(),
                StepSize::Calibrated(0.3),
                0.2,
                Bounds::Free,
            );
        let options = RunOptions {
            max_iters: ITERATIONS,
            ..Default::default()
        };
        let outcome = optimize(objective.clone(), spsa, init.clone(), options, vec![])?;
        let p = &outcome.params;
        let gains = outcome.solver.gains();
        println!(
            "SPSA, {ITERATIONS} iterations: calibrated a = {:.3} (circuit{}), {:.3} (dense); loss {:.4} → {:.4}",
            gains.a[0],
            if gains.insensitive.contains(&0) { ": calibration found the loss independent of θ" } else { "" },
            gains.a[1],
            objective_loss(&objective, &init, Stream::new(0))?,
            objective_loss(&objective, p, Stream::new(0))?
        );
        let test_out = model.forward(p, x_test.view(), Stream::new(0))?;
        println!(
            "test accuracy {:.1}%",
            100.0 * accuracy(test_out.view(), y_test.view())
        );
        // Do the trained angles matter? Move every θ by π/2 and look at the loss.
        let mut moved = p.clone();
        for i in layout.circuit.clone() {
            moved[i] += PI / 2.0;
        }
        println!(
            "loss with trained θ {:.4}, with every θ moved by π/2 {:.4}\n",
            objective_loss(&objective, p, Stream::new(0))?,
            objective_loss(&objective, &moved, Stream::new(0))?
        );
    }
    println!(
        "Without the basis change the circuit angles are dead weight: only the dense stack learns."
    );
    Ok(())
}

fn objective_loss(o: &Supervised, p: &[f64], s: Stream) -> qloop::Result<f64> {
    o.loss(p, s)
}
