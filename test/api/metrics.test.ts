import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { plainHistogram } from '../../src/api/metrics.ts';

describe('the check path’s plain histogram', () => {
  const config = { name: 'h_seconds', help: 'Time taken', buckets: [0.0005, 0.001, 0.25, 1] };

  it('reads on /metrics exactly as a prom-client Histogram of the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constantFrom(0, 0.0005, 0.001, 0.25, 1, 2),
            fc.double({ min: 0, max: 3, noNaN: true, noDefaultInfinity: true }),
          ),
          { maxLength: 50 },
        ),
        async (observations) => {
          const theirs = new Registry();
          const histogram = new Histogram({ ...config, registers: [theirs] });
          const ours = new Registry();
          const plain = plainHistogram(config);
          ours.registerMetric(plain.metric);
          for (const value of observations) {
            histogram.observe(value);
            plain.observe(value);
          }
          expect(await ours.metrics()).toBe(await theirs.metrics());
          expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
        },
      ),
    );
  });
});
