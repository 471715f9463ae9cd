// The token bucket's arithmetic, with explicit times: refill up to the burst, refusal without taking, debt and its repayment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket, TokenBuckets } from './token-bucket.js';

test('a bucket starts full, refills at its rate up to its burst, and refuses without taking', () => {
  const bucket = new TokenBucket({ rate: 10, burst: 5 }, 0);
  for (let i = 0; i < 5; i++) assert.equal(bucket.tryTake(1, 0), true);
  assert.equal(bucket.tryTake(1, 0), false);
  assert.equal(bucket.waitMs(1, 0), 100);
  assert.equal(bucket.tryTake(1, 100), true);
  assert.equal(bucket.remaining(10_000), 5, 'never more than the burst');
  assert.equal(bucket.tryTake(6, 10_000), false);
  assert.equal(bucket.remaining(10_000), 5, 'a refusal takes nothing');
});

test('a charge beyond the tokens is debt, repaid by waiting', () => {
  const bucket = new TokenBucket({ rate: 100, burst: 100 }, 0);
  bucket.charge(350, 0);
  assert.equal(bucket.remaining(0), 0);
  assert.equal(bucket.waitMs(0, 0), 2_500);
  assert.equal(bucket.waitMs(1, 0), 2_510);
  assert.equal(bucket.tryTake(1, 2_000), false);
  assert.equal(bucket.tryTake(1, 2_510), true);
  assert.equal(bucket.fullInMs(2_510), 1_000);
});

test('buckets per key are independent and bounded', () => {
  const buckets = new TokenBuckets({ rate: 1, burst: 1 }, 2);
  assert.equal(buckets.get('a', 0).tryTake(1, 0), true);
  assert.equal(buckets.get('a', 0).tryTake(1, 0), false);
  assert.equal(buckets.get('b', 0).tryTake(1, 0), true, 'another key has its own budget');
  buckets.get('c', 0);
  assert.equal(buckets.size, 2);
  assert.equal(buckets.peek('a'), undefined, 'the least recently used key is forgotten');
});
