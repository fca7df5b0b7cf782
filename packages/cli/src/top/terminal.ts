/**
 * The live view's terminal: the alternate screen with the cursor hidden, frames drawn in place,
 * keys read in raw mode; all of it undone by close(), and by the process exiting if close()
 * never ran.
 */

export interface Screen {
  readonly columns: number;
  readonly rows: number;
  /** Replaces what is shown with `frame` (lines separated by \n). */
  draw(frame: string): void;
  /** Restores the terminal: main screen, cursor, cooked mode. Safe to call twice. */
  close(): void;
}

export interface ScreenEvents {
  /** A key or escape sequence typed ("q", "\x03" for Ctrl-C, "\x1b[C" for the right arrow). */
  readonly onKey?: (key: string) => void;
  readonly onResize?: () => void;
}

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[2J';
const LEAVE = '\x1b[?25h\x1b[?1049l';

/** Takes over `stdout` (a TTY); reads keys from `stdin` when it is a TTY too. */
export function openScreen(stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream, events: ScreenEvents = {}): Screen {
  const keys = stdin.isTTY === true && events.onKey !== undefined;
  const onData = (data: string) => {
    // A paste or fast typing can bring several keys at once; escape sequences stay whole.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: splitting terminal escape sequences is the point
    for (const key of data.match(/\x1b\[[0-9;]*[A-Za-z~]|\x1b.|[\s\S]/g) ?? []) events.onKey?.(key);
  };
  const onResize = () => events.onResize?.();
  let closed = false;
  const restore = () => {
    if (closed) return;
    closed = true;
    if (keys) {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    }
    stdout.off('resize', onResize);
    process.off('exit', restore);
    stdout.write(LEAVE);
  };
  stdout.write(ENTER);
  process.on('exit', restore);
  stdout.on('resize', onResize);
  if (keys) {
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  }
  return {
    get columns() {
      return stdout.columns || 80;
    },
    get rows() {
      return stdout.rows || 24;
    },
    draw(frame) {
      if (closed) return;
      const lines = frame.split('\n').slice(0, this.rows);
      // Each line at its own row, the rest of the row cleared, then everything below: no flicker.
      const below = lines.length < this.rows ? `\x1b[${lines.length + 1};1H\x1b[J` : '';
      stdout.write(`${lines.map((l, i) => `\x1b[${i + 1};1H${l}\x1b[K`).join('')}${below}`);
    },
    close: restore,
  };
}
