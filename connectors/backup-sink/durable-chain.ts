/**
 * One partition's bundles in offset order and which are durable. The durable
 * position — what preCommit may report — is the end + 1 of the longest prefix
 * of durable bundles; uploads may finish in any order.
 */
export class DurableChain {
  private readonly pending: { start: bigint; end: bigint; done: boolean }[] = [];
  constructor(
    private position: bigint | undefined,
    private lastDurable: bigint | undefined = undefined,
  ) {}

  get durablePosition(): bigint | undefined {
    return this.position;
  }

  /** The start of the last bundle of the durable prefix (where a later recovery may list from), when known. */
  get lastDurableStart(): bigint | undefined {
    return this.lastDurable;
  }

  get outstanding(): number {
    return this.pending.filter((p) => !p.done).length;
  }

  /** Registers a bundle, kept in offset order whatever the order of calls; a start already registered is kept. */
  add(start: bigint, end: bigint, done = false): void {
    if (this.pending.some((p) => p.start === start)) return;
    const at = this.pending.findIndex((p) => p.start > start);
    this.pending.splice(at < 0 ? this.pending.length : at, 0, { start, end, done });
    this.advance();
  }

  markDone(start: bigint): void {
    const entry = this.pending.find((p) => p.start === start);
    if (entry) entry.done = true;
    this.advance();
  }

  private advance(): void {
    while (this.pending[0]?.done) {
      const bundle = this.pending.shift()!;
      this.lastDurable = bundle.start;
      this.position = bundle.end + 1n;
    }
  }
}
