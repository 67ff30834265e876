import type { TaskLogger } from '../../runtime/api/index.js';

/** About `bytes` of JSON lines with repeated field names and varied values, like typical event payloads. */
export function jsonLike(bytes: number): Buffer {
  const lines: string[] = [];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const line = `{"id":${i},"type":"${['view', 'cart', 'buy'][i % 3]}","user":"u-${(i * 7919) % 10007}","amount":${((i * 31) % 997) / 10}}\n`;
    lines.push(line);
    total += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** A logger that keeps its lines, for assertions on what was said. */
export function recordingLog(): TaskLogger & { lines: { level: string; fields: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
