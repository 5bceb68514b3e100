/**
 * A gate for a fake endpoint's calls: while held, each call waits at `passed()` until released, so a test can
 * see what piles up behind a call in flight.
 */
export function heldCalls(): { passed(): Promise<void>; hold(): void; release(): void } {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  return {
    passed: () => gate ?? Promise.resolve(),
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open?.();
    },
  };
}
