//! Reading the change feed without missing anything.
//!
//! Every article and known-error edit appends a row to a change table in
//! the same transaction, keyed by a database sequence. Sequence values are
//! handed out when a row is inserted, not when its transaction commits, so
//! on PostgreSQL a lower number can become visible after a higher one; and
//! a rolled-back transaction leaves a number that never appears. The
//! [`FeedCursor`] therefore remembers every number it skipped over ("gaps")
//! and keeps asking for them until they show up or a grace period passes.
//! Applying a change means re-reading the record, so seeing one twice is
//! harmless.

use std::collections::BTreeMap;

/// Gaps tracked at most; beyond this (a sequence that jumped far ahead)
/// the oldest are given up.
const MAX_GAPS: usize = 10_000;

/// Position in the change feed.
#[derive(Debug, Clone)]
pub struct FeedCursor {
    /// Highest sequence number seen.
    high: i64,
    /// Numbers below `high` not yet seen, with when they were first missed.
    gaps: BTreeMap<i64, i64>,
    grace_ms: i64,
}

impl FeedCursor {
    /// Start after `high`, treating the numbers in `missing` (below
    /// `high`, not visible yet) as gaps first noticed at `now_ms`.
    pub fn new(high: i64, missing: impl IntoIterator<Item = i64>, now_ms: i64, grace_ms: i64) -> Self {
        let mut c = Self { high, gaps: BTreeMap::new(), grace_ms };
        for s in missing.into_iter().filter(|s| *s < high) {
            c.gaps.insert(s, now_ms);
        }
        c.trim();
        c
    }

    /// Ask for rows with a sequence above this.
    pub fn high(&self) -> i64 {
        self.high
    }

    /// Numbers still awaited (ask for them specifically), oldest first.
    pub fn gaps(&self, max: usize) -> Vec<i64> {
        self.gaps.keys().take(max).copied().collect()
    }

    pub fn gap_count(&self) -> usize {
        self.gaps.len()
    }

    /// Record the sequence numbers a poll returned (new rows above `high`
    /// and awaited gaps, in any order). Returns those not seen before,
    /// which the caller applies.
    pub fn observe(&mut self, seqs: &[i64], now_ms: i64) -> Vec<i64> {
        let mut fresh = Vec::new();
        let mut sorted = seqs.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for s in sorted {
            if s > self.high {
                for missing in self.high + 1..s {
                    if self.gaps.len() >= MAX_GAPS * 2 {
                        break;
                    }
                    self.gaps.insert(missing, now_ms);
                }
                self.high = s;
                fresh.push(s);
            } else if self.gaps.remove(&s).is_some() {
                fresh.push(s);
            }
        }
        self.expire(now_ms);
        fresh
    }

    /// Give up on gaps older than the grace period: their transactions
    /// rolled back (or are pathologically slow).
    pub fn expire(&mut self, now_ms: i64) {
        let grace = self.grace_ms;
        self.gaps.retain(|_, first| now_ms - *first < grace);
        self.trim();
    }

    fn trim(&mut self) {
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn late_commit_below_high_is_not_missed() {
        let mut c = FeedCursor::new(0, [], 0, 60_000);
        // 2 commits before 1.
        assert_eq!(c.observe(&[2], 10), vec![2]);
        assert_eq!(c.gaps(10), vec![1]);
        assert_eq!(c.observe(&[1], 20), vec![1]);
        assert_eq!(c.gap_count(), 0);
        // Seeing a row again is not fresh.
        assert!(c.observe(&[1, 2], 30).is_empty());
    }

    #[test]
    fn rolled_back_numbers_expire() {
        let mut c = FeedCursor::new(0, [], 0, 1_000);
        c.observe(&[3], 0);
        assert_eq!(c.gaps(10), vec![1, 2]);
        c.expire(999);
        assert_eq!(c.gap_count(), 2);
        c.expire(1_000);
        assert_eq!(c.gap_count(), 0);
    }

    #[test]
    fn start_with_invisible_numbers() {
        let mut c = FeedCursor::new(10, [4, 7, 12], 0, 60_000);
        assert_eq!(c.gaps(10), vec![4, 7]);
        assert_eq!(c.observe(&[7, 11], 5), vec![7, 11]);
        assert_eq!(c.gaps(10), vec![4]);
    }

    proptest! {
        /// Transactions take sequence numbers in order but commit in any
        /// order, some roll back; polls happen between commits. Every
        /// committed number is delivered exactly once.
        #[test]
        fn every_commit_is_delivered_once(
            order in Just((1..=40i64).collect::<Vec<_>>()).prop_shuffle(),
            rolled_back in proptest::collection::hash_set(1..=40i64, 0..8),
            poll_every in 1usize..6,
        ) {
            let mut committed: Vec<i64> = Vec::new();
            let mut c = FeedCursor::new(0, [], 0, 1_000_000);
            let mut delivered: Vec<i64> = Vec::new();
            let poll = |c: &mut FeedCursor, committed: &[i64], delivered: &mut Vec<i64>| {
                let high = c.high();
                let gaps = c.gaps(usize::MAX);
                let rows: Vec<i64> = committed.iter().copied().filter(|s| *s > high || gaps.contains(s)).collect();
                delivered.extend(c.observe(&rows, 1));
            };
            for (i, s) in order.iter().enumerate() {
                if !rolled_back.contains(s) {
                    committed.push(*s);
                }
                if i % poll_every == 0 {
                    poll(&mut c, &committed, &mut delivered);
                }
            }
            poll(&mut c, &committed, &mut delivered);
            let mut d = delivered.clone();
            d.sort_unstable();
            let mut expect = committed.clone();
            expect.sort_unstable();
            prop_assert_eq!(d, expect);
            prop_assert_eq!(c.gap_count(), rolled_back.iter().filter(|s| **s < c.high()).count());
        }
    }
}
