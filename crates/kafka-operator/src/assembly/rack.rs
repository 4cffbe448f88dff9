//! Rack awareness (`spec.kafka.rack`): each broker's `broker.rack`, from which Kafka places a
//! partition's replicas on different racks, and pods spread over the racks.
//!
//! A `topology-label` rack is read from the pod's own labels through the downward API: the
//! `PodTopologyLabels` admission copies the node's `topology.kubernetes.io/zone` and `region`
//! onto each pod as it is bound (on by default from Kubernetes 1.35). So no pod needs to read
//! Node objects, and the operator grants none of them a cluster-wide role, as an init container
//! reading the node would need.

use k8s_openapi::api::core::v1::{
    Affinity, EnvVar, EnvVarSource, NodeAffinity, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, ObjectFieldSelector, PodAffinityTerm, PodAntiAffinity,
    WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use api::kafka::RackType;
use operator_common::validation::InvalidSpec;

/// The variable the operator fills from a topology label.
pub const RACK_ENV: &str = "BROKER_RACK";

/// The node labels the `PodTopologyLabels` admission copies onto pods.
const POD_TOPOLOGY_LABELS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rack {
    /// `environment-variable`: the container's variable (the user's template sets it).
    Variable(String),
    /// `topology-label`: a label of the pod's node.
    NodeLabel(String),
}

impl Rack {
    /// The container variable that `broker.rack` reads.
    pub fn variable(&self) -> &str {
        match self {
            Rack::Variable(name) => name,
            Rack::NodeLabel(_) => RACK_ENV,
        }
    }

    /// The variable the operator adds to the container, if any.
    pub fn env(&self) -> Option<EnvVar> {
        let Rack::NodeLabel(key) = self else {
            return None;
        };
        Some(EnvVar {
            name: RACK_ENV.into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: format!("metadata.labels['{key}']"),
                    ..ObjectFieldSelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        })
    }

    /// `template` with the rack's placement added, as Strimzi places racked brokers: only on
    /// nodes that carry the label, and preferably one per rack among the cluster's pods
    /// (`cluster_pods`).
    pub fn affinity(
        &self,
        template: Option<Affinity>,
        cluster_pods: LabelSelector,
    ) -> Option<Affinity> {
        let Rack::NodeLabel(key) = self else {
            return template;
        };
        let mut affinity = template.unwrap_or_default();
        let labelled = NodeSelectorRequirement {
            key: key.clone(),
            operator: "Exists".into(),
            values: None,
        };
        let node_affinity = affinity
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        let required = node_affinity
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(NodeSelector::default);
        if required.node_selector_terms.is_empty() {
            required
                .node_selector_terms
                .push(NodeSelectorTerm::default());
        }
        // The terms are ORed: each must ask for the label.
        for term in &mut required.node_selector_terms {
            term.match_expressions
                .get_or_insert_with(Vec::new)
                .push(labelled.clone());
        }
        affinity
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default)
            .preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                weight: 100,
                pod_affinity_term: PodAffinityTerm {
                    topology_key: key.clone(),
                    label_selector: Some(cluster_pods),
                    ..PodAffinityTerm::default()
                },
            });
        Some(affinity)
    }
}

