//! Embedded data sets (nothing is downloaded) and their preparation.
//!
//! - [`Dataset::iris`]: Fisher's Iris, 150 samples × 4 features, 3 classes, shipped as
//!   `src/train/iris.csv`.
//! - [`Dataset::two_moons`], [`Dataset::circles`]: generated from a seed (Gaussian noise added to
//!   points on two interleaved half circles, or on two concentric circles).
//! - [`Dataset::parity`]: every n-bit string, label = parity of its bits.
//!
//! Features are `f64` rows; labels are class indices. [`Dataset::split`] draws a stratified
//! train/test split from a seed; [`Scaler`] maps each feature affinely onto an interval fitted
//! on the training part only (so the test part leaks nothing), e.g. `[0, π]` for angle encoding.

use crate::error::{Error, Result};
use crate::rng::Stream;
use ndarray::{Array1, Array2, Axis};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::path::{Path, PathBuf};

/// A labelled classification data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Samples × features.
    pub features: Array2<f64>,
    /// Class index of each sample.
    pub labels: Vec<usize>,
    /// Class names, indexed by label.
    pub classes: Vec<String>,
    /// Feature names, indexed by column.
    pub feature_names: Vec<String>,
}

const IRIS_CSV: &str = include_str!("iris.csv");

impl Dataset {
    /// Builds a data set, checking that shapes agree and every label names a class.
    pub fn new(
        features: Array2<f64>,
        labels: Vec<usize>,
        classes: Vec<String>,
        feature_names: Vec<String>,
    ) -> Result<Self> {
        let shape = |message: String| Error::Shape {
            context: "dataset".into(),
            message,
        };
        if features.nrows() != labels.len() {
            return Err(shape(format!(
                "{} feature rows but {} labels",
                features.nrows(),
                labels.len()
            )));
        }
        if feature_names.len() != features.ncols() {
            return Err(shape(format!(
                "{} feature names for {} feature columns",
                feature_names.len(),
                features.ncols()
            )));
        }
        if let Some((i, &l)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| l >= classes.len())
        {
            return Err(shape(format!(
                "sample {i} has label {l}, but there are {} classes",
                classes.len()
            )));
        }
        if let Some(((i, j), v)) = features.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(shape(format!("feature {j} of sample {i} is {v}")));
        }
        Ok(Dataset {
            features,
            labels,
            classes,
            feature_names,
        })
    }

    /// Fisher's Iris data (150 samples; sepal and petal length and width in cm; setosa,
    /// versicolor, virginica), from the CSV embedded in the crate.
    pub fn iris() -> Self {
        Self::from_csv_str(IRIS_CSV, Path::new("src/train/iris.csv"))
            .expect("the embedded iris.csv is well formed")
    }

    /// Reads a CSV file with a header line: numeric feature columns, then a last column with
    /// the class name. Classes are numbered in order of first appearance.
    pub fn from_csv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_csv_str(&text, path)
    }

    fn from_csv_str(text: &str, path: &Path) -> Result<Self> {
        let err = |line: usize, message: String| Error::Data {
            path: PathBuf::from(path),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines
            .next()
            .ok_or_else(|| err(1, "empty file, expected a header line".into()))?;
        let names: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
        if names.len() < 2 {
            return Err(err(
                1,
                "need at least one feature column and a class column".into(),
            ));
        }
        let width = names.len() - 1;
        let (mut values, mut labels, mut classes) = (Vec::new(), Vec::new(), Vec::<String>::new());
        let mut class_index: std::collections::HashMap<String, usize> = Default::default();
        for (i, line) in lines {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            if cells.len() != names.len() {
                return Err(err(
                    i + 1,
                    format!("expected {} columns, found {}", names.len(), cells.len()),
                ));
            }
            for (j, cell) in cells[..width].iter().enumerate() {
                let v: f64 = cell.parse().map_err(|_| {
                    err(
                        i + 1,
                        format!(
                            "column {} ('{}'): '{cell}' is not a number",
                            j + 1,
                            names[j]
                        ),
                    )
                })?;
                values.push(v);
            }
            let class = cells[width];
            let label = *class_index.entry(class.to_string()).or_insert_with(|| {
                classes.push(class.to_string());
                classes.len() - 1
            });
            labels.push(label);
        }
        let rows = labels.len();
        let features = Array2::from_shape_vec((rows, width), values).expect("rows × width values");
        Self::new(features, labels, classes, names[..width].to_vec())
    }

    /// Two interleaved half circles ("two moons") with Gaussian noise of standard deviation
    /// `noise`, `samples` points split evenly between the two classes.
    pub fn two_moons(samples: usize, noise: f64, seed: u64) -> Self {
        Self::noisy_points(samples, noise, seed, ["upper", "lower"], |class, u| {
            let t = PI * u;
            if class == 0 {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            }
        })
    }

    /// Two concentric circles (radius 1 and `factor` < 1) with Gaussian noise.
    pub fn circles(samples: usize, noise: f64, factor: f64, seed: u64) -> Self {
        Self::noisy_points(samples, noise, seed, ["outer", "inner"], |class, u| {
            let r = if class == 0 { 1.0 } else { factor };
            let t = 2.0 * PI * u;
            (r * t.cos(), r * t.sin())
        })
    }

    /// `samples` 2-D points alternating between two classes: `point(class, u)` with `u`
    /// uniform in `[0, 1)`, plus Gaussian noise of standard deviation `noise` (a non-finite or
    /// negative `noise` counts as 0) on each coordinate.
    fn noisy_points(
        samples: usize,
        noise: f64,
        seed: u64,
        classes: [&str; 2],
        point: impl Fn(usize, f64) -> (f64, f64),
    ) -> Self {
        let mut rng = Stream::new(seed).rng();
        let sd = if noise.is_finite() {
            noise.max(0.0)
        } else {
            0.0
        };
        let normal = Normal::new(0.0, sd).expect("finite, non-negative standard deviation");
        let mut rows = Vec::with_capacity(2 * samples);
        let mut labels = Vec::with_capacity(samples);
        for i in 0..samples {
            let class = i % 2;
            let (x, y) = point(class, rng.random::<f64>());
            rows.push(x + normal.sample(&mut rng));
            rows.push(y + normal.sample(&mut rng));
            labels.push(class);
        }
        Self::generated(rows, labels, classes)
    }

    fn generated(rows: Vec<f64>, labels: Vec<usize>, classes: [&str; 2]) -> Self {
        let n = labels.len();
        Dataset {
            features: Array2::from_shape_vec((n, 2), rows).expect("two columns"),
            labels,
            classes: classes.iter().map(|c| c.to_string()).collect(),
            feature_names: vec!["x".into(), "y".into()],
        }
    }

    /// Every `bits`-bit string (bit 0 in column 0) labelled with the parity of its ones.
    pub fn parity(bits: usize) -> Self {
        let n = 1usize << bits;
        let features = Array2::from_shape_fn((n, bits), |(i, j)| ((i >> j) & 1) as f64);
        let labels = (0..n).map(|i| (i.count_ones() % 2) as usize).collect();
        Dataset {
            features,
            labels,
            classes: vec!["even".into(), "odd".into()],
            feature_names: (0..bits).map(|j| format!("b{j}")).collect(),
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of feature columns.
    pub fn num_features(&self) -> usize {
        self.features.ncols()
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        Dataset {
            features: self.features.select(Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes.clone(),
            feature_names: self.feature_names.clone(),
        }
    }

    /// A stratified split: within each class the samples are shuffled (seeded) and the first
    /// `round(test_fraction · class size)` go to the test part. Returns `(train, test)`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        if !(0.0..1.0).contains(&test_fraction) {
            return Err(Error::Shape {
                context: "train/test split".into(),
                message: format!("test fraction must lie in [0, 1), got {test_fraction}"),
            });
        }
        let (mut train, mut test) = (Vec::new(), Vec::new());
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); self.classes.len()];
        for (i, &l) in self.labels.iter().enumerate() {
            by_class[l].push(i);
        }
        for (class, mut members) in by_class.into_iter().enumerate() {
            members.shuffle(&mut Stream::new(seed).child(class as u64).rng());
            let cut = (test_fraction * members.len() as f64).round() as usize;
            if cut == members.len() && cut > 0 {
                return Err(Error::Shape {
                    context: "train/test split".into(),
                    message: format!(
                        "test fraction {test_fraction} leaves no training sample of class '{}' ({} samples)",
                        self.classes[class],
                        members.len()
                    ),
                });
            }
            test.extend_from_slice(&members[..cut]);
            train.extend_from_slice(&members[cut..]);
        }
        train.sort_unstable();
        test.sort_unstable();
        Ok((self.select(&train), self.select(&test)))
    }

    /// One-hot targets (samples × classes).
    pub fn one_hot(&self) -> Array2<f64> {
        let mut y = Array2::zeros((self.len(), self.classes.len()));
        for (i, &l) in self.labels.iter().enumerate() {
            y[[i, l]] = 1.0;
        }
        y
    }
}

