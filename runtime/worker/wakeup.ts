/** Lets a loop sleep until a deadline or until something needs its attention, whichever comes first. */
export class Wakeup {
  private wake: (() => void) | undefined;

  notify(): void {
    this.wake?.();
    this.wake = undefined;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const previous = this.wake;
      this.wake = done;
      function done() {
        clearTimeout(timer);
        previous?.();
        resolve();
      }
    });
  }
}
