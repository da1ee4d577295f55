/**
 * Shapes of what the package hands to the app. Rows mirror the wire contract (PROTOCOL §2):
 * fields beyond the listed ones are kept, so every row type allows extra keys. `version` is
 * the version of the item the row came in (what `If-Match` takes), except on
 * MetricDefinition, whose row has a `version` of its own (the published metric). The reports,
 * the outbox and freshness are generated from the engine's Rust types (`engine-types.ts`).
 */

export * from "./engine-types.js";
import type { I18n } from "./engine-types.js";

export interface Dashboard {
  id: string;
  version: number;
  name_i18n: I18n;
  scope: "own" | "role" | "tenant" | "property";
  propertyId?: string;
  sharedWith: { kind: "user" | "role"; id: string }[];
  tables: string[];
  updatedAt: string;
  [extra: string]: unknown;
}

export interface Widget {
  id: string;
  version: number;
  dashboardId: string;
  type: "kpi" | "timeseries" | "breakdown" | "funnel" | "heatmap";
  title_i18n: I18n;
  metricKey: string;
  queryId?: string;
  params: Record<string, unknown>;
  paramsHash: string;
  freshness: { targetMinutes: number; alertAtMinutes: number };
  layout: { x: number; y: number; w: number; h: number };
  [extra: string]: unknown;
}

export interface MetricDefinition {
  key: string;
  version: number;
  name_i18n: I18n;
  unit: string;
  format: string;
  [extra: string]: unknown;
}

export interface WidgetSnapshot {
  widgetId: string;
  paramsHash: string;
  rows: unknown[];
  provenance: {
    computedAt: string;
    bytesScanned: number;
    slotMs: number;
    warehouseJobId: string;
    computedBy: string;
  };
  generatedAt: string;
  freshnessLagSeconds: number;
  [extra: string]: unknown;
}

/** A saved query; `name_i18n` already shows a rename that is still queued. */
export interface Query {
  id: string;
  version: number;
  ownerId: string;
  name_i18n: I18n;
  sql_template?: string;
  [extra: string]: unknown;
}

export interface Projection {
  key: string;
  version: number;
  lastSuccessAt: string;
  lagMinutes: number;
  [extra: string]: unknown;
}

export interface DqAlertOpen {
  id: string;
  version: number;
  checkKey: string;
  severity: "info" | "warning" | "critical";
  observedAt: string;
  [extra: string]: unknown;
}

/** What `enqueueCommand` takes. */
export interface CommandInput {
  method: "POST" | "PUT";
  path: string;
  body?: unknown;
  /** A string, or a number (a version). */
  ifMatch?: string | number;
}
