//! `spec.cruiseControl.autoRebalance` (Strimzi's shape) without Cruise Control. With an
//! `add-brokers` mode, brokers added to a running cluster are given partitions once they are
//! Ready, by the planner and mover KafkaRebalance uses; the brokers still to fill are recorded
//! in `status.autoRebalance`, so an operator restart carries on. `remove-brokers` is what every
//! scale-down here does anyway (leaving brokers are drained first), so it is accepted as is.
//! The rest of `spec.cruiseControl` configures a Cruise Control there is none of: a warning.

use std::collections::BTreeSet;

use api::FreeFormObject;
use api::kafka::{AutoRebalanceModeBrokers, AutoRebalanceState, AutoRebalanceStatus};
use operator_common::validation::{InvalidSpec, Warning};

pub const ADD_BROKERS: &str = "add-brokers";
const REMOVE_BROKERS: &str = "remove-brokers";

/// Whether brokers added to the cluster are given partitions.
pub fn on_scale_up(
    cruise_control: Option<&FreeFormObject>,
    warnings: &mut Vec<Warning>,
) -> Result<bool, InvalidSpec> {
    let Some(cruise_control) = cruise_control else {
        return Ok(false);
    };
    for field in cruise_control.keys().filter(|key| *key != "autoRebalance") {
        warnings.push(Warning::not_implemented(&format!(
            "spec.cruiseControl.{field}"
        )));
    }
    let Some(modes) = cruise_control.get("autoRebalance") else {
        return Ok(false);
    };
    let modes = modes.as_array().ok_or_else(|| {
        InvalidSpec::new(
            "spec.cruiseControl.autoRebalance",
            "a list of modes, such as [{mode: add-brokers}]",
        )
    })?;
    let mut on_scale_up = false;
    for (index, entry) in modes.iter().enumerate() {
        match entry.get("mode").and_then(|mode| mode.as_str()) {
            Some(ADD_BROKERS) => on_scale_up = true,
            Some(REMOVE_BROKERS) => {}
            other => {
                return Err(InvalidSpec::new(
                    format!("spec.cruiseControl.autoRebalance[{index}].mode"),
                    format!("{other:?} is not a mode; use {ADD_BROKERS} or {REMOVE_BROKERS}"),
                ));
            }
        }
    }
    Ok(on_scale_up)
}

/// The brokers still to be given partitions, as `status` records them.
pub fn recorded(status: Option<&AutoRebalanceStatus>) -> BTreeSet<i32> {
    let modes = status.and_then(|status| status.modes.as_ref());
    (modes.into_iter().flatten())
        .filter(|mode| mode.mode == ADD_BROKERS)
        .flat_map(|mode| mode.brokers.iter().flatten().copied())
        .collect()
}

/// The brokers to fill after this reconcile applies the model: the recorded ones that are still
/// brokers, and those the model adds to the `running` ones. A new cluster (none running) has
/// nothing to fill.
pub fn brokers_to_fill(
    recorded: &BTreeSet<i32>,
    running: &BTreeSet<i32>,
    desired: &BTreeSet<i32>,
) -> BTreeSet<i32> {
    let added = desired.difference(running).filter(|_| !running.is_empty());
    (recorded.intersection(desired).chain(added))
        .copied()
        .collect()
}

/// The status for brokers still to fill (Idle when none).
pub fn status(filling: &BTreeSet<i32>) -> AutoRebalanceStatus {
    if filling.is_empty() {
        return AutoRebalanceStatus::default();
    }
    AutoRebalanceStatus {
        state: AutoRebalanceState::RebalanceOnScaleUp,
        modes: Some(vec![AutoRebalanceModeBrokers {
            mode: ADD_BROKERS.into(),
            brokers: Some(filling.iter().copied().collect()),
        }]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cruise_control(value: serde_json::Value) -> FreeFormObject {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn add_brokers_turns_it_on_and_other_settings_are_warned_about() {
        let mut warnings = Vec::new();
        let spec = cruise_control(json!({
            "autoRebalance": [{"mode": "add-brokers", "template": {"name": "t"}},
                              {"mode": "remove-brokers"}],
            "config": {"goals": "x"},
        }));
        assert_eq!(on_scale_up(Some(&spec), &mut warnings), Ok(true));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("spec.cruiseControl.config"));

        let removing = cruise_control(json!({"autoRebalance": [{"mode": "remove-brokers"}]}));
        assert_eq!(on_scale_up(Some(&removing), &mut Vec::new()), Ok(false));
        assert_eq!(on_scale_up(None, &mut Vec::new()), Ok(false));
    }

    #[test]
    fn an_unknown_mode_is_invalid() {
        let spec = cruise_control(json!({"autoRebalance": [{"mode": "full"}]}));
        let error = on_scale_up(Some(&spec), &mut Vec::new()).unwrap_err();
        assert_eq!(error.field, "spec.cruiseControl.autoRebalance[0].mode");
        let spec = cruise_control(json!({"autoRebalance": {"mode": "add-brokers"}}));
        assert!(on_scale_up(Some(&spec), &mut Vec::new()).is_err());
    }

    #[test]
    fn added_brokers_are_filled_until_done_and_a_new_cluster_has_none() {
        let ids = |ids: &[i32]| ids.iter().copied().collect::<BTreeSet<i32>>();
        // Scaled from three brokers to five.
        let filling = brokers_to_fill(&ids(&[]), &ids(&[0, 1, 2]), &ids(&[0, 1, 2, 3, 4]));
        assert_eq!(filling, ids(&[3, 4]));
        let recorded_status = status(&filling);
        assert_eq!(
            recorded_status.state,
            AutoRebalanceState::RebalanceOnScaleUp
        );
        // The next reconcile, with every broker running, still fills the recorded ones.
        let again = brokers_to_fill(
            &recorded(Some(&recorded_status)),
            &ids(&[0, 1, 2, 3, 4]),
            &ids(&[0, 1, 2, 3, 4]),
        );
        assert_eq!(again, ids(&[3, 4]));
        // A recorded broker scaled away again is no longer filled.
        let shrunk = brokers_to_fill(&ids(&[3, 4]), &ids(&[0, 1, 2, 3, 4]), &ids(&[0, 1, 2, 3]));
        assert_eq!(shrunk, ids(&[3]));
        // A new cluster starts with nothing to fill.
        assert!(brokers_to_fill(&ids(&[]), &ids(&[]), &ids(&[0, 1, 2])).is_empty());
        assert_eq!(status(&ids(&[])).state, AutoRebalanceState::Idle);
    }
}
