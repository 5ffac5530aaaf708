//! One `alarms:` entry: its name and what it watches (`instance_id`,
//! `instances`, `instance_selector` or `dimensions` alone). The metric's
//! own rules (statistic, periods, units, ...) are in `metric.rs`.

use std::collections::{BTreeMap, HashMap};

use super::model::{Alarm, INSTANCE_STATES, Route, Selector, Target};
use super::safe::shown;
use super::schema::Section;
use super::suggest::closest;
use super::validate::{Validator, is_instance_id};

const MAX_ALARM_NAME: usize = 255; // PutMetricAlarm AlarmName
const MAX_STATEMENT_ID: usize = 100; // Lambda AddPermission StatementId
/// `-i-0123456789abcdef0`: what a per-instance alarm adds to the name.
const INSTANCE_SUFFIX: usize = 20;
/// AWS: EC2 tag keys are at most 128 characters, values at most 256
/// (<https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions>).
const MAX_EC2_TAG_KEY: usize = 128;
const MAX_EC2_TAG_VALUE: usize = 256;
/// AWS: DescribeInstances takes at most 200 values per filter.
const MAX_FILTER_VALUES: usize = 200;
const ID_HINT: &str = "i- followed by 8 or 17 lowercase hex digits, e.g. i-0123456789abcdef0";
const TARGET_FIELDS: [&str; 3] = ["instance_id", "instances", "instance_selector"];