/// A per-feature affine map `x ↦ lo + (x − min)/(max − min) · (hi − lo)`, fitted on one data
/// set and applied to others (values outside the fitted range map outside `[lo, hi]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Per-feature minimum of the fitted data.
    pub min: Vec<f64>,
    /// Per-feature maximum of the fitted data.
    pub max: Vec<f64>,
    /// Target interval.
    pub range: (f64, f64),
}

impl Scaler {
    /// Fits the per-feature minimum and maximum of `features`.
    pub fn fit(features: &Array2<f64>, range: (f64, f64)) -> Self {
        let fold = |f: fn(f64, f64) -> f64, init: f64| -> Vec<f64> {
            features
                .axis_iter(Axis(1))
                .map(|col| col.iter().copied().fold(init, f))
                .collect()
        };
        Scaler {
            min: fold(f64::min, f64::INFINITY),
            max: fold(f64::max, f64::NEG_INFINITY),
            range,
        }
    }

    /// Applies the map to every row (a constant feature maps to the middle of the range).
    pub fn transform(&self, features: &Array2<f64>) -> Result<Array2<f64>> {
        if features.ncols() != self.min.len() {
            return Err(Error::Shape {
                context: "scaler".into(),
                message: format!(
                    "fitted on {} features, applied to {}",
                    self.min.len(),
                    features.ncols()
                ),
            });
        }
        let (lo, hi) = self.range;
        let mut out = features.clone();
        for (j, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
            let span = self.max[j] - self.min[j];
            col.mapv_inplace(|x| {
                if span > 0.0 {
                    lo + (x - self.min[j]) / span * (hi - lo)
                } else {
                    0.5 * (lo + hi)
                }
            });
        }
        Ok(out)
    }

