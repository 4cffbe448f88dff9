//! The user's broker settings, the upstream way: apache/rocketmq-operator's examples mount a
//! ConfigMap (`broker-config`, key `broker-common.conf`, properties text) through
//! `spec.volumes`. The operator reads that ConfigMap and merges its keys into each broker's
//! generated `broker.conf`.

use std::collections::BTreeMap;

use api::rocketmq::PodSettings;
use k8s_openapi::api::core::v1::ConfigMap;

use operator_common::properties::{self, Properties};
use operator_common::validation::InvalidSpec;

/// The file name (and usual ConfigMap key) of the user's settings.
pub const COMMON_CONFIG: &str = "broker-common.conf";

/// Where the user's settings come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommonConfig {
    pub config_map: String,
    pub key: String,
    pub settings: Properties,
}

/// The ConfigMaps `settings.volumes` mount, which the caller reads for [`common_config`].
pub fn referenced_config_maps(settings: &PodSettings) -> Vec<String> {
    let mut names: Vec<String> = settings
        .volumes
        .iter()
        .flatten()
        .filter_map(|volume| volume.config_map.as_ref().map(|source| source.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The user's `broker-common.conf`: from the ConfigMap volume whose items map a key to
/// `broker-common.conf`, else from a ConfigMap volume mounted whole that has that key.
/// `config_maps` holds the referenced ConfigMaps that exist. A ConfigMap volume that is not
/// optional and whose ConfigMap is missing is invalid: its pods could not start.
pub fn common_config(
    settings: &PodSettings,
    config_maps: &BTreeMap<String, ConfigMap>,
) -> Result<Option<CommonConfig>, InvalidSpec> {
    let mut found = None;
    for (index, volume) in settings.volumes.iter().flatten().enumerate() {
        let Some(source) = &volume.config_map else {
            continue;
        };
        let field = format!("spec.volumes[{index}].configMap");
        let Some(config_map) = config_maps.get(&source.name) else {
            if source.optional == Some(true) {
                continue;
            }
            return Err(InvalidSpec::new(
                format!("{field}.name"),
                format!(
                    "the ConfigMap {} does not exist; create it (upstream's examples put the broker \
                     settings in its key {COMMON_CONFIG}) or remove the volume",
                    source.name
                ),
            ));
        };
        let key = match &source.items {
            Some(items) => items
                .iter()
                .find(|item| item.path == COMMON_CONFIG || item.key == COMMON_CONFIG)
                .map(|item| item.key.clone()),
            None => Some(COMMON_CONFIG.to_string()),
        };
        let Some(key) = key else {
            continue;
        };
        let text = config_map
            .data
            .as_ref()
            .and_then(|data| data.get(&key))
            .cloned();
        let Some(text) = text else {
            if source.items.is_some() && source.optional != Some(true) {
                return Err(InvalidSpec::new(
                    format!("{field}.items"),
                    format!("the ConfigMap {} has no key {key}", source.name),
                ));
            }
            continue;
        };
        if found.is_none() {
            let settings = properties::parse(&text).map_err(|problem| {
                InvalidSpec::new(
                    format!("{field}.name"),
                    format!(
                        "{key} in the ConfigMap {} cannot be read: {problem}",
                        source.name
                    ),
                )
            })?;
            found = Some(CommonConfig {
                config_map: source.name.clone(),
                key,
                settings,
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMapVolumeSource, KeyToPath, Volume};
    use kube::api::ObjectMeta;

    fn config_map(name: &str, key: &str, text: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([(key.to_string(), text.to_string())])),
            ..ConfigMap::default()
        }
    }

    /// The volume of upstream's example.
    fn upstream_volume() -> Volume {
        Volume {
            name: "broker-config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: "broker-config".into(),
                items: Some(vec![KeyToPath {
                    key: COMMON_CONFIG.into(),
                    path: COMMON_CONFIG.into(),
                    ..KeyToPath::default()
                }]),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        }
    }

    fn with_volumes(volumes: Vec<Volume>) -> PodSettings {
        PodSettings {
            volumes: Some(volumes),
            ..PodSettings::default()
        }
    }

    #[test]
    fn the_upstream_volume_is_found_and_read() {
        let settings = with_volumes(vec![upstream_volume()]);
        assert_eq!(referenced_config_maps(&settings), ["broker-config"]);
        let maps = BTreeMap::from([(
            "broker-config".to_string(),
            config_map("broker-config", COMMON_CONFIG, "deleteWhen=04\n"),
        )]);
        let found = common_config(&settings, &maps).unwrap().unwrap();
        assert_eq!(found.config_map, "broker-config");
        assert_eq!(found.key, COMMON_CONFIG);
        assert_eq!(found.settings["deleteWhen"], "04");
    }

    #[test]
    fn a_whole_config_map_volume_counts_when_it_has_the_key() {
        let mut volume = upstream_volume();
        volume.config_map.as_mut().unwrap().items = None;
        let settings = with_volumes(vec![volume]);
        let other = BTreeMap::from([(
            "broker-config".to_string(),
            config_map("broker-config", "other.txt", "x"),
        )]);
        assert_eq!(common_config(&settings, &other).unwrap(), None);
        let right = BTreeMap::from([(
            "broker-config".to_string(),
            config_map("broker-config", COMMON_CONFIG, "a=1"),
        )]);
        assert_eq!(
            common_config(&settings, &right).unwrap().unwrap().settings["a"],
            "1"
        );
    }

    #[test]
    fn missing_or_unreadable_settings_are_invalid() {
        let settings = with_volumes(vec![upstream_volume()]);
        let missing = common_config(&settings, &BTreeMap::new()).unwrap_err();
        assert_eq!(missing.field, "spec.volumes[0].configMap.name");
        assert!(missing.message.contains("broker-config does not exist"));

        let wrong_key = BTreeMap::from([(
            "broker-config".to_string(),
            config_map("broker-config", "other", "a=1"),
        )]);
        let error = common_config(&settings, &wrong_key).unwrap_err();
        assert!(error.message.contains("has no key broker-common.conf"));

        let garbled = BTreeMap::from([(
            "broker-config".to_string(),
            config_map("broker-config", COMMON_CONFIG, "deleteWhen 04"),
        )]);
        let error = common_config(&settings, &garbled).unwrap_err();
        assert!(error.message.contains("line 1"), "{error}");

        let mut optional = upstream_volume();
        optional.config_map.as_mut().unwrap().optional = Some(true);
        assert_eq!(
            common_config(&with_volumes(vec![optional]), &BTreeMap::new()).unwrap(),
            None
        );
    }
}
