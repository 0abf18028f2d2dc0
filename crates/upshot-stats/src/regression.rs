//! Least squares with fixed effects, through the Frisch-Waugh-Lovell theorem:
//! the coefficient of a treatment `D` in `Y ~ D + fixed effects` equals
//! `D'MY / D'MD`, where `M` removes the fixed effects. `M` is computed once; a
//! re-randomization draw then costs one pass over the on-units.

use nalgebra::{DMatrix, DVector};

/// Fixed-effects design: each unit belongs to one level of every factor
/// (day of week, region). An intercept is always included.
#[derive(Debug, Clone)]
pub struct FixedEffects {
    /// Per factor: the level of each unit (0-based).
    levels: Vec<Vec<usize>>,
    /// Per factor: number of levels.
    sizes: Vec<usize>,
    /// Column offset of each factor's dummies (level 0 is the reference).
    offsets: Vec<usize>,
    /// Columns: intercept + sum(levels - 1).
    columns: usize,
    /// (X'X)^+ (pseudo-inverse, so an empty level does no harm); empty for a balanced two-way
    /// layout, which residualizes in closed form (see [`FixedEffects::residualize`]).
    xtx_inv: DMatrix<f64>,
    units: usize,
    /// Two factors whose every pair of levels holds exactly one unit (a full region x day panel):
    /// their level counts.
    balanced: Option<(usize, usize)>,
}

impl FixedEffects {
    /// Builds the design for `units` units; every factor lists one level per unit.
    pub fn new(units: usize, factors: &[Vec<usize>]) -> Self {
        let sizes: Vec<usize> = factors.iter().map(|f| f.iter().copied().max().map_or(1, |m| m + 1)).collect();
        let mut offsets = Vec::new();
        let mut columns = 1;
        for size in &sizes {
            offsets.push(columns);
            columns += size.saturating_sub(1);
        }
        let balanced = balanced_pair(units, factors, &sizes);
        let mut fe = Self { levels: factors.to_vec(), sizes, offsets, columns, xtx_inv: DMatrix::zeros(0, 0), units, balanced };
        if fe.balanced.is_none() {
            fe.xtx_inv = fe.dense_inverse();
        }
        fe
    }

    /// `(X'X)^+` from scratch: the pseudo-inverse of the Gram matrix of the dummies.
    fn dense_inverse(&self) -> DMatrix<f64> {
        let columns = self.columns;
        let mut xtx = DMatrix::<f64>::zeros(columns, columns);
        let mut row = vec![0usize; self.levels.len() + 1];
        for i in 0..self.units {
            let active = self.active_columns(i, &mut row);
            for &a in active {
                for &b in active {
                    xtx[(a, b)] += 1.0;
                }
            }
        }
        xtx.pseudo_inverse(1e-10).unwrap_or_else(|_| DMatrix::zeros(columns, columns))
    }

