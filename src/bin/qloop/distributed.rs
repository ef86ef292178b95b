//! `mpirun -n R qloop …`: the commands that run a state over the MPI world (`state`, exact
//! `expect`, noiseless `run` and `entropy`, feature `mpi`), `train` with its batches of loss
//! evaluations split over the ranks, and the rule for every other: rank 0 runs it as a single process
//! while the other ranks wait, so each command gives the same output under `mpirun`.
//!
//! MPI starts only when the process was launched by `mpirun` (Open MPI's or a PMI launcher's
//! environment); a plain `qloop` never initialises it. A rank count that is not a power of
//! two is refused with one line. A circuit with fewer than two local qubits per rank, or one
//! with mid-circuit measurements, resets or conditions, runs undistributed on rank 0.
//! `QLOOP_MPI_REPORT=1` makes rank 0 print the run's time, global swaps and bytes sent (as
//! counted, and as the planner predicts) to standard error.

use qloop::Error;

#[cfg(feature = "mpi")]
mod world {
    use qloop::dist::{Cluster, DistributedState, MpiCluster};
    use qloop::{Circuit, Error};
    use std::sync::OnceLock;

    static RANKS: OnceLock<(usize, usize)> = OnceLock::new();

    /// Starts MPI when launched by a launcher; the universe must live until the end of `main`.
    pub fn start() -> Option<mpi::environment::Universe> {
        let launched = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        if !launched {
            RANKS.set((0, 1)).ok();
            return None;
        }
        let universe = mpi::initialize()?;
        use mpi::topology::Communicator;
        let world = universe.world();
        RANKS
            .set((world.rank() as usize, world.size() as usize))
            .ok();
        Some(universe)
    }

    /// `(rank, ranks)`.
    pub fn ranks() -> (usize, usize) {
        *RANKS.get().unwrap_or(&(0, 1))
    }

    /// The MPI world as the ranks of a data-parallel training run; `None` in one process.
    pub fn training_ranks() -> Option<std::sync::Arc<dyn qloop::train::parallel::Ranks>> {
        let (rank, size) = ranks();
        (size > 1).then(|| {
            std::sync::Arc::new(WorldRanks { rank, size })
                as std::sync::Arc<dyn qloop::train::parallel::Ranks>
        })
    }

    /// The world communicator's ranks (the handle is made per call: it is not `Sync`).
    struct WorldRanks {
        rank: usize,
        size: usize,
    }

    impl qloop::train::parallel::Ranks for WorldRanks {
        fn rank(&self) -> usize {
            self.rank
        }
        fn size(&self) -> usize {
            self.size
        }
        fn sum(&self, values: &mut [f64]) {
            use mpi::collective::{CommunicatorCollectives, SystemOperation};
            let world = mpi::topology::SimpleCommunicator::world();
            let mut total = vec![0.0; values.len()];
            for (v, t) in values.chunks(1 << 27).zip(total.chunks_mut(1 << 27)) {
                world.all_reduce_into(v, t, SystemOperation::sum());
            }
            values.copy_from_slice(&total);
        }
    }

    /// Rank 0's `value`, on every rank (a seed drawn at random must be the same everywhere).
    pub fn agree(mut value: u64) -> u64 {
        if ranks().1 > 1 {
            use mpi::traits::{Communicator, Root};
            let world = mpi::topology::SimpleCommunicator::world();
            world.process_at_rank(0).broadcast_into(&mut value);
        }
        value
    }

    /// The circuit's state over the world's ranks, or `None` when it runs undistributed.
    pub fn run(circuit: &Circuit) -> Result<Option<DistributedState<MpiCluster>>, Error> {
        let (_, size) = ranks();
        let k = size.trailing_zeros() as usize;
        let n = circuit.num_qubits();
        if size == 1 || n < k + 2 || circuit.is_dynamic() {
            return Ok(None);
        }
        qloop::state::check_state_fits(n - k)?;
        let world = mpi::topology::SimpleCommunicator::world();
        let start = std::time::Instant::now();
        let mut state = DistributedState::zero(MpiCluster::new(world, n - k), n)?;
        state.apply(circuit, &[], &[])?;
        if std::env::var_os("QLOOP_MPI_REPORT").is_some() && state.cluster().is_root() {
            let t = state.traffic();
            eprintln!(
                "qloop: distributed over {size} ranks ({} local qubits): {:.3} s, {} global swaps, {} bytes sent per rank (planner: {})",
                n - k,
                start.elapsed().as_secs_f64(),
                t.swaps,
                t.bytes,
                t.predicted_bytes()
            );
        }
        Ok(Some(state))
    }
}

#[cfg(not(feature = "mpi"))]
mod world {
    /// Without the `mpi` feature there is one process.
    pub fn start() -> Option<()> {
        None
    }
    /// `(rank, ranks)`: `(0, 1)`, or what a launcher says (read only so that a build without
    /// MPI started by `mpirun` can refuse, once, instead of racing its copies).
    pub fn ranks() -> (usize, usize) {
        let read = |names: &[&str]| {
            names
                .iter()
                .find_map(|v| std::env::var(v).ok()?.parse::<usize>().ok())
        };
        let size = read(&["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]).unwrap_or(1);
        let rank = read(&["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"]).unwrap_or(0);
        (rank, size.max(1))
    }
    /// One process: its own value.
    pub fn agree(value: u64) -> u64 {
        value
    }
    /// One process: no ranks to train over.
    pub fn training_ranks() -> Option<std::sync::Arc<dyn qloop::train::parallel::Ranks>> {
        None
    }
}

pub use world::*;

/// Refuses a rank count that is not a power of two.
pub fn check_ranks() -> Result<(), Error> {
    let (_, size) = ranks();
    if cfg!(not(feature = "mpi")) && size > 1 {
        return Err(Error::Distributed(format!(
            "started as {size} MPI ranks, but this qloop was built without MPI: build it with \
             cargo build --release --features mpi"
        )));
    }
    if size.is_power_of_two() {
        Ok(())
    } else {
        Err(Error::Distributed(format!(
            "{size} MPI ranks is not a power of two; run with 2, 4, 8, … ranks"
        )))
    }
}

/// Whether this process is rank 0 (the one that prints and writes).
pub fn is_root() -> bool {
    ranks().0 == 0
}
