//! Where name servers and brokers keep their data, as upstream's `storageMode` says: an
//! `emptyDir`, a directory on the node (`hostPath`), or claims from `volumeClaimTemplates`
//! (`StorageClass`, or its older name `NFS`). Claims are never deleted by the operator.

use api::rocketmq::{PodSettings, StorageMode};
use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, HostPathVolumeSource, PersistentVolumeClaim, Volume, VolumeMount,
};

use operator_common::validation::InvalidSpec;

/// The data volume of every pod of a NameService or Broker.
#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    EmptyDir {
        volume: String,
    },
    HostPath {
        volume: String,
        path: String,
    },
    /// The first template is the data volume, mounted like the other modes'.
    Claims {
        templates: Vec<PersistentVolumeClaim>,
    },
}

/// The storage `settings` ask for. `default_volume` names the volume when the spec does not
/// (upstream names it after the first claim template even in the EmptyDir and HostPath modes).
pub fn storage(settings: &PodSettings, default_volume: &str) -> Result<Storage, InvalidSpec> {
    let templates = settings.volume_claim_templates.clone().unwrap_or_default();
    let first_name = templates
        .first()
        .and_then(|template| template.metadata.name.clone());
    let volume = first_name
        .clone()
        .unwrap_or_else(|| default_volume.to_string());
    match settings.storage_mode.unwrap_or_default() {
        StorageMode::EmptyDir => Ok(Storage::EmptyDir { volume }),
        StorageMode::HostPath => match settings.host_path.as_deref().map(str::trim) {
            Some(path) if !path.is_empty() => Ok(Storage::HostPath {
                volume,
                path: path.to_string(),
            }),
            _ => Err(InvalidSpec::new(
                "spec.hostPath",
                "storageMode HostPath needs hostPath, the directory on each node to keep data in",
            )),
        },
        mode @ (StorageMode::StorageClass | StorageMode::Nfs) => {
            let mode = if mode == StorageMode::Nfs {
                "NFS"
            } else {
                "StorageClass"
            };
            if templates.is_empty() {
                return Err(InvalidSpec::new(
                    "spec.volumeClaimTemplates",
                    format!(
                        "storageMode {mode} needs volumeClaimTemplates (with a metadata.name and the \
                         storage size); or use storageMode EmptyDir"
                    ),
                ));
            }
            if let Some(index) = templates
                .iter()
                .position(|template| template.metadata.name.as_deref().unwrap_or("").is_empty())
            {
                return Err(InvalidSpec::new(
                    format!("spec.volumeClaimTemplates[{index}].metadata.name"),
                    "every volume claim template needs a name; the claims are named after it",
                ));
            }
            Ok(Storage::Claims { templates })
        }
    }
}

impl Storage {
    /// The pod volume (or claim template) that holds the data.
    pub fn volume_name(&self) -> String {
        match self {
            Storage::EmptyDir { volume } | Storage::HostPath { volume, .. } => volume.clone(),
            Storage::Claims { templates } => templates[0].metadata.name.clone().unwrap_or_default(),
        }
    }

    /// The pod volumes the data needs; none for claims, which the StatefulSet makes.
    pub fn volumes(&self) -> Vec<Volume> {
        match self {
            Storage::EmptyDir { volume } => vec![Volume {
                name: volume.clone(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            }],
            Storage::HostPath { volume, path } => vec![Volume {
                name: volume.clone(),
                // As upstream: the directory is the user's to prepare (owned by the image's
                // user, uid 3000), so no type that would create it root-owned.
                host_path: Some(HostPathVolumeSource {
                    path: path.clone(),
                    type_: None,
                }),
                ..Volume::default()
            }],
            Storage::Claims { .. } => Vec::new(),
        }
    }

    pub fn claim_templates(&self) -> Option<Vec<PersistentVolumeClaim>> {
        match self {
            Storage::Claims { templates } => Some(templates.clone()),
            _ => None,
        }
    }

    /// Mounts `path` from the sub-directory `sub_path` of the data volume. Sub-directories keep
    /// the logs and stores of several pods apart on one node's `hostPath`, as upstream does.
    pub fn mount(&self, path: &str, sub_path: &str) -> VolumeMount {
        VolumeMount {
            name: self.volume_name(),
            mount_path: path.into(),
            sub_path: Some(sub_path.into()),
            ..VolumeMount::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    fn template(name: Option<&str>) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: name.map(Into::into),
                ..ObjectMeta::default()
            },
            ..PersistentVolumeClaim::default()
        }
    }

    fn settings(mode: StorageMode) -> PodSettings {
        PodSettings {
            storage_mode: Some(mode),
            host_path: Some("/data/rocketmq/broker".into()),
            volume_claim_templates: Some(vec![template(Some("broker-storage"))]),
            ..PodSettings::default()
        }
    }

    #[test]
    fn every_mode_names_the_volume_after_the_first_claim_template() {
        let empty = storage(&settings(StorageMode::EmptyDir), "data").unwrap();
        assert_eq!(empty.volume_name(), "broker-storage");
        assert!(empty.volumes()[0].empty_dir.is_some());
        assert!(empty.claim_templates().is_none());

        let host = storage(&settings(StorageMode::HostPath), "data").unwrap();
        let volume = &host.volumes()[0];
        assert_eq!(
            volume.host_path.as_ref().unwrap().path,
            "/data/rocketmq/broker"
        );

        for mode in [StorageMode::StorageClass, StorageMode::Nfs] {
            let claims = storage(&settings(mode), "data").unwrap();
            assert!(claims.volumes().is_empty());
            assert_eq!(claims.claim_templates().unwrap().len(), 1);
            let mount = claims.mount("/home/rocketmq/store", "store/broker-0-master");
            assert_eq!(mount.name, "broker-storage");
            assert_eq!(mount.sub_path.as_deref(), Some("store/broker-0-master"));
        }

        let unnamed = PodSettings::default();
        assert_eq!(storage(&unnamed, "data").unwrap().volume_name(), "data");
    }

    #[test]
    fn missing_storage_details_are_invalid() {
        let mut no_path = settings(StorageMode::HostPath);
        no_path.host_path = None;
        assert_eq!(
            storage(&no_path, "data").unwrap_err().field,
            "spec.hostPath"
        );

        let mut no_templates = settings(StorageMode::StorageClass);
        no_templates.volume_claim_templates = None;
        let error = storage(&no_templates, "data").unwrap_err();
        assert_eq!(error.field, "spec.volumeClaimTemplates");
        assert!(error.message.contains("StorageClass"));

        let mut unnamed = settings(StorageMode::Nfs);
        unnamed.volume_claim_templates = Some(vec![template(None)]);
        assert_eq!(
            storage(&unnamed, "data").unwrap_err().field,
            "spec.volumeClaimTemplates[0].metadata.name"
        );
    }
}
