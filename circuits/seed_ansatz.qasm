// The 4-qubit design qloop started from: H on every qubit, a CNOT chain, RZ(theta_i), measure.
// Note: the outcome distribution does not depend on the RZ angles (see `qloop lint`).
OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
creg c[4];
h q;
cx q[0], q[1];
cx q[1], q[2];
cx q[2], q[3];
rz(0.1) q[0];
rz(0.2) q[1];
rz(0.3) q[2];
rz(0.4) q[3];
measure q -> c;
