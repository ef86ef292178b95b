//! Data-parallel training on ranks that are threads of this process: every rank runs the
//! configured training with its batches of evaluations split over the ranks, and every rank
//! ends with the single process's run, bit for bit (parameters, loss history, evaluations).

use qloop::train::experiment::{Experiment, Method, TrainConfig};
use qloop::train::parallel::Ranks;
use qloop::train::Optimizer;
use std::sync::{Arc, Barrier, Mutex};

/// Ranks as threads: the sum goes through a shared accumulator between barriers.
struct ThreadRank {
    rank: usize,
    size: usize,
    shared: Arc<(Mutex<Vec<f64>>, Barrier)>,
}

impl Ranks for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn sum(&self, values: &mut [f64]) {
        let (acc, barrier) = &*self.shared;
        barrier.wait();
        if self.rank == 0 {
            *acc.lock().unwrap() = vec![0.0; values.len()];
        }
        barrier.wait();
        {
            let mut a = acc.lock().unwrap();
            for (t, v) in a.iter_mut().zip(values.iter()) {
                *t += v;
            }
        }
        barrier.wait();
        values.copy_from_slice(&acc.lock().unwrap());
        barrier.wait();
    }
}

fn config(optimizer: Method, resamplings: usize, batch: usize) -> TrainConfig {
    let mut c = TrainConfig::default();
    c.train.iterations = 25;
    c.train.optimizer = optimizer;
    c.train.resamplings = resamplings;
    c.train.batch = batch;
    c
}

/// `(params, history, evaluations)` of a run on `size` thread ranks (every rank's), or of the
/// plain single-process run for `size = 0`.
fn runs(config: &TrainConfig, size: usize) -> Vec<(Vec<f64>, Vec<f64>, u64)> {
    let experiment = Arc::new(Experiment::new(config.clone()).unwrap());
    if size == 0 {
        let out = experiment.train(None, false, vec![]).unwrap();
        return vec![(out.params, out.solver.history(), out.evaluations)];
    }
    let shared = Arc::new((Mutex::new(Vec::new()), Barrier::new(size)));
    let handles: Vec<_> = (0..size)
        .map(|rank| {
            let (experiment, shared) = (experiment.clone(), shared.clone());
            std::thread::spawn(move || {
                let ranks = Arc::new(ThreadRank { rank, size, shared });
                let out = experiment
                    .train_on(Some(ranks), None, false, vec![])
                    .unwrap();
                (out.params, out.solver.history(), out.evaluations)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn split_evaluations_reproduce_the_single_process_run() {
    // With 3 or 4 ranks a ± pair is split by rows (fewer evaluations than ranks), 3
    // resamplings by evaluations; the blocking check always by rows. A minibatch of 4 (the
    // default is 32) leaves one row to some ranks, a batch of 0 is the whole training set.
    for (optimizer, resamplings, batch) in [
        (Method::Spsa, 1, 32),
        (Method::Spsa, 3, 32),
        (Method::Spsa, 1, 4),
        (Method::Spsa, 2, 0),
        (Method::SecondOrderSpsa, 1, 32),
    ] {
        let c = config(optimizer, resamplings, batch);
        let single = runs(&c, 0).pop().unwrap();
        assert!(single.2 > 25, "{:?}: {} evaluations", optimizer, single.2);
        for size in [2, 3, 4] {
            for (rank, run) in runs(&c, size).into_iter().enumerate() {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&run.0),
                    bits(&single.0),
                    "{optimizer:?} ×{resamplings}, batch {batch}, rank {rank} of {size}"
                );
                assert_eq!(bits(&run.1), bits(&single.1));
                assert_eq!(run.2, single.2);
            }
        }
    }
}
