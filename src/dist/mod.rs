//! A statevector distributed over `2^k` ranks, as QuEST, Qiskit Aer and mpiQulacs lay it out.
//!
//! **Layout.** With `n` qubits on `R = 2^k` ranks, the top `k` *physical* qubits are global:
//! amplitude `i` lives on rank `i >> L` at local index `i & (2^L − 1)`, `L = n − k` local
//! qubits per rank. A logical → physical map (`map[q]`) says where each circuit qubit is; it
//! starts as the identity and changes only by global swaps.
//!
//! **Gates.** The gates between two swaps form a run that each rank compiles on its `L`
//! local qubits (fused and cache-blocked, as a single process would) and applies to its
//! slice. In that run a control on a global qubit only decides whether the rank takes part
//! (bit 1: the gate without that control; bit 0: nothing), and a diagonal gate never
//! communicates: a global target's bit is fixed on each rank, so what is left is a phase on a
//! local target or control, times a scalar. A
//! non-diagonal gate with a global target first swaps that qubit with a local one: every rank
//! sends the half of its slice whose local bit `l` differs from its global bit to its partner
//! (`rank ^ 2^j`) and receives the partner's matching half; the map records the exchange. The
//! local qubit given up is the one whose next use as a non-diagonal target lies furthest ahead
//! (Belady's rule). Gates run out of circuit order where they commute (two gates wait for
//! each other only when they share a qubit on which one of them is not diagonal), so every
//! gate that does not need the global qubit runs before it is brought in: on a layered
//! circuit the work of many layers runs ahead, and W1 (10 layers on 24 qubits) needs one swap
//! on 2 ranks instead of 19 in circuit order. [`Traffic`] counts the
//! swaps and the bytes each rank sends; the planner's prediction is `swaps · 2^(L−1) · 16`
//! bytes per rank ([`Traffic::predicted_bytes`]).
//!
//! **Readout.** Probabilities, `⟨Z_q⟩` and Pauli sums are local sums combined by an all-reduce
//! (X and Y factors through the same gate path: `H`, or `S†` then `H`, on a copy).
//!
//! **Transport.** [`Cluster`] is the seam: [`LocalCluster`] holds every rank's slice in one
//! process (what the tests use to check every local/global combination without MPI), and
//! `MpiCluster` (feature `mpi`) one slice per MPI process. Messages are split so that no count
//! passes `i32::MAX` (MPI counts are C `int`).

#[cfg(feature = "mpi")]
mod mpi;
#[cfg(feature = "mpi")]
pub use self::mpi::MpiCluster;

use crate::circuit::{Circuit, Instruction};
use crate::entropy::{offsets, Backend, Spectrum};
use crate::error::{Error, Result};
use crate::gate::{BaseMatrix, Gate, Structure};
use crate::measure::{
    check_shots, check_subset, exponential_spacings, rng_from_seed, uses_merge, Conditional,
    Counts, Merge, QloopRng, Scan,
};
use crate::par::Par;
use crate::param::Angle;
use crate::pauli::PauliSum;
use num_complex::Complex64 as C64;
use serde::{de::DeserializeOwned, Serialize};

/// A relay's carry as bytes.
fn encode(value: &impl Serialize) -> Vec<u8> {
    bincode::serialize(value).expect("plain data serializes")
}

/// A carry from [`encode`].
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> T {
    bincode::deserialize(bytes).expect("a carry written by encode")
}

/// A per-rank partial sum: `f(rank, slice, out)` adds the rank's share into `out`.
pub type PartialSum<'a> = dyn FnMut(usize, &[C64], &mut [f64]) + 'a;

/// A rank's turn in a relay: `f(rank, slice, carry)` reads and replaces the carry.
pub type RelayStep<'a> = dyn FnMut(usize, &[C64], &mut Vec<u8>) + 'a;

/// Where the slices of a distributed state live and how they talk.
pub trait Cluster {
    /// Number of ranks `R` (a power of two).
    fn num_ranks(&self) -> usize;

    /// Calls `f(rank, slice)` for every rank whose slice this process holds.
    fn each(&mut self, f: &mut dyn FnMut(usize, &mut [C64]));

    /// The global swap's exchange between partners `r` and `r ^ 2^j`: each sends the
    /// amplitudes of its slice whose bit `l` differs from bit `j` of its rank, in index order,
    /// and puts what it receives in their place. Returns the bytes this process sent.
    fn exchange(&mut self, j: usize, l: usize) -> u64;

