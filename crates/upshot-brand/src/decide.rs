//! The brand test's call, in one place: keep, scale or cut brand search from the probability
//! that incremental purchases clear break-even, needs-data below the confidence a call must
//! reach, and how long a test would decide (by simulation). Pure: numbers in, typed verdict out; the
//! present layer words it.

use upshot_result::Action;

/// Confidence a call must reach before upshot makes it; below it, needs-data.
pub const DECISION_CONFIDENCE: f64 = 0.8;

/// The call and the probability that it is the wrong one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Call {
    /// Keep, scale, cut or needs-data.
    pub action: Action,
    /// P(the call is wrong): P(iCPA above break-even) for keep/scale, below it for cut.
    pub p_wrong: f64,
}

/// The call from the effect per on-unit, the effect that breaks even, P(effect <= break-even)
/// and the top of the iCPA interval: keep when the effect clears break-even with enough
/// confidence, scale when even the interval's worst iCPA is under half of break-even, cut when
/// it falls short with enough confidence, needs-data otherwise.
pub fn call(
    per_unit: f64,
    break_even_per_unit: f64,
    p_at_most_break_even: f64,
    icpa_high: Option<f64>,
    break_even_cpa: f64,
) -> Call {
    if per_unit >= break_even_per_unit {
        let p_wrong = p_at_most_break_even;
        let room = icpa_high.is_some_and(|hi| hi < 0.5 * break_even_cpa);
        let action = if 1.0 - p_wrong < DECISION_CONFIDENCE {
            Action::NeedsData
        } else if room {
            Action::Scale
        } else {
            Action::Keep
        };
        Call { action, p_wrong }
    } else {
        let p_wrong = 1.0 - p_at_most_break_even;
        Call { action: if 1.0 - p_wrong >= DECISION_CONFIDENCE { Action::Cut } else { Action::NeedsData }, p_wrong }
    }
}

/// The test length a needs-data call asks for: the days a switchback of this design needs to tell
/// an effect of break-even size from none at [`crate::power::TARGET_POWER`] (then a keep or cut call at
/// [`DECISION_CONFIDENCE`] is within reach whichever side the effect is on), by simulating the
/// re-randomization test on the test's own days with the estimated effect removed. Not the
/// observed gap to break-even in a normal formula: that promises a decision exactly when the
/// estimate happens to be far from break-even.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sizing {
    /// A test of this many days in total would do.
    Days(usize),
    /// Not even six times the current length would.
    LongerThan(usize),
}

/// Sizes a longer test (see [`Sizing`]). `series` holds the test's daily outcome from `start`
/// per region (one series for a time-only test), washout days included, with the effect removed.
pub fn sizing(start: chrono::NaiveDate, series: &[&[f64]], block_days: usize, break_even_per_unit: f64, seed: u64) -> Sizing {
    let days = series.first().map_or(0, |s| s.len());
    let lengths = crate::power::multiples(days, block_days);
    let params = crate::power::sizing_params(lengths, block_days, break_even_per_unit, seed);
    match crate::power::days_to_detect(start, series, &params) {
        Some(days) => Sizing::Days(days),
        None => Sizing::LongerThan(6 * days),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_follow_the_confidence_and_the_room() {
        // Effect over break-even, P(at most break-even) 0.1: keep; with room under half: scale.
        assert_eq!(call(3.0, 2.0, 0.1, Some(90.0), 100.0).action, Action::Keep);
        assert_eq!(call(3.0, 2.0, 0.1, Some(40.0), 100.0).action, Action::Scale);
        // Not sure enough either way: needs data.
        assert_eq!(call(3.0, 2.0, 0.3, Some(40.0), 100.0).action, Action::NeedsData);
        assert_eq!(call(1.0, 2.0, 0.7, None, 100.0).action, Action::NeedsData);
        // Clearly under break-even: cut, wrong with P(at least break-even).
        let cut = call(1.0, 2.0, 0.95, None, 100.0);
        assert_eq!(cut.action, Action::Cut);
        assert!((cut.p_wrong - 0.05).abs() < 1e-12);
    }

    #[test]
    fn flat_days_detect_any_effect_at_the_current_length() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
        let flat = [10.0; 28];
        assert_eq!(sizing(start, &[&flat], 1, 2.0, 1), Sizing::Days(28));
        assert_eq!(sizing(start, &[&flat, &flat, &flat], 1, 2.0, 1), Sizing::Days(28));
        assert_eq!(sizing(start, &[&flat], 1, 0.0, 1), Sizing::LongerThan(168));
    }
}
