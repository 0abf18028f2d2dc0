//! Chain ladder with Mack standard errors.
//!
//! A triangle holds cumulative values: row `i` is a cohort (origin), column
//! `k` its age; the cells past the cohort's latest age are unknown (`None`).
//! Factors are volume weighted: `f_k = sum_i C[i][k+1] / sum_i C[i][k]` over
//! the cohorts that have both ages. Mack's process variance parameter
//! `sigma2_k` is estimated from the same cohorts; the last one, which rests
//! on a single ratio, is extrapolated log-linearly from the others (the
//! default of R's ChainLadder and Python's chainladder) or by Mack's 1993 rule.

/// How the last `sigma2`, which cannot be estimated from one ratio, is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastSigma {
    /// Log-linear regression of `ln sigma` on age, extrapolated.
    LogLinear,
    /// Mack (1993): `min(s_{n-2}^4 / s_{n-3}^2, s_{n-3}^2, s_{n-2}^2)`.
    Mack1993,
}

/// A cumulative development triangle.
#[derive(Debug, Clone, PartialEq)]
pub struct Triangle {
    /// `cells[i][k]`: cumulative value of cohort `i` at age `k`, `None` when not yet observed.
    pub cells: Vec<Vec<Option<f64>>>,
}

/// The completed triangle and its uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct MackFit {
    /// Age-to-age development factors (length: ages - 1).
    pub factors: Vec<f64>,
    /// Mack's `sigma^2` per development period.
    pub sigma2: Vec<f64>,
    /// Per cohort: latest observed value.
    pub latest: Vec<f64>,
    /// Per cohort: projected value at the last age.
    pub ultimate: Vec<f64>,
    /// Per cohort: ultimate - latest.
    pub reserve: Vec<f64>,
    /// Per cohort: Mack standard error of the reserve.
    pub std_error: Vec<f64>,
    /// Total reserve.
    pub total_reserve: f64,
    /// Mack standard error of the total reserve (with the covariance term).
    pub total_std_error: f64,
    /// Full triangle: observed cells as given, the rest projected.
    pub projected: Vec<Vec<f64>>,
}

/// Why a triangle cannot be fitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitError {
    /// Rows of different lengths, or a gap inside a row.
    Shape(String),
    /// A development period has no cohort with a positive value to develop from.
    NoDevelopment(usize),
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::Shape(msg) => write!(f, "triangle shape: {msg}"),
            FitError::NoDevelopment(k) => write!(f, "no cohort develops from age {k} to {}", k + 1),
        }
    }
}

impl std::error::Error for FitError {}

impl Triangle {
    /// A triangle from rows of observed cumulative values (each row as long as the cohort is old).
    pub fn from_rows(rows: &[Vec<f64>], ages: usize) -> Self {
        Self { cells: rows.iter().map(|r| (0..ages).map(|k| r.get(k).copied()).collect()).collect() }
    }

    /// A cumulative triangle from per-age increments, with the cells of each cohort past `latest[i]`
    /// (its latest observed age) unknown.
    pub fn from_increments(increments: &[Vec<f64>], latest: &[usize]) -> Self {
        let cells = increments
            .iter()
            .zip(latest)
            .map(|(row, &last)| {
                let mut total = 0.0;
                row.iter()
                    .enumerate()
                    .map(|(age, v)| {
                        total += v;
                        (age <= last).then_some(total)
                    })
                    .collect()
            })
            .collect();
        Self { cells }
    }

    fn ages(&self) -> usize {
        self.cells.first().map_or(0, Vec::len)
    }

    /// Latest observed age of each cohort.
    fn latest_age(&self) -> Result<Vec<usize>, FitError> {
        let ages = self.ages();
        self.cells
            .iter()
            .enumerate()
            .map(|(i, row)| {
                if row.len() != ages {
                    return Err(FitError::Shape(format!("row {i} has {} ages, expected {ages}", row.len())));
                }
                let observed = row.iter().take_while(|c| c.is_some()).count();
                if row[observed..].iter().any(Option::is_some) {
                    return Err(FitError::Shape(format!("row {i} has a gap")));
                }
                if observed == 0 {
                    return Err(FitError::Shape(format!("row {i} has no observed age")));
                }
                Ok(observed - 1)
            })
            .collect()
    }

