/** Reading backups back: verify, inspect and describe (the CLI's verify/inspect/ls, the REST API's verify). */
export { verifyBackup } from './verify-backup.js';
export {
  DEFAULT_VERIFY_CONCURRENCY,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyProgress,
  type VerifyReport,
} from './report.js';
export { LAYOUT_CHOICES, type BackupLayout, type LayoutChoice } from './layout.js';
export { inspectAzulBundle, inspectBundle, isAzulBundleKey, type AzulBundleJson, type InspectOptions } from './inspect.js';
export { avroValueToJson, RECORD_ENCODINGS, recordToJson, type HeaderJson, type RecordEncoding, type RecordJson } from './record-json.js';
export {
  describeBackup,
  type BackupDescription,
  type BundleSummary,
  type DescribeOptions,
  type PartitionSummary,
  type TopicSummary,
} from './describe-backup.js';
export { humanBytes, renderBackupDescription, renderVerifyReport } from './render-text.js';
