import type { ReactElement } from 'react';
import type { Trend } from '../features/clinic/clinic.logic.ts';
import { chartPoints, viDate } from './portal.logic.ts';

/** A trend of one repeated test as an SVG line chart sized for a phone: values at each point, first and last date. */
export function TrendChart({ trend, label }: { trend: Trend; label: string }): ReactElement {
  const w = 320;
  const h = 120;
  const { points } = chartPoints(
    trend.points.map((p) => p.value),
    w,
    h - 24,
    20,
  );
  const first = trend.points[0];
  const last = trend.points[trend.points.length - 1];
  return (
    <svg
      viewBox={`0 0 ${w} ${h}`}
      width="100%"
      role="img"
      aria-label={label}
      data-trend={trend.code}
      style={{ maxWidth: 480, display: 'block' }}
    >
      <rect x={0} y={0} width={w} height={h - 24} fill="#f3faf7" rx={6} />
      <polyline points={points.map(([x, y]) => `${x},${y}`).join(' ')} fill="none" stroke="#0f6b4f" strokeWidth={2} />
      {points.map(([x, y], i) => {
        const p = trend.points[i];
        return (
          <g key={p.at + String(i)}>
            <circle cx={x} cy={y} r={4} fill={p.flag ? '#c92a2a' : '#0f6b4f'} />
            <text x={x} y={y - 8} fontSize={11} textAnchor="middle" fill="#1a1a1a">
              {p.value}
            </text>
          </g>
        );
      })}
      <text x={4} y={h - 6} fontSize={11} fill="#555">
        {viDate(first?.at)}
      </text>
      <text x={w - 4} y={h - 6} fontSize={11} fill="#555" textAnchor="end">
        {viDate(last?.at)}
      </text>
    </svg>
  );
}
