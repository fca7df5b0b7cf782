import { once } from 'node:events';
/** Where commands write; tests capture it instead of the process streams. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /**
   * While `out` holds more than its reader took (a paused pager), a promise that settles once it
   * has drained or `signal` aborts; else undefined. A streaming command waits on it before reading on.
   */
  outDrained?(signal: AbortSignal): Promise<void> | undefined;
}

export const processIO: CommandIO = {
  out: (t) => process.stdout.write(`${t}\n`),
  outDrained: (signal) =>
    process.stdout.writableNeedDrain
      ? once(process.stdout, 'drain', { signal }).then(
          () => undefined,
          () => undefined,
        )
      : undefined,
  // Once standard error has failed (its reader exited), log lines have nowhere to go: dropped.
  err: (t) => {
    if (!process.stderr.destroyed) process.stderr.write(`${t}\n`);
  },
};
