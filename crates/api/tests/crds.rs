//! The generated CRDs: names, versions, subresources, and the validation Strimzi users rely on.

use api::all_crds;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};

fn crd(name: &str) -> CustomResourceDefinition {
    all_crds()
        .into_iter()
        .find(|crd| crd.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no CRD {name}"))
}

/// The `spec` schema of the first served version, as JSON.
fn spec_schema(name: &str) -> Value {
    let crd = crd(name);
    let schema = crd.spec.versions[0].schema.as_ref().unwrap();
    serde_json::to_value(schema.open_api_v3_schema.as_ref().unwrap()).unwrap()["properties"]["spec"]
        .clone()
}

/// Walks `properties`/`items` along a dotted path such as `kafka.listeners[].name`.
fn field(schema: &Value, path: &str) -> Value {
    path.split('.').fold(schema.clone(), |node, step| {
        let (name, items) = match step.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (step, false),
        };
        let node = node["properties"][name].clone();
        assert!(!node.is_null(), "no field {step} in {path}");
        if items { node["items"].clone() } else { node }
    })
}

#[test]
fn serves_every_kind_once() {
    let mut names: Vec<String> = all_crds()
        .iter()
        .map(|crd| crd.metadata.name.clone().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "brokers.rocketmq.apache.org",
            "consoles.rocketmq.apache.org",
            "controllers.rocketmq.apache.org",
            "kafkanodepools.kafka.strimzi.io",
            "kafkarebalances.kafka.strimzi.io",
            "kafkas.kafka.strimzi.io",
            "kafkatopics.kafka.strimzi.io",
            "kafkausers.kafka.strimzi.io",
            "nameservices.rocketmq.apache.org",
            "proxys.rocketmq.apache.org",
            "rocketmqtopics.rocketmq.apache.org",
            "rocketmqusers.rocketmq.apache.org",
            "topictransfers.rocketmq.apache.org",
        ]
    );
}

#[test]
fn names_short_names_and_categories() {
    let expected = [
        ("kafkas.kafka.strimzi.io", "Kafka", "k", "strimzi"),
        (
            "kafkanodepools.kafka.strimzi.io",
            "KafkaNodePool",
            "knp",
            "strimzi",
        ),
        (
            "kafkatopics.kafka.strimzi.io",
            "KafkaTopic",
            "kt",
            "strimzi",
        ),
        ("kafkausers.kafka.strimzi.io", "KafkaUser", "ku", "strimzi"),
        (
            "kafkarebalances.kafka.strimzi.io",
            "KafkaRebalance",
            "kr",
            "strimzi",
        ),
        (
            "nameservices.rocketmq.apache.org",
            "NameService",
            "rmqns",
            "rocketmq",
        ),
        (
            "brokers.rocketmq.apache.org",
            "Broker",
            "rmqbroker",
            "rocketmq",
        ),
        (
            "consoles.rocketmq.apache.org",
            "Console",
            "rmqconsole",
            "rocketmq",
        ),
        (
            "proxys.rocketmq.apache.org",
            "Proxy",
            "rmqproxy",
            "rocketmq",
        ),
        (
            "controllers.rocketmq.apache.org",
            "Controller",
            "rmqctrl",
            "rocketmq",
        ),
        (
            "rocketmqtopics.rocketmq.apache.org",
            "RocketMQTopic",
            "rmqt",
            "rocketmq",
        ),
        (
            "rocketmqusers.rocketmq.apache.org",
            "RocketMQUser",
            "rmqu",
            "rocketmq",
        ),
        (
            "topictransfers.rocketmq.apache.org",
            "TopicTransfer",
            "rmqtransfer",
            "rocketmq",
        ),
    ];
    for (name, kind, short_name, family) in expected {
        let crd = crd(name);
        assert_eq!(crd.spec.names.kind, kind);
        assert_eq!(crd.spec.scope, "Namespaced");
        assert_eq!(
            crd.spec.names.short_names,
            Some(vec![short_name.to_string()]),
            "{name}"
        );
        let categories = crd.spec.names.categories.unwrap();
        assert!(categories.contains(&"brokerage".to_string()), "{name}");
        assert!(categories.contains(&family.to_string()), "{name}");
    }
}

#[test]
fn strimzi_kinds_serve_v1_and_v1beta2_with_one_schema() {
    for crd in all_crds()
        .into_iter()
        .filter(|crd| crd.spec.group == "kafka.strimzi.io")
    {
        let versions = &crd.spec.versions;
        let summary: Vec<_> = versions
            .iter()
            .map(|v| (v.name.as_str(), v.served, v.storage))
            .collect();
        assert_eq!(summary, [("v1", true, true), ("v1beta2", true, false)]);
        assert_eq!(versions[0].schema, versions[1].schema);
        assert_eq!(versions[0].subresources, versions[1].subresources);
        assert_eq!(
            versions[0].additional_printer_columns,
            versions[1].additional_printer_columns
        );
    }
    for crd in all_crds()
        .into_iter()
        .filter(|crd| crd.spec.group == "rocketmq.apache.org")
    {
        let names: Vec<_> = crd.spec.versions.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["v1alpha1"]);
    }
}

