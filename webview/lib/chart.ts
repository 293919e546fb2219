// Accuracy against step (paper Figure 4), one line per phase or expert, drawn as SVG (a few polylines
// need no chart library). Shared by the training chart and the evaluation report. Phase and expert
// names are user data: they only ever become Text nodes or attribute values set through the DOM.
// Colours are classes `s0`…`s7` over the theme's --vscode-charts-* variables, styled by the view's
// stylesheet (the CSP allows no inline styles).
import { pct } from '../../src/core/training/format';
import type { ChartPoint } from '../training-chart-protocol';
import { h, replaceChildren } from './dom';
import { l10n } from './l10n';
import { accuracyTicks, stepTicks } from './ticks';

const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = 8;
const W = 760;
const H = 340;
const M = { left: 48, right: 16, top: 12, bottom: 32 };

export interface Series {
  key: string;
  name: string;
  phase: string;
  colour: number;
  /** Past COLOURS series the colours come round again: 0 solid, 1 dashed, 2 dotted tells them apart. */
  dash: number;
  points: ChartPoint[];
}

/** Which accuracies to draw. */
export interface ChartOptions {
  showVal: boolean;
  showTrain: boolean;
}

function svg(tag: string, attrs: Record<string, string | number>, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** One series per phase and expert, in the order they first appear; colours follow that order. */
export function seriesOf(points: readonly ChartPoint[]): Series[] {
  const map = new Map<string, Series>();
  for (const p of points) {
    const key = JSON.stringify([p.phase, p.expert ?? null]);
    let s = map.get(key);
    if (s === undefined)
      map.set(
        key,
        (s = {
          key,
          name: p.expert ? `${p.phase} · ${p.expert}` : p.phase,
          phase: p.phase,
          colour: map.size % COLOURS,
          dash: Math.floor(map.size / COLOURS) % 3,
          points: [],
        }),
      );
    s.points.push(p);
  }
  for (const s of map.values()) s.points.sort((a, b) => a.step - b.step);
  return [...map.values()];
}

export function accuracyChart(series: Series[], view: ChartOptions): HTMLElement {
  const values: number[] = [];
  let maxStep = 1;
  for (const s of series) {
    for (const p of s.points) {
      maxStep = Math.max(maxStep, p.step);
      if (view.showVal && p.valAcc !== undefined) values.push(p.valAcc);
      if (view.showTrain && p.trainAcc !== undefined) values.push(p.trainAcc);
    }
  }
  // Accuracy from the nearest 10% below the lowest value to 100%: differences near the top stay visible.
  const yLo = values.length ? Math.max(0, Math.floor(Math.min(...values) * 10) / 10) : 0;
  const yHi = 1;
  const x = (step: number): number => M.left + (step / maxStep) * (W - M.left - M.right);
  const y = (acc: number): number => M.top + (1 - (acc - yLo) / (yHi - yLo || 1)) * (H - M.top - M.bottom);

  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'accuracy against step' });
  const grid = svg('g', { class: 'grid' });
  for (const t of accuracyTicks(yLo, yHi)) {
    grid.appendChild(svg('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t) }));
    grid.appendChild(svg('text', { x: M.left - 6, y: y(t) + 4, class: 'tick y' }, `${Math.round(t * 100)}%`));
  }
  const xTicks = stepTicks(maxStep);
  maxStep = xTicks[xTicks.length - 1];
  for (const t of xTicks) grid.appendChild(svg('text', { x: x(t), y: H - M.bottom + 16, class: 'tick x' }, String(Math.round(t))));
  grid.appendChild(svg('text', { x: W - M.right, y: H - 4, class: 'axis-label x' }, 'step'));
  root.appendChild(grid);

  const dots: { cx: number; cy: number; s: Series; p: ChartPoint }[] = [];
  for (const s of series) {
    for (const [metric, on, cls] of [
      ['valAcc', view.showVal, 'val'],
      ['trainAcc', view.showTrain, 'train'],
    ] as const) {
      if (!on) continue;
      const pts = s.points.filter((p) => p[metric] !== undefined);
      if (pts.length === 0) continue;
      const line = svg('polyline', {
        class: `line ${cls} s${s.colour} d${s.dash}`,
        points: pts.map((p) => `${x(p.step).toFixed(1)},${y(p[metric]!).toFixed(1)}`).join(' '),
      });
      line.appendChild(svg('title', {}, `${s.name} (${cls === 'val' ? l10n.t('validation') : l10n.t('training')})`));
      root.appendChild(line);
      // Dots as well as the line: the first evaluation alone is a point, which a polyline does not draw.
      if (cls === 'val')
        for (const p of pts) root.appendChild(svg('circle', { r: 2.5, cx: x(p.step).toFixed(1), cy: y(p.valAcc!).toFixed(1), class: `dot s${s.colour}` }));
      if (cls === 'val') for (const p of pts) dots.push({ cx: x(p.step), cy: y(p.valAcc!), s, p });
      else if (!view.showVal) for (const p of pts) dots.push({ cx: x(p.step), cy: y(p.trainAcc!), s, p });
    }
  }
  const marker = svg('circle', { r: 4, class: 'marker', visibility: 'hidden' });
  root.appendChild(marker);

  const wrap = h('div', { class: 'chart-wrap' }, root);
  const tip = h('div', { class: 'tooltip', attrs: { role: 'status' } });
  tip.hidden = true;
  wrap.appendChild(tip);
  // Hover: the nearest point (in chart coordinates) and its values.
  root.addEventListener('mousemove', (e: MouseEvent) => {
    const ctm = (root as SVGSVGElement).getScreenCTM();
    if (!ctm || dots.length === 0) return;
    const pt = new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse());
    let best = dots[0];
    let bestD = Infinity;
    for (const d of dots) {
      const dist = (d.cx - pt.x) ** 2 + (d.cy - pt.y) ** 2;
      if (dist < bestD) [best, bestD] = [d, dist];
    }
    marker.setAttribute('cx', String(best.cx));
    marker.setAttribute('cy', String(best.cy));
    marker.setAttribute('class', `marker s${best.s.colour}`);
    marker.setAttribute('visibility', 'visible');
    const p = best.p;
    replaceChildren(
      tip,
      h('strong', {}, best.s.name),
      h('div', {}, l10n.t('step {0}', p.step)),
      h('div', {}, l10n.t('val acc {0}', pct(p.valAcc))),
      h('div', {}, l10n.t('train acc {0}', pct(p.trainAcc))),
      h('div', {}, l10n.t('loss {0}', p.loss.toFixed(4))),
    );
    tip.hidden = false;
    // CSSOM, not a style attribute: allowed by the CSP.
    const box = wrap.getBoundingClientRect();
    tip.style.left = `${Math.min(e.clientX - box.left + 12, box.width - 180)}px`;
    tip.style.top = `${e.clientY - box.top + 12}px`;
  });
  root.addEventListener('mouseleave', () => {
    marker.setAttribute('visibility', 'hidden');
    tip.hidden = true;
  });
  return wrap;
}

/** Series names with their colour and best validation accuracy. */
export function chartLegend(series: Series[]): HTMLElement {
  return h(
    'ul',
    { class: 'legend' },
    ...series.map((s) => {
      const best = s.points.reduce<ChartPoint | undefined>((b, p) => (p.valAcc !== undefined && (b === undefined || p.valAcc > b.valAcc!) ? p : b), undefined);
      return h(
        'li',
        { attrs: { 'data-series': s.name } },
        h('span', { class: `swatch s${s.colour} d${s.dash}` }),
        h('span', { class: 'series-name' }, s.name),
        h(
          'span',
          { class: 'muted' },
          best ? ` ${l10n.t('best val {0} at step {1}', pct(best.valAcc), best.step)}` : ` ${l10n.t('{0} evaluations', s.points.length)}`,
        ),
      );
    }),
  );
}