    /// Fits the chain ladder with Mack standard errors.
    pub fn mack(&self, last_sigma: LastSigma) -> Result<MackFit, FitError> {
        let ages = self.ages();
        let latest_age = self.latest_age()?;
        let value = |i: usize, k: usize| self.cells[i][k].unwrap_or(0.0);
        let periods = ages.saturating_sub(1);
        let mut factors = Vec::with_capacity(periods);
        let mut column_sums = Vec::with_capacity(periods);
        for k in 0..periods {
            let rows: Vec<usize> = (0..self.cells.len()).filter(|&i| latest_age[i] > k).collect();
            let from: f64 = rows.iter().map(|&i| value(i, k)).sum();
            let to: f64 = rows.iter().map(|&i| value(i, k + 1)).sum();
            if from <= 0.0 {
                return Err(FitError::NoDevelopment(k));
            }
            factors.push(to / from);
            column_sums.push(from);
        }
        // sigma^2_k from the cohorts with both ages; NaN where one ratio only.
        let mut sigma2 = vec![f64::NAN; periods];
        for k in 0..periods {
            let rows: Vec<usize> = (0..self.cells.len()).filter(|&i| latest_age[i] > k && value(i, k) > 0.0).collect();
            if rows.len() >= 2 {
                let ss: f64 = rows.iter().map(|&i| value(i, k) * (value(i, k + 1) / value(i, k) - factors[k]).powi(2)).sum();
                sigma2[k] = ss / (rows.len() - 1) as f64;
            }
        }
        let known: Vec<(f64, f64)> = sigma2
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_finite() && **s > 0.0)
            .map(|(k, s)| (k as f64, 0.5 * s.ln()))
            .collect();
        for k in 0..periods {
            if sigma2[k].is_finite() {
                continue;
            }
            sigma2[k] = match last_sigma {
                LastSigma::LogLinear if known.len() >= 2 => {
                    let n = known.len() as f64;
                    let mx = known.iter().map(|p| p.0).sum::<f64>() / n;
                    let my = known.iter().map(|p| p.1).sum::<f64>() / n;
                    let sxy: f64 = known.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
                    let sxx: f64 = known.iter().map(|p| (p.0 - mx).powi(2)).sum();
                    let slope = sxy / sxx;
                    (2.0 * (my + slope * (k as f64 - mx))).exp()
                }
                _ if k >= 2 && sigma2[k - 1].is_finite() && sigma2[k - 2].is_finite() => {
                    let (a, b) = (sigma2[k - 2], sigma2[k - 1]);
                    (b * b / a).min(a).min(b)
                }
                _ => 0.0,
            };
        }

        // Projection.
        let mut projected: Vec<Vec<f64>> = vec![vec![0.0; ages]; self.cells.len()];
        for (i, row) in projected.iter_mut().enumerate() {
            for k in 0..ages {
                row[k] = if k <= latest_age[i] { value(i, k) } else { row[k - 1] * factors[k - 1] };
            }
        }
        let latest: Vec<f64> = (0..self.cells.len()).map(|i| value(i, latest_age[i])).collect();
        let ultimate: Vec<f64> = projected.iter().map(|r| r[ages - 1]).collect();
        let reserve: Vec<f64> = ultimate.iter().zip(&latest).map(|(u, l)| u - l).collect();

