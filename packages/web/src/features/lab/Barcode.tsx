import JsBarcode from 'jsbarcode';
import { type ReactElement, useEffect, useRef } from 'react';

/** A Code 128 barcode drawn as SVG by JsBarcode (prints sharp at any size); the digits are printed under it. */
export function Barcode({ value, height = 48 }: { value: string; height?: number }): ReactElement {
  const ref = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (ref.current) {
      JsBarcode(ref.current, value, {
        format: 'CODE128',
        height,
        width: 2,
        margin: 4,
        fontSize: 14,
        displayValue: true,
      });
    }
  }, [value, height]);
  return <svg ref={ref} role="img" aria-label={value} data-barcode={value} />;
}
