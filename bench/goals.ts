import { formatMs } from '../runbooks/duration';

/** One of issue 10's goals, with what the benchmark measured and what it is measured against. */
export interface Goal {
  name: string;
  /** The measured figure (a median). */
  value: number;
  /** `at most` for times, `at least` for speed-ups. */
  bound: 'at most' | 'at least';
  limit: number;
  unit: 'ms' | '×';
  /** What the figure stands beside (another tool, or the part of the time drctl cannot remove). */
  anchor: string;
}

export function isMet(goal: Goal): boolean {
  return goal.bound === 'at most' ? goal.value <= goal.limit : goal.value >= goal.limit;
}

function show(value: number, unit: Goal['unit']): string {
  if (Number.isNaN(value)) return 'n/a';
  return unit === 'ms' ? formatMs(Math.round(value)) : `${value.toFixed(1)}×`;
}

/** The goals as a table: goal, figure, limit, anchor, met or missed. */
export function goalTable(goals: readonly Goal[]): string[] {
  const rows = goals.map((goal) => [
    goal.name,
    show(goal.value, goal.unit),
    `${goal.bound === 'at most' ? '≤' : '≥'} ${show(goal.limit, goal.unit)}`,
    isMet(goal) ? 'met' : 'MISSED',
    goal.anchor,
  ]);
  const header = ['goal', 'figure', 'limit', 'verdict', 'anchor'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}
