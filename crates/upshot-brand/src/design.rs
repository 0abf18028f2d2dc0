//! Randomised on/off schedules: blocks of days, balanced by day of week (or
//! per region), with washout days at the start of every block.
//!
//! The same mechanism drives re-randomization in the analysis: a draw shuffles
//! block states within the same strata, so inference is exact under the
//! design actually used.

use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Parameters of a schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignParams {
    /// First test day.
    pub start: NaiveDate,
    /// Number of test days.
    pub days: usize,
    /// Regions; `[None]` for a time-only switchback.
    pub regions: Vec<Option<String>>,
    /// Days per on/off block (>= the carry-over you expect).
    pub block_days: usize,
    /// Days at the start of every block excluded from estimation.
    pub washout_days: usize,
    /// Seed of the randomisation.
    pub seed: u64,
}

/// One schedule row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRow {
    /// Day.
    pub date: NaiveDate,
    /// Region (None = whole market).
    pub region: Option<String>,
    /// Campaign on.
    pub brand_on: bool,
    /// Excluded from estimation.
    pub washout: bool,
}

/// Block index of day `d` of the test.
pub fn block_of(day: usize, block_days: usize) -> usize {
    day / block_days.max(1)
}

/// How blocks are grouped before half of each group is switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// By the weekday a block starts on, so every weekday is as often on as
    /// off (what `upshot brand-test design` draws). Blocks whose length is a
    /// multiple of 7 all start on the same weekday and form one group.
    Weekday,
    /// One-day blocks by weekday, longer blocks in one group: the rule of
    /// schedules drawn before start-weekday balancing (upshot 0.x block
    /// switchbacks), kept so they are analysed under the design that drew them.
    DaysOnly,
}

/// The stratum of a block: the weekday it starts on (see [`Balance`]), or one
/// stratum (weekday 7) when its weekday carries no balance. Regions are always
/// separate strata.
pub fn stratum_of(region: usize, block_start: NaiveDate, block_days: usize, balance: Balance) -> (usize, u32) {
    let by_weekday = match balance {
        Balance::Weekday => !block_days.is_multiple_of(7),
        Balance::DaysOnly => block_days == 1,
    };
    if by_weekday { (region, block_start.weekday().num_days_from_monday()) } else { (region, 7) }
}

/// Blocks grouped by stratum, computed once and reused for every draw.
#[derive(Debug, Clone)]
pub struct Strata {
    members: Vec<Vec<usize>>,
}

impl Strata {
    /// Groups block indexes by their stratum (in sorted stratum order).
    pub fn new(strata: &[(usize, u32)]) -> Self {
        let mut groups: std::collections::BTreeMap<(usize, u32), Vec<usize>> = std::collections::BTreeMap::new();
        for (block, key) in strata.iter().enumerate() {
            groups.entry(*key).or_default().push(block);
        }
        Self { members: groups.into_values().collect() }
    }

    /// Assigns on/off states: within each stratum half the blocks (rounded
    /// down, the extra one decided by a coin) are on. `states` is written in place.
    pub fn assign(&self, states: &mut [bool], rng: &mut ChaCha8Rng) {
        let mut pattern = Vec::new();
        for members in &self.members {
            pattern.clear();
            pattern.extend((0..members.len()).map(|i| i < members.len() / 2));
            if members.len() % 2 == 1 {
                let last = members.len() - 1;
                pattern[last] = rand::Rng::random_bool(rng, 0.5);
            }
            pattern.shuffle(rng);
            for (m, state) in members.iter().zip(&pattern) {
                states[*m] = *state;
            }
        }
    }
}

