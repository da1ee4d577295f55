// Generated from src/engine/error_code.rs by its test (UPDATE_GENERATED=1 cargo test -p sync-core
// error_code): do not edit. A test fails when this file and the Rust table differ.

/** The codes the wasm engine throws (API.md). */
export const ENGINE_ERROR_CODES = [
  "offline",
  "unauthorized",
  "token_timeout",
  "forbidden",
  "rate_limited",
  "server_error",
  "bad_response",
  "cursor_invalid",
  "quota_exceeded",
  "storage_unavailable",
  "bad_request",
  "push_rejected",
  "not_editable",
  "invalid_name",
  "bad_command",
  "not_found",
] as const;

/** One of [`ENGINE_ERROR_CODES`]. */
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];
