import type { ReactElement } from 'react';
import { sparklinePoints, type TrendPoint } from './clinic.logic.ts';

/** A small inline trend line (SVG): the last point marked, red when flagged. */
export function Sparkline({ points, label }: { points: TrendPoint[]; label: string }): ReactElement {
  const w = 96;
  const h = 24;
  const line = sparklinePoints(
    points.map((p) => p.value),
    w,
    h,
  );
  const last = line.split(' ').pop()?.split(',').map(Number);
  const flagged = !!points[points.length - 1]?.flag;
  return (
    <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <polyline points={line} fill="none" stroke="#0f6b4f" strokeWidth={1.5} />
      {last && last.length === 2 && <circle cx={last[0]} cy={last[1]} r={2.5} fill={flagged ? '#c92a2a' : '#0f6b4f'} />}
    </svg>
  );
}
