import { defineQuery, setHandler } from '@temporalio/workflow';

/**
 * Whether a drill's start passed the access policy and its options their signature. `drctl drill run` returns
 * once it has (or once the drill ended refused): a drill has no `progress` query showing an authorization, and
 * without this the CLI waited for the drill's end or a minute, showing nothing.
 */
export const drillStartVerdictQuery = defineQuery<{ authorized: boolean }>('startVerdict');

/** Answers the query from the drill's first task on; call the returned function once the start is verified. */
export function answerStartVerdict(): () => void {
  let authorized = false;
  setHandler(drillStartVerdictQuery, () => ({ authorized }));
  return () => {
    authorized = true;
  };
}
