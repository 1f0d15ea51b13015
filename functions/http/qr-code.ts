import QRCode from 'qrcode';

/** A PNG data URL of `text` as a QR code, sized for a phone camera at arm's length. */
export function qrCodeDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, width: 256 });
}
