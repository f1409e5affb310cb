/** Small file-system helpers of the embedded backend. */
import { open } from "node:fs/promises";

/** fsyncs a directory so entries created, renamed or deleted in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
