#!/usr/bin/env node
// A signal while the modules load (about 0.3 s) must not end the process with no word: it is
// kept, and main acts on it as on one that comes later. The keeping listeners stay while main
// runs (removing a signal's last listener drops a signal already queued for it, which main would
// never see), and go once it returns: a signal then ends the process as by default, which a thread
// blocked in a system call may still be holding open.
const early = [];
const keep = (sig) => early.push(sig);
process.on('SIGINT', keep);
process.on('SIGTERM', keep);
const { main } = await import('../dist/bin.js');
process.exitCode = await main(process.argv, undefined, early);
process.off('SIGINT', keep);
process.off('SIGTERM', keep);
