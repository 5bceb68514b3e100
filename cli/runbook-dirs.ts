/** Extra runbook folders, from DRCTL_RUNBOOKS_DIR (colon-separated), searched after the bundled examples. */
export function runbookDirs(): string[] {
  return (process.env.DRCTL_RUNBOOKS_DIR ?? '').split(':').filter(Boolean);
}

/** Extra evacuation folders, from DRCTL_EVACUATIONS_DIR (colon-separated), searched after the bundled examples. */
export function evacuationDirs(): string[] {
  return (process.env.DRCTL_EVACUATIONS_DIR ?? '').split(':').filter(Boolean);
}
