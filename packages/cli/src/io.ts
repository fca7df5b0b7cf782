/** Where commands write; tests capture it instead of the process streams. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CommandIO = {
  out: (t) => process.stdout.write(`${t}\n`),
  // Once standard error has failed (its reader exited), log lines have nowhere to go: dropped.
  err: (t) => {
    if (!process.stderr.destroyed) process.stderr.write(`${t}\n`);
  },
};
