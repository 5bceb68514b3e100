import { Context } from '@temporalio/activity';

/**
 * The details the previous attempt of this activity last heartbeated, when they carry `tag` (so a loop resumes
 * only from its own progress); undefined on a first attempt, outside an activity, or for another loop's details.
 */
export function resumeFrom<T extends { resume: string }>(tag: T['resume']): T | undefined {
  let details: unknown;
  try {
    details = Context.current().info.heartbeatDetails;
  } catch {
    return undefined;
  }
  if (typeof details !== 'object' || details === null) return undefined;
  return (details as { resume?: unknown }).resume === tag ? (details as T) : undefined;
}
