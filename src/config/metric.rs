//! An alarm's metric and how CloudWatch evaluates it, with PutMetricAlarm's
//! rules (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>):
//! statistic xor extended statistic, period 10/20/30 or a multiple of 60,
//! the evaluation window, datapoints to alarm, the enums, the dimensions.

use std::collections::BTreeMap;

use super::model::{Alarm, Comparison, STATISTICS, Statistic, TREAT_MISSING_DATA, Target, UNITS};
use super::safe::shown;
use super::schema::{PERIOD_HINT, Section};
use super::suggest::closest;
use super::validate::Validator;

// Defaults: together they reproduce the seed's alarm (DESIGN.md, stack.yaml).
const DEFAULT_METRIC: &str = "CPUUtilization";
const DEFAULT_NAMESPACE: &str = "AWS/EC2";
const DEFAULT_STATISTIC: &str = "Average";
const DEFAULT_PERIOD_S: i64 = 60;
const DEFAULT_EVALUATION_PERIODS: i64 = 1;
const DEFAULT_THRESHOLD: f64 = 80.0;
const DEFAULT_TREAT_MISSING_DATA: &str = "missing";

const MAX_METRIC_FIELD: usize = 255; // MetricName and Namespace
/// AWS: Period × EvaluationPeriods is at most 1 day for a period under an
/// hour, and 7 days for a period of an hour or more (PutMetricAlarm,
/// `EvaluationPeriods`).
const MAX_EVALUATION_S: i64 = 604_800;
const MAX_SHORT_EVALUATION_S: i64 = 86_400;
/// AWS: AlarmDescription is 0 to 1024 characters.
const MAX_DESCRIPTION: usize = 1024;
/// AWS: Dimensions: at most 30; a name is 1-255 characters, a value 1-1024.
const MAX_DIMENSIONS: usize = 30;
const MAX_DIMENSION_NAME: usize = 255;
const MAX_DIMENSION_VALUE: usize = 1024;
/// The dimension an instance target sets itself.
pub(super) const INSTANCE_DIMENSION: &str = "InstanceId";

impl Validator {
    /// The rest of the alarm: its metric, statistic and evaluation.
    pub(super) fn metric(
        &mut self,
        a: &Section,
        name: String,
        target: Target,
        dimensions: BTreeMap<String, String>,
    ) -> Alarm {
        let metric = self.metric_field(a, "metric", DEFAULT_METRIC);
        let namespace = self.metric_field(a, "namespace", DEFAULT_NAMESPACE);
        let statistic = self.statistic(a);
        let (period_s, evaluation_periods) = self.periods(a);
        let datapoints_to_alarm = self.datapoints(a, evaluation_periods);
        let threshold = self.threshold(a);
        let comparison = self.comparison(a);
        let treat_missing_data = self
            .one_of(
                a,
                "treat_missing_data",
                TREAT_MISSING_DATA,
                "a missing-data treatment",
            )
            .unwrap_or_else(|| DEFAULT_TREAT_MISSING_DATA.to_string());
        let unit = self.one_of(a, "unit", UNITS, "a CloudWatch unit");
        let description = Self::text(a, "description");
        if let Some(d) = &description
            && d.chars().count() > MAX_DESCRIPTION
        {
            self.problem(
                a,
                "description",
                format!("is {} characters", d.chars().count()),
                format!("CloudWatch allows at most {MAX_DESCRIPTION}: shorten it"),
            );
        }
        Alarm {
            name,
            target,
            dimensions,
            metric,
            namespace,
            statistic,
            period_s,
            evaluation_periods,
            datapoints_to_alarm,
            threshold,
            comparison,
            treat_missing_data,
            description,
            unit,
            notify_ok: a.bool("notify_ok").unwrap_or(true),
        }
    }

