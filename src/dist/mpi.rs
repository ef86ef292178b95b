//! [`Cluster`] over MPI (rsmpi): one slice per process, the world communicator's ranks.

use super::{Cluster, PartialSum, RelayStep};
use crate::aligned::Aligned;
use mpi::collective::SystemOperation;
use mpi::point_to_point::{Destination, Source};
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::{CommunicatorCollectives, Root};
use num_complex::Complex64 as C64;

/// Complex amplitudes per message: `2^26` (`2^27` doubles), well under MPI's `int` counts.
const CHUNK: usize = 1 << 26;

/// This process's slice of a state on the MPI world.
pub struct MpiCluster {
    world: SimpleCommunicator,
    rank: usize,
    ranks: usize,
    /// From a cache line, as a [`crate::StateVector`]'s amplitudes.
    slice: Aligned<C64>,
    /// Exchange buffers, kept between swaps (half a slice each).
    send: Vec<C64>,
    recv: Vec<C64>,
}

impl std::fmt::Debug for MpiCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MpiCluster(rank {} of {})", self.rank, self.ranks)
    }
}

impl MpiCluster {
    /// A zero slice of `2^local` amplitudes on `world`'s rank.
    pub fn new(world: SimpleCommunicator, local: usize) -> Self {
        MpiCluster {
            rank: world.rank() as usize,
            ranks: world.size() as usize,
            world,
            slice: Aligned::filled(1 << local, C64::new(0.0, 0.0)),
            send: Vec::new(),
            recv: Vec::new(),
        }
    }
}

/// Bytes per message of [`send_bytes`]: `2^30`, under MPI's `int` counts.
const BYTES: usize = 1 << 30;

/// A byte string of any length: its length, then chunks of at most [`BYTES`].
fn send_bytes(to: &mpi::topology::Process<'_>, bytes: &[u8]) {
    to.send(&(bytes.len() as u64));
    for chunk in bytes.chunks(BYTES) {
        to.send(chunk);
    }
}

/// What [`send_bytes`] sent.
fn receive_bytes(from: &mpi::topology::Process<'_>) -> Vec<u8> {
    let (len, _) = from.receive::<u64>();
    let mut bytes = vec![0u8; len as usize];
    for chunk in bytes.chunks_mut(BYTES) {
        from.receive_into(chunk);
    }
    bytes
}

fn doubles(a: &[C64]) -> &[f64] {
    bytemuck::cast_slice(a)
}

fn doubles_mut(a: &mut [C64]) -> &mut [f64] {
    bytemuck::cast_slice_mut(a)
}

impl Cluster for MpiCluster {
    fn num_ranks(&self) -> usize {
        self.ranks
    }
    fn each(&mut self, f: &mut dyn FnMut(usize, &mut [C64])) {
        f(self.rank, &mut self.slice);
    }
    fn exchange(&mut self, j: usize, l: usize) -> u64 {
        let partner = self.world.process_at_rank((self.rank ^ (1 << j)) as i32);
        let b = (self.rank >> j) & 1;
        let half = self.slice.len() / 2;
        // The entries with bit l ≠ b are runs of 2^l amplitudes, every other run: packed with
        // copies of whole runs into buffers kept between swaps.
        let run = 1usize << l;
        let first = (1 - b) * run;
        self.send.resize(half, C64::new(0.0, 0.0));
        self.recv.resize(half, C64::new(0.0, 0.0));
        for (dst, src) in self
            .send
            .chunks_mut(run)
            .zip(self.slice[first..].chunks(2 * run))
        {
            dst.copy_from_slice(&src[..run]);
        }
        for (s, r) in self.send.chunks(CHUNK).zip(self.recv.chunks_mut(CHUNK)) {
            mpi::point_to_point::send_receive_into(doubles(s), &partner, doubles_mut(r), &partner);
        }
        for (src, dst) in self
            .recv
            .chunks(run)
            .zip(self.slice[first..].chunks_mut(2 * run))
        {
            dst[..run].copy_from_slice(src);
        }
        (half * std::mem::size_of::<C64>()) as u64
    }
    fn sum(&mut self, width: usize, f: &mut PartialSum<'_>) -> Vec<f64> {
        let mut part = vec![0.0; width];
        f(self.rank, &self.slice, &mut part);
        let mut total = vec![0.0; width];
        for (p, t) in part.chunks(CHUNK).zip(total.chunks_mut(CHUNK)) {
            self.world.all_reduce_into(p, t, SystemOperation::sum());
        }
        total
    }
    fn gather(&mut self) -> Option<Vec<C64>> {
        if self.rank != 0 {
            let root = self.world.process_at_rank(0);
            for chunk in self.slice.chunks(CHUNK) {
                root.send(doubles(chunk));
            }
            return None;
        }
        let mut all = vec![C64::new(0.0, 0.0); self.slice.len() * self.ranks];
        let (mine, rest) = all.split_at_mut(self.slice.len());
        mine.copy_from_slice(&self.slice);
        for (r, part) in rest.chunks_mut(self.slice.len()).enumerate() {
            let from = self.world.process_at_rank(r as i32 + 1);
            for chunk in part.chunks_mut(CHUNK) {
                from.receive_into(doubles_mut(chunk));
            }
        }
        Some(all)
    }
    fn relay(&mut self, order: &[usize], mut carry: Vec<u8>, f: &mut RelayStep<'_>) -> Vec<u8> {
        let at = |r: usize| self.world.process_at_rank(r as i32);
        let pos = order
            .iter()
            .position(|&r| r == self.rank)
            .expect("every rank in the order");
        if pos > 0 {
            carry = receive_bytes(&at(order[pos - 1]));
        }
        f(self.rank, &self.slice, &mut carry);
        if pos + 1 < order.len() {
            send_bytes(&at(order[pos + 1]), &carry);
        }
        // The last rank's carry, to everyone: its length, then the bytes.
        let last = at(order[order.len() - 1]);
        let mut len = carry.len() as u64;
        last.broadcast_into(&mut len);
        carry.resize(len as usize, 0);
        for chunk in carry.chunks_mut(BYTES) {
            last.broadcast_into(chunk);
        }
        carry
    }
    fn gather_bytes(&mut self, mine: Vec<u8>) -> Option<Vec<u8>> {
        if self.rank != 0 {
            send_bytes(&self.world.process_at_rank(0), &mine);
            return None;
        }
        let mut all = mine;
        for r in 1..self.ranks {
            all.extend(receive_bytes(&self.world.process_at_rank(r as i32)));
        }
        Some(all)
    }
    fn is_root(&self) -> bool {
        self.rank == 0
    }
    fn save(&self) -> Vec<Vec<C64>> {
        vec![self.slice.to_vec()]
    }
    fn restore(&mut self, mut saved: Vec<Vec<C64>>) {
        self.slice = Aligned::from_vec(saved.pop().expect("one slice"));
    }
}
