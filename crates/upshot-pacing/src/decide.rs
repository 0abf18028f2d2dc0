//! Pacing's calls, in one place: a line is behind plan below [`BEHIND`] of it at the month-end
//! run rate, its cost per unit out of range above [`OVER_COST`] over plan, with room to scale
//! below [`UNDER_COST`] under it. Pure: numbers in, typed verdict out; the present layer words it.

use upshot_result::Action;

/// Completion below which a line is behind plan.
pub const BEHIND: f64 = 0.95;
/// Cost per unit this far above plan is out of range.
pub const OVER_COST: f64 = 0.10;
/// Cost per unit this far under plan leaves room to scale.
pub const UNDER_COST: f64 = 0.05;

/// Where a line stands against its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No cost plan to judge the cost per unit; `behind` says whether volume is.
    NoCostPlan {
        /// Volume behind plan.
        behind: bool,
    },
    /// Volume on pace, cost per unit over plan.
    OnPaceOverCost,
    /// Volume behind plan and cost per unit over plan.
    BehindOverCost,
    /// Volume behind plan at a cost per unit under plan: room to scale.
    BehindUnderCost,
    /// Volume behind plan at the planned cost.
    BehindAtCost,
    /// On pace at the planned cost.
    OnPace,
}

/// The call on a line, its confidence and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// What to do.
    pub action: Action,
    /// P(the line misses its plan) when behind, P(it makes it) when on pace.
    pub confidence: f64,
    /// Where the line stands.
    pub standing: Standing,
}

/// The call from the month-end completion of the volume plan, P(missing it) and the cost per
/// unit against plan (`actual / planned - 1`; `None` without a cost plan).
pub fn verdict(completion: f64, p_miss: f64, cost_delta: Option<f64>) -> Verdict {
    let behind = completion < BEHIND;
    let (action, standing) = match cost_delta {
        None => (if behind { Action::Optimize } else { Action::Keep }, Standing::NoCostPlan { behind }),
        Some(delta) if delta > OVER_COST => {
            (Action::Optimize, if behind { Standing::BehindOverCost } else { Standing::OnPaceOverCost })
        }
        Some(delta) if behind && delta < -UNDER_COST => (Action::Scale, Standing::BehindUnderCost),
        Some(_) if behind => (Action::Optimize, Standing::BehindAtCost),
        Some(_) => (Action::Keep, Standing::OnPace),
    };
    Verdict { action, confidence: if behind { p_miss } else { 1.0 - p_miss }, standing }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_thresholds() {
        assert_eq!(verdict(1.0, 0.2, Some(0.0)).standing, Standing::OnPace);
        assert_eq!(verdict(1.0, 0.2, Some(0.2)).action, Action::Optimize);
        assert_eq!(verdict(0.8, 0.9, Some(-0.1)).action, Action::Scale);
        assert_eq!(verdict(0.8, 0.9, Some(0.0)).standing, Standing::BehindAtCost);
        assert_eq!(verdict(0.8, 0.9, Some(0.2)).standing, Standing::BehindOverCost);
        let on_pace = verdict(0.97, 0.3, None);
        assert_eq!((on_pace.action, on_pace.standing), (Action::Keep, Standing::NoCostPlan { behind: false }));
        assert!((on_pace.confidence - 0.7).abs() < 1e-12);
        assert!((verdict(0.5, 0.9, None).confidence - 0.9).abs() < 1e-12);
    }
}
