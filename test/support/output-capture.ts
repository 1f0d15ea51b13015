/**
 * Captures everything written to stdout and stderr (where Powertools' logger writes, through its
 * own Console) until `stop()`, without passing it on.
 */
export function captureProcessOutput(): { lines(): string[]; stop(): void } {
  const chunks: string[] = [];
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  return {
    lines: () => chunks.join('').split('\n').filter((line) => line.length > 0),
    stop: () => {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
    },
  };
}
