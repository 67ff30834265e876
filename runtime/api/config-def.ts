/**
 * Declared configuration, in the spirit of Kafka Connect's ConfigDef: one
 * declaration per connector drives parsing and typing, validation (every bad
 * field reported), the REST `validate` answer and the generated docs table.
 */
import { javaOnlySyntax } from './regex-syntax.js';
import type { FieldError } from './errors.js';

export type ConfigType = 'string' | 'password' | 'int' | 'double' | 'boolean' | 'list';
export type Importance = 'HIGH' | 'MEDIUM' | 'LOW';
export type RawConfig = Record<string, string>;

interface KeyBase {
  doc: string;
  importance?: Importance;
  group?: string;
  /** Absent or empty is an error. Keys with a default are never required. */
  required?: boolean;
  /**
   * Absent or empty is an error when this returns a condition, quoted in the message
   * (`is required with target=kafka`); otherwise the default applies. For keys that
   * only some settings of another key need.
   */
  requiredWhen?: (all: RawConfig) => string | undefined;
  /** Optional extra check on the parsed value; returns an error message or undefined. */
  check?: (value: never, all: RawConfig) => string | undefined;
}
export interface StringKey extends KeyBase {
  type: 'string';
  default?: string;
  oneOf?: readonly string[];
}
export interface PasswordKey extends KeyBase {
  type: 'password';
  default?: string;
}
export interface IntKey extends KeyBase {
  type: 'int';
  default?: number;
  min?: number;
  max?: number;
}
export interface DoubleKey extends KeyBase {
  type: 'double';
  default?: number;
  min?: number;
  max?: number;
}
export interface BooleanKey extends KeyBase {
  type: 'boolean';
  default?: boolean;
}
export interface ListKey extends KeyBase {
  type: 'list';
  default?: readonly string[];
}
export type ConfigKey = StringKey | PasswordKey | IntKey | DoubleKey | BooleanKey | ListKey;
export type ConfigKeys = Record<string, ConfigKey>;

type ValueOf<K extends ConfigKey> = K extends StringKey | PasswordKey
  ? string
  : K extends IntKey | DoubleKey
    ? number
    : K extends BooleanKey
      ? boolean
      : readonly string[];

type AlwaysPresent = { default: unknown } | { required: true };

/** Keys with a default or marked required are always present after parsing; others may be absent. */
export type ConfigValues<K extends ConfigKeys> = {
  [N in keyof K as K[N] extends AlwaysPresent ? N : never]: ValueOf<K[N]>;
} & {
  [N in keyof K as K[N] extends AlwaysPresent ? never : N]?: ValueOf<K[N]>;
};

export interface ValidationResult<K extends ConfigKeys> {
  values: ConfigValues<K>;
  errors: FieldError[];
}

export interface DescribedKey {
  name: string;
  type: ConfigType;
  required: boolean;
  defaultValue: string | null;
  importance: Importance;
  group: string | null;
  doc: string;
  allowed: readonly string[] | null;
}

export class ConfigDef<K extends ConfigKeys> {
  constructor(readonly keys: K) {}

  /** Another definition with these keys added; later keys win, so connectors can refine defaults. */
  extend<E extends ConfigKeys>(extra: E): ConfigDef<Omit<K, keyof E> & E> {
    return new ConfigDef({ ...this.keys, ...extra } as Omit<K, keyof E> & E);
  }

  isSecret(name: string): boolean {
    return this.keys[name]?.type === 'password';
  }

  validate(raw: RawConfig): ValidationResult<K> {
    const values: Record<string, unknown> = {};
    const errors: FieldError[] = [];
    for (const [name, key] of Object.entries(this.keys)) {
      const text = raw[name];
      if (text === undefined || text === '') {
        const condition = key.requiredWhen?.(raw);
        if (condition !== undefined) errors.push({ field: name, message: `is required ${condition}` });
        else if (key.default !== undefined) values[name] = key.default;
        else if (isRequired(key)) errors.push({ field: name, message: 'is required' });
        continue;
      }
      const parsed = parseValue(key, text);
      if ('error' in parsed) {
        errors.push({ field: name, message: parsed.error });
        continue;
      }
      const problem = key.check?.(parsed.value as never, raw);
      if (problem) errors.push({ field: name, message: problem });
      else values[name] = parsed.value;
    }
    return { values: values as ConfigValues<K>, errors };
  }

  describe(): DescribedKey[] {
    return Object.entries(this.keys).map(([name, key]) => ({
      name,
      type: key.type,
      required: isRequired(key),
      defaultValue: key.default === undefined ? null : formatValue(key.default),
      importance: key.importance ?? 'MEDIUM',
      group: key.group ?? null,
      doc: key.doc,
      allowed: key.type === 'string' && key.oneOf ? key.oneOf : null,
    }));
  }
}

function isRequired(key: ConfigKey): boolean {
  return key.required === true && key.default === undefined;
}

export function formatValue(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

function parseValue(key: ConfigKey, text: string): { value: unknown } | { error: string } {
  switch (key.type) {
    case 'string':
      if (key.oneOf && !key.oneOf.includes(text)) return { error: `must be one of ${key.oneOf.join(', ')}, got "${text}"` };
      return { value: text };
    case 'password':
      return { value: text };
    case 'boolean':
      if (/^(true|false)$/i.test(text.trim())) return { value: text.trim().toLowerCase() === 'true' };
      return { error: `must be true or false, got "${text}"` };
    case 'list':
      return {
        value: text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      };
    case 'int':
    case 'double': {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n)) return { error: `must be a number, got "${text}"` };
      if (key.type === 'int' && !Number.isSafeInteger(n)) return { error: `must be an integer, got "${text}"` };
      if (key.min !== undefined && n < key.min) return { error: `must be at least ${key.min}, got ${n}` };
      if (key.max !== undefined && n > key.max) return { error: `must be at most ${key.max}, got ${n}` };
      return { value: n };
    }
  }
}

export function defineConfig<K extends ConfigKeys>(keys: K): ConfigDef<K> {
  return new ConfigDef(keys);
}

/** Reusable `check` functions for declared keys. */
export const checks = {
  /** A JavaScript regular expression; Java-only syntax (copied from a Kafka Connect config) is named with what to write instead. */
  regex(value: string): string | undefined {
    const java = javaOnlySyntax(value);
    if (java.length > 0) return `is Java regex syntax, which coldstore does not read: ${java.join('; ')}`;
    try {
      new RegExp(value);
      return undefined;
    } catch (err) {
      return `is not a valid regular expression: ${(err as Error).message}`;
    }
  },
};