    /// `dimensions:` checked against CloudWatch's limits; `InstanceId` is
    /// the target's to set when the alarm names instances.
    pub(super) fn dimensions(&mut self, a: &Section, target: &Target) -> BTreeMap<String, String> {
        let Some(map) = a.map("dimensions") else {
            return BTreeMap::new();
        };
        let per_instance = !matches!(target, Target::Dimensions);
        if map.value.is_empty() && !per_instance {
            self.problem(
                a,
                "dimensions",
                "is empty",
                "give the metric's dimensions, e.g. `dimensions: { AutoScalingGroupName: web }`",
            );
        }
        if map.value.len() + usize::from(per_instance) > MAX_DIMENSIONS {
            self.problem(
                a,
                "dimensions",
                format!("{} dimensions are too many", map.value.len()),
                format!(
                    "CloudWatch allows at most {MAX_DIMENSIONS} (an instance's InstanceId counts)"
                ),
            );
        }
        for (k, v) in &map.value {
            if per_instance && k == INSTANCE_DIMENSION {
                self.problem(
                    a,
                    "dimensions",
                    "sets InstanceId, which the alarm's instances already set",
                    "leave InstanceId out of dimensions: each instance's alarm gets its own",
                );
            }
            if k.is_empty() || k.chars().count() > MAX_DIMENSION_NAME {
                self.problem(
                    a,
                    "dimensions",
                    format!(
                        "the name {} is not 1 to {MAX_DIMENSION_NAME} characters",
                        shown(k)
                    ),
                    "dimension names are 1 to 255 characters",
                );
            }
            let len = v.value.chars().count();
            if len == 0 || len > MAX_DIMENSION_VALUE {
                self.problem(
                    a,
                    "dimensions",
                    format!(
                        "the value of {} is not 1 to {MAX_DIMENSION_VALUE} characters",
                        shown(k)
                    ),
                    "a dimension's value is 1 to 1024 characters",
                );
            }
        }
        map.value
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    fn metric_field(&mut self, a: &Section, field: &str, default: &str) -> String {
        let value = Self::text(a, field).unwrap_or_else(|| default.to_string());
        if value.is_empty() || value.chars().count() > MAX_METRIC_FIELD {
            self.problem(
                a,
                field,
                format!("must be 1 to {MAX_METRIC_FIELD} characters"),
                format!("the default is {default}"),
            );
        }
        value
    }

    /// `statistic` xor `extended_statistic`; the seed's Average by default.
    fn statistic(&mut self, a: &Section) -> Statistic {
        let simple = Self::text(a, "statistic");
        let extended = Self::text(a, "extended_statistic");
        match (simple, extended) {
            (Some(_), Some(_)) => {
                self.problem(
                    a,
                    "extended_statistic",
                    "is set together with statistic",
                    "CloudWatch takes one of the two: `statistic: Average` or \
                     `extended_statistic: p99`; remove the other",
                );
                Statistic::Simple(DEFAULT_STATISTIC.to_string())
            }
            (None, Some(e)) => {
                if !is_extended_statistic(&e) {
                    self.problem(
                        a,
                        "extended_statistic",
                        format!("{} is not an extended statistic", shown(&e)),
                        "a percentile p0.0 to p100 (e.g. p99, p99.9), or tm / wm / tc / ts with \
                         a percentage (e.g. tm90)",
                    );
                }
                Statistic::Extended(e)
            }
            (simple, None) => {
                let s = simple.unwrap_or_else(|| DEFAULT_STATISTIC.to_string());
                if STATISTICS.contains(&s.as_str()) {
                    return Statistic::Simple(s);
                }
                let hint = if is_extended_statistic(&s) {
                    format!("percentiles go in `extended_statistic: {s}` instead of statistic")
                } else {
                    self.did_you_mean(&s, STATISTICS)
                };
                self.problem(
                    a,
                    "statistic",
                    format!("{} is not a statistic", shown(&s)),
                    hint,
                );
                Statistic::Simple(s)
            }
        }
    }

    /// "did you mean" the nearest allowed value, then the whole list.
    fn did_you_mean(&self, value: &str, allowed: &[&str]) -> String {
        let all = format!("use one of {}", allowed.join(", "));
        // Case slips (`percent`, `NotBreaching`) are the common mistake.
        let near = allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(value))
            .copied()
            .or_else(|| closest(value, allowed.iter().copied()));
        match near {
            Some(near) => format!("did you mean `{near}`? {all}"),
            None => all,
        }
    }

    /// An optional field whose value is one of `allowed` (case-sensitive, as
    /// CloudWatch is).
    fn one_of(&mut self, a: &Section, field: &str, allowed: &[&str], what: &str) -> Option<String> {
        let value = Self::text(a, field)?;
        if !allowed.contains(&value.as_str()) {
            let hint = self.did_you_mean(&value, allowed);
            self.problem(a, field, format!("{} is not {what}", shown(&value)), hint);
        }
        Some(value)
    }

