import jsqrModule from 'jsqr';
import { PNG } from 'pngjs';

type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
// jsqr is CommonJS with a `default` export: unwrap it whichever way the loader presents it.
const jsQR: JsQr = ((jsqrModule as unknown as { default?: JsQr }).default ?? jsqrModule) as JsQr;

/** Reads a QR code out of a `data:image/png;base64,...` URL, as a phone camera would. */
export function decodeQrDataUrl(dataUrl: string): string | undefined {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}
