//! Parallelism as an explicit argument (as faer's `Par`), never a global setting.

/// Whether a kernel runs on the calling thread or on the current rayon pool.
///
/// Run inside [`rayon::ThreadPool::install`] to choose the number of threads.
///
/// ```
/// use qloop::Par;
/// assert_eq!(Par::auto(4), Par::Seq);
/// assert_eq!(Par::auto(22), Par::Rayon);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Par {
    /// One thread.
    #[default]
    Seq,
    /// The current rayon thread pool.
    Rayon,
}

impl Par {
    /// The smallest number of qubits at which [`Par::Rayon`] pays off, chosen with
    /// `cargo bench --bench simulator -- threshold` on the 2-core reference machine
    /// (see `docs/performance.md`).
    pub const THRESHOLD_QUBITS: usize = 18;

    /// [`Par::Rayon`] from [`Par::THRESHOLD_QUBITS`] qubits on (when more than one thread is
    /// available), [`Par::Seq`] below.
    pub fn auto(num_qubits: usize) -> Par {
        if num_qubits >= Self::THRESHOLD_QUBITS && rayon::current_num_threads() > 1 {
            Par::Rayon
        } else {
            Par::Seq
        }
    }
}
