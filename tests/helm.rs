//! The Helm chart in `install/helm/brokerage`: it lints, its default rendering is exactly
//! `install/`, and its values do what `values.yaml` says.
//!
//! The chart and `install/` come from the same source and so can never drift: the chart's
//! templates are `install/`'s manifests with values substituted in a few places, and its `crds/`
//! is a copy of `install/crds/`. What guarantees it is this test: the chart rendered with default
//! values must be object for object what `install/` and `install/crds/` hold, and the chart's
//! CRD files byte for byte those of `install/crds/`. A change to one that is not made to the
//! other fails here.
//!
//! helm is built from the Go module proxy by `make tools` and cached like the other tools; no
//! cluster is needed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use brokerage_e2e::repo_path;
use serde::Deserialize;
use serde_yaml::Value;
use testenv::tools::Tools;

const CHART: &str = "install/helm/brokerage";

/// helm, as `make tools` built it. A missing helm fails the test: it is never skipped.
fn helm() -> Result<PathBuf> {
    Tools::locate_helm()
}

/// `helm <args>`'s standard output; its failure, with what it printed, as an error.
fn run_helm(args: &[&str]) -> Result<String> {
    let mut command = Command::new(helm()?);
    command.current_dir(repo_path("")).args(args);
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The objects `helm template` renders into the `brokerage` namespace, CRDs included, with
/// `--set` for each of `sets`.
fn render(sets: &[&str]) -> Result<Vec<Value>> {
    render_into("brokerage", sets)
}

fn render_into(namespace: &str, sets: &[&str]) -> Result<Vec<Value>> {
    let chart = repo_path(CHART);
    let chart = chart.to_str().context("the chart's path is UTF-8")?;
    let mut args = vec![
        "template",
        "brokerage",
        chart,
        "--namespace",
        namespace,
        "--include-crds",
    ];
    for set in sets {
        args.extend(["--set", set]);
    }
    parse(&run_helm(&args)?)
}

/// Every object in a multi-document YAML stream; comments (helm's `# Source:`) and empty
/// documents are dropped.
fn parse(yaml: &str) -> Result<Vec<Value>> {
    let mut objects = Vec::new();
    for document in serde_yaml::Deserializer::from_str(yaml) {
        let value = Value::deserialize(document)?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(objects)
}

/// The `.yaml` files of `dir`, sorted by name.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|file| file.extension().is_some_and(|ext| ext == "yaml"));
    files.sort();
    Ok(files)
}

/// Every object of `install/*.yaml` and `install/crds/*.yaml`.
fn install_objects() -> Result<Vec<Value>> {
    let mut objects = Vec::new();
    for file in yaml_files(&repo_path("install"))?
        .into_iter()
        .chain(yaml_files(&repo_path("install/crds"))?)
    {
        objects.extend(parse(&std::fs::read_to_string(&file)?)?);
    }
    Ok(objects)
}

/// `Kind namespace/name` (or `Kind name` for a cluster-scoped object).
fn key(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or("?");
    let name = object["metadata"]["name"].as_str().unwrap_or("?");
    match object["metadata"]["namespace"].as_str() {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The objects sorted by [`key`], which must be unique.
fn by_key(objects: Vec<Value>) -> Result<Vec<(String, Value)>> {
    let mut keyed: Vec<(String, Value)> = objects
        .into_iter()
        .map(|object| (key(&object), object))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in keyed.windows(2) {
        ensure!(pair[0].0 != pair[1].0, "{} appears twice", pair[0].0);
    }
    Ok(keyed)
}

fn find<'a>(objects: &'a [Value], kind: &str, namespace: Option<&str>, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|object| {
            object["kind"].as_str() == Some(kind)
                && object["metadata"]["namespace"].as_str() == namespace
                && object["metadata"]["name"].as_str() == Some(name)
        })
        .unwrap_or_else(|| panic!("no {kind} {namespace:?}/{name} rendered"))
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects
        .iter()
        .filter(|object| object["kind"].as_str() == Some(kind))
        .collect()
}

fn deployment(objects: &[Value]) -> &Value {
    find(
        objects,
        "Deployment",
        Some("brokerage"),
        "brokerage-operator",
    )
}

fn container(objects: &[Value]) -> &Value {
    &deployment(objects)["spec"]["template"]["spec"]["containers"][0]
}

/// The value of the operator container's environment variable `name`, if set.
fn env(objects: &[Value], name: &str) -> Option<String> {
    container(objects)["env"]
        .as_sequence()?
        .iter()
        .find(|variable| variable["name"].as_str() == Some(name))?["value"]
        .as_str()
        .map(String::from)
}

/// The resources a rule names.
fn resources(rule: &Value) -> Vec<&str> {
    rule["resources"]
        .as_sequence()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The cluster-scoped resources `install/020-cluster-role.yaml` names, one rule each.
const CLUSTER_SCOPED: [&str; 2] = ["nodes", "storageclasses"];

/// The rules of `install/020-cluster-role.yaml` on namespaced resources: all but those on
/// the cluster-scoped resources it names.
fn namespaced_install_rules() -> Result<Vec<Value>> {
    let install = parse(&std::fs::read_to_string(repo_path(
        "install/020-cluster-role.yaml",
    ))?)?;
    let rules = install[0]["rules"]
        .as_sequence()
        .context("install's ClusterRole has rules")?;
    let cluster_scoped = |rule: &Value| CLUSTER_SCOPED.iter().any(|r| resources(rule) == [*r]);
    ensure!(
        rules.iter().filter(|rule| cluster_scoped(rule)).count() == CLUSTER_SCOPED.len(),
        "install's ClusterRole no longer reads {CLUSTER_SCOPED:?}: update this test and the \
         chart's rules"
    );
    Ok(rules
        .iter()
        .filter(|rule| !cluster_scoped(rule))
        .cloned()
        .collect())
}

#[test]
fn the_chart_lints() -> Result<()> {
    let chart = repo_path(CHART);
    let output = run_helm(&["lint", "--strict", chart.to_str().context("UTF-8 path")?])?;
    assert!(output.contains("0 chart(s) failed"), "helm lint: {output}");
    Ok(())
}

/// The drift test: what keeps the chart and `install/` the same.
#[test]
fn the_default_rendering_is_exactly_install() -> Result<()> {
    let rendered = by_key(render(&[])?)?;
    let expected = by_key(install_objects()?)?;
    let keys = |objects: &[(String, Value)]| -> Vec<String> {
        objects.iter().map(|(key, _)| key.clone()).collect()
    };
    assert_eq!(
        keys(&rendered),
        keys(&expected),
        "the chart with default values renders other objects than install/ and install/crds/ hold"
    );
    for ((key, rendered), (_, expected)) in rendered.iter().zip(&expected) {
        assert!(
            rendered == expected,
            "{key}: the chart with default values renders\n{}\nbut install/ has\n{}",
            serde_yaml::to_string(rendered)?,
            serde_yaml::to_string(expected)?
        );
    }
    Ok(())
}

#[test]
fn the_charts_crds_are_byte_for_byte_install_crds() -> Result<()> {
    let names = |dir: &str| -> Result<BTreeSet<String>> {
        let mut names = BTreeSet::new();
        for entry in std::fs::read_dir(repo_path(dir))? {
            names.insert(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    };
    let fix = "regenerate them with `make crds`, which writes both copies";
    let install = names("install/crds")?;
    assert!(!install.is_empty(), "install/crds/ is empty");
    assert_eq!(
        names("install/helm/brokerage/crds")?,
        install,
        "the chart's crds/ holds other files than install/crds/: {fix}"
    );
    for name in &install {
        let chart = std::fs::read(repo_path(&format!("install/helm/brokerage/crds/{name}")))?;
        let installed = std::fs::read(repo_path(&format!("install/crds/{name}")))?;
        assert!(
            chart == installed,
            "install/helm/brokerage/crds/{name} differs from install/crds/{name}: {fix}"
        );
    }
    Ok(())
}

#[test]
fn watching_a_list_of_namespaces_grants_the_namespaced_rules_in_each_only() -> Result<()> {
    let rendered = render(&["watchNamespaces={team-a,team-b}"])?;
    let namespaced_rules = namespaced_install_rules()?;
    let namespaced_resources: BTreeSet<&str> =
        namespaced_rules.iter().flat_map(resources).collect();

    for namespace in ["team-a", "team-b"] {
        let roles: Vec<&Value> = of_kind(&rendered, "Role")
            .into_iter()
            .filter(|role| role["metadata"]["namespace"].as_str() == Some(namespace))
            .collect();
        assert_eq!(roles.len(), 1, "one Role in {namespace}: {roles:?}");
        let role = roles[0];
        assert_eq!(
            role["rules"].as_sequence(),
            Some(&namespaced_rules),
            "the Role in {namespace} grants install's namespaced rules"
        );
        let bindings: Vec<&Value> = of_kind(&rendered, "RoleBinding")
            .into_iter()
            .filter(|binding| binding["metadata"]["namespace"].as_str() == Some(namespace))
            .collect();
        assert_eq!(bindings.len(), 1, "one RoleBinding in {namespace}");
        let binding = bindings[0];
        assert_eq!(binding["roleRef"]["kind"].as_str(), Some("Role"));
        assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
        assert_eq!(
            binding["subjects"][0]["name"].as_str(),
            Some("brokerage-operator")
        );
        assert_eq!(
            binding["subjects"][0]["namespace"].as_str(),
            Some("brokerage")
        );
    }
    let role_namespaces: BTreeSet<&str> = of_kind(&rendered, "Role")
        .into_iter()
        .filter_map(|role| role["metadata"]["namespace"].as_str())
        .collect();
    assert_eq!(
        role_namespaces,
        BTreeSet::from(["brokerage", "team-a", "team-b"]),
        "Roles in the watched namespaces, and the leader election's in the operator's own"
    );

    // What stays cluster-wide: reading nodes and StorageClasses, nothing on a namespaced resource.
    let cluster_bindings = of_kind(&rendered, "ClusterRoleBinding");
    assert!(
        !cluster_bindings.is_empty(),
        "a ClusterRoleBinding for nodes"
    );
    let mut cluster_wide = BTreeSet::new();
    for binding in cluster_bindings {
        let name = binding["roleRef"]["name"].as_str().context("roleRef")?;
        let role = find(&rendered, "ClusterRole", None, name);
        for rule in role["rules"].as_sequence().into_iter().flatten() {
            cluster_wide.extend(resources(rule));
        }
    }
    let granted_everywhere: Vec<&&str> = cluster_wide.intersection(&namespaced_resources).collect();
    assert!(
        granted_everywhere.is_empty(),
        "a ClusterRoleBinding grants namespaced resources cluster-wide: {granted_everywhere:?}"
    );
    assert_eq!(cluster_wide, BTreeSet::from(CLUSTER_SCOPED));

    assert_eq!(
        env(&rendered, "BROKERAGE_WATCH_NAMESPACES").as_deref(),
        Some("team-a,team-b")
    );
    Ok(())
}

#[test]
fn watching_star_is_watching_every_namespace() -> Result<()> {
    let everywhere = by_key(render(&[])?)?;
    assert_eq!(by_key(render(&["watchNamespaces={*}"])?)?, everywhere);
    let rendered = render(&["watchNamespaces={*}"])?;
    assert!(
        of_kind(&rendered, "RoleBinding").len() == 1,
        "only leader election's"
    );
    assert_eq!(
        env(&rendered, "BROKERAGE_WATCH_NAMESPACES").as_deref(),
        Some("*")
    );
    Ok(())
}

#[test]
fn replicas_are_set_and_leader_election_is_on() -> Result<()> {
    for replicas in [1, 2, 3] {
        let rendered = render(&[&format!("replicas={replicas}")])?;
        assert_eq!(
            deployment(&rendered)["spec"]["replicas"].as_u64(),
            Some(replicas),
            "replicas={replicas}"
        );
        assert_eq!(
            env(&rendered, "BROKERAGE_LEADER_ELECTION").as_deref(),
            Some("true"),
            "leader election with replicas={replicas}"
        );
        // It needs its Lease in the operator's namespace.
        find(
            &rendered,
            "RoleBinding",
            Some("brokerage"),
            "brokerage-leader-election",
        );
    }
    Ok(())
}

#[test]
fn image_log_level_and_resources_come_from_values() -> Result<()> {
    let rendered = render(&[
        "image.repository=registry.example/brokerage,image.tag=dev,image.pullPolicy=Always",
        "logLevel=debug\\,kube=info",
        "resources.limits.memory=1Gi",
    ])?;
    let operator = container(&rendered);
    assert_eq!(
        operator["image"].as_str(),
        Some("registry.example/brokerage:dev")
    );
    assert_eq!(operator["imagePullPolicy"].as_str(), Some("Always"));
    assert_eq!(
        env(&rendered, "RUST_LOG").as_deref(),
        Some("debug,kube=info")
    );
    assert_eq!(
        operator["resources"]["limits"]["memory"].as_str(),
        Some("1Gi")
    );
    assert_eq!(
        operator["resources"]["requests"]["memory"].as_str(),
        Some("64Mi")
    );

    // By default: the chart's appVersion, no pull policy, no RUST_LOG (the operator's own
    // `info,kube=warn`).
    let defaults = render(&[])?;
    let operator = container(&defaults);
    assert_eq!(
        operator["image"].as_str(),
        Some("ghcr.io/brokerage/brokerage:0.1.0")
    );
    assert!(operator["imagePullPolicy"].is_null());
    assert_eq!(env(&defaults, "RUST_LOG"), None);
    Ok(())
}

#[test]
fn the_release_namespace_holds_the_operator_and_its_namespace_is_optional() -> Result<()> {
    let rendered = render_into("ops", &[])?;
    find(&rendered, "Namespace", None, "ops");
    find(
        &rendered,
        "ServiceAccount",
        Some("ops"),
        "brokerage-operator",
    );
    find(&rendered, "Deployment", Some("ops"), "brokerage-operator");
    find(&rendered, "Role", Some("ops"), "brokerage-leader-election");
    let binding = find(&rendered, "ClusterRoleBinding", None, "brokerage-operator");
    assert_eq!(binding["subjects"][0]["namespace"].as_str(), Some("ops"));
    let namespaced: Vec<String> = rendered
        .iter()
        .filter_map(|object| object["metadata"]["namespace"].as_str())
        .filter(|namespace| *namespace != "ops")
        .map(String::from)
        .collect();
    assert!(namespaced.is_empty(), "objects outside ops: {namespaced:?}");

    let without = render_into("ops", &["namespace.create=false"])?;
    assert!(of_kind(&without, "Namespace").is_empty());
    assert_eq!(without.len(), rendered.len() - 1);
    Ok(())
}
