// quote.ts: show a value that came from outside in a one-line message: control characters escaped, long values cut.

/** The most characters of one value a message shows; the rest is replaced by its length. */
export const QUOTE_MAX = 200;

/** The most characters a whole message line keeps (the CLIs' last guard, for values no call site quoted). */
export const LINE_MAX = 2000;

// C0 and C1 controls, DEL, and Unicode's line and paragraph separators: anything a terminal or a
// line-oriented log reader would take as a line break, a colour or a cursor move.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** The first `max` characters of `s`, not splitting a surrogate pair, and a note of the whole length. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}...(${s.length} characters)`;
}

/**
 * `value` fit to sit inside a one-line message: control characters become
 * escapes (`\n`, `\x1b`, `\x00`) and a value longer than `max` is cut with
 * its length said. A short printable value comes back unchanged, so the
 * usual messages read as they always did.
 */
export function quote(value: unknown, max = QUOTE_MAX): string {
  return cut(String(value), max).replace(CONTROL, escapeChar);
}

/**
 * A whole message made one bounded line. Every CLI passes what it prints
 * through this, so a value that reached a message unquoted still cannot
 * start a second line or run on for pages.
 */
export function oneLine(message: string): string {
  return cut(message, LINE_MAX).replace(CONTROL, escapeChar);
}
