/**
 * Escaping for every string a report takes from a drill result (runbook text, reasons, error messages): the
 * result is data from operators and providers, so none of it may become markup.
 */
import { terminalSafe } from '../cli/terminal-safe';

// XML 1.0 forbids these control characters even when escaped; a message from a provider may carry them.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

const MARKUP_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe as HTML or XML element content and inside single- or double-quoted attribute values. */
export function escapeMarkup(text: string): string {
  return text.replace(INVALID_XML_CHARS, '').replace(/[&<>"']/g, (char) => MARKUP_ENTITIES[char] ?? char);
}

/**
 * Text safe in one line or table cell of GitHub-flavoured Markdown: no raw HTML, no cell breaks, no emphasis or
 * links it did not ask for; and, as `drctl report` prints it to a terminal, no control character (shown `\x1b`).
 */
export function escapeMarkdown(text: string): string {
  return terminalSafe(text.replace(/\r?\n|\r/g, ' '))
    .replace(/[\\`*_[\]|#]/g, (char) => `\\${char}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Text as a Markdown code span on one line; in a table cell GFM still needs the pipe escaped. */
export function markdownCode(text: string): string {
  return `\`${terminalSafe(text.replace(/\r?\n|\r/g, ' '))
    .replace(/`/g, "'")
    .replace(/\|/g, '\\|')}\``;
}
