import jsQR from 'jsqr';

/**
 * Decodes a QR code in one RGBA frame (a canvas' ImageData). The card's text is UTF-8 (Vietnamese names and
 * addresses), so the raw bytes are decoded here rather than trusting the library's guess.
 */
export function decodeQrRgba(data: Uint8ClampedArray, width: number, height: number): string | undefined {
  const found = jsQR(data, width, height, { inversionAttempts: 'dontInvert' });
  if (!found) {
    return undefined;
  }
  if (found.binaryData.length > 0) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(found.binaryData));
    } catch {
      // not UTF-8: the library's own reading
    }
  }
  return found.data || undefined;
}

/** The browser's built-in detector (Chromium on Android, macOS, ChromeOS), when it knows QR codes. */
interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats?(): Promise<string[]>;
}

async function nativeDetector(): Promise<BarcodeDetectorLike | undefined> {
  const ctor = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (!ctor) {
    return undefined;
  }
  try {
    const formats = (await ctor.getSupportedFormats?.()) ?? ['qr_code'];
    return formats.includes('qr_code') ? new ctor({ formats: ['qr_code'] }) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads one video frame: with BarcodeDetector when the browser has it, otherwise jsQR on a canvas copy. */
export type FrameReader = (video: HTMLVideoElement) => Promise<string | undefined>;

export async function createFrameReader(): Promise<{ read: FrameReader; native: boolean }> {
  const native = await nativeDetector();
  if (native) {
    return {
      native: true,
      read: async (video) => (await native.detect(video))[0]?.rawValue || undefined,
    };
  }
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return {
    native: false,
    read: (video) => {
      const w = video.videoWidth;
      const h = video.videoHeight;
      if (!ctx || w === 0 || h === 0) {
        return Promise.resolve(undefined);
      }
      canvas.width = w;
      canvas.height = h;
      ctx.drawImage(video, 0, 0, w, h);
      const frame = ctx.getImageData(0, 0, w, h);
      return Promise.resolve(decodeQrRgba(frame.data, w, h));
    },
  };
}
