// The two modules of the qrcode package that functions/http/qr-code.ts imports directly (its
// entry point loads every renderer); @types/qrcode declares only the entry point.
declare module 'qrcode/lib/core/qrcode.js' {
  import type { QRCode, QRCodeOptions } from 'qrcode';
  export function create(text: string, options?: QRCodeOptions): QRCode;
}

declare module 'qrcode/lib/renderer/utils.js' {
  import type { QRCode } from 'qrcode';
  export interface RenderOptions {
    width?: number;
    scale: number;
    margin: number;
  }
  export function getOptions(options: { margin?: number; width?: number }): RenderOptions;
  export function getImageWidth(qrSize: number, options: RenderOptions): number;
  export function qrToImageData(data: Uint8Array, qr: QRCode, options: RenderOptions): void;
}
