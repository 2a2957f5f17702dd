//! go-metrics' `AggregateSample`: what one interval saw of a counter or a timer.

/// Count, sum, sum of squares, least and greatest of the values ingested.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Aggregate {
    pub count: u64,
    pub sum: f64,
    pub sum_sq: f64,
    pub min: f64,
    pub max: f64,
}

impl Aggregate {
    /// Adds one value (go-metrics' `Ingest`).
    pub fn ingest(&mut self, value: f64) {
        self.ingest_repeated(value, 1);
    }

    /// Adds `times` copies of `value` at once (a counter's increments of 1).
    pub fn ingest_repeated(&mut self, value: f64, times: u64) {
        if times == 0 {
            return;
        }
        let first = self.count == 0;
        self.count += times;
        self.sum += value * times as f64;
        self.sum_sq += value * value * times as f64;
        if first || value < self.min {
            self.min = value;
        }
        if first || value > self.max {
            self.max = value;
        }
    }

    /// `Sum / Count`, 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum / self.count as f64
    }

    /// The sample standard deviation as go-metrics computes it, 0 below two values.
    pub fn stddev(&self) -> f64 {
        let count = self.count as f64;
        let divisor = count * (count - 1.0);
        if self.count < 2 || divisor == 0.0 {
            return 0.0;
        }
        ((count * self.sum_sq - self.sum * self.sum) / divisor)
            .max(0.0)
            .sqrt()
    }

    /// The sum per second of an interval of `seconds`.
    pub fn rate(&self, seconds: f64) -> f64 {
        self.sum / seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_metrics_arithmetic() {
        let mut aggregate = Aggregate::default();
        for value in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            aggregate.ingest(value);
        }
        assert_eq!(aggregate.count, 8);
        assert_eq!(aggregate.sum, 40.0);
        assert_eq!((aggregate.min, aggregate.max), (2.0, 9.0));
        assert_eq!(aggregate.mean(), 5.0);
        // The sample (n-1) standard deviation of that classic set.
        assert!((aggregate.stddev() - 2.138_089_935_299_395).abs() < 1e-12);
        assert_eq!(aggregate.rate(10.0), 4.0);
    }

    #[test]
    fn one_value_has_no_spread_and_repeats_add_up() {
        let mut aggregate = Aggregate::default();
        aggregate.ingest(3.0);
        assert_eq!(aggregate.stddev(), 0.0);
        let mut ones = Aggregate::default();
        ones.ingest_repeated(1.0, 5);
        assert_eq!(
            (ones.count, ones.sum, ones.min, ones.max),
            (5, 5.0, 1.0, 1.0)
        );
        assert_eq!(ones.stddev(), 0.0);
    }
}
