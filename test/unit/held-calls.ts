import { MockActivityEnvironment } from '@temporalio/testing';

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

/**
 * Two activities (an opener and a joiner of one shared call) that count their heartbeats; `untilBothBeat` waits
 * until each has heartbeated `times` times (at most 5 s: a loaded machine is slow).
 */
export function twoActivities(): {
  opener: MockActivityEnvironment;
  joiner: MockActivityEnvironment;
  beats: { opener: number; joiner: number };
  untilBothBeat(times: number): Promise<void>;
} {
  const opener = new MockActivityEnvironment();
  const joiner = new MockActivityEnvironment();
  const beats = { opener: 0, joiner: 0 };
  opener.on('heartbeat', () => beats.opener++);
  joiner.on('heartbeat', () => beats.joiner++);
  return {
    opener,
    joiner,
    beats,
    async untilBothBeat(times) {
      for (let waited = 0; waited < 5_000 && (beats.opener < times || beats.joiner < times); waited += 10)
        await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}