    /// `Σ_r f(r, slice_r)` element-wise over all ranks (the same result on every rank).
    fn sum(&mut self, width: usize, f: &mut PartialSum<'_>) -> Vec<f64>;

    /// Every slice in rank order, on the root (rank 0) only; `None` elsewhere.
    fn gather(&mut self) -> Option<Vec<C64>>;

    /// Visits the ranks one after another in `order` (a permutation of the ranks): each
    /// calls `f(rank, slice, carry)` on the carry the previous one left (`carry` for the
    /// first). Returns the last carry, on every rank. For scans whose additions must happen
    /// in one fixed order whatever the number of ranks.
    fn relay(&mut self, order: &[usize], carry: Vec<u8>, f: &mut RelayStep<'_>) -> Vec<u8>;

    /// Every process's `mine`, concatenated in rank order, on the root; `None` elsewhere.
    fn gather_bytes(&mut self, mine: Vec<u8>) -> Option<Vec<u8>>;

    /// Whether this process is rank 0 (the one that prints and writes).
    fn is_root(&self) -> bool;

    /// A copy of this process's slices (to be put back by [`Cluster::restore`]).
    fn save(&self) -> Vec<Vec<C64>>;

    /// Puts back slices from [`Cluster::save`].
    fn restore(&mut self, saved: Vec<Vec<C64>>);
}

/// Every rank's slice in one process: the reference transport.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    slices: Vec<Vec<C64>>,
}

impl LocalCluster {
    /// `ranks` slices of `2^local` amplitudes each, all zero.
    pub fn new(ranks: usize, local: usize) -> Self {
        LocalCluster {
            slices: vec![vec![C64::new(0.0, 0.0); 1 << local]; ranks],
        }
    }
}

impl Cluster for LocalCluster {
    fn num_ranks(&self) -> usize {
        self.slices.len()
    }
    fn each(&mut self, f: &mut dyn FnMut(usize, &mut [C64])) {
        for (r, s) in self.slices.iter_mut().enumerate() {
            f(r, s);
        }
    }
    fn exchange(&mut self, j: usize, l: usize) -> u64 {
        let mut sent = 0;
        for r in 0..self.slices.len() {
            let p = r ^ (1 << j);
            if r > p {
                continue;
            }
            // Rank r has bit j = 0 and sends its entries with bit l = 1; p sends bit l = 0.
            let (lo, hi) = self.slices.split_at_mut(p);
            let (a, b) = (&mut lo[r], &mut hi[0]);
            for i in (0..a.len()).filter(|i| i >> l & 1 == 0) {
                std::mem::swap(&mut a[i | 1 << l], &mut b[i]);
            }
            sent += (a.len() / 2 * std::mem::size_of::<C64>()) as u64;
        }
        // Bytes per rank, as one MPI process would count them.
        sent / (self.slices.len() as u64 / 2).max(1)
    }
    fn sum(&mut self, width: usize, f: &mut PartialSum<'_>) -> Vec<f64> {
        let mut total = vec![0.0; width];
        let mut part = vec![0.0; width];
        for (r, s) in self.slices.iter().enumerate() {
            part.iter_mut().for_each(|v| *v = 0.0);
            f(r, s, &mut part);
            total.iter_mut().zip(&part).for_each(|(t, p)| *t += p);
        }
        total
    }
    fn gather(&mut self) -> Option<Vec<C64>> {
        Some(self.slices.concat())
    }
    fn relay(&mut self, order: &[usize], mut carry: Vec<u8>, f: &mut RelayStep<'_>) -> Vec<u8> {
        for &r in order {
            f(r, &self.slices[r], &mut carry);
        }
        carry
    }
    fn gather_bytes(&mut self, mine: Vec<u8>) -> Option<Vec<u8>> {
        Some(mine)
    }
    fn is_root(&self) -> bool {
        true
    }
    fn save(&self) -> Vec<Vec<C64>> {
        self.slices.clone()
    }
    fn restore(&mut self, saved: Vec<Vec<C64>>) {
        self.slices = saved;
    }
}

/// Communication a distributed run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Global-qubit swaps the planner inserted.
    pub swaps: u64,
    /// Bytes this process sent.
    pub bytes: u64,
    /// Local amplitudes per rank (`2^L`).
    pub local_len: u64,
}

impl Traffic {
    /// What the planner predicts each rank sends: half its slice per swap.
    pub fn predicted_bytes(&self) -> u64 {
        self.swaps * self.local_len / 2 * std::mem::size_of::<C64>() as u64
    }
}

/// A state of `n` qubits over a [`Cluster`]. See the [module docs](self).
#[derive(Debug)]
pub struct DistributedState<C: Cluster> {
    cluster: C,
    num_qubits: usize,
    local: usize,
    /// `map[q]`: the physical position of logical qubit `q`.
    map: Vec<usize>,
    traffic: Traffic,
}

