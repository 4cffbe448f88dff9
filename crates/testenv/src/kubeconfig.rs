//! The admin kubeconfig that tests, `kubectl` and the other components use.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

use crate::node::BRIDGE_ADDRESS;
use crate::pki::Pki;

const NAME: &str = "brokerage-testenv";

pub fn admin_kubeconfig(pki: &Pki, apiserver_port: u16) -> Kubeconfig {
    Kubeconfig {
        clusters: vec![NamedCluster {
            name: NAME.into(),
            cluster: Some(Cluster {
                server: Some(format!("https://{BRIDGE_ADDRESS}:{apiserver_port}")),
                certificate_authority_data: Some(STANDARD.encode(&pki.ca_cert_pem)),
                ..Cluster::default()
            }),
            other: Default::default(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: "admin".into(),
            auth_info: Some(AuthInfo {
                client_certificate_data: Some(STANDARD.encode(&pki.admin_cert_pem)),
                client_key_data: Some(STANDARD.encode(&pki.admin_key_pem).into()),
                ..AuthInfo::default()
            }),
            other: Default::default(),
        }],
        contexts: vec![NamedContext {
            name: NAME.into(),
            context: Some(Context {
                cluster: NAME.into(),
                user: Some("admin".into()),
                ..Context::default()
            }),
            other: Default::default(),
        }],
        current_context: Some(NAME.into()),
        ..Kubeconfig::default()
    }
}