/// The rack `spec.kafka.rack` asks for.
pub fn rack(rack: Option<&api::kafka::Rack>) -> Result<Option<Rack>, InvalidSpec> {
    let Some(rack) = rack else {
        return Ok(None);
    };
    if rack.type_ == Some(RackType::EnvironmentVariable) {
        let name = rack.env_var_name.clone().unwrap_or_default();
        let valid = name.chars().enumerate().all(|(index, c)| {
            c == '_' || c.is_ascii_alphabetic() || (index > 0 && c.is_ascii_digit())
        });
        if name.is_empty() || !valid {
            return Err(InvalidSpec::new(
                "spec.kafka.rack.envVarName",
                format!("{name:?} is not an environment variable's name (letters, digits and '_')"),
            ));
        }
        return Ok(Some(Rack::Variable(name)));
    }
    let key = rack.topology_key.clone().unwrap_or_default();
    if !POD_TOPOLOGY_LABELS.contains(&key.as_str()) {
        return Err(InvalidSpec::new(
            "spec.kafka.rack.topologyKey",
            format!(
                "{key:?} cannot be read by a pod: Kubernetes copies only {} onto pods; for another \
                 label, use type environment-variable with a variable the template sets",
                POD_TOPOLOGY_LABELS.join(" and ")
            ),
        ));
    }
    Ok(Some(Rack::NodeLabel(key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(yaml: &str) -> api::kafka::Rack {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn selector() -> LabelSelector {
        LabelSelector {
            match_labels: Some(BTreeMap::from([("strimzi.io/cluster".into(), "c".into())])),
            ..LabelSelector::default()
        }
    }

    #[test]
    fn a_zone_rack_reads_the_pods_label() {
        let rack = rack(Some(&spec("topologyKey: topology.kubernetes.io/zone")))
            .unwrap()
            .unwrap();
        assert_eq!(rack.variable(), RACK_ENV);
        let env = rack.env().unwrap();
        let path = env.value_from.unwrap().field_ref.unwrap().field_path;
        assert_eq!(path, "metadata.labels['topology.kubernetes.io/zone']");
    }

    #[test]
    fn a_label_that_pods_never_carry_is_refused_with_the_way_out() {
        let error = rack(Some(&spec(
            "{type: topology-label, topologyKey: failure-domain.beta.kubernetes.io/zone}",
        )))
        .unwrap_err();
        assert_eq!(error.field, "spec.kafka.rack.topologyKey");
        assert!(
            error.message.contains("environment-variable"),
            "{}",
            error.message
        );
    }

    #[test]
    fn an_environment_variable_rack_names_the_users_variable() {
        let rack = rack(Some(&spec(
            "{type: environment-variable, envVarName: ZONE}",
        )))
        .unwrap()
        .unwrap();
        assert_eq!(rack.variable(), "ZONE");
        assert_eq!(rack.env(), None);
        assert_eq!(rack.affinity(None, selector()), None);
        let error = super::rack(Some(&spec("{type: environment-variable, envVarName: 1A}")));
        assert_eq!(error.unwrap_err().field, "spec.kafka.rack.envVarName");
    }

    fn required_terms(affinity: &Affinity) -> Vec<NodeSelectorTerm> {
        let node_affinity = affinity.node_affinity.clone().unwrap();
        let required = node_affinity.required_during_scheduling_ignored_during_execution;
        required.unwrap().node_selector_terms
    }

    #[test]
    fn racked_pods_need_the_label_and_prefer_a_rack_of_their_own() {
        let rack = Rack::NodeLabel("topology.kubernetes.io/zone".into());
        let affinity = rack.affinity(None, selector()).unwrap();
        let terms = required_terms(&affinity);
        assert_eq!(terms.len(), 1);
        let expression = &terms[0].match_expressions.as_ref().unwrap()[0];
        assert_eq!(expression.key, "topology.kubernetes.io/zone");
        assert_eq!(expression.operator, "Exists");
        let spread = affinity
            .pod_anti_affinity
            .unwrap()
            .preferred_during_scheduling_ignored_during_execution
            .unwrap();
        assert_eq!(
            spread[0].pod_affinity_term.topology_key,
            "topology.kubernetes.io/zone"
        );
        assert_eq!(spread[0].pod_affinity_term.label_selector, Some(selector()));
    }

    #[test]
    fn the_templates_node_terms_each_gain_the_label() {
        let template: Affinity = serde_json::from_value(serde_json::json!({
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]},
                {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["nvme"]}]}
            ]}}
        }))
        .unwrap();
        let rack = Rack::NodeLabel("topology.kubernetes.io/region".into());
        let affinity = rack.affinity(Some(template), selector()).unwrap();
        let terms = required_terms(&affinity);
        for term in terms {
            let keys: Vec<_> = term
                .match_expressions
                .unwrap()
                .into_iter()
                .map(|e| e.key)
                .collect();
            assert_eq!(keys, ["disk", "topology.kubernetes.io/region"]);
        }
    }
}
