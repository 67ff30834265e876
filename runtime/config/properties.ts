/**
 * Java `.properties` text as `java.util.Properties.load` reads it, for `${file:path:key}`
 * placeholders (Kafka Connect's FileConfigProvider reads the same files): `key=value`,
 * `key: value` and `key value`, `#` and `!` comment lines, a backslash at the end of a line
 * continuing it on the next (whose leading blanks are dropped), and the escapes `\t \n \r \f
 * \uXXXX`, any other escaped character standing for itself. The last of duplicate keys wins.
 */
export class PropertiesSyntaxError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    // The message names the line, never its text: the file may hold secrets.
    super(`line ${line}: ${problem}`);
    this.name = 'PropertiesSyntaxError';
  }
}

const BLANK = /[ \t\f]/;

export function parseProperties(text: string): Map<string, string> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const out = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = stripLeadingBlanks(lines[i]!);
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (endsWithOddBackslashes(line)) {
      line = line.slice(0, -1);
      if (i + 1 >= lines.length) break;
      line += stripLeadingBlanks(lines[++i]!);
    }
    const [key, value] = splitKeyValue(line);
    out.set(unescape(key, first), unescape(value, first));
  }
  return out;
}

function stripLeadingBlanks(line: string): string {
  let start = 0;
  while (start < line.length && BLANK.test(line[start]!)) start++;
  return line.slice(start);
}

function endsWithOddBackslashes(line: string): boolean {
  let count = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) count++;
  return count % 2 === 1;
}

/** The key ends at the first unescaped `=`, `:` or blank; one `=` or `:` and the blanks around it separate it from the value. */
function splitKeyValue(line: string): [string, string] {
  let end = 0;
  while (end < line.length) {
    const c = line[end]!;
    if (c === '\\') end += 2;
    else if (c === '=' || c === ':' || BLANK.test(c)) break;
    else end++;
  }
  end = Math.min(end, line.length);
  let at = end;
  while (at < line.length && BLANK.test(line[at]!)) at++;
  if (line[at] === '=' || line[at] === ':') at++;
  while (at < line.length && BLANK.test(line[at]!)) at++;
  return [line.slice(0, end), line.slice(at)];
}

const SIMPLE_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(text: string, line: number): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === undefined) break;
    if (next === 'u') {
      const hex = text.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesSyntaxError(line, 'malformed \\uxxxx escape');
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else out += SIMPLE_ESCAPES[next] ?? next;
  }
  return out;
}
