// Three rounds of bit-flip syndrome extraction on a 3-qubit repetition code (data q[0..2],
// ancillas q[3], q[4]); each round measures and resets the ancillas and corrects the data.
OPENQASM 2.0;
include "qelib1.inc";
qreg q[5];
creg s[2];
creg d[3];
x q[0]; x q[1]; x q[2];
cx q[0], q[3]; cx q[1], q[3]; cx q[1], q[4]; cx q[2], q[4];
measure q[3] -> s[0]; measure q[4] -> s[1]; reset q[3]; reset q[4];
if(s==1) x q[0]; if(s==3) x q[1]; if(s==2) x q[2];
cx q[0], q[3]; cx q[1], q[3]; cx q[1], q[4]; cx q[2], q[4];
measure q[3] -> s[0]; measure q[4] -> s[1]; reset q[3]; reset q[4];
if(s==1) x q[0]; if(s==3) x q[1]; if(s==2) x q[2];
cx q[0], q[3]; cx q[1], q[3]; cx q[1], q[4]; cx q[2], q[4];
measure q[3] -> s[0]; measure q[4] -> s[1]; reset q[3]; reset q[4];
if(s==1) x q[0]; if(s==3) x q[1]; if(s==2) x q[2];
measure q[0] -> d[0]; measure q[1] -> d[1]; measure q[2] -> d[2];
