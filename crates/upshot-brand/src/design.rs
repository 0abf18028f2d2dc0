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

/// The stratum of a block: with one-day blocks, its day of week (so each
/// weekday is half on, half off); with longer blocks, none (blocks of 7 or
/// more days already mix weekdays). Regions are always separate strata.
pub fn stratum_of(region: usize, block_start: NaiveDate, block_days: usize) -> (usize, u32) {
    if block_days == 1 { (region, block_start.weekday().num_days_from_monday()) } else { (region, 7) }
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

/// Draws a schedule.
pub fn design(params: &DesignParams) -> Vec<ScheduleRow> {
    let mut rng = upshot_stats::rng::stream(params.seed, "brand-design", 0);
    let blocks_per_region = params.days.div_ceil(params.block_days.max(1));
    let mut strata = Vec::new();
    for (r, _) in params.regions.iter().enumerate() {
        for b in 0..blocks_per_region {
            let block_start = params.start + chrono::Days::new((b * params.block_days) as u64);
            strata.push(stratum_of(r, block_start, params.block_days));
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
    fn same_seed_same_schedule() {
        assert_eq!(design(&params(1, 0)), design(&params(1, 0)));
        let mut other = params(1, 0);
        other.seed = 4;
        assert_ne!(design(&params(1, 0)), design(&other));
    }
}
