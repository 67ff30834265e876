/**
 * `topics.regex` is written for Kafka Connect, i.e. in Java's regex syntax, but coldstore
 * matches it twice: as a JavaScript RegExp (the connector's own view of its topics) and in
 * the Kafka consumer's subscription, where librdkafka hands it to the C library's POSIX
 * extended regular expressions (`regcomp(REG_EXTENDED)`). Java-only constructs either fail
 * to compile in JavaScript with a puzzling message (`Nothing to repeat` for `a*+`) or, worse,
 * compile to something else (`\Q.\E` is the letters `Q.E`); POSIX refuses `(?:...)` and reads
 * `\d` as the letter d. So the pattern must be in the syntax all three read alike; each
 * construct outside it is named with what to write instead.
 */

/** Escapes a backslash may be followed by where JavaScript and Java agree on the meaning. */
const SHARED_LETTER_ESCAPES = new Set('bBdDsSwWfnrtcxu');

const ESCAPE_ADVICE: Record<string, string> = {
  p: '\\p{...} (a Java character class) is the letter p in JavaScript: use a bracket class, e.g. [a-z] for \\p{Lower} or \\p{javaLowerCase}',
  P: '\\P{...} (a negated Java character class) is the letter P in JavaScript: use a negated bracket class, e.g. [^a-z]',
  Q: '\\Q...\\E (Java quoting) is the letters Q and E in JavaScript: escape each special character instead, e.g. a\\.b for \\Qa.b\\E',
  E: '\\E (the end of Java quoting) is the letter E in JavaScript: escape each special character instead of \\Q...\\E',
  A: '\\A (Java: start of input) is the letter A in JavaScript: leave it out, the pattern must match the whole name anyway',
  Z: '\\Z (Java: end of input) is the letter Z in JavaScript: leave it out, the pattern must match the whole name anyway',
  z: '\\z (Java: end of input) is the letter z in JavaScript: leave it out, the pattern must match the whole name anyway',
};

function escapeAdvice(letter: string): string {
  return (
    ESCAPE_ADVICE[letter] ??
    `\\${letter} is the letter ${letter} in JavaScript, not what Java makes of it: write the characters it should match, e.g. as a bracket class`
  );
}

function groupAdvice(rest: string): string | undefined {
  if (rest.startsWith('>')) return '(?>...) (a Java atomic group) does not exist in JavaScript: use a plain group (...)';
  const flags = /^([a-zA-Z]*(?:-[a-zA-Z]*)?)\)/.exec(rest);
  if (flags) {
    const caseAdvice = flags[1]!.includes('i') ? ', e.g. [Oo]rders for (?i)orders' : '';
    return `(?${flags[1]}) (a Java inline flag) does not exist in JavaScript: spell the variants out${caseAdvice}`;
  }
  const scoped = /^([a-zA-Z]*(?:-[a-zA-Z]*)?):/.exec(rest);
  if (scoped && /[^ims-]/.test(scoped[1]!)) return `(?${scoped[1]}:...) uses a flag JavaScript does not have (only i, m and s): spell the variants out`;
  return undefined;
}

