//! The decide layer of the plan: one CAC per row from the best evidence in the folder, and one
//! call per row from that CAC against the folder's target. Every threshold is a named constant.

use upshot_result::Action;
use upshot_stats::{normal_cdf, normal_quantile};

use crate::evidence::Est;

/// The probability a call needs when `economics.toml` sets no `decision_probability`.
pub const DEFAULT_PROBABILITY: f64 = 0.9;
/// The level of every interval the plan states.
pub const PLAN_LEVEL: f64 = 0.9;
/// A CAC above this multiple of the target, with the decision probability, is a pause.
pub const PAUSE_MULTIPLE: f64 = 2.0;
/// The survey and the click data disagree when one credits a channel with this many times the
/// customers of the other.
pub const DISAGREE_RATIO: f64 = 2.0;

/// What a CAC counts: which customers, by which attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Basis {
    /// Incremental purchases of an on/off experiment (iCPA).
    #[serde(rename = "incremental")]
    Incremental,
    /// Survey-blended new customers, with purchases still to come projected by the cohort engine.
    #[serde(rename = "blended+projected")]
    BlendedProjected,
    /// Survey-blended new customers as observed.
    #[serde(rename = "blended")]
    Blended,
    /// Last-click new customers, with purchases still to come projected from the lag profile.
    #[serde(rename = "click+projected")]
    ClickProjected,
    /// Last-click customers (lag-projected) times an incrementality factor measured elsewhere
    /// (`incrementality` in economics.toml), for brand campaigns without an on/off test here.
    #[serde(rename = "click+factor")]
    ClickFactor,
}

impl Basis {
    /// How the basis reads in a table cell.
    pub fn label(self) -> &'static str {
        match self {
            Basis::Incremental => "iCPA, on/off test",
            Basis::BlendedProjected => "survey-blended, cohort-projected",
            Basis::Blended => "survey-blended",
            Basis::ClickProjected => "last click, lag-projected",
            Basis::ClickFactor => "last click x incrementality factor",
        }
    }
}

/// A CAC whose logarithm is normal, with its own spread below and above the estimate (the
/// intervals it comes from are rarely symmetric); an infinite spread is an unbounded side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LogCac {
    pub estimate: f64,
    pub sd_low: f64,
    pub sd_high: f64,
}

/// Spreads on the log scale (below, above) of an estimate from its interval; a missing end is
/// unbounded, a missing interval is no spread.
pub(crate) fn log_spreads(e: &Est) -> (f64, f64) {
    let Some(level) = e.level else { return (0.0, 0.0) };
    let z = normal_quantile(0.5 + level / 2.0);
    let side = |num: Option<f64>, den: Option<f64>| match (num, den) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => (a / b).ln().max(0.0) / z,
        _ => f64::INFINITY,
    };
    (side(Some(e.estimate), e.low), side(e.high, Some(e.estimate)))
}

impl LogCac {
    /// A CAC from money over a count whose interval is `customers`, times a projection factor
    /// with its own interval (independent parts: their log spreads add in quadrature).
    pub fn from_count(spend: f64, customers: &Est, factor: Option<&Est>) -> Option<Self> {
        let f = factor.map_or(1.0, |f| f.estimate);
        let n = customers.estimate * f;
        if spend <= 0.0 || n <= 0.0 {
            return None;
        }
        let (c_lo, c_hi) = log_spreads(customers);
        let (f_lo, f_hi) = factor.map_or((0.0, 0.0), log_spreads);
        // Fewer customers make a higher CAC: the count's low side is the CAC's high side.
        Some(Self { estimate: spend / n, sd_low: c_hi.hypot(f_hi), sd_high: c_lo.hypot(f_lo) })
    }

    /// A CAC from money over a count with Poisson noise only.
    pub fn poisson(spend: f64, customers: f64) -> Option<Self> {
        (spend > 0.0 && customers > 0.0).then(|| {
            let sd = 1.0 / customers.sqrt();
            Self { estimate: spend / customers, sd_low: sd, sd_high: sd }
        })
    }

    /// A CAC an analysis states with its interval (the brand test's iCPA).
    pub fn stated(e: &Est) -> Option<Self> {
        (e.estimate.is_finite() && e.estimate > 0.0).then(|| {
            let (sd_low, sd_high) = log_spreads(e);
            Self { estimate: e.estimate, sd_low, sd_high }
        })
    }

    /// P(CAC <= x).
    pub fn below(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let d = (x / self.estimate).ln();
        let sd = if d >= 0.0 { self.sd_high } else { self.sd_low };
        if sd == 0.0 {
            return if d >= 0.0 { 1.0 } else { 0.0 };
        }
        if sd.is_infinite() {
            return 0.5;
        }
        normal_cdf(d / sd)
    }

    /// The interval at `level`; `None` for an unbounded end.
    pub fn interval(&self, level: f64) -> (Option<f64>, Option<f64>) {
        let z = normal_quantile(0.5 + level / 2.0);
        let end = |sd: f64, sign: f64| sd.is_finite().then(|| self.estimate * (sign * z * sd).exp());
        (end(self.sd_low, -1.0), end(self.sd_high, 1.0))
    }
}

/// One call with its probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Verdict {
    pub action: Action,
    pub confidence: f64,
}

