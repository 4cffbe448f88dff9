//! Each broker's `broker.conf`: the settings the operator owns (identity, role, name servers,
//! ports, store paths, admin credentials), then the user's `broker-common.conf` settings.
//!
//! A broker creates its initial ACL 2.0 user in its authentication metadata store at start-up,
//! and refuses to start when it has none: so the operator gives every broker RocketMQ's local
//! stores (kept under `storePathRootDir`) by default, whether ACL is on or off, and names the
//! admin credentials only when a store is configured.
//!
//! The ConfigMap is not a secret, so the credentials are placeholders that the pod's start
//! script fills in from environment variables read from the credentials Secret (the pod's IP
//! likewise). Its text depends only on the model, so an unchanged spec gives a byte-identical
//! file and no restart.

use std::fmt::Write;

use api::rocketmq::ReplicationMode;

use super::model::{BrokerModel, Node};
use super::names;
use operator_common::properties::{self, Properties, is_plain_key};
use operator_common::validation::Warning;

/// The key of the file in each broker's ConfigMap.
pub const BROKER_CONF: &str = "broker.conf";
/// RocketMQ's name-server list key: the one setting changed live, without a restart.
pub const NAME_SERVERS_KEY: &str = "namesrvAddr";

/// Filled in by the start script from the pod's environment.
pub const POD_IP_PLACEHOLDER: &str = "@POD_IP@";
pub const ACCESS_KEY_PLACEHOLDER: &str = "@ADMIN_ACCESS_KEY@";
pub const SECRET_KEY_PLACEHOLDER: &str = "@ADMIN_SECRET_KEY@";

const PLACEHOLDERS: [&str; 3] = [
    POD_IP_PLACEHOLDER,
    ACCESS_KEY_PLACEHOLDER,
    SECRET_KEY_PLACEHOLDER,
];

/// Where the data volume is mounted.
pub const STORE_DIR: &str = "/home/rocketmq/store";

