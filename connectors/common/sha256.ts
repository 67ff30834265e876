/**
 * The sha256 of a body, hex, worked out on libuv's threadpool (WebCrypto's digest runs
 * there), so hashing a bundle of megabytes does not hold up the event loop.
 */
export async function sha256Hex(body: Uint8Array): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', body)).toString('hex');
}