impl<C: Cluster> DistributedState<C> {
    /// `|0…0⟩` of `num_qubits` qubits over `cluster` (its ranks a power of two, at least
    /// two local qubits per rank).
    pub fn zero(mut cluster: C, num_qubits: usize) -> Result<Self> {
        let ranks = cluster.num_ranks();
        let local = local_qubits(num_qubits, ranks)?;
        let mut sizes_ok = true;
        cluster.each(&mut |_, s| sizes_ok &= s.len() == 1 << local);
        if !sizes_ok {
            return Err(Error::Distributed(format!(
                "the cluster's slices are not 2^{local} amplitudes, as {num_qubits} qubits on {ranks} ranks need"
            )));
        }
        cluster.each(&mut |r, s| {
            s.iter_mut().for_each(|a| *a = C64::new(0.0, 0.0));
            if r == 0 {
                s[0] = C64::new(1.0, 0.0);
            }
        });
        Ok(DistributedState {
            cluster,
            num_qubits,
            local,
            map: (0..num_qubits).collect(),
            traffic: Traffic {
                local_len: 1 << local,
                ..Traffic::default()
            },
        })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Local qubits per rank.
    pub fn local_qubits(&self) -> usize {
        self.local
    }

    /// The communication so far.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// The transport.
    pub fn cluster(&self) -> &C {
        &self.cluster
    }

    /// Applies the unitary part of `circuit` (final measurements are ignored; mid-circuit
    /// measurement, reset and conditions are refused) with the parameter values given in
    /// [`crate::ParameterLayout`] order.
    pub fn apply(&mut self, circuit: &Circuit, weights: &[f64], inputs: &[f64]) -> Result<()> {
        if circuit.num_qubits() != self.num_qubits {
            return Err(Error::StateSize {
                expected: 1 << circuit.num_qubits(),
                got: 1 << self.num_qubits,
            });
        }
        let program = circuit.compile()?;
        let bound = program.layout().bind(circuit, weights, inputs)?;
        let plan = Plan::new(&bound, self.local, self.map.clone());
        for step in plan.steps {
            match step {
                Step::Run(mut run) => self.flush(&mut run)?,
                Step::Swap { global, local } => self.exchange(global, local),
            }
        }
        self.map = plan.map;
        Ok(())
    }

    /// Applies the pending run to every slice: each rank compiles the run as its global bits
    /// make it and applies the program to its slice.
    fn flush(&mut self, run: &mut Vec<(Gate, Vec<usize>)>) -> Result<()> {
        if run.is_empty() {
            return Ok(());
        }
        let gates = std::mem::take(run);
        let local = self.local;
        let par = Par::auto(local);
        let mut failed = None;
        self.cluster.each(&mut |rank, slice| {
            let mut circuit = Circuit::new(local);
            for (gate, qubits) in &gates {
                for (g, q) in resolve(gate, qubits, local, rank) {
                    circuit = circuit.gate(g, &q);
                }
            }
            match circuit.compile() {
                Ok(program) => program.apply_to_slice(slice, par),
                Err(e) => failed = Some(e),
            }
        });
        failed.map_or(Ok(()), Err)
    }

    /// `|ψ_i|²` summed into `out[f(i)]` for a logical index `i`: the shared loop of the
    /// readouts (one pass over each slice, then an all-reduce).
    fn logical_sums(
        &mut self,
        width: usize,
        mut f: impl FnMut(usize, f64, &mut [f64]),
    ) -> Vec<f64> {
        let local = self.local;
        let relabel = Relabel::new(&self.map);
        self.cluster.sum(width, &mut |rank, slice, out| {
            let high = relabel.logical(rank << local);
            for (i, a) in slice.iter().enumerate() {
                f(high | relabel.logical(i), a.norm_sqr(), out);
            }
        })
    }

    /// `⟨Z_q⟩` of every logical qubit, qubit 0 first.
    pub fn z_expectations(&mut self) -> Vec<f64> {
        let n = self.num_qubits;
        self.logical_sums(n, |i, p, out| {
            for (q, o) in out.iter_mut().enumerate() {
                *o += if i >> q & 1 == 1 { -p } else { p };
            }
        })
    }

    /// All `2^n` probabilities in logical basis order (for states that fit one process).
    pub fn probabilities(&mut self) -> Vec<f64> {
        self.logical_sums(1 << self.num_qubits, |i, p, out| out[i] += p)
    }

    /// The marginal distribution of `qubits`, as [`crate::StateVector::marginal_probabilities`]
    /// gives it: entry `j` is the probability that qubit `qubits[k]` reads bit `k` of `j`
    /// (local sums, one all-reduce of `2^|qubits|` values).
    ///
    /// ```
    /// use qloop::dist::{DistributedState, LocalCluster};
    /// let c = qloop::Circuit::new(4).x(3).h(0);
    /// let mut d = DistributedState::zero(LocalCluster::new(2, 3), 4)?;
    /// d.apply(&c, &[], &[])?;
    /// let p = d.marginal_probabilities(&[3, 1])?;
    /// assert!((p[1] - 1.0).abs() < 1e-15 && p[0] + p[2] + p[3] == 0.0);
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn marginal_probabilities(&mut self, qubits: &[usize]) -> Result<Vec<f64>> {
        check_subset("marginal", qubits, self.num_qubits)?;
        crate::state::check_state_fits(qubits.len())?;
        Ok(self.logical_sums(1 << qubits.len(), |i, p, out| {
            let j = qubits
                .iter()
                .enumerate()
                .fold(0, |j, (k, &q)| j | (((i >> q) & 1) << k));
            out[j] += p;
        }))
    }

    /// `Σ |ψ_i|²`.
    pub fn norm_sqr(&mut self) -> f64 {
        self.logical_sums(1, |_, p, out| out[0] += p)[0]
    }

    /// `⟨ψ|H|ψ⟩`: each Pauli string's X/Y factors rotated to Z on a copy (the same gate path,
    /// swaps included), then a signed local sum and an all-reduce.
    pub fn expectation(&mut self, h: &PauliSum) -> Result<f64> {
        h.check_width(self.num_qubits)?;
        let mut total = 0.0;
        for (coeff, string) in h.terms() {
            let (x, z, _) = string.masks_and_phase();
            let mut rotate = Circuit::new(self.num_qubits);
            for q in 0..self.num_qubits {
                match (x >> q & 1, z >> q & 1) {
                    (1, 0) => rotate = rotate.h(q),
                    (1, 1) => rotate = rotate.sdg(q).h(q),
                    _ => {}
                }
            }
            let rotated = x != 0;
            let (saved, map) = match rotated {
                true => (Some(self.cluster.save()), Some(self.map.clone())),
                false => (None, None),
            };
            if rotated {
                self.apply(&rotate, &[], &[])?;
            }
            let mask = x | z;
            let parity = self.logical_sums(1, |i, p, out| {
                out[0] += if (i & mask).count_ones() % 2 == 1 {
                    -p
                } else {
                    p
                };
            })[0];
            if let (Some(saved), Some(map)) = (saved, map) {
                self.cluster.restore(saved);
                self.map = map;
            }
            total += coeff * parity;
        }
        Ok(total)
    }

    /// `shots` seeded measurements into a register of `num_clbits` bits, as
    /// [`crate::Counts::sample`] takes them, on the root (`None` elsewhere). The global
    /// qubits are first swapped back to their own positions, so that each rank holds one
    /// contiguous block of logical outcomes; the sampler's two scans (the total weight, then
    /// the merge of sorted uniforms or the conditional binomials) pass from block to block in
    /// logical order ([`Cluster::relay`]), every rank drawing the same spacings from the seed.
    /// The additions and draws are those of one process, so the counts for a seed do not
    /// depend on the number of ranks (beyond the last-bit differences of the amplitudes).
    ///
    /// ```
    /// use qloop::dist::{DistributedState, LocalCluster};
    /// use qloop::{Circuit, Counts};
    /// let c = Circuit::new(5).h(4).cx(4, 0).ry(0.4, 2);
    /// let mut d = DistributedState::zero(LocalCluster::new(4, 3), 5)?;
    /// d.apply(&c, &[], &[])?;
    /// let counts = d.sample(&[], 0, 1000, 7)?.unwrap();
    /// assert_eq!(counts, Counts::sample(&c.statevector()?, &[], 0, 1000, 7)?);
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn sample(
        &mut self,
        measurements: &[(usize, usize)],
        num_clbits: usize,
        shots: usize,
        seed: u64,
    ) -> Result<Option<Counts>> {
        let (measurements, width) = Counts::check(self.num_qubits, measurements, num_clbits)?;
        check_shots(shots)?;
        self.globals_in_place();
        let local = self.local;
        let relabel = Relabel::new(&self.map);
        let offset = |rank: usize| relabel.logical(rank << local);
        let mut order: Vec<usize> = (0..self.cluster.num_ranks()).collect();
        order.sort_by_key(|&r| offset(r));
        // A slice's probabilities in logical order (its local qubits may be permuted).
        let probabilities = |slice: &[C64]| {
            let mut p = vec![0.0; slice.len()];
            for (i, a) in slice.iter().enumerate() {
                p[relabel.logical(i)] = a.norm_sqr();
            }
            p
        };
        let scan: Scan = decode(&self.cluster.relay(
            &order,
            encode(&Scan::EMPTY),
            &mut |rank, slice, carry| {
                let mut scan: Scan = decode(carry);
                scan.extend(&probabilities(slice), offset(rank));
                *carry = encode(&scan);
            },
        ));
        let mut hist: Vec<(usize, usize)> = Vec::new();
        if shots > 0 && scan.last_nonzero.is_some() {
            let mut rng = rng_from_seed(seed);
            if uses_merge(1 << self.num_qubits, shots) {
                let spacings = exponential_spacings(shots, &mut rng);
                let merge = Merge::new(&spacings, scan.total);
                self.cluster
                    .relay(&order, encode(&merge), &mut |rank, slice, carry| {
                        let mut merge: Merge = decode(carry);
                        let p = probabilities(slice);
                        merge.bins(&p, offset(rank), scan.last_nonzero, &spacings, &mut hist);
                        *carry = encode(&merge);
                    });
            } else {
                let draw = (Conditional::new(scan.total, shots as u64), rng);
                self.cluster
                    .relay(&order, encode(&draw), &mut |rank, slice, carry| {
                        let (mut draw, mut rng): (Conditional, QloopRng) = decode(carry);
                        draw.bins(&probabilities(slice), offset(rank), &mut rng, &mut hist);
                        *carry = encode(&(draw, rng));
                    });
            }
        }
        let mine: Vec<u8> = hist
            .iter()
            .flat_map(|&(i, c)| [i as u64, c as u64])
            .flat_map(u64::to_le_bytes)
            .collect();
        let Some(all) = self.cluster.gather_bytes(mine) else {
            return Ok(None);
        };
        let words: Vec<usize> = all
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
            .collect();
        let hist: Vec<(usize, usize)> = words.chunks_exact(2).map(|w| (w[0], w[1])).collect();
        Ok(Some(Counts::from_histogram(
            &hist,
            &measurements,
            width,
            shots,
        )))
    }

    /// The entanglement spectrum of the cut `subsystem | rest` (as
    /// [`crate::StateVector::entanglement`]'s [`spectrum`](crate::entropy::Entanglement::spectrum)
    /// gives it, on every rank). The smaller side `S` of the cut is swapped onto local qubits;
    /// each rank forms the Gram matrix `M_r M_r†` of its slice read as a `2^|S| × 2^(L−|S|)`
    /// matrix, and the reduced density matrix `ρ_S = Σ_r M_r M_r†` is their all-reduced sum,
    /// whose Hermitian eigenvalues every rank computes. Refused, naming the sizes, when `S`
    /// has more qubits than a rank has local ones or `ρ_S` does not fit in memory.
    ///
    /// ```
    /// use qloop::dist::{DistributedState, LocalCluster};
    /// use qloop::entropy::LogBase;
    /// let ghz = qloop::Circuit::new(6).h(0).cx(0, 1).cx(1, 2).cx(2, 3).cx(3, 4).cx(4, 5);
    /// let mut d = DistributedState::zero(LocalCluster::new(4, 4), 6)?;
    /// d.apply(&ghz, &[], &[])?;
    /// // Qubit 5 is global: the cut {5} | rest is still ln 2.
    /// let s = d.spectrum(&[5])?.von_neumann(LogBase::E);
    /// assert!((s - std::f64::consts::LN_2).abs() < 1e-12);
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn spectrum(&mut self, subsystem: &[usize]) -> Result<Spectrum> {
        let n = self.num_qubits;
        if subsystem.is_empty() {
            return Err(Error::SubsetEmpty {
                context: "entropy subsystem".into(),
            });
        }
        check_subset("entropy subsystem", subsystem, n)?;
        let norm = self.norm_sqr();
        if (norm - 1.0).abs() > 1e-9 {
            return Err(Error::NotNormalized { norm_sqr: norm });
        }
        let side: Vec<usize> = if 2 * subsystem.len() <= n {
            subsystem.to_vec()
        } else {
            (0..n).filter(|q| !subsystem.contains(q)).collect()
        };
        let s = side.len();
        if s > self.local {
            return Err(Error::Distributed(format!(
                "the cut's smaller side has {s} qubits, more than the {} local qubits of a rank; \
                 its reduced density matrix (2^{} amplitudes) needs more memory than one rank \
                 has: run on fewer ranks",
                self.local,
                2 * s
            )));
        }
        crate::state::check_state_fits(2 * s)?;
        // The side's qubits onto local positions, each global one in place of a local qubit
        // outside the side.
        for &q in &side {
            if self.map[q] >= self.local {
                let victim = (0..n)
                    .find(|&v| self.map[v] < self.local && !side.contains(&v))
                    .expect("a local qubit outside a side of at most L qubits");
                self.swap_logical(q, victim);
            }
        }
        let rows_at: Vec<usize> = side.iter().map(|&q| self.map[q]).collect();
        let cols_at: Vec<usize> = (0..self.local).filter(|p| !rows_at.contains(p)).collect();
        let (row_off, col_off) = (offsets(&rows_at), offsets(&cols_at));
        let d = 1usize << s;
        let par = Par::auto(self.local);
        let backend = Backend::default();
        let sums = self.cluster.sum(2 * d * d, &mut |_, slice, out| {
            let mut m = Vec::with_capacity(slice.len());
            for &c in &col_off {
                m.extend(row_off.iter().map(|&r| slice[r | c]));
            }
            let g = backend.gram(&m, d, col_off.len(), par);
            for (o, z) in out.chunks_exact_mut(2).zip(&g) {
                o[0] += z.re;
                o[1] += z.im;
            }
        });
        let g: Vec<C64> = sums.chunks_exact(2).map(|z| C64::new(z[0], z[1])).collect();
        let values = backend.hermitian_eigenvalues(&g, d, Par::auto(2 * s))?;
        Ok(Spectrum::new(values, 1 << (n - s)))
    }

    /// The state as blocks of consecutive logical basis states, one per rank, without
    /// gathering: the global qubits are swapped back to their own positions, then
    /// `f(rank, first, block)` is called for each rank this process holds, `block` its
    /// `2^L` amplitudes in logical order from index `first`. Returns every rank's `first`.
    ///
    /// ```
    /// use qloop::dist::{DistributedState, LocalCluster};
    /// let c = qloop::Circuit::new(4).h(3).cx(3, 0).ry(0.3, 1);
    /// let mut d = DistributedState::zero(LocalCluster::new(2, 3), 4)?;
    /// d.apply(&c, &[], &[])?;
    /// let mut whole = vec![num_complex::Complex64::new(0.0, 0.0); 16];
    /// let firsts = d.blocks(&mut |_, first, block| whole[first..first + block.len()].copy_from_slice(block));
    /// assert_eq!(firsts, [0, 8]);
    /// assert_eq!(Some(whole), d.gather());
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn blocks(&mut self, f: &mut dyn FnMut(usize, usize, &[C64])) -> Vec<usize> {
        self.globals_in_place();
        let local = self.local;
        let relabel = Relabel::new(&self.map);
        let mut block = Vec::new();
        self.cluster.each(&mut |rank, slice| {
            block.resize(slice.len(), C64::new(0.0, 0.0));
            for (i, a) in slice.iter().enumerate() {
                block[relabel.logical(i)] = *a;
            }
            f(rank, relabel.logical(rank << local), &block);
        });
        (0..self.cluster.num_ranks())
            .map(|r| relabel.logical(r << local))
            .collect()
    }

    /// Swaps global and local qubits until the global positions hold the logical qubits
    /// `L … n − 1` (in some order), so that each rank holds one contiguous block of logical
    /// basis states.
    fn globals_in_place(&mut self) {
        while let Some(q) = (self.local..self.num_qubits).find(|&q| self.map[q] < self.local) {
            let v = (0..self.local)
                .find(|&v| self.map[v] >= self.local)
                .expect("as many low logical qubits are global as high ones are local");
            self.swap_logical(v, q);
        }
    }

    /// Exchanges the global logical qubit `global` with the local logical qubit `local` and
    /// records it in the map.
    fn swap_logical(&mut self, global: usize, local: usize) {
        self.exchange(self.map[global], self.map[local]);
        self.map.swap(global, local);
    }

    /// The global swap of physical qubits `global` and `local` (the map is the caller's),
    /// counted in [`Traffic`].
    fn exchange(&mut self, global: usize, local: usize) {
        let sent = self.cluster.exchange(global - self.local, local);
        self.traffic.swaps += 1;
        self.traffic.bytes += sent;
    }

    /// The whole state in logical order, on the root only (`None` elsewhere).
    pub fn gather(&mut self) -> Option<Vec<C64>> {
        let all = self.cluster.gather()?;
        let relabel = Relabel::new(&self.map);
        if relabel.identity {
            return Some(all);
        }
        let mut out = vec![C64::new(0.0, 0.0); all.len()];
        for (physical, a) in all.into_iter().enumerate() {
            out[relabel.logical(physical)] = a;
        }
        Some(out)
    }
}

/// The local qubits `L = n − k` of `n` qubits on `ranks = 2^k` ranks; refused unless `ranks`
/// is a power of two leaving at least two local qubits.
fn local_qubits(num_qubits: usize, ranks: usize) -> Result<usize> {
    if !ranks.is_power_of_two() {
        return Err(Error::Distributed(format!(
            "{ranks} ranks is not a power of two"
        )));
    }
    let k = ranks.trailing_zeros() as usize;
    if num_qubits < k + 2 {
        return Err(Error::Distributed(format!(
            "{num_qubits} qubits on {ranks} ranks leave fewer than 2 local qubits per rank"
        )));
    }
    Ok(num_qubits - k)
}

/// One step of a distributed run: a run of gates on physical qubits (applied rank by rank),
/// or a global swap of physical qubit `global` with local physical qubit `local`.
enum Step {
    Run(Vec<(Gate, Vec<usize>)>),
    Swap { global: usize, local: usize },
}

/// The planner's schedule for a circuit: runs of local gates and the global swaps between
/// them, and the qubit map it ends with.
///
/// Gates are scheduled out of order where they commute: gate `j` waits for an earlier gate
/// `i` only when they share a qubit on which one of them is not diagonal in the computational
/// basis (a control, or a qubit of a diagonal gate, is; two operators block-diagonal on every
/// qubit they share commute). Every ready gate whose non-diagonal targets are local runs, in
/// circuit order; when none can, the earliest ready gate's global targets are swapped in, each
/// with the local qubit (not one of the gate's) whose next need as a non-diagonal target
/// lies furthest ahead in the circuit (Belady's rule). On a layered circuit this lets a
/// layer's work on the other qubits run before the global one comes in, and sends out a qubit
/// whose work in the layer is done, so one swap per layer suffices where in-order scheduling
/// needs two.
struct Plan {
    steps: Vec<Step>,
    map: Vec<usize>,
}

impl Plan {
    /// The schedule of the unitary gates of `circuit` (constant angles) on `local` local
    /// qubits per rank, from the qubit map `map`.
    fn new(circuit: &Circuit, local: usize, mut map: Vec<usize>) -> Plan {
        let gates: Vec<(&Gate, &Vec<usize>)> = circuit
            .iter()
            .filter_map(|i| match i {
                Instruction::Gate { gate, qubits } => Some((gate, qubits)),
                _ => None,
            })
            .collect();
        let count = gates.len();
        // The qubits each gate needs local: a non-diagonal gate's targets.
        let uses: Vec<Vec<usize>> = gates
            .iter()
            .map(|(gate, qubits)| match gate.structure() {
                Structure::Diagonal => Vec::new(),
                _ => qubits[gate.num_controls()..].to_vec(),
            })
            .collect();
        // Dependencies, qubit by qubit: the last gate that is not diagonal on the qubit, and
        // the gates diagonal on it since.
        let mut waits = vec![0usize; count];
        let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut general: Vec<Option<usize>> = vec![None; map.len()];
        let mut diagonal: Vec<Vec<usize>> = vec![Vec::new(); map.len()];
        for (j, (_, qubits)) in gates.iter().enumerate() {
            let mut before: Vec<usize> = Vec::new();
            for &q in qubits.iter() {
                before.extend(general[q]);
                if uses[j].contains(&q) {
                    before.append(&mut diagonal[q]);
                    general[q] = Some(j);
                } else {
                    diagonal[q].push(j);
                }
            }
            before.sort_unstable();
            before.dedup();
            waits[j] = before.len();
            for i in before {
                unblocks[i].push(j);
            }
        }
        // The next gate at or after each position that needs each qubit local.
        let next_need = |v: usize, done: &[bool]| {
            (0..count)
                .find(|&g| !done[g] && uses[g].contains(&v))
                .unwrap_or(usize::MAX)
        };
        let mut ready: std::collections::BTreeSet<usize> =
            (0..count).filter(|&j| waits[j] == 0).collect();
        let mut done = vec![false; count];
        let mut steps = Vec::new();
        let mut run: Vec<(Gate, Vec<usize>)> = Vec::new();
        while let Some(&first) = ready.iter().next() {
            let runnable = ready
                .iter()
                .copied()
                .find(|&j| uses[j].iter().all(|&q| map[q] < local));
            let j = match runnable {
                Some(j) => j,
                None => {
                    if !run.is_empty() {
                        steps.push(Step::Run(std::mem::take(&mut run)));
                    }
                    let qubits = gates[first].1;
                    for &q in &uses[first] {
                        if map[q] < local {
                            continue;
                        }
                        let victim = (0..map.len())
                            .filter(|&v| map[v] < local && !qubits.contains(&v))
                            .max_by_key(|&v| (next_need(v, &done), std::cmp::Reverse(map[v])))
                            .expect("at least two local qubits and a gate of at most three");
                        steps.push(Step::Swap {
                            global: map[q],
                            local: map[victim],
                        });
                        map.swap(q, victim);
                    }
                    first
                }
            };
            ready.remove(&j);
            done[j] = true;
            let (gate, qubits) = gates[j];
            run.push((gate.clone(), qubits.iter().map(|&q| map[q]).collect()));
            for &k in &unblocks[j] {
                waits[k] -= 1;
                if waits[k] == 0 {
                    ready.insert(k);
                }
            }
        }
        if !run.is_empty() {
            steps.push(Step::Run(run));
        }
        Plan { steps, map }
    }
}

/// What the planner would do with a circuit on `2^k` ranks, without running it: the input of
/// a cluster cost model ([`PlanSummary::seconds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSummary {
    /// Local qubits per rank `L`.
    pub local_qubits: usize,
    /// Global swaps inserted.
    pub swaps: u64,
    /// Runs of local gates (each a fused program applied to every slice).
    pub runs: u64,
    /// Bytes each rank sends: `swaps · 2^(L−1) · 16`.
    pub bytes_per_rank: u64,
}

