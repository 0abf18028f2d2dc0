//! The survey's calls, in one place: the odds that a channel's blended CAC
//! meets its target (from the bootstrap draws) and the verdict those odds give.
//! Pure: numbers in, typed verdict out; the report words it.

use upshot_result::Action;

/// How sure a call must be: scale when P(CAC <= target) reaches it, pause when
/// P(CAC > pause_multiple x target) does.
pub const DECISION_PROBABILITY: f64 = 0.9;

/// P(CAC <= target) and P(CAC > pause_multiple x target) over bootstrap draws of
/// a channel's blended customers, for its `spend`; a draw with no customers has
/// an unbounded CAC (counted above the pause line). `None` without draws.
pub fn cac_odds(blended_draws: &[f64], spend: f64, target: f64, pause_multiple: f64) -> Option<(f64, f64)> {
    if blended_draws.is_empty() {
        return None;
    }
    let n = blended_draws.len() as f64;
    let at_most = blended_draws.iter().filter(|&&b| b > 0.0 && spend / b <= target).count() as f64 / n;
    let above_pause = blended_draws.iter().filter(|&&b| b <= 0.0 || spend / b > pause_multiple * target).count() as f64 / n;
    Some((at_most, above_pause))
}

/// The call and its confidence from the two odds: scale, pause, keep (more
/// likely than not within target) or optimize.
pub fn verdict(p_at_most_target: f64, p_above_pause: f64) -> (Action, f64) {
    if p_at_most_target >= DECISION_PROBABILITY {
        (Action::Scale, p_at_most_target)
    } else if p_above_pause >= DECISION_PROBABILITY {
        (Action::Pause, p_above_pause)
    } else if p_at_most_target >= 0.5 {
        (Action::Keep, p_at_most_target)
    } else {
        (Action::Optimize, 1.0 - p_at_most_target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odds_count_draws_on_each_side_of_the_lines() {
        // Spend 1,000, target 100: CAC <= 100 needs >= 10 customers; pause (2x) below 5.
        let draws = [20.0, 10.0, 9.0, 5.0, 4.0, 0.0, 12.0, 11.0, 30.0, 10.0];
        let (ok, bad) = cac_odds(&draws, 1000.0, 100.0, 2.0).expect("draws");
        assert_eq!((ok, bad), (0.6, 0.2));
        assert_eq!(cac_odds(&[], 1000.0, 100.0, 2.0), None);
    }

    #[test]
    fn verdicts_follow_the_thresholds() {
        assert_eq!(verdict(0.95, 0.0), (Action::Scale, 0.95));
        assert_eq!(verdict(0.2, 0.9), (Action::Pause, 0.9));
        assert_eq!(verdict(0.6, 0.1), (Action::Keep, 0.6));
        let (action, confidence) = verdict(0.3, 0.5);
        assert_eq!(action, Action::Optimize);
        assert!((confidence - 0.7).abs() < 1e-12);
    }
}
