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
    /// (X'X)^+ (pseudo-inverse, so an empty level does no harm).
    xtx_inv: DMatrix<f64>,
    units: usize,
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
        let mut fe = Self { levels: factors.to_vec(), sizes, offsets, columns, xtx_inv: DMatrix::zeros(0, 0), units };
        let mut xtx = DMatrix::<f64>::zeros(columns, columns);
        let mut row = vec![0usize; factors.len() + 1];
        for i in 0..units {
            let active = fe.active_columns(i, &mut row);
            for &a in active {
                for &b in active {
                    xtx[(a, b)] += 1.0;
                }
            }
        }
        fe.xtx_inv = xtx.clone().pseudo_inverse(1e-10).unwrap_or_else(|_| DMatrix::zeros(columns, columns));
        fe
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

    /// `M v`: v with the fixed effects removed.
    pub fn residualize(&self, v: &[f64]) -> Vec<f64> {
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
        n1 - (xtd.transpose() * &self.xtx_inv * xtd)[(0, 0)]
    }

    /// `(X'X)^+` as a dense row-major matrix, for callers that evaluate the
    /// quadratic form many times without allocating.
    pub fn inverse_gram(&self) -> Vec<f64> {
        let n = self.columns;
        (0..n * n).map(|k| self.xtx_inv[(k / n, k % n)]).collect()
    }

    /// Number of columns (intercept + dummies).
    pub fn columns(&self) -> usize {
        self.columns
    }
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
