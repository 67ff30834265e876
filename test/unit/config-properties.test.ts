import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePlaceholders, createRedactor } from '../../runtime/config/placeholders.js';
import { parseProperties, PropertiesSyntaxError } from '../../runtime/config/properties.js';

describe('Java properties files', () => {
  it('reads separators, comments, continuations and escapes as java.util.Properties does', () => {
    const text = [
      '# a comment',
      '  ! another comment',
      '',
      'plain=value',
      'colon: value two  ',
      'spaced   =   v3',
      'blank value',
      'empty=',
      'bare',
      'cont = first \\',
      '       second\\',
      '  third',
      'comment.is.not.continued=x',
      '# ends with a backslash \\',
      'after.comment=y',
      'even.backslashes=a\\\\',
      'next=z',
      'esc\\=aped\\:key\\ x=tab\\there\\nnewline \\u00e9t\\u00E9 \\q',
      'dup=1',
      'dup=2',
      '\\#not.comment=h',
      'windows=crlf\r',
      'unicode.key.\\u0041=A',
    ].join('\n');
    const p = parseProperties(text);
    expect(Object.fromEntries(p)).toEqual({
      plain: 'value',
      colon: 'value two  ',
      spaced: 'v3',
      blank: 'value',
      empty: '',
      bare: '',
      cont: 'first secondthird',
      'comment.is.not.continued': 'x',
      'after.comment': 'y',
      'even.backslashes': 'a\\',
      next: 'z',
      'esc=aped:key x': 'tab\there\nnewline été q',
      dup: '2',
      '#not.comment': 'h',
      windows: 'crlf',
      'unicode.key.A': 'A',
    });
  });

  it('refuses a malformed \\u escape naming the line, not its text', () => {
    expect(() => parseProperties('ok=1\nsecret=hunter2\\u12')).toThrow(PropertiesSyntaxError);
    try {
      parseProperties('ok=1\nsecret=hunter2\\u12');
    } catch (err) {
      expect((err as Error).message).toBe('line 2: malformed \\uxxxx escape');
    }
  });
});

describe('${file:path:key} placeholders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-props-'));
  const file = join(dir, 'creds.properties');
  writeFileSync(file, '# credentials\nuser = alice\npassword: s3cr3t-value\nother.secret=do-not-show\n');
  writeFileSync(join(dir, 'bad.properties'), 'x=\\uZZZZ other-secret\n');

  it('reads one key; the whole-file form keeps its meaning', () => {
    const { config, errors } = resolvePlaceholders({ a: `\${file:${file}:password}`, b: `u=\${file:${file}:user}`, c: `\${file:${file}}` });
    expect(errors).toEqual([]);
    expect(config['a']).toBe('s3cr3t-value');
    expect(config['b']).toBe('u=alice');
    expect(config['c']).toContain('other.secret=do-not-show');
  });

  it('names the field and the placeholder of a missing file or key, revealing nothing else of the file', () => {
    const { errors } = resolvePlaceholders({
      k: `\${file:${file}:missing}`,
      f: `\${file:${dir}/nope.properties:user}`,
      e: `\${file:${file}:}`,
      s: `\${file:${dir}/bad.properties:x}`,
    });
    expect(errors.map((e) => e.field)).toEqual(['k', 'f', 'e', 's']);
    expect(errors[0]!.message).toBe(`key missing not found in file ${file} referenced by \${file:${file}:missing}`);
    expect(errors[1]!.message).toMatch(/nope\.properties.*cannot be read: ENOENT/);
    expect(errors[2]!.message).toMatch(/names no key/);
    expect(errors[3]!.message).toMatch(/not a valid properties file \(line 1: malformed/);
    for (const e of errors) expect(e.message).not.toMatch(/alice|s3cr3t|do-not-show|other-secret/);
  });

  it('redacts what a key resolves to from messages', () => {
    const redact = createRedactor({ 's3.secret.access.key': `\${file:${file}:password}` });
    expect(redact('signature for s3cr3t-value failed')).toBe(`signature for \${file:${file}:password} failed`);
  });
});
