import jsQRModule from 'jsqr';
import { Secret } from 'otpauth';
import { PNG } from 'pngjs';
import { generateTotpCode } from '../../../functions/methods/totp/totp.js';

// jsqr is CommonJS with a `default` property; under NodeNext typing the default import is the module.
const jsQR = jsQRModule.default;

/**
 * What a phone's authenticator app does: scan the QR code from the screen, keep the secret
 * from its otpauth:// URI, and show the code for the current time.
 */
export class Authenticator {
  private constructor(
    readonly otpauthUri: string,
    readonly secretBase32: string,
    private readonly secret: Uint8Array,
  ) {}

  /** Decodes a PNG of the screen (or of the QR image) as a camera would see it. */
  static scan(png: Buffer): Authenticator {
    const image = PNG.sync.read(png);
    const decoded = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height);
    if (!decoded) throw new Error('No QR code found in the image.');
    const uri = new URL(decoded.data);
    if (uri.protocol !== 'otpauth:' || uri.host !== 'totp') throw new Error(`Not a TOTP otpauth URI: ${decoded.data}`);
    const secretBase32 = uri.searchParams.get('secret');
    if (!secretBase32) throw new Error(`The otpauth URI has no secret: ${decoded.data}`);
    return new Authenticator(decoded.data, secretBase32, new Uint8Array(Secret.fromBase32(secretBase32).bytes));
  }

  codeAt(nowMs: number): string {
    return generateTotpCode(this.secret, nowMs);
  }
}

/** A well-formed code that is certainly not `code`, nor valid in the neighbouring steps. */
export function wrongCodeFor(authenticator: Authenticator, nowMs: number): string {
  const valid = new Set([-30_000, 0, 30_000].map((offset) => authenticator.codeAt(nowMs + offset)));
  for (let candidate = 0; ; candidate++) {
    const code = String(candidate).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}
