// Small shared pieces: panels, badges, states (loading, error, not available yet), bar lists, links.
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../lib/api.js';
import { label, num, pct } from '../lib/format.js';
import { linkClick } from '../lib/router.js';
import type { Severity } from '../lib/types.js';

export function Panel(props: { title: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string; id?: string; testid?: string }) {
  return (
    <section class={`panel ${props.class ?? ''}`} id={props.id} data-testid={props.testid}>
      <header class="panel-head">
        <h2>{props.title}</h2>
        {props.actions ? <div class="panel-actions">{props.actions}</div> : null}
      </header>
      <div class="panel-body">{props.children}</div>
    </section>
  );
}

export function Link(props: { href: string; children: ComponentChildren; class?: string; title?: string; testid?: string }) {
  return (
    <a href={props.href} class={props.class} title={props.title} onClick={linkClick} data-testid={props.testid}>
      {props.children}
    </a>
  );
}

export function SeverityBadge(props: { severity: Severity | string }) {
  return <span class={`sev sev-${props.severity}`}>{label(props.severity)}</span>;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`status status-${props.status}`}>{label(props.status)}</span>;
}

export function Confidence(props: { value: number }) {
  const v = Math.max(0, Math.min(1, props.value));
  const tone = v >= 0.75 ? 'hi' : v >= 0.45 ? 'mid' : 'lo';
  return (
    <span class="conf" title={`confidence ${pct(v)}`}>
      <span class="conf-track">
        <span class={`conf-fill conf-${tone}`} style={{ width: `${v * 100}%` }} />
      </span>
      <span class="conf-num">{pct(v)}</span>
    </span>
  );
}

export function Loading(props: { what?: string }) {
  return <div class="state state-loading">Loading{props.what ? ` ${props.what}` : ''}…</div>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="state state-empty">{props.children}</div>;
}

/** An error from the API; a missing endpoint is shown as a feature not available yet, not as a failure. */
export function Failure(props: { error: ApiError; what: string }) {
  if (props.error.missing || props.error.status === 404) {
    return (
      <div class="state state-na" data-testid="not-available">
        <strong>{props.what} is not available yet</strong>
        <span>This Vigil server does not provide it yet; it will appear here once it does.</span>
      </div>
    );
  }
  return (
    <div class="state state-error" role="alert">
      <strong>Could not load {props.what}</strong>
      <span>{props.error.message}</span>
    </div>
  );
}

/** A ranked list with proportional bars; each row can be clicked to filter by its value. */
export function BarList(props: { rows: { value: string; count: number }[]; onPick?: (value: string) => void; empty?: string; color?: string }) {
  const max = Math.max(1, ...props.rows.map((r) => r.count));
  if (props.rows.length === 0) return <Empty>{props.empty ?? 'Nothing in this range.'}</Empty>;
  return (
    <ol class="barlist">
      {props.rows.map((r) => (
        <li key={r.value}>
          <button type="button" class="barlist-row" onClick={() => props.onPick?.(r.value)} disabled={!props.onPick} title={r.value}>
            <span class="barlist-bar" style={{ width: `${(r.count / max) * 100}%`, ...(props.color ? { background: props.color } : {}) }} />
            <span class="barlist-label">{r.value}</span>
            <span class="barlist-count">{num(r.count)}</span>
          </button>
        </li>
      ))}
    </ol>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; hint?: ComponentChildren; tone?: string; testid?: string }) {
  return (
    <div class={`stat ${props.tone ? `stat-${props.tone}` : ''}`} data-testid={props.testid}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.hint ? <div class="stat-hint">{props.hint}</div> : null}
    </div>
  );
}
