/**
 * A table a terminal and grep both read: a header row, columns sized to their widest cell, no borders, two spaces
 * between columns, no trailing blanks (cli-table3, loaded only when a table is drawn).
 */
export async function plainTable(
  head: string[],
  rows: string[][],
  aligns: Array<'left' | 'right'> = [],
): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head,
    chars: BORDERLESS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
    colAligns: head.map((_, index) => aligns[index] ?? 'left'),
  });
  table.push(...rows);
  return table.toString().replace(/ +$/gm, '');
}

/** cli-table3 without any border or separator character. */
const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '',
};
