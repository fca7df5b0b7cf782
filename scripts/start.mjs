#!/usr/bin/env node
// `npm start [-- --live] [qitian run options...]`: the main job. Without --live it runs
// topologies/syslog-fault-localization.yaml (simulated devices with injected faults, about 30 s);
// with --live, topologies/syslog-live.yaml (real syslog on UDP and TCP port 5514) until Ctrl-C.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const live = args.includes('--live');
const file = live ? 'topologies/syslog-live.yaml' : 'topologies/syslog-fault-localization.yaml';
const bin = fileURLToPath(new URL('../packages/cli/bin/qitian.js', import.meta.url));
process.chdir(root);

// qitian runs in this process, not in a child: a signal to the whole process group (Ctrl-C,
// `kill -TERM -PGID`, a service manager) then reaches one qitian once. Passed on to a child as
// well, it was a second signal, which stops without draining.
//
// npm runs this under `sh -c`, which dies of a SIGTERM aimed at npm alone (docker stop with npm
// as PID 1) without passing it on: left orphaned, this process stops as on SIGTERM, draining.
let signalled = false;
// Signals before qitian's own handlers are in place (while its modules load) are handed to it.
const early = [];
const note = (sig) => {
  signalled = true;
  if (!started) early.push(sig);
};
let started = false;
process.on('SIGINT', note);
process.on('SIGTERM', note);
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  if (!signalled) process.kill(process.pid, 'SIGTERM');
}, 500);
orphaned.unref();

const { main } = await import('../packages/cli/dist/bin.js');
started = true;
process.exitCode = await main([process.execPath, bin, 'run', file, ...args.filter((a) => a !== '--live')], undefined, early);
// Done: a signal ends the process as by default (a thread blocked in a system call may hold it).
process.off('SIGINT', note);
process.off('SIGTERM', note);