/// The call on a CAC against a target: SCALE when P(CAC <= target) reaches the decision
/// probability; PAUSE when P(CAC > PAUSE_MULTIPLE x target) does; OPTIMIZE when P(CAC > target)
/// does; KEEP otherwise (the interval straddles the target), with P(CAC <= PAUSE_MULTIPLE x
/// target) as its confidence, the probability that it is no pause.
pub(crate) fn call(cac: &LogCac, target: f64, probability: f64) -> Verdict {
    let ok = cac.below(target);
    let not_pause = cac.below(PAUSE_MULTIPLE * target);
    let (action, confidence) = if ok >= probability {
        (Action::Scale, ok)
    } else if 1.0 - not_pause >= probability {
        (Action::Pause, 1.0 - not_pause)
    } else if 1.0 - ok >= probability {
        (Action::Optimize, 1.0 - ok)
    } else {
        (Action::Keep, not_pause)
    };
    Verdict { action, confidence }
}

/// The factor by which purchases still to come grow a channel's blended customers: the cohort
/// engine's projected lead-linked purchases of the channel's own leads over those observed, added
/// once (`(blended + projected - observed) / blended`), with its interval from the projection's.
/// Future purchases of leads that came by other channels (organic) stay theirs: a lower bound
/// for channels the survey credits with organic-click buyers.
pub(crate) fn projection_factor(blended: f64, observed: f64, projected: &Est) -> Option<Est> {
    if blended <= 0.0 {
        return None;
    }
    let grow = |p: f64| (blended + (p - observed).max(0.0)) / blended;
    Some(Est {
        estimate: grow(projected.estimate),
        low: projected.low.map(grow),
        high: projected.high.map(grow),
        level: projected.level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(estimate: f64, low: f64, high: f64, level: f64) -> Est {
        Est { estimate, low: Some(low), high: Some(high), level: Some(level) }
    }

    #[test]
    fn a_cac_from_a_count_inverts_the_count_interval() {
        // 1,000 customers with a 90% interval of 900 to 1,100 for $100,000: CAC $100, whose upper
        // end comes from the count's lower end.
        let c = LogCac::from_count(100_000.0, &est(1000.0, 900.0, 1100.0, 0.9), None).expect("defined");
        assert!((c.estimate - 100.0).abs() < 1e-9);
        let (lo, hi) = c.interval(0.9);
        assert!((hi.expect("bounded") - 100_000.0 / 900.0).abs() < 1e-6, "{hi:?}");
        assert!((lo.expect("bounded") - 100_000.0 / 1100.0).abs() < 1e-6, "{lo:?}");
        // The same interval restated at 95% is wider, at 50% narrower.
        let (lo95, _) = c.interval(0.95);
        assert!(lo95.expect("bounded") < lo.expect("bounded"));
    }

    #[test]
    fn independent_parts_add_on_the_log_scale() {
        let customers = est(1000.0, 1000.0 * (-0.1f64).exp(), 1000.0 * 0.1f64.exp(), 0.9);
        let factor = est(2.0, 2.0 * (-0.1f64).exp(), 2.0 * 0.1f64.exp(), 0.9);
        let c = LogCac::from_count(200_000.0, &customers, Some(&factor)).expect("defined");
        assert!((c.estimate - 100.0).abs() < 1e-9);
        let z = normal_quantile(0.95);
        assert!((c.sd_high - (2.0f64).sqrt() * 0.1 / z).abs() < 1e-12);
    }

    #[test]
    fn calls_follow_the_probability_of_beating_the_target() {
        let tight = |estimate: f64| LogCac { estimate, sd_low: 0.05, sd_high: 0.05 };
        assert_eq!(call(&tight(60.0), 150.0, 0.9).action, Action::Scale);
        assert_eq!(call(&tight(400.0), 150.0, 0.9).action, Action::Pause);
        assert_eq!(call(&tight(200.0), 150.0, 0.9).action, Action::Optimize);
        let wide = LogCac { estimate: 150.0, sd_low: 0.5, sd_high: 0.5 };
        let v = call(&wide, 150.0, 0.9);
        assert_eq!(v.action, Action::Keep);
        assert!((v.confidence - normal_cdf(2f64.ln() / 0.5)).abs() < 1e-12);
        // Confidence of a scale is P(CAC <= target) itself.
        let v = call(&tight(140.0), 150.0, 0.9);
        assert!((v.confidence - normal_cdf((150f64 / 140.0).ln() / 0.05)).abs() < 1e-12);
    }

    #[test]
    fn an_unbounded_upper_end_never_scales() {
        let c = LogCac { estimate: 40.0, sd_low: 0.3, sd_high: f64::INFINITY };
        assert_eq!(c.below(150.0), 0.5);
        assert_ne!(call(&c, 150.0, 0.9).action, Action::Scale);
        assert_eq!(c.interval(0.9).1, None);
    }

    #[test]
    fn the_projection_adds_purchases_still_to_come_once() {
        let f = projection_factor(1000.0, 300.0, &est(400.0, 350.0, 480.0, 0.9)).expect("defined");
        assert!((f.estimate - 1.1).abs() < 1e-12);
        assert!((f.low.expect("low") - 1.05).abs() < 1e-12 && (f.high.expect("high") - 1.18).abs() < 1e-12);
        assert!(projection_factor(0.0, 1.0, &est(1.0, 1.0, 1.0, 0.9)).is_none());
    }
}