impl Strata {
    /// How many assignments the design can draw (a float: it is astronomically
    /// large for long tests). A stratum of `n` blocks has `C(n, n/2)` of them,
    /// twice that when `n` is odd (the coin decides the extra block).
    pub fn assignments(&self) -> f64 {
        self.members
            .iter()
            .map(|m| {
                let n = m.len();
                let k = n / 2;
                let ways = (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
                if n % 2 == 1 { 2.0 * ways } else { ways }
            })
            .product()
    }

    /// The smallest two-sided p-value a re-randomization test of this design
    /// can reach: its observed assignment and, when every stratum is even (so
    /// the mirror assignment, on and off swapped, is also drawable), that
    /// mirror are as extreme as itself, out of every assignment.
    pub fn smallest_p(&self) -> f64 {
        let mirrored = self.members.iter().all(|m| m.len() % 2 == 0);
        (if mirrored { 2.0 } else { 1.0 } / self.assignments()).min(1.0)
    }

    /// Every assignment the design can draw, as lists of on-blocks, when there
    /// are at most `limit`; `None` otherwise. The order is fixed (strata in
    /// sorted order, subsets in lexicographic order), so an enumeration is
    /// reproducible.
    pub fn enumerate(&self, limit: usize) -> Option<Vec<Vec<usize>>> {
        if self.assignments() > limit as f64 {
            return None;
        }
        let mut all: Vec<Vec<usize>> = vec![Vec::new()];
        for members in &self.members {
            let n = members.len();
            let sizes: Vec<usize> = if n % 2 == 1 { vec![n / 2, n / 2 + 1] } else { vec![n / 2] };
            let mut subsets = Vec::new();
            for k in sizes {
                subsets_of(members, k, 0, &mut Vec::new(), &mut subsets);
            }
            let mut next = Vec::with_capacity(all.len() * subsets.len());
            for prefix in &all {
                for subset in &subsets {
                    let mut on = prefix.clone();
                    on.extend_from_slice(subset);
                    next.push(on);
                }
            }
            all = next;
        }
        Some(all)
    }

    /// A scratch copy of the strata for [`Strata::draw_on`].
    pub fn scratch(&self) -> Vec<Vec<usize>> {
        self.members.clone()
    }

    /// Draws an assignment from the same distribution as [`Strata::assign`]
    /// and writes the on-blocks into `on` (cleared first). Only the on-blocks
    /// are drawn (a partial shuffle), which halves the random numbers needed.
    pub fn draw_on(&self, scratch: &mut [Vec<usize>], rng: &mut ChaCha8Rng, on: &mut Vec<usize>) {
        on.clear();
        for members in scratch.iter_mut() {
            let odd = members.len() % 2 == 1;
            let k = members.len() / 2 + usize::from(odd && rand::Rng::random_bool(rng, 0.5));
            let (chosen, _) = members.partial_shuffle(rng, k);
            on.extend_from_slice(chosen);
        }
    }
}

/// Every `k`-subset of `items[from..]` appended to `current`, pushed to `out`.
fn subsets_of(items: &[usize], k: usize, from: usize, current: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if current.len() == k {
        out.push(current.clone());
        return;
    }
    for i in from..items.len() {
        if items.len() - i < k - current.len() {
            break;
        }
        current.push(items[i]);
        subsets_of(items, k, i + 1, current, out);
        current.pop();
    }
}

/// Draws a schedule, balanced by block start weekday ([`Balance::Weekday`]).
pub fn design(params: &DesignParams) -> Vec<ScheduleRow> {
    let mut rng = upshot_stats::rng::stream(params.seed, "brand-design", 0);
    let blocks_per_region = params.days.div_ceil(params.block_days.max(1));
    let mut strata = Vec::new();
    for (r, _) in params.regions.iter().enumerate() {
        for b in 0..blocks_per_region {
            let block_start = params.start + chrono::Days::new((b * params.block_days) as u64);
            strata.push(stratum_of(r, block_start, params.block_days, Balance::Weekday));
        }
    }
    let mut states = vec![false; strata.len()];
    Strata::new(&strata).assign(&mut states, &mut rng);
    let mut rows = Vec::new();
    for (r, region) in params.regions.iter().enumerate() {
        for day in 0..params.days {
            let block = block_of(day, params.block_days);
            rows.push(ScheduleRow {
                date: params.start + chrono::Days::new(day as u64),
                region: region.clone(),
                brand_on: states[r * blocks_per_region + block],
                washout: day % params.block_days.max(1) < params.washout_days,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(block_days: usize, washout_days: usize) -> DesignParams {
        DesignParams {
            start: NaiveDate::from_ymd_opt(2026, 3, 2).expect("date"),
            days: 56,
            regions: vec![None],
            block_days,
            washout_days,
            seed: 3,
        }
    }

    #[test]
    fn daily_design_is_balanced_by_weekday() {
        let rows = design(&params(1, 0));
        for weekday in 0..7 {
            let on = rows.iter().filter(|r| r.brand_on && r.date.weekday().num_days_from_monday() == weekday).count();
            assert_eq!(on, 4);
        }
        assert!(rows.iter().all(|r| !r.washout));
    }

    #[test]
    fn weekly_blocks_switch_as_whole_weeks_with_washout() {
        let rows = design(&params(7, 1));
        for block in rows.chunks(7) {
            assert!(block.iter().all(|r| r.brand_on == block[0].brand_on));
            assert!(block[0].washout && block[1..].iter().all(|r| !r.washout));
        }
        assert_eq!(rows.iter().filter(|r| r.brand_on).count(), 28);
    }

    #[test]
    fn two_day_blocks_are_balanced_by_start_weekday() {
        // 56 days of 2-day blocks: 28 blocks, 4 starting on each weekday, 2 of them on.
        let rows = design(&params(2, 0));
        for weekday in 0..7 {
            let on = rows.chunks(2).filter(|b| b[0].brand_on && b[0].date.weekday().num_days_from_monday() == weekday).count();
            assert_eq!(on, 2, "weekday {weekday}");
        }
    }

    #[test]
    fn assignments_are_counted_and_enumerated() {
        // Four blocks, two on: 6 assignments, the mirror of each among them, so p >= 1/3.
        let strata = Strata::new(&[(0, 7); 4]);
        assert_eq!(strata.assignments(), 6.0);
        assert!((strata.smallest_p() - 1.0 / 3.0).abs() < 1e-12);
        let all = strata.enumerate(10).expect("few");
        assert_eq!(all.len(), 6);
        let mut sorted: Vec<Vec<usize>> = all
            .iter()
            .map(|a| {
                let mut a = a.clone();
                a.sort_unstable();
                a
            })
            .collect();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 6);
        assert!(strata.enumerate(5).is_none());
        // Two strata of 3 (odd: 1 or 2 on, 6 ways each) and one of 2: 6 * 6 * 2 = 72, no mirror guarantee.
        let strata = Strata::new(&[(0, 0), (0, 0), (0, 0), (0, 1), (0, 1), (0, 1), (0, 2), (0, 2)]);
        assert_eq!(strata.assignments(), 72.0);
        assert_eq!(strata.enumerate(100).expect("few").len(), 72);
        assert!((strata.smallest_p() - 1.0 / 72.0).abs() < 1e-12);
        // A 56-day day switchback: C(8,4)^7, far too many to list.
        let days: Vec<(usize, u32)> = (0..56).map(|d| (0, d % 7)).collect();
        assert!((Strata::new(&days).assignments() - 70f64.powi(7)).abs() < 1.0);
    }

    #[test]
    fn same_seed_same_schedule() {
        assert_eq!(design(&params(1, 0)), design(&params(1, 0)));
        let mut other = params(1, 0);
        other.seed = 4;
        assert_ne!(design(&params(1, 0)), design(&other));
    }
}
