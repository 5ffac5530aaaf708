//! Inputs a template cannot carry: they only resolve when relayctl runs
//! (an instance selector lists the instances that match *now*; a template
//! deployed to a new account next month would freeze today's list). Such a
//! stack is refused before any build or AWS call, naming each field.

use super::ExportError;
use crate::config::{Alarm, Stack};

/// A field of an alarm that only resolves at run time: its name in
/// stack.yaml, and whether this alarm uses it.
type RuntimeOnly = (&'static str, fn(&Alarm) -> bool);

/// The one list to extend: one line per run-time-only alarm field.
const RUNTIME_ONLY: &[RuntimeOnly] = &[("instance_selector", Alarm::is_selector_resolved)];

/// Refuses a stack that uses a run-time-only input, naming every use.
pub fn check_runtime_only(stack: &Stack, file: &str) -> Result<(), ExportError> {
    check(stack, file, RUNTIME_ONLY)
}

fn check(stack: &Stack, file: &str, fields: &[RuntimeOnly]) -> Result<(), ExportError> {
    let problems: Vec<String> = stack
        .alarms
        .iter()
        .enumerate()
        .flat_map(|(i, alarm)| {
            fields
                .iter()
                .filter(move |(_, used)| used(alarm))
                .map(move |(field, _)| {
                    format!("alarms[{i}].{field} only resolves when relayctl runs")
                })
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(ExportError::RuntimeOnly {
        file: file.to_string(),
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_field_is_refused_with_its_path() {
        let yaml = "name: r\nslack:\n  webhook_url_env: X\nalarms:\n  - name: a\n    instance_id: i-0123456789abcdef0\n  - name: b\n    instance_id: i-0fedcba9876543210\n";
        let stack = Stack::parse(yaml, std::path::Path::new("s.yaml")).unwrap();
        assert!(check_runtime_only(&stack, "s.yaml").is_ok());
        let selector = yaml.replace(
            "    instance_id: i-0fedcba9876543210\n",
            "    instance_selector:\n      tags: { Env: prod }\n",
        );
        let stack_sel = Stack::parse(&selector, std::path::Path::new("s.yaml")).unwrap();
        assert_eq!(
            check_runtime_only(&stack_sel, "s.yaml")
                .unwrap_err()
                .to_string(),
            "s.yaml: cannot export a template: alarms[1].instance_selector only resolves when relayctl runs"
        );
        // A stand-in for a selector: the second alarm "uses" it.
        let fields: &[RuntimeOnly] = &[("instance_selector", |a| a.name == "b")];
        let err = check(&stack, "s.yaml", fields).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.yaml: cannot export a template: alarms[1].instance_selector only resolves when relayctl runs"
        );
    }
}
