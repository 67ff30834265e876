import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface DecodedPng {
  width: number;
  height: number;
  /** Every pixel as 0xRRGGBB (alpha dropped: screenshots are opaque). */
  colours: Uint32Array;
}

function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const pa = Math.abs(p - left);
  const pb = Math.abs(p - up);
  const pc = Math.abs(p - upLeft);
  return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
}

/**
 * Just enough of a PNG decoder for Chromium's screenshots (8-bit RGB or RGBA, not
 * interlaced): signature, IHDR, the inflated IDAT data with each row's filter undone.
 */
export function decodePng(png: Buffer): DecodedPng {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature').toBe(true);
  expect(png.toString('latin1', 12, 16), 'first chunk').toBe('IHDR');
  let width = 0;
  let height = 0;
  let bytesPerPixel = 0;
  const data: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [bitDepth, colourType, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      expect({ bitDepth, interlace }).toEqual({ bitDepth: 8, interlace: 0 });
      expect([2, 6]).toContain(colourType);
      bytesPerPixel = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * bytesPerPixel;
  expect(raw.length).toBe(height * (stride + 1));
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= bytesPerPixel ? pixels[y * stride + x - bytesPerPixel]! : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const upLeft = y > 0 && x >= bytesPerPixel ? pixels[(y - 1) * stride + x - bytesPerPixel]! : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      if (predictor === undefined) throw new Error(`row ${y} has unknown PNG filter ${filter}`);
      pixels[y * stride + x] = (row[x]! + predictor) & 0xff;
    }
  }
  const colours = new Uint32Array(width * height);
  for (let i = 0; i < colours.length; i++) {
    const p = i * bytesPerPixel;
    colours[i] = (pixels[p]! << 16) | (pixels[p + 1]! << 8) | pixels[p + 2]!;
  }
  return { width, height, colours };
}

/** How many distinct colours, and the share of pixels that differ from the most common one (the background). */
export function colourStats(image: DecodedPng): { distinct: number; nonBackground: number } {
  const counts = new Map<number, number>();
  for (const c of image.colours) counts.set(c, (counts.get(c) ?? 0) + 1);
  const background = Math.max(...counts.values());
  return { distinct: counts.size, nonBackground: 1 - background / image.colours.length };
}