    /// The stored inverse, or a fresh one for a balanced layout (which keeps none).
    fn inverse(&self) -> std::borrow::Cow<'_, DMatrix<f64>> {
        if self.balanced.is_some() {
            std::borrow::Cow::Owned(self.dense_inverse())
        } else {
            std::borrow::Cow::Borrowed(&self.xtx_inv)
        }
    }

    /// Columns with a 1 in unit `i`'s row; writes into `buffer`, returns the used part.
    fn active_columns<'b>(&self, i: usize, buffer: &'b mut [usize]) -> &'b [usize] {
        let mut n = 0;
        buffer[n] = 0;
        n += 1;
        for (f, levels) in self.levels.iter().enumerate() {
            let level = levels[i];
            if level > 0 && self.sizes[f] > 1 {
                buffer[n] = self.offsets[f] + level - 1;
                n += 1;
            }
        }
        &buffer[..n]
    }

    /// X'v for a vector over units.
    pub fn xt(&self, v: &[f64]) -> DVector<f64> {
        let mut out = DVector::zeros(self.columns);
        let mut row = vec![0usize; self.levels.len() + 1];
        for (i, value) in v.iter().enumerate() {
            for &c in self.active_columns(i, &mut row) {
                out[c] += value;
            }
        }
        out
    }

    /// X'D for an assignment given as the list of on-units.
    pub fn xt_indicator(&self, on_units: &[usize]) -> DVector<f64> {
        let mut out = DVector::zeros(self.columns);
        let mut row = vec![0usize; self.levels.len() + 1];
        for &i in on_units {
            for &c in self.active_columns(i, &mut row) {
                out[c] += 1.0;
            }
        }
        out
    }

    /// `M v`: v with the fixed effects removed. On a balanced two-way layout in closed form:
    /// `v - mean of its first-factor level - mean of its second-factor level + grand mean`.
    pub fn residualize(&self, v: &[f64]) -> Vec<f64> {
        if let Some((a, b)) = self.balanced {
            let (mut mean_a, mut mean_b) = (vec![0.0; a], vec![0.0; b]);
            for (i, value) in v.iter().enumerate() {
                mean_a[self.levels[0][i]] += value / b as f64;
                mean_b[self.levels[1][i]] += value / a as f64;
            }
            let grand = v.iter().sum::<f64>() / v.len().max(1) as f64;
            return v
                .iter()
                .enumerate()
                .map(|(i, x)| x - mean_a[self.levels[0][i]] - mean_b[self.levels[1][i]] + grand)
                .collect();
        }
        let beta = &self.xtx_inv * self.xt(v);
        let mut row = vec![0usize; self.levels.len() + 1];
        (0..self.units)
            .map(|i| {
                let fitted: f64 = self.active_columns(i, &mut row).iter().map(|&c| beta[c]).sum();
                v[i] - fitted
            })
            .collect()
    }

    /// `D'MD` for an indicator D: `n1 - (X'D)' (X'X)^+ (X'D)`.
    pub fn indicator_quadratic(&self, xtd: &DVector<f64>) -> f64 {
        let n1 = xtd[0];
        n1 - (xtd.transpose() * self.inverse().as_ref() * xtd)[(0, 0)]
    }

    /// `(X'X)^+` as a dense row-major matrix, for callers that evaluate the
    /// quadratic form many times without allocating.
    pub fn inverse_gram(&self) -> Vec<f64> {
        let n = self.columns;
        let inverse = self.inverse();
        (0..n * n).map(|k| inverse[(k / n, k % n)]).collect()
    }

    /// The two factors' level counts when every pair of levels holds exactly one unit (a full
    /// panel, residualized in closed form); `None` otherwise.
    pub fn balanced(&self) -> Option<(usize, usize)> {
        self.balanced
    }

    /// Number of columns (intercept + dummies).
    pub fn columns(&self) -> usize {
        self.columns
    }
}

/// The level counts of two factors when every pair of levels holds exactly one of the `units`.
fn balanced_pair(units: usize, factors: &[Vec<usize>], sizes: &[usize]) -> Option<(usize, usize)> {
    let [first, second] = factors else { return None };
    let (a, b) = (sizes[0], sizes[1]);
    if a < 2 || b < 2 || a * b != units {
        return None;
    }
    let mut seen = vec![false; units];
    for (x, y) in first.iter().zip(second) {
        if std::mem::replace(&mut seen[x * b + y], true) {
            return None;
        }
    }
    Some((a, b))
}

/// A coefficient with its cluster-robust standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustEstimate {
    /// Coefficient.
    pub estimate: f64,
    /// CR1 cluster-robust standard error.
    pub std_error: f64,
    /// Number of clusters.
    pub clusters: usize,
}

