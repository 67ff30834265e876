import { createHash } from 'node:crypto';
import type { TaskLogger } from '../../runtime/api/index.js';
import type { LifecycleRule, ObjectStore } from '../common/object-store/object-store.js';
import { eventsLocation } from '../common/backup-location.js';
import type { BackupSinkSettings } from './config.js';
import { CLAIMS_PREFIX } from '../common/formats/claim-keys.js';

/** S3 limits rule ids to 255 characters; a long topic name keeps its start and a hash of the whole. */
function ruleId(id: string): string {
  return id.length <= 255 ? id : `${id.slice(0, 238)}-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

/** The age-off rules the settings ask for: per-topic and default expiry, and aborting stale multipart uploads. */
export function lifecycleRules(settings: BackupSinkSettings): LifecycleRule[] {
  const { prefix } = eventsLocation(settings);
  const rules: LifecycleRule[] = [];
  for (const entry of settings['lifecycle.expire.topics']) {
    const [topic, days] = entry.split(':');
    if (Number(days) > 0) {
      rules.push({ id: ruleId(`coldstore-expire-${topic}`), prefix: `${prefix}${topic}/`, expireAfterDays: Number(days) });
      // A range's claim is as old as its bundle and goes with it.
      rules.push({ id: ruleId(`coldstore-expire-claims-${topic}`), prefix: `${prefix}${CLAIMS_PREFIX}${topic}/`, expireAfterDays: Number(days) });
    }
  }
  // Azul's expire_events_after: event bundles live under <source>/.
  for (const entry of settings['azul.sources.expire']) {
    const [source, days] = entry.split(':');
    rules.push({ id: ruleId(`coldstore-expire-source-${source}`), prefix: `${prefix}${source}/`, expireAfterDays: Number(days) });
  }
  const defaultDays = settings['lifecycle.expire.days'];
  const perTopic = new Set(settings['lifecycle.expire.topics'].map((e) => e.split(':')[0]));
  // S3 applies every matching rule, so a default rule cannot coexist with per-topic ones over the same prefix.
  if (defaultDays > 0 && perTopic.size === 0 && settings['azul.sources.expire'].length === 0)
    rules.push({ id: 'coldstore-expire-all', prefix, expireAfterDays: defaultDays });
  const abortDays = settings['lifecycle.abort.incomplete.days'];
  if (abortDays > 0) rules.push({ id: 'coldstore-abort-incomplete-uploads', prefix, abortIncompleteMultipartAfterDays: abortDays });
  return rules;
}

/** Applies the rules once at connector start; a store without lifecycle support is reported, not fatal. */
export async function applyLifecycle(settings: BackupSinkSettings, store: ObjectStore, log: TaskLogger): Promise<void> {
  const rules = lifecycleRules(settings);
  if (rules.length === 0) return;
  const { bucket } = eventsLocation(settings);
  try {
    await store.ensureBucket(bucket);
    const { supported } = await store.setLifecycle(bucket, rules);
    if (supported) log.info({ bucket, rules: rules.map((r) => r.id) }, 'lifecycle rules applied');
    else log.warn({ bucket, store: store.description }, 'the store does not support lifecycle rules; configure age-off on the store itself');
  } catch (err) {
    log.warn({ bucket, reason: (err as Error).message }, 'could not apply lifecycle rules; backups continue without them');
  }
}
