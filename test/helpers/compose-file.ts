// docker-compose.yml, parsed: its services, their published ports and mounts.
import { parse } from 'yaml';
import { asArray, asObj, isObj, read, type Obj } from './repo-files.js';

export const compose = asObj(parse(read('docker-compose.yml')), 'docker-compose.yml');
export const services = asObj(compose.services, 'services');

export function service(name: string): Obj {
  return asObj(services[name], `service ${name}`);
}

/** Host ports a service publishes, from the short ("H:C", "IP:H:C") or long syntax. */
export function publishedPorts(name: string): number[] {
  const out: number[] = [];
  for (const p of asArray(service(name).ports)) {
    if (isObj(p)) {
      if (p.published !== undefined) out.push(Number(p.published));
      continue;
    }
    const spec = String(p).replace(/\/(tcp|udp)$/, '');
    const parts = spec.split(':');
    // "C" alone publishes on a random host port: nothing to promise.
    if (parts.length >= 2) out.push(Number(parts[parts.length - 2]));
  }
  return out;
}

export interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

/** A service's volumes, short ("src:dst[:mode]") or long syntax. */
export function mounts(name: string): Mount[] {
  return asArray(service(name).volumes).map((v): Mount => {
    if (isObj(v)) {
      const source = String(v.source ?? '');
      const type = v.type === 'bind' ? 'bind' : 'volume';
      return { type, source, target: String(v.target ?? '') };
    }
    const [source = '', target = ''] = String(v).split(':');
    const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    return { type: bind ? 'bind' : 'volume', source, target };
  });
}

/** A service's environment as a map, from the mapping or the list ("K=V") syntax. */
export function environment(name: string): Record<string, string> {
  const env = service(name).environment;
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => String(e).split(/=(.*)/s).slice(0, 2) as [string, string]));
  return Object.fromEntries(Object.entries(asObj(env ?? {}, `${name} environment`)).map(([k, v]) => [k, String(v)]));
}
