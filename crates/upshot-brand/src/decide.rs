//! The brand test's call, in one place: keep, scale or cut brand search from the probability
//! that incremental purchases clear break-even, needs-data below the confidence a call must
//! reach, and how many more test units would decide. Pure: numbers in, typed verdict out; the
//! present layer words it.

use upshot_result::Action;
use upshot_stats::normal_quantile;

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

/// How many more test units would make the call at [`DECISION_CONFIDENCE`], from the units so
/// far, the effect's standard error and its distance to break-even; NaN when it cannot be said.
pub fn units_needed(units: usize, std_error: f64, gap: f64) -> f64 {
    let z = normal_quantile(0.5 + DECISION_CONFIDENCE / 2.0);
    if gap > 0.0 && std_error.is_finite() {
        (units as f64 * (z * std_error / gap).powi(2) - units as f64).max(1.0)
    } else {
        f64::NAN
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
    fn units_needed_grow_as_the_gap_shrinks() {
        let near = units_needed(60, 1.0, 0.2);
        let far = units_needed(60, 1.0, 1.0);
        assert!(near > far && far >= 1.0);
        assert!(units_needed(60, 1.0, 0.0).is_nan());
    }
}
