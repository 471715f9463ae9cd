// Time-series charts on uPlot (canvas, fast with many points): lines, bars or points, optional brushing to zoom.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { num } from '../lib/format.js';

export interface ChartSeries {
  label: string;
  color: string;
  /** Dashed, thin: for thresholds. */
  dashed?: boolean;
}

export interface ChartProps {
  /** x in seconds since the epoch, then one array per series. */
  data: (number | null)[][];
  series: ChartSeries[];
  kind?: 'line' | 'bars' | 'points';
  height?: number;
  /** Called with the brushed range in ms: the page zooms to it. */
  onSelect?: (from: number, to: number) => void;
  yLabel?: string;
  yRange?: [number, number];
  legend?: boolean;
}

const AXIS = { stroke: '#8b95a7', grid: { stroke: 'rgba(148,163,184,0.08)', width: 1 }, ticks: { stroke: 'rgba(148,163,184,0.15)', width: 1 }, font: '11px system-ui, sans-serif' };

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const select = useRef(props.onSelect);
  select.current = props.onSelect;
  const shape = `${props.kind ?? 'line'}|${props.series.map((s) => s.label + s.color).join(',')}|${props.height ?? 180}|${props.yRange?.join(',') ?? ''}`;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const kind = props.kind ?? 'line';
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.85, 64] }) : undefined;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 180,
      legend: { show: props.legend ?? props.series.length > 1, live: true },
      cursor: { drag: { x: props.onSelect !== undefined, y: false, setScale: false }, points: { size: 6 } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: true }, ...(props.yRange ? { y: { range: props.yRange } } : {}) },
      axes: [
        { ...AXIS },
        { ...AXIS, size: 48, values: (_u, vals) => vals.map((v) => num(v)), ...(props.yLabel ? { label: props.yLabel, labelSize: 14, labelFont: '11px system-ui' } : {}) },
      ],
      series: [
        {},
        ...props.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.dashed ? 1 : 1.5,
          ...(s.dashed ? { dash: [6, 4], points: { show: false } } : {}),
          ...(kind === 'bars' && !s.dashed ? { fill: s.color + 'aa', paths: bars, points: { show: false } } : {}),
          ...(kind === 'points' && !s.dashed ? { paths: () => null, points: { show: true, size: 5, fill: s.color, stroke: s.color } } : {}),
          ...(kind === 'line' && !s.dashed ? { fill: s.color + '14', points: { show: false } } : {}),
          value: (_u, v) => (v === null ? '–' : num(v)),
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (!select.current || u.select.width < 3) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            select.current(Math.round(from * 1000), Math.round(to * 1000));
          },
        ],
      },
    };
    const chart = new uPlot(opts, props.data as uPlot.AlignedData, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - chart.width) > 1) chart.setSize({ width: w, height: props.height ?? 180 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  return <div class="chart" ref={box} />;
}

/** Fixed dataset colours, so `sshd` is the same colour on every chart. */
const PALETTE = ['#38bdf8', '#a78bfa', '#34d399', '#fbbf24', '#f472b6', '#60a5fa', '#fb923c', '#2dd4bf', '#e879f9', '#a3e635'];
export function colorFor(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}
