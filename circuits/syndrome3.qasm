// Three rounds of bit-flip syndrome extraction on a 3-qubit repetition code (data q[0..2],
// ancillas q[3], q[4]); each round measures and resets the ancillas and corrects the data.
OPENQASM 2.0;
include "qelib1.inc";
qreg q[5];
creg syn[2];
creg data[3];
x q[0]; x q[1]; x q[2];
cx q[0], q[3]; cx q[1], q[3]; cx q[1], q[4]; cx q[2], q[4];
measure q[3] -> syn[0]; measure q[4] -> syn[1]; reset q[3]; reset q[4];
if(syn==1) x q[0]; if(syn==3) x q[1]; if(syn==2) x q[2];
cx q[0], q[3]; cx q[1], q[3]; cx q[1], q[4]; cx q[2], q[4];
measure q[3] -> syn[0]; measure q[4] -> syn[1]; reset q[3]; reset q[4];
if(syn==1) x q[0]; if(syn==3) x q[1]; if(syn==2) x q[2];
cx q[0], q[3]; cx q[1], q[3]; cx q[1], q[4]; cx q[2], q[4];
measure q[3] -> syn[0]; measure q[4] -> syn[1]; reset q[3]; reset q[4];
if(syn==1) x q[0]; if(syn==3) x q[1]; if(syn==2) x q[2];
measure q[0] -> data[0]; measure q[1] -> data[1]; measure q[2] -> data[2];
