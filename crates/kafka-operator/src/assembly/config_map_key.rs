//! `valueFrom.configMapKeyRef`: a key of a ConfigMap in the Kafka's namespace that the pods
//! mount as one file (the exporter's rules, an external logging configuration). The operator
//! reads nothing of it; the kubelet keeps the file current.

use api::FreeFormObject;
use k8s_openapi::api::core::v1::{ConfigMapVolumeSource, KeyToPath, Volume};
use serde_json::Value;

use operator_common::validation::InvalidSpec;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigMapKey {
    pub config_map: String,
    pub key: String,
}

impl ConfigMapKey {
    /// The `valueFrom.configMapKeyRef` of `section` (at `field`), which `what` needs.
    pub fn read(
        section: &FreeFormObject,
        field: &str,
        what: &str,
    ) -> Result<ConfigMapKey, InvalidSpec> {
        let reference = section
            .get("valueFrom")
            .and_then(|from| from.get("configMapKeyRef"));
        let text = |key: &str| reference.and_then(|r| r.get(key)).and_then(Value::as_str);
        match (text("name"), text("key")) {
            (Some(name), Some(key)) if !name.is_empty() && !key.is_empty() => Ok(ConfigMapKey {
                config_map: name.into(),
                key: key.into(),
            }),
            _ => Err(InvalidSpec::new(
                format!("{field}.valueFrom.configMapKeyRef"),
                format!("{what} needs the name and key of a ConfigMap"),
            )),
        }
    }

    /// A volume `name` holding the key as `file`.
    pub fn volume(&self, name: &str, file: &str) -> Volume {
        Volume {
            name: name.into(),
            config_map: Some(ConfigMapVolumeSource {
                name: self.config_map.clone(),
                items: Some(vec![KeyToPath {
                    key: self.key.clone(),
                    path: file.into(),
                    ..KeyToPath::default()
                }]),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reference_needs_both_name_and_key() {
        let object = |value| serde_json::from_value::<FreeFormObject>(value).unwrap();
        let section =
            object(json!({"valueFrom": {"configMapKeyRef": {"name": "m", "key": "k.yml"}}}));
        let found = ConfigMapKey::read(&section, "spec.x", "x").unwrap();
        assert_eq!(found.key, "k.yml");
        let volume = found.volume("v", "file.yml");
        let items = volume.config_map.unwrap().items.unwrap();
        assert_eq!(
            (items[0].key.as_str(), items[0].path.as_str()),
            ("k.yml", "file.yml")
        );
        let section = object(json!({"valueFrom": {"configMapKeyRef": {"name": "m"}}}));
        let error = ConfigMapKey::read(&section, "spec.x", "an x").unwrap_err();
        assert_eq!(error.field, "spec.x.valueFrom.configMapKeyRef");
        assert_eq!(error.message, "an x needs the name and key of a ConfigMap");
    }
}