        // Mack (1993) mean squared errors.
        let term = |i: usize| -> f64 {
            (latest_age[i]..periods)
                .map(|k| sigma2[k] / factors[k].powi(2) * (1.0 / projected[i][k] + 1.0 / column_sums[k]))
                .sum::<f64>()
        };
        let mse: Vec<f64> = (0..self.cells.len()).map(|i| ultimate[i].powi(2) * term(i)).collect();
        let mut total_mse: f64 = mse.iter().sum();
        for i in 0..self.cells.len() {
            let later: f64 = (0..self.cells.len()).filter(|&j| latest_age[j] < latest_age[i]).map(|j| ultimate[j]).sum();
            let cov: f64 = (latest_age[i]..periods).map(|k| 2.0 * sigma2[k] / factors[k].powi(2) / column_sums[k]).sum();
            total_mse += ultimate[i] * later * cov;
        }
        Ok(MackFit {
            factors,
            sigma2,
            total_reserve: reserve.iter().sum(),
            std_error: mse.iter().map(|m| m.sqrt()).collect(),
            total_std_error: total_mse.sqrt(),
            latest,
            ultimate,
            reserve,
            projected,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The RAA triangle (Mack 1993; `RAA` in R's ChainLadder, `raa` in Python's chainladder).
    pub(crate) fn raa() -> Triangle {
        let rows = vec![
            vec![5012.0, 8269.0, 10907.0, 11805.0, 13539.0, 16181.0, 18009.0, 18608.0, 18662.0, 18834.0],
            vec![106.0, 4285.0, 5396.0, 10666.0, 13782.0, 15599.0, 15496.0, 16169.0, 16704.0],
            vec![3410.0, 8992.0, 13873.0, 16141.0, 18735.0, 22214.0, 22863.0, 23466.0],
            vec![5655.0, 11555.0, 15766.0, 21266.0, 23425.0, 26083.0, 27067.0],
            vec![1092.0, 9565.0, 15836.0, 22169.0, 25955.0, 26180.0],
            vec![1513.0, 6445.0, 11702.0, 12935.0, 15852.0],
            vec![557.0, 4020.0, 10946.0, 12314.0],
            vec![1351.0, 6947.0, 13112.0],
            vec![3133.0, 5395.0],
            vec![2063.0],
        ];
        Triangle::from_rows(&rows, 10)
    }

    /// GenIns (Taylor and Ashe 1983; `GenIns` in R's ChainLadder, `genins` in Python's chainladder).
    pub(crate) fn genins() -> Triangle {
        let rows = vec![
            vec![357848.0, 1124788.0, 1735330.0, 2218270.0, 2745596.0, 3319994.0, 3466336.0, 3606286.0, 3833515.0, 3901463.0],
            vec![352118.0, 1236139.0, 2170033.0, 3353322.0, 3799067.0, 4120063.0, 4647867.0, 4914039.0, 5339085.0],
            vec![290507.0, 1292306.0, 2218525.0, 3235179.0, 3985995.0, 4132918.0, 4628910.0, 4909315.0],
            vec![310608.0, 1418858.0, 2195047.0, 3757447.0, 4029929.0, 4381982.0, 4588268.0],
            vec![443160.0, 1136350.0, 2128333.0, 2897821.0, 3402672.0, 3873311.0],
            vec![396132.0, 1333217.0, 2180715.0, 2985752.0, 3691712.0],
            vec![440832.0, 1288463.0, 2419861.0, 3483130.0],
            vec![359480.0, 1421128.0, 2864498.0],
            vec![376686.0, 1363294.0],
            vec![344014.0],
        ];
        Triangle::from_rows(&rows, 10)
    }

    #[test]
    fn genins_reserve_matches_the_published_chain_ladder() {
        let fit = genins().mack(LastSigma::LogLinear).expect("fits");
        assert!((fit.total_reserve - 18_680_855.61).abs() < 0.01, "reserve {}", fit.total_reserve);
    }

    #[test]
    fn raa_link_factors_reserve_and_mack_error_match_the_references() {
        let fit = raa().mack(LastSigma::LogLinear).expect("fits");
        let expected = [2.9994, 1.6235, 1.2709, 1.1717, 1.1134, 1.0419, 1.0333, 1.0169, 1.0092];
        for (f, e) in fit.factors.iter().zip(expected) {
            assert!((f - e).abs() < 5e-5, "factor {f} vs {e}");
        }
        assert!((fit.total_reserve - 52_135.23).abs() < 0.01, "reserve {}", fit.total_reserve);
        assert!((fit.total_std_error - 26_880.74).abs() < 0.01, "Mack SE {}", fit.total_std_error);
    }

    #[test]
    fn a_fully_developed_triangle_has_no_reserve() {
        let t = Triangle::from_rows(&[vec![1.0, 2.0, 3.0], vec![2.0, 4.0, 6.0], vec![3.0, 6.0, 9.0]], 3);
        let fit = t.mack(LastSigma::Mack1993).expect("fits");
        assert_eq!(fit.total_reserve, 0.0);
        assert_eq!(fit.factors, vec![2.0, 1.5]);
    }
}