impl PlanSummary {
    /// The planner's schedule for `circuit` (unitary gates, constant angles) on `ranks`
    /// ranks (a power of two leaving at least two local qubits). No state is allocated, so
    /// any size can be planned.
    ///
    /// ```
    /// use qloop::dist::PlanSummary;
    /// // H on the top qubit needs it local: one swap on 2 ranks, none for a diagonal.
    /// let c = qloop::Circuit::new(30).h(29).rz(0.3, 29);
    /// let plan = PlanSummary::of(&c, 2)?;
    /// assert_eq!((plan.swaps, plan.bytes_per_rank), (1, (1 << 28) * 16));
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn of(circuit: &Circuit, ranks: usize) -> Result<PlanSummary> {
        let n = circuit.num_qubits();
        let local = local_qubits(n, ranks)?;
        if let Some(p) = circuit.parameters().into_iter().next() {
            return Err(Error::UnboundParameter {
                name: p.name,
                kind: p.kind,
            });
        }
        let plan = Plan::new(circuit, local, (0..n).collect());
        let swaps = plan
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Swap { .. }))
            .count() as u64;
        Ok(PlanSummary {
            local_qubits: local,
            swaps,
            runs: plan.steps.len() as u64 - swaps,
            bytes_per_rank: swaps << (local - 1) << 4,
        })
    }

    /// Modelled seconds of the run on a cluster: every run of gates makes `passes` passes
    /// over a rank's slice at `memory` bytes/s, and every swap costs a pack and an unpack
    /// pass over half the slice plus the exchange of half the slice over the network:
    ///
    /// ```text
    /// T = runs · passes · 2^L·16 / memory + swaps · (2^L·16 / memory + latency + 2^(L−1)·16 / network)
    /// ```
    pub fn seconds(&self, passes: f64, memory: f64, network: f64, latency: f64) -> f64 {
        let slice = (16u128 << self.local_qubits) as f64;
        self.runs as f64 * passes * slice / memory
            + self.swaps as f64 * (slice / memory + latency + slice / 2.0 / network)
    }
}

