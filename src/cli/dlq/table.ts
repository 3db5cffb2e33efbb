/** Plain-text tables for terminals and logs: left-aligned, two spaces apart, cells cut to a width. */

export type Cell = string | number | bigint | boolean | Date | undefined | null;

export function cellText(value: Cell, maxWidth = 60): string {
  let text: string;
  if (value === undefined || value === null) text = "";
  else if (value instanceof Date) text = value.toISOString();
  else text = String(value);
  text = text.replace(/[\r\n\t]+/g, " ");
  return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
}

export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  maxWidth = 60,
): string {
  const texts = rows.map((row) => headers.map((_, i) => cellText(row[i], maxWidth)));
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...texts.map(line)].join("\n") + "\n";
}
