// Statistics of the report: medians, percentiles and a seeded percentile bootstrap of the
// median (10 000 resamples) for the paired per-trial ratios.
import { prng } from "./src/workload.mjs";

export function median(xs) {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile (type 7, as R and numpy default). */
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

/** 95 % percentile-bootstrap interval of the median of `xs`. */
export function bootstrapMedianCI(xs, resamples = 10_000, seed = 42) {
  if (xs.length < 2) return [NaN, NaN];
  const r = prng(seed);
  const medians = new Float64Array(resamples);
  const sample = new Array(xs.length);
  for (let b = 0; b < resamples; b += 1) {
    for (let i = 0; i < xs.length; i += 1) sample[i] = xs[Math.floor(r() * xs.length)];
    medians[b] = median(sample);
  }
  return [quantile(Array.from(medians), 0.025), quantile(Array.from(medians), 0.975)];
}

/** Fisher–Yates with the given random source. */
export function shuffle(xs, r) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i -= 1) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
