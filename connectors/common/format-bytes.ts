/**
 * 1536 → "1.5 KiB"; below 1 KiB the count stays exact. The one byte formatter of the
 * CLI, verify's reports and the /ui page (which inlines this function's source, so it
 * uses nothing outside itself).
 */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? bytes + ' B' : value.toFixed(1) + ' ' + units[unit];
}
