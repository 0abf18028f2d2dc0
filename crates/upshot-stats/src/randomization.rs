//! Re-randomization (Fisher) inference for an additive treatment effect, with
//! the interval obtained by inverting the test, so the p-value and the
//! interval can never disagree.
//!
//! Under the sharp null `Y_i(1) = Y_i(0) + t`, the outcomes with the effect
//! removed, `Y - t * D_obs`, are fixed under every assignment the design could
//! have drawn. For a statistic that is linear in the outcome and equals 1 when
//! applied to the observed assignment itself (the difference in means and the
//! fixed-effects regression coefficient both are), the statistic of draw `k`
//! on the adjusted outcome is `a_k - t * b_k`, where `a_k = T(D_k, Y)` and
//! `b_k = T(D_k, D_obs)`. Storing `(a_k, b_k)` once gives the p-value of every
//! `t` without redrawing.

/// The re-randomization distribution of one statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomizationDist {
    /// The observed estimate `T(D_obs, Y)`.
    pub estimate: f64,
    /// `T(D_k, Y)` for every draw.
    pub on_outcome: Vec<f64>,
    /// `T(D_k, D_obs)` for every draw.
    pub on_assignment: Vec<f64>,
    /// The draws are every assignment the design can make, the observed one
    /// among them (exact enumeration), rather than a random sample of them.
    pub exact: bool,
}

impl RandomizationDist {
    /// Number of draws.
    pub fn draws(&self) -> usize {
        self.on_outcome.len()
    }

    fn tolerance(&self) -> f64 {
        1e-9 * (1.0 + self.estimate.abs())
    }

    /// `(extreme + 1) / (draws + 1)` for random draws (the observed assignment
    /// counted as one of them, so a p-value is never 0), `extreme / draws`
    /// for an enumeration (which holds the observed assignment already).
    fn share(&self, extreme: usize) -> f64 {
        if self.exact { extreme as f64 / self.draws().max(1) as f64 } else { (extreme + 1) as f64 / (self.draws() + 1) as f64 }
    }

    /// Two-sided p-value of `H0: effect = t`.
    pub fn p_value(&self, t: f64) -> f64 {
        let observed = (self.estimate - t).abs() - self.tolerance();
        let extreme = self.on_outcome.iter().zip(&self.on_assignment).filter(|(a, b)| (*a - t * *b).abs() >= observed).count();
        self.share(extreme)
    }

    /// One-sided p-value of `H0: effect = t` against `effect > t`. As a
    /// function of `t` it is the confidence that the effect is at most `t`.
    pub fn p_greater(&self, t: f64) -> f64 {
        let observed = self.estimate - t - self.tolerance();
        let extreme = self.on_outcome.iter().zip(&self.on_assignment).filter(|(a, b)| *a - t * *b >= observed).count();
        self.share(extreme)
    }

    /// The `level` interval: every `t` the two-sided test at `1 - level` does
    /// not reject, found by bisection from the estimate outwards.
    pub fn interval(&self, level: f64) -> (f64, f64) {
        let alpha = 1.0 - level;
        let spread = {
            let n = self.draws().max(1) as f64;
            let mean = self.on_outcome.iter().sum::<f64>() / n;
            let var = self.on_outcome.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n;
            var.sqrt().max(1e-9 * (1.0 + self.estimate.abs()))
        };
        let bound = |direction: f64| {
            let mut inside = self.estimate;
            let mut step = spread;
            let mut outside = self.estimate + direction * step;
            let mut guard = 0;
            while self.p_value(outside) > alpha && guard < 60 {
                inside = outside;
                step *= 2.0;
                outside = self.estimate + direction * step;
                guard += 1;
            }
            for _ in 0..60 {
                let mid = 0.5 * (inside + outside);
                if self.p_value(mid) > alpha {
                    inside = mid;
                } else {
                    outside = mid;
                }
            }
            inside
        };
        (bound(-1.0), bound(1.0))
    }
}

/// Draws in a fixed-size chunk share one random stream, so the draws do not
/// depend on how many threads run them.
pub const CHUNK: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(estimate: f64, a: Vec<f64>) -> RandomizationDist {
        let b = vec![0.0; a.len()];
        RandomizationDist { estimate, on_outcome: a, on_assignment: b, exact: false }
    }

    #[test]
    fn p_value_counts_the_observed_draw() {
        // Draws 1..=19 and an estimate of 10: draws with |a| >= 10 are 10..=19 (10 of them).
        let d = dist(10.0, (1..=19).map(f64::from).collect());
        assert!((d.p_value(0.0) - 11.0 / 20.0).abs() < 1e-12);
        // Nothing as extreme as 100: p = 1 / (K + 1).
        let d = dist(100.0, (1..=19).map(f64::from).collect());
        assert!((d.p_value(0.0) - 1.0 / 20.0).abs() < 1e-12);
        // An enumeration holds the observed draw: the four assignments of a
        // 2-of-4 design that are as extreme as the estimate, out of six.
        let d = RandomizationDist {
            estimate: 2.0,
            on_outcome: vec![2.0, -2.0, 1.0, -1.0, 0.5, -0.5],
            on_assignment: vec![0.0; 6],
            exact: true,
        };
        assert!((d.p_value(0.0) - 2.0 / 6.0).abs() < 1e-12);
        assert!((d.p_greater(0.0) - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn interval_and_p_value_agree() {
        let a: Vec<f64> = (0..999).map(|i| ((i as f64) * 0.7).sin() * 2.0).collect();
        let b: Vec<f64> = (0..999).map(|i| ((i as f64) * 1.3).cos() * 0.3).collect();
        let d = RandomizationDist { estimate: 1.5, on_outcome: a, on_assignment: b, exact: false };
        let (lo, hi) = d.interval(0.95);
        assert!(lo < 1.5 && 1.5 < hi);
        assert!(d.p_value(lo + 1e-6) > 0.05 && d.p_value(hi - 1e-6) > 0.05);
        assert!(d.p_value(lo - 1e-3) <= 0.05 && d.p_value(hi + 1e-3) <= 0.05);
        assert_eq!(d.p_value(0.0) <= 0.05, !(lo..=hi).contains(&0.0));
    }
}