/// OLS of `y` on `x` (both already residualized on the same fixed effects,
/// plus any other regressors partialled out), with CR1 cluster-robust
/// standard errors: `V = G/(G-1) (n-1)/(n-p) sum_g (sum_i x_i e_i)^2 / (x'x)^2`.
pub fn cluster_robust(y: &[f64], x: &[f64], clusters: &[usize], parameters: usize) -> RobustEstimate {
    let xx: f64 = x.iter().map(|v| v * v).sum();
    let xy: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    let estimate = if xx > 0.0 { xy / xx } else { f64::NAN };
    let groups = clusters.iter().copied().max().map_or(0, |m| m + 1);
    let mut scores = vec![0.0; groups];
    for i in 0..y.len() {
        scores[clusters[i]] += x[i] * (y[i] - estimate * x[i]);
    }
    let used = clusters.iter().collect::<std::collections::BTreeSet<_>>().len();
    let n = y.len() as f64;
    let g = used as f64;
    let correction =
        if g > 1.0 && n > parameters as f64 { g / (g - 1.0) * (n - 1.0) / (n - parameters as f64) } else { f64::NAN };
    let meat: f64 = scores.iter().map(|s| s * s).sum();
    RobustEstimate { estimate, std_error: (correction * meat).sqrt() / xx, clusters: used }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_balanced_panel_residualizes_in_closed_form_as_the_dense_path_does() {
        // 5 days x 4 regions, in a scrambled order; a third factor of one level forces the dense path.
        let n = 20;
        let order: Vec<usize> = (0..n).map(|i| (i * 7) % n).collect();
        let day: Vec<usize> = order.iter().map(|k| k % 5).collect();
        let region: Vec<usize> = order.iter().map(|k| k / 5).collect();
        let v: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64).sin() * 3.0 + i as f64 * 0.1).collect();
        let closed = FixedEffects::new(n, &[day.clone(), region.clone()]);
        assert!(closed.balanced.is_some());
        let dense = FixedEffects::new(n, &[day, region, vec![0; n]]);
        assert!(dense.balanced.is_none());
        for (a, b) in closed.residualize(&v).iter().zip(dense.residualize(&v)) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        let xtd = closed.xt_indicator(&[0, 3, 5, 11, 17]);
        assert!(
            (closed.indicator_quadratic(&xtd) - dense.indicator_quadratic(&dense.xt_indicator(&[0, 3, 5, 11, 17]))).abs() < 1e-9
        );
    }

    #[test]
    fn residualizing_removes_group_means() {
        // One factor with two levels: M v subtracts each group's mean.
        let fe = FixedEffects::new(4, &[vec![0, 0, 1, 1]]);
        let r = fe.residualize(&[1.0, 3.0, 10.0, 14.0]);
        let expected = [-1.0, 1.0, -2.0, 2.0];
        for (a, b) in r.iter().zip(expected) {
            assert!((a - b).abs() < 1e-9, "{r:?}");
        }
    }

    #[test]
    fn fwl_coefficient_matches_hand_computed_regression() {
        // y = 2 + 3 D + 5 [group 1], exactly: the coefficient is 3.
        let group = vec![0, 0, 0, 1, 1, 1];
        let d = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let y: Vec<f64> = d.iter().zip(&group).map(|(d, g)| 2.0 + 3.0 * d + 5.0 * *g as f64).collect();
        let fe = FixedEffects::new(6, &[group]);
        let y_res = fe.residualize(&y);
        let on: Vec<usize> = (0..6).filter(|i| d[*i] == 1.0).collect();
        let dmd = fe.indicator_quadratic(&fe.xt_indicator(&on));
        let dmy: f64 = on.iter().map(|&i| y_res[i]).sum();
        assert!((dmy / dmd - 3.0).abs() < 1e-9);
        let d_res = fe.residualize(&d);
        assert!((dmd - d_res.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-9);
    }

    #[test]
    fn cluster_robust_matches_a_hand_computed_case() {
        // x = (1, -1, 1, -1), y = (2, -1, 0, -1), one cluster per pair.
        let x = [1.0, -1.0, 1.0, -1.0];
        let y = [2.0, -1.0, 0.0, -1.0];
        let r = cluster_robust(&y, &x, &[0, 0, 1, 1], 1);
        // beta = (2 + 1 + 0 + 1) / 4 = 1; residuals (1, 0, -1, 0); scores: 1, -1.
        assert!((r.estimate - 1.0).abs() < 1e-12);
        let v = 2.0 / 1.0 * 3.0 / 3.0 * 2.0 / 16.0;
        assert!((r.std_error - f64::sqrt(v)).abs() < 1e-12, "{r:?}");
    }
}
