/**
 * Who the demo signs in as. No login: the identity comes from the query string (or the small
 * form that rewrites it) and defaults to the seeded manager. The device id is generated once
 * per browser profile and kept in localStorage, so a reload is the same device and a second
 * browser profile is another one.
 */

export interface Identity {
  baseUrl: string;
  tenantId: string;
  userId: string;
  token: string;
  deviceId: string;
}

const DEVICE_KEY = "sync-core-demo.deviceId";
const DEFAULT_SERVER = (import.meta.env.VITE_SYNC_SERVER_URL as string | undefined) ?? "http://127.0.0.1:8787";

function deviceId(): string {
  try {
    const existing = localStorage.getItem(DEVICE_KEY);
    if (existing) return existing;
    const fresh = `dev_web_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    localStorage.setItem(DEVICE_KEY, fresh);
    return fresh;
  } catch {
    // Storage blocked: still a valid device, just not remembered.
    return `dev_web_${Math.random().toString(36).slice(2, 14)}`;
  }
}

export function readIdentity(search = location.search): Identity {
  const p = new URLSearchParams(search);
  return {
    baseUrl: p.get("baseUrl") || DEFAULT_SERVER,
    tenantId: p.get("tenantId") || "tnt_demo",
    userId: p.get("userId") || "usr_alice",
    token: p.get("token") || "tok_alice",
    deviceId: p.get("deviceId") || deviceId(),
  };
}

/** Fills the identity form and makes it navigate to the same page with the new identity. */
export function bindIdentityForm(form: HTMLFormElement, id: Identity): void {
  for (const key of ["baseUrl", "tenantId", "userId", "token"] as const) {
    const input = form.elements.namedItem(key);
    if (input instanceof HTMLInputElement) input.value = id[key];
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const [k, v] of data) if (typeof v === "string" && v.trim()) next.set(k, v.trim());
    location.search = next.toString();
  });
}
