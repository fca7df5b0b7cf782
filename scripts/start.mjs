#!/usr/bin/env node
// `npm start [-- --live] [qitian run options...]`: the main job. Without --live it runs
// topologies/syslog-fault-localization.yaml (simulated devices with injected faults, about 30 s);
// with --live, topologies/syslog-live.yaml (real syslog on UDP and TCP port 5514) until Ctrl-C.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const live = args.includes('--live');
const file = live ? 'topologies/syslog-live.yaml' : 'topologies/syslog-fault-localization.yaml';
const bin = fileURLToPath(new URL('../packages/cli/bin/qitian.js', import.meta.url));
const child = spawn(process.execPath, [bin, 'run', file, ...args.filter((a) => a !== '--live')], { cwd: root, stdio: 'inherit' });
// Ctrl-C reaches the child directly (same process group) and it drains; passing SIGINT on as
// well would be a second one, which stops it without draining. SIGTERM is aimed at this process
// alone, so it is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