    fn periods(&mut self, a: &Section) -> (i32, i32) {
        let period = a.whole("period_s").map_or(DEFAULT_PERIOD_S, |w| w.value);
        let period_ok = matches!(period, 10 | 20 | 30)
            || (period > 0 && period % 60 == 0 && period <= MAX_EVALUATION_S);
        if !period_ok {
            self.problem(
                a,
                "period_s",
                format!("{period} is not a valid period"),
                PERIOD_HINT,
            );
        }
        let periods = a
            .whole("evaluation_periods")
            .map_or(DEFAULT_EVALUATION_PERIODS, |w| w.value);
        if !(1..=MAX_EVALUATION_S).contains(&periods) {
            self.problem(
                a,
                "evaluation_periods",
                format!("{periods} is out of range"),
                "the number of periods in a row that must breach the threshold: 1 or more",
            );
        } else if period_ok {
            let limit = if period < 3600 {
                MAX_SHORT_EVALUATION_S
            } else {
                MAX_EVALUATION_S
            };
            let total = period * periods;
            if total > limit {
                self.problem(
                    a,
                    "evaluation_periods",
                    format!("{periods} periods of {period} s are {total} seconds"),
                    format!(
                        "CloudWatch evaluates at most {limit} seconds ({}) for this period",
                        if limit == MAX_SHORT_EVALUATION_S {
                            "1 day"
                        } else {
                            "7 days"
                        }
                    ),
                );
            }
        }
        (
            i32::try_from(period).unwrap_or(0),
            i32::try_from(periods).unwrap_or(0),
        )
    }

    /// AWS: DatapointsToAlarm is 1 to EvaluationPeriods ("M out of N").
    fn datapoints(&mut self, a: &Section, evaluation_periods: i32) -> Option<i32> {
        let n = a.whole("datapoints_to_alarm")?.value;
        if n < 1 || n > i64::from(evaluation_periods) {
            self.problem(
                a,
                "datapoints_to_alarm",
                format!("{n} is not between 1 and evaluation_periods ({evaluation_periods})"),
                "the breaching datapoints out of evaluation_periods that set ALARM (M out of N): \
                 at least 1, at most evaluation_periods",
            );
        }
        Some(i32::try_from(n).unwrap_or(0))
    }

    fn threshold(&mut self, a: &Section) -> f64 {
        let Some((threshold, written)) = a.number("threshold") else {
            return DEFAULT_THRESHOLD;
        };
        if !threshold.value.is_finite() {
            self.problem(
                a,
                "threshold",
                format!("{written} is not a finite number"),
                "threshold must be a finite number, such as 80",
            );
        }
        threshold.value
    }

    fn comparison(&mut self, a: &Section) -> Comparison {
        let Some(s) = a.text("comparison").map(|t| t.value.as_str()) else {
            return Comparison::GreaterThanThreshold;
        };
        Comparison::from_name(s).unwrap_or_else(|| {
            let allowed: Vec<&str> = Comparison::ALL.iter().map(|c| c.as_str()).collect();
            self.problem(
                a,
                "comparison",
                format!("{} is not a comparison", shown(s)),
                format!("use one of {}", allowed.join(", ")),
            );
            Comparison::GreaterThanThreshold
        })
    }
}

/// AWS: ExtendedStatistic is `p` with a percentile 0 to 100 (at most two
/// decimals), or a trimmed statistic `tm`, `wm`, `tc`, `ts` with one
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html>).
/// The range forms (`TM(10%:90%)`) are left out.
pub(super) fn is_extended_statistic(s: &str) -> bool {
    let Some(number) = ["p", "tm", "wm", "tc", "ts"]
        .iter()
        .find_map(|prefix| s.strip_prefix(prefix))
    else {
        return false;
    };
    let (whole, decimals) = number.split_once('.').unwrap_or((number, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    !whole.is_empty()
        && whole.len() <= 3
        && digits(whole)
        && decimals.len() <= 2
        && digits(decimals)
        && !(number.ends_with('.'))
        && number
            .parse::<f64>()
            .is_ok_and(|v| (0.0..=100.0).contains(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_statistics() {
        for ok in ["p99", "p99.9", "p0", "p100", "tm90", "wm99.99", "p50.5"] {
            assert!(is_extended_statistic(ok), "{ok}");
        }
        for bad in [
            "p", "p101", "p99.999", "P99", "x99", "p-1", "p9.", "Average", "p1e2",
        ] {
            assert!(!is_extended_statistic(bad), "{bad}");
        }
    }
}
