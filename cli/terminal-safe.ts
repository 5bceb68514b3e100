const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': ' ' };

/**
 * Text that came from somewhere else (a reason an operator typed, a runbook title, a provider's error) is shown
 * on one line with its terminal control characters escaped, so it cannot move the cursor, recolour, clear the
 * screen or fake a line of output the on-call engineer would trust.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}