#[test]
fn every_kind_has_status_ready_and_age() {
    for crd in all_crds() {
        let version = &crd.spec.versions[0];
        assert!(version.subresources.as_ref().unwrap().status.is_some());
        let columns = version.additional_printer_columns.as_ref().unwrap();
        let paths: Vec<_> = columns.iter().map(|c| c.json_path.as_str()).collect();
        assert!(
            paths.contains(&r#".status.conditions[?(@.type=="Ready")].status"#),
            "{paths:?}"
        );
        assert!(paths.contains(&".metadata.creationTimestamp"), "{paths:?}");
    }
}

#[test]
fn node_pools_scale() {
    let crd = crd("kafkanodepools.kafka.strimzi.io");
    for version in &crd.spec.versions {
        let scale = version
            .subresources
            .as_ref()
            .unwrap()
            .scale
            .as_ref()
            .unwrap();
        assert_eq!(scale.spec_replicas_path, ".spec.replicas");
        assert_eq!(scale.status_replicas_path, ".status.replicas");
        assert_eq!(
            scale.label_selector_path.as_deref(),
            Some(".status.labelSelector")
        );
    }
}

#[test]
fn schemas_are_structural() {
    fn check(node: &Value, path: &str) {
        match node {
            Value::Object(map) => {
                for forbidden in [
                    "$ref",
                    "oneOf",
                    "anyOf",
                    "allOf",
                    "not",
                    "definitions",
                    "$defs",
                ] {
                    assert!(!map.contains_key(forbidden), "{forbidden} at {path}");
                }
                let preserves =
                    map.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
                let int_or_string = map.get("x-kubernetes-int-or-string") == Some(&json!(true));
                if path.ends_with(".properties") {
                    for (name, child) in map {
                        check(child, &format!("{path}.{name}"));
                    }
                    return;
                }
                assert!(
                    map.contains_key("type") || preserves || int_or_string,
                    "no type at {path}"
                );
                if map.contains_key("additionalProperties") {
                    assert!(
                        !map.contains_key("properties"),
                        "properties and additionalProperties at {path}"
                    );
                    assert_ne!(
                        map["additionalProperties"],
                        json!(true),
                        "additionalProperties: true at {path}"
                    );
                }
                for (name, child) in map {
                    if matches!(
                        name.as_str(),
                        "properties" | "items" | "additionalProperties"
                    ) {
                        check(child, &format!("{path}.{name}"));
                    }
                }
            }
            other => panic!("schema at {path} is {other}"),
        }
    }
    for crd in all_crds() {
        for version in &crd.spec.versions {
            let schema = serde_json::to_value(
                version
                    .schema
                    .as_ref()
                    .unwrap()
                    .open_api_v3_schema
                    .as_ref()
                    .unwrap(),
            )
            .unwrap();
            check(&schema, crd.metadata.name.as_deref().unwrap());
        }
    }
}

#[test]
fn kafka_validation() {
    let spec = spec_schema("kafkas.kafka.strimzi.io");
    assert_eq!(field(&spec, "kafka")["required"], json!(["listeners"]));
    assert_eq!(spec["required"], json!(["kafka"]));
    assert_eq!(field(&spec, "kafka.replicas")["minimum"], json!(1.0));
    assert_eq!(field(&spec, "kafka.listeners")["minItems"], json!(1));
    assert_eq!(
        field(&spec, "kafka.listeners[].name")["pattern"],
        "^[a-z0-9]{1,11}$"
    );
    assert_eq!(
        field(&spec, "kafka.listeners[].port")["minimum"],
        json!(9092.0)
    );
    assert_eq!(
        field(&spec, "kafka.listeners[].type")["enum"],
        json!([
            "internal",
            "route",
            "loadbalancer",
            "nodeport",
            "ingress",
            "cluster-ip",
            "tlsroute"
        ])
    );
    assert_eq!(
        field(&spec, "kafka.listeners[]")["required"],
        json!(["name", "port", "tls", "type"])
    );
    assert_eq!(
        field(&spec, "kafka.listeners[].authentication.type")["enum"],
        json!(["tls", "scram-sha-512", "oauth", "custom"])
    );
    assert_eq!(
        field(&spec, "kafka.authorization.type")["enum"],
        json!(["simple", "opa", "keycloak", "custom"])
    );
    assert_eq!(
        field(&spec, "kafka.jvmOptions.-Xmx")["pattern"],
        "^[0-9]+[mMgG]?$"
    );
    assert_eq!(
        field(&spec, "clusterCa.validityDays")["minimum"],
        json!(1.0)
    );
    for free_form in [
        "kafka.config",
        "kafka.template",
        "kafka.logging",
        "cruiseControl",
    ] {
        assert_eq!(
            field(&spec, free_form)["x-kubernetes-preserve-unknown-fields"],
            json!(true)
        );
        assert_eq!(field(&spec, free_form)["type"], "object");
    }
}

#[test]
fn storage_validation() {
    let spec = spec_schema("kafkanodepools.kafka.strimzi.io");
    assert_eq!(spec["required"], json!(["replicas", "roles", "storage"]));
    assert_eq!(field(&spec, "replicas")["minimum"], json!(0.0));
    assert_eq!(
        field(&spec, "roles")["items"]["enum"],
        json!(["controller", "broker"])
    );
    let storage = field(&spec, "storage");
    assert_eq!(storage["required"], json!(["type"]));
    assert_eq!(
        storage["properties"]["type"]["enum"],
        json!(["ephemeral", "persistent-claim", "jbod"])
    );
    assert_eq!(
        field(&storage, "volumes[].type")["enum"],
        json!(["ephemeral", "persistent-claim"])
    );
    assert_eq!(field(&storage, "volumes[].id")["minimum"], json!(0.0));
}

#[test]
fn topic_and_user_validation() {
    let topic = spec_schema("kafkatopics.kafka.strimzi.io");
    assert_eq!(field(&topic, "partitions")["minimum"], json!(1.0));
    assert_eq!(field(&topic, "replicas")["maximum"], json!(32767.0));

    let user = spec_schema("kafkausers.kafka.strimzi.io");
    assert_eq!(
        field(&user, "authentication.type")["enum"],
        json!(["tls", "tls-external", "scram-sha-512"])
    );
    assert_eq!(
        field(&user, "authorization.acls[].operations")["items"]["enum"],
        json!([
            "Read",
            "Write",
            "Create",
            "Delete",
            "Alter",
            "Describe",
            "ClusterAction",
            "AlterConfigs",
            "DescribeConfigs",
            "IdempotentWrite",
            "All"
        ])
    );
    assert_eq!(
        field(&user, "authorization.acls[].resource.type")["enum"],
        json!(["topic", "group", "cluster", "transactionalId"])
    );
    assert_eq!(
        field(&user, "quotas.requestPercentage")["maximum"],
        json!(100.0)
    );
}

#[test]
fn rebalance_takes_strimzis_modes_and_free_form_volumes() {
    let spec = spec_schema("kafkarebalances.kafka.strimzi.io");
    assert_eq!(
        field(&spec, "mode")["enum"],
        json!(["full", "add-brokers", "remove-brokers", "remove-disks"])
    );
    assert_eq!(field(&spec, "brokers[]")["type"], "integer");
    assert_eq!(field(&spec, "goals[]")["type"], "string");
    assert_eq!(field(&spec, "replicationThrottle")["minimum"], json!(0.0));
    assert_eq!(
        field(&spec, "moveReplicasOffVolumes[]")["x-kubernetes-preserve-unknown-fields"],
        true
    );
    let crd = crd("kafkarebalances.kafka.strimzi.io");
    let status = serde_json::to_value(crd.spec.versions[0].schema.as_ref().unwrap()).unwrap()
        ["openAPIV3Schema"]["properties"]["status"]
        .clone();
    assert_eq!(
        field(&status, "optimizationResult")["x-kubernetes-preserve-unknown-fields"],
        true
    );
}

#[test]
fn rocketmq_validation() {
    let broker = spec_schema("brokers.rocketmq.apache.org");
    assert_eq!(broker["required"], json!(["size"]));
    assert_eq!(
        field(&broker, "storageMode")["enum"],
        json!(["EmptyDir", "HostPath", "StorageClass", "NFS"])
    );

    let topic = spec_schema("rocketmqtopics.rocketmq.apache.org");
    assert_eq!(field(&topic, "readQueueNums")["minimum"], json!(1.0));
    assert_eq!(field(&topic, "readQueueNums")["default"], json!(8));
    assert_eq!(field(&topic, "perm")["enum"], json!([2, 4, 6]));

    let user = spec_schema("rocketmqusers.rocketmq.apache.org");
    assert_eq!(
        field(&user, "acls[].actions")["items"]["enum"],
        json!([
            "All", "Pub", "Sub", "Create", "Update", "Delete", "Get", "List"
        ])
    );
}
