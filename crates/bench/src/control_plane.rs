//! The local control plane itself: how long it takes to start, and to install our CRDs.
//! The started cluster is returned so the other benchmarks run on it.

use std::time::Instant;

use anyhow::Result;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};

use crate::Figure;

pub async fn run() -> Result<(testenv::Cluster, Vec<Figure>)> {
    let cluster = testenv::Cluster::start().await?;
    let client = cluster.client().await?;

    let began = Instant::now();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names = Vec::new();
    for crd in api::all_crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        crds.patch(
            &name,
            &PatchParams::apply("brokerage-bench").force(),
            &Patch::Apply(&crd),
        )
        .await?;
        names.push(name);
    }
    testenv::wait_established(&client, &names).await?;
    let crds_established = began.elapsed();

    let figures = vec![
        Figure {
            name: "testenv_startup",
            value: cluster.startup_time().as_secs_f64(),
            unit: "s",
        },
        Figure {
            name: "crds_established",
            value: crds_established.as_secs_f64(),
            unit: "s",
        },
    ];
    Ok((cluster, figures))
}
