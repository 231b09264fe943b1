import QRCode from 'qrcode';
import { type ReactElement, useMemo } from 'react';

/** A QR code drawn as SVG squares from the `qrcode` library's matrix (no canvas: prints sharp, CSP-safe). */
export function QrCode({ value, size = 160, label }: { value: string; size?: number; label: string }): ReactElement {
  const cells = useMemo(() => {
    const m = QRCode.create(value, { errorCorrectionLevel: 'M' }).modules;
    const out: string[] = [];
    for (let r = 0; r < m.size; r++) {
      for (let c = 0; c < m.size; c++) {
        if (m.get(r, c)) {
          out.push(`M${c + 4} ${r + 4}h1v1h-1z`);
        }
      }
    }
    return { path: out.join(''), n: m.size + 8 };
  }, [value]);
  return (
    <svg
      width={size}
      height={size}
      viewBox={`0 0 ${cells.n} ${cells.n}`}
      role="img"
      aria-label={label}
      data-qr-value={value}
      shapeRendering="crispEdges"
    >
      <rect width={cells.n} height={cells.n} fill="#fff" />
      <path d={cells.path} fill="#000" />
    </svg>
  );
}
