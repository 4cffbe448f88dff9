//! Local storage: a default StorageClass and a provisioner that gives every pending claim of that
//! class a host directory of the real node's, so StatefulSets with volume claim templates
//! schedule as they would on a real cluster. A real pod keeps its data there across restarts
//! (kwok's pods never mount anything); a released volume is deleted with its directory, as a
//! real `Delete` reclaim policy would.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use anyhow::Result;
use k8s_openapi::api::core::v1::{
    HostPathVolumeSource, ObjectReference, PersistentVolume, PersistentVolumeClaim,
    PersistentVolumeSpec,
};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};

/// The default class.
pub const STORAGE_CLASS: &str = "standard";
/// A second class of the same provisioner, named as Strimzi's older examples (and the seed's
/// ZooKeeper-era Kafka) name theirs (`class: disk`), so they apply unchanged.
pub const DISK_STORAGE_CLASS: &str = "disk";
const CLASSES: [&str; 2] = [STORAGE_CLASS, DISK_STORAGE_CLASS];
const PROVISIONER: &str = "testenv.brokerage.io/host-directory";

/// Creates the StorageClasses (`standard`, the default, and `disk`) and starts the provisioner on a thread of its own (a test
/// runtime may end while the cluster lives on). It stops when `stop` is set.
pub async fn start(
    client: &Client,
    kubeconfig: &std::path::Path,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    for name in CLASSES {
        let default = (name == STORAGE_CLASS).to_string();
        let class = StorageClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                annotations: Some(BTreeMap::from([(
                    "storageclass.kubernetes.io/is-default-class".to_string(),
                    default,
                )])),
                ..ObjectMeta::default()
            },
            provisioner: PROVISIONER.into(),
            reclaim_policy: Some("Delete".into()),
            volume_binding_mode: Some("Immediate".into()),
            allow_volume_expansion: Some(true),
            ..StorageClass::default()
        };
        Api::<StorageClass>::all(client.clone())
            .create(&PostParams::default(), &class)
            .await?;
    }
    let kubeconfig = kubeconfig.to_path_buf();
    std::thread::Builder::new()
        .name("testenv-provisioner".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("provisioner runtime");
            runtime.block_on(async move {
                let Ok(client) = crate::cluster::client_for(&kubeconfig).await else {
                    return;
                };
                while !stop.load(Ordering::Relaxed) {
                    // A transient error (the apiserver stopping at exit) is retried next round.
                    let _ = provision_round(&client).await;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            });
        })?;
    Ok(())
}

async fn provision_round(client: &Client) -> Result<()> {
    let claims: Api<PersistentVolumeClaim> = Api::all(client.clone());
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    for volume in volumes.list(&ListParams::default()).await? {
        let released = volume.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released");
        if released
            && volume
                .spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
                .is_some_and(|class| CLASSES.contains(&class))
        {
            volumes
                .delete(&volume.name_any(), &DeleteParams::default())
                .await?;
            let _ = std::fs::remove_dir_all(volume_dir(&volume.name_any()));
        }
    }
    for claim in claims.list(&ListParams::default()).await? {
        let Some(spec) = claim.spec.as_ref() else {
            continue;
        };
        let pending = claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
        let Some(class) = spec.storage_class_name.clone() else {
            continue;
        };
        let ours = CLASSES.contains(&class.as_str());
        if !pending
            || !ours
            || spec.volume_name.is_some()
            || claim.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        let uid = claim.uid().unwrap_or_default();
        let name = format!("pv-{uid}");
        // Open to every user: a pod's fsGroup does not reach host directories, and the brokers
        // run as users of their own.
        let dir = volume_dir(&name);
        std::fs::create_dir_all(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))?;
        let volume = PersistentVolume {
            metadata: ObjectMeta {
                name: Some(name),
                ..ObjectMeta::default()
            },
            spec: Some(PersistentVolumeSpec {
                capacity: spec.resources.as_ref().and_then(|r| r.requests.clone()),
                access_modes: spec.access_modes.clone(),
                storage_class_name: Some(class),
                persistent_volume_reclaim_policy: Some("Delete".into()),
                host_path: Some(HostPathVolumeSource {
                    path: dir.display().to_string(),
                    ..HostPathVolumeSource::default()
                }),
                claim_ref: Some(ObjectReference {
                    namespace: claim.namespace(),
                    name: Some(claim.name_any()),
                    uid: Some(uid),
                    ..ObjectReference::default()
                }),
                ..PersistentVolumeSpec::default()
            }),
            ..PersistentVolume::default()
        };
        match volumes.create(&PostParams::default(), &volume).await {
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            other => drop(other?),
        }
    }
    Ok(())
}

/// Where volume `name` keeps its data: in the real node's directory, removed with the node.
fn volume_dir(name: &str) -> PathBuf {
    crate::node::volumes_dir().join(name)
}
