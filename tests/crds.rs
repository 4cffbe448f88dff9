//! The CRDs against a real apiserver: they install, every example is accepted exactly as
//! written, and invalid resources are rejected with a message that names the field.

use anyhow::{Context, Result};
use brokerage_e2e::{repo_path, setup};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use serde::Deserialize;
use serde_json::Value;

#[tokio::test]
async fn every_crd_is_established_with_its_versions() -> Result<()> {
    let (client, _) = setup("crds").await?;
    let installed: Api<CustomResourceDefinition> = Api::all(client);
    for expected in api::all_crds() {
        let name = expected
            .metadata
            .name
            .clone()
            .context("CRD without a name")?;
        let crd = installed.get(&name).await?;
        let versions: Vec<(String, bool, bool)> = crd
            .spec
            .versions
            .iter()
            .map(|version| (version.name.clone(), version.served, version.storage))
            .collect();
        if crd.spec.group == "kafka.strimzi.io" {
            assert_eq!(
                versions,
                [("v1".into(), true, true), ("v1beta2".into(), true, false)],
                "{name}"
            );
        } else {
            assert_eq!(versions, [("v1alpha1".into(), true, true)], "{name}");
        }
        assert!(
            crd.spec
                .names
                .categories
                .unwrap_or_default()
                .contains(&"brokerage".to_string()),
            "{name} is not in the brokerage category"
        );
    }
    Ok(())
}

#[tokio::test]
async fn every_example_is_accepted_exactly_as_written() -> Result<()> {
    let (client, namespace) = setup("examples").await?;
    let mut files = Vec::new();
    for group in ["kafka", "rocketmq"] {
        for entry in std::fs::read_dir(repo_path("examples").join(group))? {
            files.push(entry?.path());
        }
    }
    files.sort();
    assert!(files.len() >= 10, "examples missing: {files:?}");
    for file in files {
        assert_stored_as_written(&client, &file, &namespace).await?;
    }
    Ok(())
}

/// Strimzi's older v1beta2 style, with ZooKeeper, from the documents the project started from.
#[tokio::test]
async fn a_legacy_zookeeper_kafka_is_accepted_exactly_as_written() -> Result<()> {
    let (client, namespace) = setup("legacy").await?;
    let fixture = repo_path("tests/fixtures/legacy-zookeeper-kafka.yaml");
    assert_stored_as_written(&client, &fixture, &namespace).await
}

/// Applies `file` and checks that nothing the user wrote was pruned or changed by the schema.
async fn assert_stored_as_written(
    client: &kube::Client,
    file: &std::path::Path,
    namespace: &str,
) -> Result<()> {
    let yaml = std::fs::read_to_string(file)?;
    let applied = testenv::apply_yaml(client, &yaml, namespace)
        .await
        .with_context(|| format!("{} was rejected", file.display()))?;
    let written = documents(&yaml)?;
    assert_eq!(applied.len(), written.len());
    for (stored, written) in applied.iter().zip(&written) {
        assert_contains(
            &stored.data["spec"],
            &written["spec"],
            &format!("{}: spec", file.display()),
        );
    }
    Ok(())
}

#[derive(Deserialize)]
struct InvalidResource {
    name: String,
    expect: String,
    /// The message of the CEL rule that refuses it.
    message: Option<String>,
    resource: Value,
}

#[tokio::test]
async fn invalid_resources_are_rejected_naming_the_field() -> Result<()> {
    let (client, namespace) = setup("invalid").await?;
    let table: Vec<InvalidResource> = serde_yaml::from_str(&std::fs::read_to_string(repo_path(
        "tests/invalid-resources.yaml",
    ))?)?;
    assert!(
        table.len() >= 90,
        "the table of invalid resources has only {} rows",
        table.len()
    );
    let mut failures = Vec::new();
    for row in &table {
        match testenv::apply_yaml(&client, &serde_yaml::to_string(&row.resource)?, &namespace).await
        {
            Ok(_) => failures.push(format!("{}: accepted", row.name)),
            Err(error) => {
                let message = format!("{error:#}");
                let expected = std::iter::once(&row.expect).chain(&row.message);
                if let Some(missing) = expected.into_iter().find(|e| !message.contains(*e)) {
                    failures.push(format!("{}: expected {missing:?} in: {message}", row.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

fn documents(yaml: &str) -> Result<Vec<Value>> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = Value::deserialize(document)?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Every field of `written` is in `stored` with the same value (`stored` may add defaults).
fn assert_contains(stored: &Value, written: &Value, path: &str) {
    match (stored, written) {
        (Value::Object(stored), Value::Object(written)) => {
            for (key, value) in written {
                let inner = format!("{path}.{key}");
                match stored.get(key) {
                    Some(stored) => assert_contains(stored, value, &inner),
                    None => panic!("{inner} was dropped by the schema"),
                }
            }
        }
        (Value::Array(stored), Value::Array(written)) => {
            assert_eq!(stored.len(), written.len(), "{path} changed length");
            for (index, (stored, written)) in stored.iter().zip(written).enumerate() {
                assert_contains(stored, written, &format!("{path}[{index}]"));
            }
        }
        _ => assert_eq!(stored, written, "{path} changed"),
    }
}

/// `kubectl get brokerage` and the short names work through real discovery.
#[tokio::test]
async fn kubectl_finds_resources_by_category_and_short_name() -> Result<()> {
    let (client, namespace) = setup("names").await?;
    for example in [
        "kafka/ephemeral-single-node.yaml",
        "kafka/topic.yaml",
        "kafka/user-scram.yaml",
        "rocketmq/name-service.yaml",
    ] {
        let yaml = std::fs::read_to_string(repo_path("examples").join(example))?;
        testenv::apply_yaml(&client, &yaml, &namespace).await?;
    }
    let kubeconfig = testenv::shared().await.kubeconfig();
    let by_category = kubectl(
        kubeconfig,
        &["get", "brokerage", "-n", &namespace, "-o", "name"],
    )?;
    let by_short_name = kubectl(
        kubeconfig,
        &["get", "k,knp,kt,ku,rmqns", "-n", &namespace, "-o", "name"],
    )?;
    for listing in [&by_category, &by_short_name] {
        for kind in [
            "kafka.kafka.strimzi.io/",
            "kafkanodepool.kafka.strimzi.io/",
            "kafkatopic.kafka.strimzi.io/",
            "kafkauser.kafka.strimzi.io/",
            "nameservice.rocketmq.apache.org/",
        ] {
            assert!(listing.contains(kind), "no {kind} in:\n{listing}");
        }
    }
    Ok(())
}

fn kubectl(kubeconfig: &std::path::Path, args: &[&str]) -> Result<String> {
    let tools = testenv::tools::Tools::locate()?;
    let output = std::process::Command::new(&tools.hyperkube)
        .arg("kubectl")
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .args(args)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}