/// What a gate on physical qubits is on rank `rank`'s slice: local gates (physical qubits
/// below `local`). A global control with bit 0 leaves nothing, with bit 1 it is dropped; a
/// diagonal's global targets take the rank's bits, leaving a phase gate on a local target or
/// control, and a scalar `e^{iα}` written as `P(α) X P(α) X` on qubit 0 (the run's fusion
/// multiplies it into its neighbours). Non-diagonal gates reach here with local targets.
fn resolve(gate: &Gate, qubits: &[usize], local: usize, rank: usize) -> Vec<(Gate, Vec<usize>)> {
    let bit = |p: usize| (rank >> (p - local)) & 1;
    let nc = gate.num_controls();
    let (controls, targets) = qubits.split_at(nc);
    let mut kept = Vec::with_capacity(nc);
    for &c in controls {
        if c < local {
            kept.push(c);
        } else if bit(c) == 0 {
            return Vec::new();
        }
    }
    if targets.iter().all(|&t| t < local) {
        let gate = without_controls(gate, nc - kept.len());
        kept.extend_from_slice(targets);
        return vec![(gate, kept)];
    }
    let angles: Vec<f64> = gate.angles().iter().map(|a| a.constant_part()).collect();
    let diag: Vec<C64> = match gate.base_matrix(&angles) {
        BaseMatrix::One(m) => vec![m[0], m[3]],
        BaseMatrix::Two(m) => vec![m[0], m[5], m[10], m[15]],
    };
    debug_assert_eq!(gate.structure(), Structure::Diagonal);
    let fixed: usize = targets
        .iter()
        .enumerate()
        .filter(|(_, &t)| t >= local)
        .map(|(j, &t)| bit(t) << j)
        .sum();
    let phase = |q: usize, z: C64| (Gate::P(Angle::constant(z.arg())), vec![q]);
    let scalar = |z: C64| {
        let (p, x) = (phase(0, z), (Gate::X, vec![0]));
        vec![p.clone(), x.clone(), p, x]
    };
    match targets.iter().position(|&t| t < local) {
        // Two targets, one local (`rzz`): diag(d0, d1) = d0 · P(arg d1/d0).
        Some(j) => {
            let (d0, d1) = (diag[fixed], diag[fixed | 1 << j]);
            let mut out = vec![phase(targets[j], d1 / d0)];
            out.extend(scalar(d0));
            out
        }
        // Every target global: a phase on the local controls' subspace (at most one).
        None => match kept.as_slice() {
            [] => scalar(diag[fixed]),
            [c] => vec![phase(*c, diag[fixed])],
            _ => unreachable!("no diagonal gate of the set has two controls"),
        },
    }
}

