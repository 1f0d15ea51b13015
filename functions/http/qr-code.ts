import { crc32, deflateSync } from 'node:zlib';
// qrcode's symbol encoder and its pixel layout, without its entry point: that loads every renderer
// (PNG through pngjs, SVG, terminal) at import, 40 KB a cold start of the enrollment function
// parsed for one image (docs/benchmarks.md). The PNG file around the pixels is written below.
import { create } from 'qrcode/lib/core/qrcode.js';
import { getImageWidth, getOptions, qrToImageData } from 'qrcode/lib/renderer/utils.js';

/** What qrcode's `toDataURL` is given: error correction M, a 2-module quiet zone, 256 px. */
const SYMBOL = { errorCorrectionLevel: 'M', margin: 2, width: 256 } as const;

/**
 * A PNG data URL of `text` as a QR code, sized for a phone camera at arm's length: the pixels
 * qrcode's `toDataURL(text, SYMBOL)` draws (test/unit/qr-code.test.ts compares them), black on
 * white, as an 8-bit grayscale PNG.
 */
export function qrCodeDataUrl(text: string): Promise<string> {
  const symbol = create(text, { errorCorrectionLevel: SYMBOL.errorCorrectionLevel });
  const options = getOptions({ margin: SYMBOL.margin, width: SYMBOL.width });
  const size = getImageWidth(symbol.modules.size, options);
  const rgba = new Uint8Array(size * size * 4);
  qrToImageData(rgba, symbol, options);
  // Each row: filter type 0 (none), then one gray byte per pixel (the red channel: the palette is black and white).
  const rows = Buffer.alloc((size + 1) * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) rows[y * (size + 1) + 1 + x] = rgba[(y * size + x) * 4]!;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per sample; colour type 0 (grayscale), deflate, no filter method or interlace beyond the defaults
  const png = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]);
  return Promise.resolve(`data:image/png;base64,${png.toString('base64')}`);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG chunk: length, type, data, and the CRC-32 of type and data (RFC 2083, section 3.2). */
function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const chunk = Buffer.alloc(8 + typeAndData.length);
  chunk.writeUInt32BE(data.length, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), 4 + typeAndData.length);
  return chunk;
}
