import type { FileHandle } from 'node:fs/promises';

/**
 * Cuts the last `bytes` bytes off a file: the part of a chunk a failed write got in (a disk that
 * filled up mid-chunk), whose tuples fail and are written again, so that the file holds no torn
 * line and no line twice. Best effort: false when the file cannot be cut (the write error is
 * what gets reported; the file then keeps a torn line).
 */
export async function takeBack(handle: FileHandle, bytes: number): Promise<boolean> {
  try {
    const { size } = await handle.stat();
    await handle.truncate(Math.max(0, size - bytes));
    return true;
  } catch {
    return false;
  }
}