/** Each Java-only construct of the pattern, described with its JavaScript equivalent. */
export function javaOnlySyntax(pattern: string): string[] {
  const problems: string[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const next = pattern[i + 1];
    if (c === '\\') {
      if (next !== undefined && /[a-zA-Z]/.test(next) && !SHARED_LETTER_ESCAPES.has(next)) problems.push(escapeAdvice(next));
      else if (next === 'x' && pattern[i + 2] === '{') problems.push('\\x{...} (a Java code point) does not exist in JavaScript: use \\xHH or \\uHHHH');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '&' && next === '&')
        problems.push('&& in a bracket class (a Java intersection) is two & characters in JavaScript: list the characters both sides have');
      else if (c === '[')
        problems.push('[ inside a bracket class (a Java union) is a [ character in JavaScript: merge the classes, e.g. [abc] for [a[bc]], or escape it as \\[');
      continue;
    }
    if (c === '[') {
      inClass = true;
      const first = pattern[i + 1] === '^' ? i + 2 : i + 1;
      if (pattern[first] === ']') {
        problems.push('a ] first in a bracket class is a character in Java but ends an empty class in JavaScript: escape it as \\]');
        i = first;
      }
    } else if (c === '(' && next === '?') {
      const advice = groupAdvice(pattern.slice(i + 2));
      if (advice) problems.push(advice);
      i++;
    } else if (next === '+' && (c === '*' || c === '+' || c === '?' || (c === '}' && /\{\d+(,\d*)?\}$/.test(pattern.slice(0, i + 1))))) {
      problems.push(
        `${c}+ (a Java possessive quantifier) does not exist in JavaScript: use the greedy ${c} (Java backtracks into it where the possessive form does not)`,
      );
      i++;
    }
  }
  return [...new Set(problems)];
}

const POSIX_SHARED_LETTER_ESCAPES = new Set('wWsSbB');
const POSIX = "the Kafka consumer's topic subscription (librdkafka, POSIX extended regular expressions)";

/** Constructs JavaScript and Java share that the subscription's POSIX matcher refuses or reads otherwise. */
export function subscriptionOnlyProblems(pattern: string): string[] {
  const problems: string[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const next = pattern[i + 1];
    if (inClass) {
      if (c === '\\')
        problems.push(
          `a backslash inside [...] is a backslash for ${POSIX}: write the characters without it, ] first and - last, e.g. [a-zA-Z0-9._-] for [\\w.\\-]`,
        );
      else if (c === ']') inClass = false;
      continue;
    }
    if (c === '\\') {
      // The subscription wraps the pattern in ^(...)$, so \1 there names the whole pattern, not the group meant.
      if (next !== undefined && /[1-9]/.test(next))
        problems.push(`\\${next} (a backreference) refers to another group in ${POSIX}, which wraps the pattern in a group of its own: write the text out`);
      else if (next === 'd') problems.push(`\\d is the letter d for ${POSIX}: write [0-9]`);
      else if (next === 'D') problems.push(`\\D is the letter D for ${POSIX}: write [^0-9]`);
      else if (next !== undefined && /[a-zA-Z]/.test(next) && !POSIX_SHARED_LETTER_ESCAPES.has(next)) {
        problems.push(`\\${next} is the letter ${next} for ${POSIX}: write the characters it should match`);
      }
      i++;
    } else if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
    } else if (c === '(' && next === '?') {
      if (/^\(\?<?!/.test(pattern.slice(i)))
        problems.push(
          `a negative lookahead or lookbehind (?!...) is refused by ${POSIX}: list the topics to take, and leave others out with the connector's exclude setting (BackupSink: topics.exclude.regex)`,
        );
      else
        problems.push(
          `(?...) groups (non-capturing, lookaround, flags) are refused by ${POSIX}: use a plain group (...) and spell case variants out, e.g. [Oo]rders`,
        );
    } else if (c === '{' && next === ',') {
      problems.push(`{,n} is {0,n} for ${POSIX} but the characters {,n} in JavaScript: write {0,n}`);
    }
  }
  return [...new Set(problems)];
}

/**
 * The `check` of `topics.regex`: Java-only syntax, then anything JavaScript cannot compile,
 * then what the consumer's subscription would read otherwise.
 */
export function topicsRegexProblem(pattern: string): string | undefined {
  const java = javaOnlySyntax(pattern);
  if (java.length > 0) return `is Java regex syntax, which coldstore does not read: ${java.join('; ')}`;
  try {
    new RegExp(pattern);
  } catch (err) {
    return `is not a valid JavaScript regular expression: ${(err as Error).message}`;
  }
  const posix = subscriptionOnlyProblems(pattern);
  if (posix.length > 0) return `is read differently by ${POSIX} than by Kafka Connect: ${posix.join('; ')}`;
  return undefined;
}
