import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { qrCodeDataUrl } from '../../functions/http/qr-code.js';
import { decodeQrDataUrl } from '../support/qr.js';

const pngOf = (dataUrl: string) => PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));

describe('the enrollment QR code', () => {
  // Short and long URIs (different symbol versions, so different scales of 256 px), and one past byte mode's easy cases.
  const uris = [
    'otpauth://totp/serverless-mfa:a?secret=JBSWY3DPEHPK3PXP&issuer=serverless-mfa&algorithm=SHA1&digits=6&period=30',
    `otpauth://totp/${encodeURIComponent('Example Corp')}:${encodeURIComponent('jane.doe+mfa@example.com')}?secret=${'A'.repeat(32)}&issuer=${encodeURIComponent('Example Corp')}&algorithm=SHA1&digits=6&period=30`,
    `otpauth://totp/x:${'é'.repeat(40)}?secret=${'B'.repeat(52)}&issuer=x`,
  ];

  it.each(uris)('draws the pixels qrcode.toDataURL draws, as a PNG a camera reads: %s', async (uri) => {
    const ours = await qrCodeDataUrl(uri);
    expect(ours).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    const theirs = pngOf(await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 256 }));
    const decoded = pngOf(ours);
    expect([decoded.width, decoded.height]).toEqual([theirs.width, theirs.height]);
    expect(Buffer.compare(decoded.data, theirs.data)).toBe(0);
    expect(decodeQrDataUrl(ours)).toBe(uri);
  });
});
