import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import QRCode from 'qrcode';
import { decodeQrRgba } from './qr-frame.ts';

/** Draws a QR code as a camera frame would hold it: RGBA, dark modules black, a white quiet zone around. */
function frameOf(text: string, scale = 4, margin = 4): { data: Uint8ClampedArray; size: number } {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const modules = qr.modules.size;
  const size = (modules + margin * 2) * scale;
  const data = new Uint8ClampedArray(size * size * 4).fill(255);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const mx = Math.floor(x / scale) - margin;
      const my = Math.floor(y / scale) - margin;
      const dark = mx >= 0 && my >= 0 && mx < modules && my < modules && qr.modules.get(my, mx);
      if (dark) {
        const i = (y * size + x) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
    }
  }
  return { data, size };
}

describe('reception: camera frames', () => {
  it('decodes a card QR in a frame, Vietnamese letters intact (UTF-8)', () => {
    const text =
      '079188001234|023456789|Nguyễn Thị Mai|09101988|Nữ|Số 12 Lê Lợi, Phường Bến Thành, TP. Hồ Chí Minh|15082021';
    const { data, size } = frameOf(text);
    assert.equal(decodeQrRgba(data, size, size), text);
  });

  it('finds nothing in a blank frame', () => {
    const size = 120;
    assert.equal(decodeQrRgba(new Uint8ClampedArray(size * size * 4).fill(255), size, size), undefined);
  });
});