    /// Applies the map to one sample.
    pub fn transform_row(&self, row: &[f64]) -> Result<Array1<f64>> {
        let m = Array2::from_shape_vec((1, row.len()), row.to_vec()).expect("one row");
        Ok(self.transform(&m)?.row(0).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iris_has_150_samples_in_three_balanced_classes() {
        let iris = Dataset::iris();
        assert_eq!(iris.features.dim(), (150, 4));
        assert_eq!(iris.classes, ["setosa", "versicolor", "virginica"]);
        for c in 0..3 {
            assert_eq!(iris.labels.iter().filter(|&&l| l == c).count(), 50);
        }
        assert_eq!(iris.features.row(0).to_vec(), [5.1, 3.5, 1.4, 0.2]);
    }

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let iris = Dataset::iris();
        let (train, test) = iris.split(0.3, 1).unwrap();
        assert_eq!((train.len(), test.len()), (105, 45));
        for c in 0..3 {
            assert_eq!(test.labels.iter().filter(|&&l| l == c).count(), 15);
        }
        assert_eq!(iris.split(0.3, 1).unwrap().1, test);
        assert_ne!(iris.split(0.3, 2).unwrap().1, test);
        assert!(iris.split(1.0, 1).is_err());
    }

    #[test]
    fn scaler_maps_training_range_onto_interval() {
        let moons = Dataset::two_moons(50, 0.1, 3);
        let s = Scaler::fit(&moons.features, (0.0, PI));
        let t = s.transform(&moons.features).unwrap();
        for col in t.axis_iter(Axis(1)) {
            let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert!(lo.abs() < 1e-12 && (hi - PI).abs() < 1e-12);
        }
    }

    #[test]
    fn parity_labels() {
        let p = Dataset::parity(3);
        assert_eq!(p.labels, [0, 1, 1, 0, 1, 0, 0, 1]);
        assert_eq!(p.features.row(5).to_vec(), [1.0, 0.0, 1.0]);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err =
            Dataset::from_csv_str("a,b,class\n1,2,x\n3,oops,y\n", Path::new("d.csv")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv:3: column 2 ('b'): 'oops' is not a number"
        );
    }
}
