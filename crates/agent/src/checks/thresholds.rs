//! `success_before_passing`, `failures_before_warning` and `failures_before_critical`:
//! how many results in a row it takes before a check's status changes.

use proconsul_api::HealthStatus;

use crate::check_definition::Thresholds;

/// Consecutive results of one check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Streak {
    successes: u32,
    failures: u32,
}

impl Streak {
    /// Records a probe result and returns the status the check should now show, or
    /// `None` to keep the current one.
    pub fn record(
        &mut self,
        result: HealthStatus,
        definition: &Thresholds,
    ) -> Option<HealthStatus> {
        if result == HealthStatus::Passing {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            return (self.successes >= definition.success_before_passing)
                .then_some(HealthStatus::Passing);
        }
        self.successes = 0;
        self.failures = self.failures.saturating_add(1);
        if self.failures >= definition.failures_before_critical {
            return Some(result);
        }
        let warn_after = definition.failures_before_warning;
        (warn_after > 0 && self.failures >= warn_after).then_some(HealthStatus::Warning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(passing: u32, warning: u32, critical: u32) -> Thresholds {
        Thresholds {
            success_before_passing: passing,
            failures_before_warning: warning,
            failures_before_critical: critical,
        }
    }

    #[test]
    fn without_thresholds_every_result_counts_at_once() {
        let mut streak = Streak::default();
        let d = definition(0, 0, 0);
        assert_eq!(
            streak.record(HealthStatus::Critical, &d),
            Some(HealthStatus::Critical)
        );
        assert_eq!(
            streak.record(HealthStatus::Passing, &d),
            Some(HealthStatus::Passing)
        );
        assert_eq!(
            streak.record(HealthStatus::Warning, &d),
            Some(HealthStatus::Warning)
        );
    }

    #[test]
    fn thresholds_need_results_in_a_row() {
        let mut streak = Streak::default();
        let d = definition(2, 1, 3);
        assert_eq!(streak.record(HealthStatus::Passing, &d), None);
        assert_eq!(
            streak.record(HealthStatus::Passing, &d),
            Some(HealthStatus::Passing)
        );
        assert_eq!(
            streak.record(HealthStatus::Critical, &d),
            Some(HealthStatus::Warning)
        );
        assert_eq!(
            streak.record(HealthStatus::Critical, &d),
            Some(HealthStatus::Warning)
        );
        assert_eq!(
            streak.record(HealthStatus::Critical, &d),
            Some(HealthStatus::Critical)
        );
        assert_eq!(
            streak.record(HealthStatus::Passing, &d),
            None,
            "one success is not enough"
        );
        assert_eq!(
            streak.record(HealthStatus::Critical, &d),
            Some(HealthStatus::Warning),
            "the streak restarted"
        );
    }
}
