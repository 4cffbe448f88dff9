//! The simulated nodes that kwok plays the kubelet for.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use kube::api::ObjectMeta;

pub const NODE_COUNT: usize = 3;

/// Node `kwok-node-<index>`, one per zone so that rack awareness has something to spread over.
pub fn build_node(index: usize) -> Node {
    let name = format!("kwok-node-{index}");
    let labels = BTreeMap::from([
        ("type".to_string(), "kwok".to_string()),
        ("kubernetes.io/hostname".to_string(), name.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), "amd64".to_string()),
        (
            "topology.kubernetes.io/zone".to_string(),
            format!("zone-{index}"),
        ),
    ]);
    Node {
        metadata: ObjectMeta {
            name: Some(name),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                "kwok.x-k8s.io/node".to_string(),
                "fake".to_string(),
            )])),
            ..ObjectMeta::default()
        },
        ..Node::default()
    }
}

pub fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|condition| condition.type_ == "Ready" && condition.status == "True")
        })
}