/// The gate with its first `dropped` controls removed (they are set on this rank).
fn without_controls(gate: &Gate, dropped: usize) -> Gate {
    use Gate::*;
    if dropped == 0 {
        return gate.clone();
    }
    match (gate, dropped) {
        (CX, 1) => X,
        (CY, 1) => Y,
        (CZ, 1) => Z,
        (CH, 1) => H,
        (CRX(a), 1) => RX(a.clone()),
        (CRY(a), 1) => RY(a.clone()),
        (CRZ(a), 1) => RZ(a.clone()),
        (CP(a), 1) => P(a.clone()),
        (CU3(a, b, c), 1) => U(a.clone(), b.clone(), c.clone()),
        (CSwap, 1) => Swap,
        (CCX, 1) => CX,
        (CCX, 2) => X,
        (g, k) => unreachable!("{} has fewer than {k} controls", g.name()),
    }
}

/// Physical → logical basis indices under a qubit map, a byte of the index at a time: table
/// `t` maps the physical bits `8t .. 8t + 7` to their logical positions.
struct Relabel {
    tables: Vec<[usize; 256]>,
    identity: bool,
}

impl Relabel {
    fn new(map: &[usize]) -> Self {
        let n = map.len();
        let mut logical_of = vec![0; n];
        for (q, &p) in map.iter().enumerate() {
            logical_of[p] = q;
        }
        let tables = (0..n.div_ceil(8))
            .map(|t| {
                std::array::from_fn(|byte| {
                    (0..8)
                        .filter(|b| byte >> b & 1 == 1 && 8 * t + b < n)
                        .fold(0, |acc, b| acc | 1 << logical_of[8 * t + b])
                })
            })
            .collect();
        Relabel {
            tables,
            identity: map.iter().enumerate().all(|(q, &p)| q == p),
        }
    }

    #[inline]
    fn logical(&self, physical: usize) -> usize {
        if self.identity {
            return physical;
        }
        self.tables
            .iter()
            .enumerate()
            .fold(0, |acc, (t, table)| acc | table[physical >> (8 * t) & 0xff])
    }
}
