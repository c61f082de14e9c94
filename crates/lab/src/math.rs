//! Small pure numerical helpers shared by the scenario checks and the price models.

/// Lower-triangular Cholesky factor `L` with `L·Lᵀ = c`; `None` if `c` is not positive
/// definite.
// Matrix and per-asset loops read clearest with indices.
#[allow(clippy::needless_range_loop)]
pub fn cholesky(c: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = c.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = c[i][i] - s;
                if d <= 1e-12 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (c[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}
