// How the benchmarks (bench/run.mjs) and the package e2e tests (tests/e2e/harness.mjs) launch
// headless Chromium through playwright-core: Debian's binary (or $CHROMIUM), no sandbox (CI
// runs as root), and nothing in the background that would add noise or network traffic.
// Options only: playwright-core itself is installed beside each caller.

/** The options of `chromium.launch`, with `extraArgs` after the shared flags. */
export function chromiumOptions(extraArgs = []) {
  return {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      ...extraArgs,
    ],
  };
}