impl Validator {
    pub(super) fn alarms(&mut self, root: &Section, stack_name: &str, route: Route) -> Vec<Alarm> {
        let items = root
            .list("alarms")
            .map(|l| l.value.as_slice())
            .unwrap_or(&[]);
        if items.is_empty() && (root.list("alarms").is_some() || root.is_missing("alarms")) {
            self.problem(
                root,
                "alarms",
                "at least one alarm is required",
                "add an entry such as `- name: high-cpu` with `instance_id: i-0123456789abcdef0`",
            );
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        items
            .iter()
            .enumerate()
            .map(|(i, a)| self.alarm(i, a, stack_name, route, &mut seen))
            .collect()
    }

    fn alarm(
        &mut self,
        i: usize,
        a: &Section,
        stack_name: &str,
        route: Route,
        seen: &mut HashMap<String, usize>,
    ) -> Alarm {
        // The name's problems come first, as the name comes first in the file.
        let per_instance = a.is_present("instances") || a.is_present("instance_selector");
        let name = self.alarm_name(i, a, stack_name, route, per_instance, seen);
        let target = self.target(a);
        let dimensions = self.dimensions(a, &target);
        self.metric(a, name, target, dimensions)
    }

    /// Exactly one of `instance_id`, `instances`, `instance_selector`; none
    /// at all only with `dimensions:`.
    fn target(&mut self, a: &Section) -> Target {
        let given: Vec<&str> = TARGET_FIELDS
            .into_iter()
            .filter(|f| a.is_present(f))
            .collect();
        if given.len() > 1 {
            self.problem(
                a,
                given[1],
                format!("is set together with {}", given[0]),
                "name the instances one way: instance_id (one), instances (a list) or \
                 instance_selector (found by tags at plan time)",
            );
        }
        match given.first().copied() {
            Some("instances") => Target::Instances(self.instance_list(a)),
            Some("instance_selector") => Target::Selector(self.selector(a)),
            Some(_) => Target::Instance(self.instance_id(a)),
            None if a.is_present("dimensions") => Target::Dimensions,
            None => {
                self.required(
                    a,
                    "instance_id",
                    &format!(
                        "{ID_HINT}; or `instances: [...]`, `instance_selector: {{ tags: {{ Env: prod }} }}`, \
                         or `dimensions:` for a metric that is not an instance's"
                    ),
                );
                Target::Instance(String::new())
            }
        }
    }

    fn instance_id(&mut self, a: &Section) -> String {
        let id = Self::text(a, "instance_id").unwrap_or_default();
        if id.is_empty() {
            self.required(a, "instance_id", ID_HINT);
        } else if !is_instance_id(&id) {
            self.problem(
                a,
                "instance_id",
                format!("{} is not an EC2 instance id", shown(&id)),
                ID_HINT,
            );
        }
        id
    }

    fn instance_list(&mut self, a: &Section) -> Vec<String> {
        let ids = a.text_list("instances").map(|l| l.value.clone());
        let Some(ids) = ids else {
            return Vec::new(); // dropped for a problem already reported
        };
        if ids.is_empty() {
            self.problem(
                a,
                "instances",
                "is empty",
                "list at least one instance id, or use instance_selector to find them by tag",
            );
        }
        for (n, id) in ids.iter().enumerate() {
            if !is_instance_id(id) {
                self.problem(
                    a,
                    "instances",
                    format!("item {n}, {}, is not an EC2 instance id", shown(id)),
                    ID_HINT,
                );
            } else if ids[..n].contains(id) {
                self.problem(
                    a,
                    "instances",
                    format!("lists {id} twice"),
                    "each instance gets one alarm: list it once",
                );
            }
        }
        ids
    }

    fn selector(&mut self, a: &Section) -> Selector {
        let empty = Section::default();
        let sel = a.section("instance_selector").unwrap_or(&empty);
        let tags: BTreeMap<String, String> = sel
            .map("tags")
            .map(|m| {
                m.value
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (k, v) in &tags {
            if k.is_empty() || k.chars().count() > MAX_EC2_TAG_KEY {
                self.problem(
                    sel,
                    "tags",
                    format!(
                        "the tag key {} is not 1 to {MAX_EC2_TAG_KEY} characters",
                        shown(k)
                    ),
                    "EC2 tag keys are 1 to 128 characters",
                );
            }
            if v.chars().count() > MAX_EC2_TAG_VALUE {
                self.problem(
                    sel,
                    "tags",
                    format!(
                        "the value of {} is over {MAX_EC2_TAG_VALUE} characters",
                        shown(k)
                    ),
                    "EC2 tag values are at most 256 characters",
                );
            }
        }
        let states = self.states(sel);
        if tags.is_empty() && !sel.is_present("tags") && !sel.is_present("states") {
            self.problem(
                a,
                "instance_selector",
                "selects nothing in particular",
                "give the tags the instances carry, e.g. \
                 `instance_selector: { tags: { Env: prod }, states: [running] }`",
            );
        }
        Selector { tags, states }
    }

    fn states(&mut self, sel: &Section) -> Vec<String> {
        let Some(states) = sel.text_list("states") else {
            return vec!["running".to_string()];
        };
        if states.value.is_empty() {
            self.problem(
                sel,
                "states",
                "is empty",
                "list the states whose instances get an alarm, e.g. `states: [running]`",
            );
        } else if states.value.len() > MAX_FILTER_VALUES {
            self.problem(
                sel,
                "states",
                format!("lists {} states", states.value.len()),
                "there are six instance states: list each at most once",
            );
        }
        for s in &states.value {
            if !INSTANCE_STATES.contains(&s.as_str()) {
                let hint = match closest(s, INSTANCE_STATES.iter().copied()) {
                    Some(near) => format!(
                        "did you mean `{near}`? use one of {}",
                        INSTANCE_STATES.join(", ")
                    ),
                    None => format!("use one of {}", INSTANCE_STATES.join(", ")),
                };
                self.problem(
                    sel,
                    "states",
                    format!("{} is not an instance state", shown(s)),
                    hint,
                );
            }
        }
        let mut out = states.value.clone();
        out.sort();
        out.dedup();
        out
    }

    fn alarm_name(
        &mut self,
        i: usize,
        a: &Section,
        stack_name: &str,
        route: Route,
        per_instance: bool,
        seen: &mut HashMap<String, usize>,
    ) -> String {
        let name = Self::text(a, "name").unwrap_or_default();
        let hint = "lowercase letters, digits and '-', e.g. high-cpu";
        if name.is_empty() {
            self.required(a, "name", hint);
            return name;
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            self.problem(
                a,
                "name",
                format!("{} is not a valid alarm name", shown(&name)),
                hint,
            );
            return name;
        }
        if let Some(first) = seen.get(&name) {
            self.problem(
                a,
                "name",
                format!("{} is already used by alarms[{first}]", shown(&name)),
                "alarm names must be unique within a stack",
            );
            return name;
        }
        seen.insert(name.clone(), i);
        let suffix = if per_instance { INSTANCE_SUFFIX } else { 0 };
        let full = format!("{stack_name}-{name}").len() + suffix;
        if full > MAX_ALARM_NAME {
            self.problem(
                a,
                "name",
                format!("the CloudWatch alarm name would be {full} characters"),
                format!("CloudWatch allows {MAX_ALARM_NAME}: shorten name or this alarm's name"),
            );
        } else if route == Route::Direct && full + "-alarm".len() > MAX_STATEMENT_ID {
            // `{stack}-alarm-{alarm}` is the Lambda permission's statement id.
            self.problem(
                a,
                "name",
                format!(
                    "the Lambda permission id would be {} characters",
                    full + "-alarm".len()
                ),
                format!(
                    "route direct needs `{{name}}-alarm-{{alarm}}` within {MAX_STATEMENT_ID} \
                     characters: shorten the alarm's name"
                ),
            );
        }
        name
    }
}
