import type { RawConfig } from '../api/config-def.js';
import { hasPlaceholder } from './placeholders.js';

export const MASK = '[hidden]';
const SECRET_NAME = /(password|secret|token|credential|sasl\.jaas|private\.key|access\.key)/i;

/**
 * A copy safe to show or log: declared passwords and keys whose names look
 * secret are hidden; placeholders are references, not secrets, and stay visible.
 */
export function maskConfig(config: RawConfig, isDeclaredSecret: (key: string) => boolean = () => false): RawConfig {
  const out: RawConfig = {};
  for (const [key, value] of Object.entries(config)) {
    const secret = isDeclaredSecret(key) || SECRET_NAME.test(key);
    out[key] = secret && !hasPlaceholder(value) ? MASK : value;
  }
  return out;
}