/// One owned setting: its section heading, key and value.
type Owned = (String, &'static str, String);

/// The settings the operator owns for `node`, in file order.
pub fn owned_settings(model: &BrokerModel, node: &Node) -> Vec<Owned> {
    let role = match (node.is_master(), model.replication) {
        (false, _) => "SLAVE",
        (true, ReplicationMode::Async) => "ASYNC_MASTER",
        (true, ReplicationMode::Sync) => "SYNC_MASTER",
    };
    let identity = || "Identity".to_string();
    let network = || "Network".to_string();
    let storage = || "Storage".to_string();
    let credentials = || {
        let secret = names::admin_credentials_secret(&model.cluster);
        format!("The cluster's admin credentials (ACL 2.0), from the Secret {secret}")
    };
    let mut settings = vec![
        (identity(), "brokerClusterName", model.cluster.clone()),
        (
            identity(),
            "brokerName",
            names::broker_name(&model.cluster, node.group),
        ),
    ];
    match &model.controllers {
        None => settings.extend([
            (identity(), "brokerId", node.replica.to_string()),
            (identity(), "brokerRole", role.to_string()),
        ]),
        Some(controllers) => {
            let heading = "Controller mode: the controllers elect the group's master, so \
                           brokerId and brokerRole are theirs";
            settings.extend([
                (
                    heading.to_string(),
                    "enableControllerMode",
                    "true".to_string(),
                ),
                (heading.to_string(), "controllerAddr", controllers.clone()),
            ]);
        }
    }
    settings.extend([
        (
            "Name servers (updated live on running brokers)".to_string(),
            NAME_SERVERS_KEY,
            model.name_servers.clone(),
        ),
        (network(), "brokerIP1", POD_IP_PLACEHOLDER.to_string()),
        (network(), "listenPort", names::BROKER_PORT.to_string()),
        (network(), "haListenPort", names::BROKER_HA_PORT.to_string()),
        (storage(), "storePathRootDir", STORE_DIR.to_string()),
        (
            storage(),
            "storePathCommitLog",
            format!("{STORE_DIR}/commitlog"),
        ),
    ]);
    if has_user_store(model) {
        settings.extend([
            (
                credentials(),
                "initAuthenticationUser",
                format!(
                    r#"{{"username":"{ACCESS_KEY_PLACEHOLDER}","password":"{SECRET_KEY_PLACEHOLDER}"}}"#
                ),
            ),
            (
                credentials(),
                "innerClientAuthenticationCredentials",
                format!(
                    r#"{{"accessKey":"{ACCESS_KEY_PLACEHOLDER}","secretKey":"{SECRET_KEY_PLACEHOLDER}"}}"#
                ),
            ),
        ]);
    }
    settings
}

/// RocketMQ's key for the store of ACL 2.0 users.
const USER_STORE_KEY: &str = "authenticationMetadataProvider";

/// Whether the broker has a store for ACL 2.0 users: the default one unless `broker-common.conf`
/// empties the setting. Without one, a broker given an initial user refuses to start.
fn has_user_store(model: &BrokerModel) -> bool {
    model
        .user_config
        .get(USER_STORE_KEY)
        .is_none_or(|provider| !provider.trim().is_empty())
}

/// Settings the operator chooses unless `broker-common.conf` sets them. A broker applies a
/// name-server list changed live on its next `updateNameServerAddrPeriod` (RocketMQ's default
/// is two minutes): every 30 s, a live change takes effect within half a minute.
///
/// ACL 2.0's providers, RocketMQ's own: the metadata stores keep users and ACLs (RocketMQUsers
/// and the admin user) whether or not they are enforced, and with the checking providers named
/// too, `authenticationEnabled=true` and `authorizationEnabled=true` alone turn ACL on.
const DEFAULTS: &[(&str, &str)] = &[
    ("updateNameServerAddrPeriod", "30000"),
    (
        "authenticationProvider",
        "org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider",
    ),
    (
        USER_STORE_KEY,
        "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider",
    ),
    (
        "authorizationProvider",
        "org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider",
    ),
    (
        "authorizationMetadataProvider",
        "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider",
    ),
];

/// Defaults of controller mode: a message is acknowledged once every in-sync replica has it, so
/// that the replica the controllers elect when a master is lost has every acknowledged message.
const CONTROLLER_MODE_DEFAULTS: &[(&str, &str)] = &[("allAckInSyncStateSet", "true")];

/// Whether the operator sets `key` itself.
pub fn is_owned(key: &str) -> bool {
    const OWNED: &[&str] = &[
        "brokerClusterName",
        "brokerName",
        "brokerId",
        "brokerRole",
        "enableControllerMode",
        "controllerAddr",
        NAME_SERVERS_KEY,
        "brokerIP1",
        "listenPort",
        "haListenPort",
        "storePathRootDir",
        "storePathCommitLog",
        "initAuthenticationUser",
        "innerClientAuthenticationCredentials",
    ];
    OWNED.contains(&key)
}

/// The `broker.conf` of `node`.
pub fn build_broker_conf(model: &BrokerModel, node: &Node) -> String {
    let mut text = String::new();
    let mut line = |line: String| {
        text.push_str(&line);
        text.push('\n');
    };
    line(format!(
        "# broker.conf of {}, generated by Brokerage from Broker {}; edits are overwritten.",
        model.pod_name(node),
        model.cluster
    ));
    line(format!(
        "# {POD_IP_PLACEHOLDER}, {ACCESS_KEY_PLACEHOLDER} and {SECRET_KEY_PLACEHOLDER} are \
         filled in from the pod's environment when the broker starts."
    ));
    let mut section = String::new();
    for (heading, key, value) in owned_settings(model, node) {
        if heading != section {
            line(format!("\n# {heading}"));
            section = heading;
        }
        line(properties::line(key, &value));
    }
    let mode_defaults = match model.controllers {
        Some(_) => CONTROLLER_MODE_DEFAULTS,
        None => &[],
    };
    let defaults: Vec<&(&str, &str)> = (DEFAULTS.iter().chain(mode_defaults))
        .filter(|(key, _)| !model.user_config.contains_key(*key))
        .collect();
    if !defaults.is_empty() {
        line("\n# Defaults (broker-common.conf may change them)".to_string());
        for (key, value) in defaults {
            line(properties::line(key, value));
        }
    }
    if !model.user_config.is_empty() {
        match &model.user_config_source {
            Some((config_map, key)) => {
                line(format!("\n# From {key} in the ConfigMap {config_map}"))
            }
            None => line("\n# The user's settings".to_string()),
        }
        for (key, value) in &model.user_config {
            line(properties::line(key, value));
        }
    }
    text
}

/// `conf` without its name-server line: what a restart depends on, since the name servers
/// are updated live.
pub fn without_name_servers(conf: &str) -> String {
    let prefix = format!("{NAME_SERVERS_KEY}=");
    let mut kept = String::new();
    for line in conf.lines().filter(|line| !line.starts_with(&prefix)) {
        writeln!(kept, "{line}").expect("writing to a String");
    }
    kept
}

/// The user's settings without the owned keys. An owned key set to something other than what
/// the operator sets (on group 0's master, so `brokerRole=ASYNC_MASTER` as upstream's examples
/// write it passes quietly) is named in a warning.
pub fn split_owned(model: &BrokerModel, user: Properties) -> (Properties, Vec<Warning>) {
    let reference = owned_settings(model, &Node::master(0));
    let source = model
        .user_config_source
        .as_ref()
        .map(|(config_map, key)| format!("{key} in the ConfigMap {config_map}"))
        .unwrap_or_default();
    let mut kept = Properties::new();
    let mut warnings = Vec::new();
    for (key, value) in user {
        if !is_plain_key(&key) {
            warnings.push(Warning {
                reason: "ForbiddenConfig",
                message: format!(
                    "{source} sets {key:?}, which is not a RocketMQ setting (their names are \
                     letters, digits, '.', '_' and '-'); it is ignored"
                ),
            });
            continue;
        }
        if let Some(placeholder) = PLACEHOLDERS.iter().find(|p| value.contains(**p)) {
            // The start script would fill in the admin secret key (or the pod's IP) there, where
            // anyone who can read that setting back (a broker's name, its registered address)
            // would see it.
            warnings.push(Warning {
                reason: "ForbiddenConfig",
                message: format!(
                    "{source} sets {key} to a value containing {placeholder}, which the broker's                      start script replaces; it is ignored"
                ),
            });
            continue;
        }
        if !is_owned(&key) {
            kept.insert(key, value);
            continue;
        }
        let ours = reference.iter().find(|(_, owned, _)| *owned == key);
        if ours.is_some_and(|(_, _, ours)| *ours == value) {
            continue;
        }
        warnings.push(Warning {
            reason: "ForbiddenConfig",
            message: format!(
                "{source} sets {key}, which the operator sets itself; the value is ignored{}",
                hint(&key)
            ),
        });
    }
    (kept, warnings)
}

fn hint(key: &str) -> &'static str {
    match key {
        "brokerRole" => " (set spec.replicationMode to SYNC or ASYNC)",
        NAME_SERVERS_KEY => " (set spec.nameServers)",
        "storePathRootDir" | "storePathCommitLog" => " (storage is spec.storageMode's)",
        "initAuthenticationUser" | "innerClientAuthenticationCredentials" => {
            " (the admin credentials are in the Secret <broker>-admin-credentials)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assembly::testing::{controller_mode, example_broker, inputs, with_common_config};

    fn properties(text: &str) -> Properties {
        properties::parse(text).unwrap()
    }

    #[test]
    fn in_controller_mode_the_controllers_choose_roles_and_acks_wait_for_the_in_sync_set() {
        let (broker, inputs) = controller_mode();
        let model = crate::assembly::model::validate(&broker, &inputs).unwrap();
        for node in [
            Node::master(0),
            Node {
                group: 0,
                replica: 1,
            },
        ] {
            let conf = properties(&build_broker_conf(&model, &node));
            assert_eq!(conf["enableControllerMode"], "true");
            assert_eq!(
                conf["controllerAddr"],
                "controller-0.controller-svc-headless.rocketmq.svc:9878;\
                 controller-1.controller-svc-headless.rocketmq.svc:9878;\
                 controller-2.controller-svc-headless.rocketmq.svc:9878"
            );
            assert_eq!(conf["brokerName"], "broker-0");
            assert_eq!(conf["allAckInSyncStateSet"], "true");
            assert!(!conf.contains_key("brokerId") && !conf.contains_key("brokerRole"));
        }
        // Static groups have neither.
        let model = crate::assembly::model::validate(&example_broker(), &inputs).unwrap();
        let conf = properties(&build_broker_conf(&model, &Node::master(0)));
        assert!(
            !conf.contains_key("enableControllerMode")
                && !conf.contains_key("allAckInSyncStateSet")
        );
        assert_eq!(conf["brokerRole"], "ASYNC_MASTER");
    }

    #[test]
    fn masters_and_replicas_get_their_identity_and_role() {
        let model = crate::assembly::model::validate(&example_broker(), &inputs()).unwrap();
        let master = properties(&build_broker_conf(&model, &Node::master(1)));
        assert_eq!(master["brokerClusterName"], "broker");
        assert_eq!(master["brokerName"], "broker-1");
        assert_eq!(master["brokerId"], "0");
        assert_eq!(master["brokerRole"], "ASYNC_MASTER");
        assert_eq!(
            master["namesrvAddr"],
            "name-service-0.name-service.rocketmq.svc:9876"
        );
        assert_eq!(master["listenPort"], "10911");
        assert_eq!(master["haListenPort"], "10912");
        assert_eq!(master["brokerIP1"], "@POD_IP@");
        assert_eq!(master["storePathRootDir"], "/home/rocketmq/store");
        assert_eq!(
            master["initAuthenticationUser"],
            r#"{"username":"@ADMIN_ACCESS_KEY@","password":"@ADMIN_SECRET_KEY@"}"#
        );
        assert_eq!(
            master["innerClientAuthenticationCredentials"],
            r#"{"accessKey":"@ADMIN_ACCESS_KEY@","secretKey":"@ADMIN_SECRET_KEY@"}"#
        );

        let replica = properties(&build_broker_conf(
            &model,
            &Node {
                group: 1,
                replica: 1,
            },
        ));
        assert_eq!(replica["brokerName"], "broker-1");
        assert_eq!(replica["brokerId"], "1");
        assert_eq!(replica["brokerRole"], "SLAVE");

        let mut sync = model.clone();
        sync.replication = ReplicationMode::Sync;
        let master = properties(&build_broker_conf(&sync, &Node::master(0)));
        assert_eq!(master["brokerRole"], "SYNC_MASTER");
    }

    #[test]
    fn user_settings_are_merged_and_owned_keys_protected() {
        let (broker, inputs) = with_common_config(
            "deleteWhen=04\nfileReservedTime=48\nbrokerRole=ASYNC_MASTER\nbrokerId=7\n\
             namesrvAddr=1.2.3.4:9876\nauthenticationEnabled=true\n",
        );
        let model = crate::assembly::model::validate(&broker, &inputs).unwrap();
        let conf = build_broker_conf(&model, &Node::master(0));
        let merged = properties(&conf);
        assert_eq!(merged["deleteWhen"], "04");
        assert_eq!(merged["authenticationEnabled"], "true");
        assert_eq!(merged["updateNameServerAddrPeriod"], "30000");
        assert_eq!(merged["brokerId"], "0");
        assert_eq!(
            merged["namesrvAddr"],
            "name-service-0.name-service.rocketmq.svc:9876"
        );
        assert!(conf.contains("# From broker-common.conf in the ConfigMap broker-config"));
        // brokerRole=ASYNC_MASTER is what the operator sets anyway: no warning for it.
        let messages: Vec<&str> = model
            .warnings
            .iter()
            .map(|warning| warning.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with(
            "broker-common.conf in the ConfigMap broker-config sets brokerId, which the operator \
             sets itself; the value is ignored"
        ));
        assert!(messages[1].contains("sets namesrvAddr,"));
        assert!(messages[1].ends_with("(set spec.nameServers)"));
        assert!(
            model
                .warnings
                .iter()
                .all(|warning| warning.reason == "ForbiddenConfig")
        );
    }

    #[test]
    fn brokers_get_acl_stores_by_default_and_the_admin_user_only_with_a_user_store() {
        let model = crate::assembly::model::validate(&example_broker(), &inputs()).unwrap();
        let defaults = properties(&build_broker_conf(&model, &Node::master(0)));
        assert_eq!(
            defaults["authenticationMetadataProvider"],
            "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider"
        );
        assert_eq!(
            defaults["authorizationMetadataProvider"],
            "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider"
        );
        assert!(defaults.contains_key("initAuthenticationUser"));
        // ACL stays off unless the user turns it on.
        assert!(!defaults.contains_key("authenticationEnabled"));
        assert!(!defaults.contains_key("authorizationEnabled"));

        let (broker, inputs) = with_common_config(
            "authenticationMetadataProvider=com.example.UserStore\nauthenticationEnabled=true\n",
        );
        let model = crate::assembly::model::validate(&broker, &inputs).unwrap();
        let conf = build_broker_conf(&model, &Node::master(0));
        assert_eq!(conf.matches("authenticationMetadataProvider=").count(), 1);
        let custom = properties(&conf);
        assert_eq!(
            custom["authenticationMetadataProvider"],
            "com.example.UserStore"
        );
        assert!(custom.contains_key("innerClientAuthenticationCredentials"));

        // No user store: RocketMQ would refuse to start with an initial user.
        let (broker, inputs) = with_common_config("authenticationMetadataProvider=\n");
        let model = crate::assembly::model::validate(&broker, &inputs).unwrap();
        let without = properties(&build_broker_conf(&model, &Node::master(0)));
        assert_eq!(without["authenticationMetadataProvider"], "");
        assert!(!without.contains_key("initAuthenticationUser"));
        assert!(!without.contains_key("innerClientAuthenticationCredentials"));
    }

    #[test]
    fn the_users_value_replaces_an_operator_default() {
        let (broker, inputs) = with_common_config("updateNameServerAddrPeriod=60000\n");
        let model = crate::assembly::model::validate(&broker, &inputs).unwrap();
        let conf = build_broker_conf(&model, &Node::master(0));
        assert_eq!(conf.matches("updateNameServerAddrPeriod=").count(), 1);
        assert_eq!(properties(&conf)["updateNameServerAddrPeriod"], "60000");
    }

    #[test]
    fn the_restart_relevant_text_leaves_out_only_the_name_servers() {
        let model = crate::assembly::model::validate(&example_broker(), &inputs()).unwrap();
        let conf = build_broker_conf(&model, &Node::master(0));
        let mut moved = model.clone();
        moved.name_servers = "elsewhere:9876".into();
        let moved_conf = build_broker_conf(&moved, &Node::master(0));
        assert_ne!(conf, moved_conf);
        assert_eq!(
            without_name_servers(&conf),
            without_name_servers(&moved_conf)
        );
        assert!(!without_name_servers(&conf).contains("namesrvAddr"));
        assert!(without_name_servers(&conf).contains("brokerName=broker-0"));
    }

    #[test]
    fn settings_cannot_escape_their_line_or_hide_an_owned_key() {
        let (broker, inputs) = with_common_config(
            "\\u0062rokerRole=SLAVE\nbroker\\ Role=SLAVE\nsneaky=x\\nbrokerId\\=9\\u000abrokerRole=SLAVE\n",
        );
        let model = crate::assembly::model::validate(&broker, &inputs).unwrap();
        let conf = build_broker_conf(&model, &Node::master(0));
        let read = properties(&conf);
        assert_eq!(read["brokerRole"], "ASYNC_MASTER");
        assert_eq!(read["brokerId"], "0");
        assert_eq!(read["sneaky"], "x\nbrokerId=9\nbrokerRole=SLAVE");
        assert!(!read.contains_key("broker Role"));
        let messages: Vec<&str> = model.warnings.iter().map(|w| w.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("sets brokerRole, which the operator"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("sets \"broker Role\", which is not"))
        );

        // A placeholder in a user's value would be filled in with the admin secret key.
        let (_, inputs) = with_common_config("brokerIP2=@ADMIN_SECRET_KEY@\nkept=1\n");
        let model = crate::assembly::model::validate(&broker, &inputs).unwrap();
        let read = properties(&build_broker_conf(&model, &Node::master(0)));
        assert!(!read.contains_key("brokerIP2") && read["kept"] == "1");
        assert!(model.warnings.iter().any(|w| {
            w.message
                .contains("brokerIP2 to a value containing @ADMIN_SECRET_KEY@")
        }));

        // Values the operator writes are escaped too.
        let mut model = model;
        model.name_servers = "ns:9876\nbrokerRole=SLAVE".into();
        let read = properties(&build_broker_conf(&model, &Node::master(0)));
        assert_eq!(read["brokerRole"], "ASYNC_MASTER");
        assert_eq!(read["namesrvAddr"], "ns:9876\nbrokerRole=SLAVE");
    }
}
