use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Disk configuration of Kafka or ZooKeeper nodes.
///
/// Like Strimzi's schema this is one flat object whose `type` says which other fields apply, so the
/// apiserver checks `type` against its enum and an unknown storage type is rejected on apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "self.type != 'persistent-claim' || has(self.size)",
        "message": "persistent-claim storage needs a size, such as 100Gi",
        "fieldPath": ".size",
    },
    {
        "rule": "self.type != 'jbod' || has(self.volumes) && size(self.volumes) > 0",
        "message": "jbod storage needs at least one volume in volumes",
        "fieldPath": ".volumes",
    },
    {
        "rule": "!has(self.volumes) || self.volumes.all(v, has(v.id))",
        "message": "every jbod volume needs an id: it names the volume's claims",
        "fieldPath": ".volumes",
    },
    {
        "rule": "!has(self.volumes) || self.volumes.all(v, !has(v.id) || self.volumes.exists_one(w, has(w.id) && w.id == v.id))",
        "message": "jbod volume ids must be unique: each names its own claims",
        "fieldPath": ".volumes",
    },
    {
        "rule": "!has(self.volumes) || self.volumes.filter(v, has(v.kraftMetadata)).size() <= 1",
        "message": "kraftMetadata: shared may be set on one jbod volume only",
        "fieldPath": ".volumes",
    },
]))]
pub struct Storage {
    #[serde(rename = "type")]
    pub type_: StorageType,
    /// Settings of an `ephemeral` or `persistent-claim` volume.
    #[serde(flatten)]
    pub volume: VolumeSettings,
    /// The disks of `jbod` storage, each with a unique `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub volumes: Option<Vec<JbodVolume>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StorageType {
    /// An `emptyDir` volume: data is lost when the pod is deleted.
    #[serde(rename = "ephemeral")]
    Ephemeral,
    /// A PersistentVolumeClaim per node.
    #[serde(rename = "persistent-claim")]
    PersistentClaim,
    /// Several volumes per node, listed in `volumes`.
    #[serde(rename = "jbod")]
    Jbod,
}

/// One disk of `jbod` storage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "self.type != 'persistent-claim' || has(self.size)",
    "message": "a persistent-claim volume needs a size, such as 100Gi",
    "fieldPath": ".size",
}]))]
pub struct JbodVolume {
    #[serde(rename = "type")]
    pub type_: VolumeType,
    #[serde(flatten)]
    pub volume: VolumeSettings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum VolumeType {
    #[serde(rename = "ephemeral")]
    Ephemeral,
    #[serde(rename = "persistent-claim")]
    PersistentClaim,
}

/// Fields shared by a single volume and each `jbod` disk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSettings {
    /// Volume number; required for `jbod` disks, it names the PVC (`data-<id>-...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub id: Option<i32>,
    /// `persistent-claim`: requested size, such as `100Gi`: more than zero and less than 8Ei.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), extend("x-kubernetes-validations" = [{
        "rule": "isQuantity(self) && quantity(self).isGreaterThan(quantity('0')) && quantity(self).isLessThan(quantity('8Ei'))",
        "message": "size must be a quantity more than zero and less than 8Ei, such as 100Gi",
    }]))]
    pub size: Option<String>,
    /// `ephemeral`: size limit of the `emptyDir`, such as `1Gi`: more than zero and less than 8Ei.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^([0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"),
        length(max = 32),
        extend("x-kubernetes-validations" = [{
            "rule": "isQuantity(self) && quantity(self).isGreaterThan(quantity('0')) && quantity(self).isLessThan(quantity('8Ei'))",
            "message": "sizeLimit must be a quantity more than zero and less than 8Ei, such as 1Gi",
        }])
    )]
    pub size_limit: Option<String>,
    /// `persistent-claim`: StorageClass of the claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
        length(max = 253)
    )]
    pub class: Option<String>,
    /// `persistent-claim`: labels selecting a specific PersistentVolume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
    /// `persistent-claim`: whether the claim is deleted with the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_claim: Option<bool>,
    /// Per-broker StorageClass overrides (deprecated in Strimzi, still accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Vec<StorageClassOverride>>,
    /// `persistent-claim`: VolumeAttributesClass of the claim (its IOPS, throughput...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_attributes_class: Option<String>,
    /// Whether this volume also holds the KRaft metadata log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kraft_metadata: Option<KraftMetadataStorage>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageClassOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KraftMetadataStorage {
    #[serde(rename = "shared")]
    Shared,
}
