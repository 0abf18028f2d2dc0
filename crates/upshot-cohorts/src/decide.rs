//! The cohort analysis's call, in one place: scale a segment when P(CAC <= its maximum CAC)
//! reaches [`SCALE_PROBABILITY`], keep it when that is more likely than not, optimize otherwise.
//! Pure: the probability in, the typed verdict out; the present layer words it.

use upshot_result::Action;

/// P(CAC <= maximum CAC) at which a segment is scaled.
pub const SCALE_PROBABILITY: f64 = 0.9;

/// The call and its confidence from P(CAC <= maximum CAC).
pub fn verdict(p_within_max: f64) -> (Action, f64) {
    if p_within_max >= SCALE_PROBABILITY {
        (Action::Scale, p_within_max)
    } else if p_within_max >= 0.5 {
        (Action::Keep, p_within_max)
    } else {
        (Action::Optimize, 1.0 - p_within_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_threshold() {
        assert_eq!(verdict(0.95), (Action::Scale, 0.95));
        assert_eq!(verdict(0.6), (Action::Keep, 0.6));
        let (action, confidence) = verdict(0.2);
        assert_eq!(action, Action::Optimize);
        assert!((confidence - 0.8).abs() < 1e-12);
    }
}
