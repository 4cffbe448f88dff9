//! Node IDs: stable for the life of a node and unique across all pools of a cluster.
//!
//! Each pool's IDs form one contiguous range, because a pool runs as a StatefulSet whose pods are
//! named by ordinal (`spec.ordinals.start` onwards) and which removes the highest ordinal first.
//! So a pool keeps the IDs it has, scales down by dropping its highest IDs and scales up by taking
//! the IDs right above its range.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Range, RangeInclusive};

use operator_common::validation::InvalidSpec;

/// Strimzi's annotation on a KafkaNodePool with the IDs its new nodes should get, such as `[10-19]`.
pub const NEXT_NODE_IDS_ANNOTATION: &str = "strimzi.io/next-node-ids";
/// Strimzi's annotation naming the IDs to remove on scale-down; a StatefulSet cannot honour it.
pub const REMOVE_NODE_IDS_ANNOTATION: &str = "strimzi.io/remove-node-ids";

/// What one pool asks for.
#[derive(Clone, Debug)]
pub struct IdRequest {
    pub pool: String,
    pub replicas: i32,
    /// Pools with controllers get their IDs before broker-only pools, so that the pools that
    /// usually grow (brokers) sit at the top of the range with room above them.
    pub has_controller_role: bool,
    /// The IDs from the pool's `status.nodeIds`.
    pub existing: Vec<i32>,
    /// The raw `strimzi.io/next-node-ids` annotation, if any.
    pub next_node_ids: Option<String>,
}

/// How many node IDs a `strimzi.io/next-node-ids` annotation may name: far more than any cluster
/// needs, and small enough that trying them all is quick. `[0-2000000000]` is refused rather
/// than walked.
pub const MAX_ANNOTATION_IDS: u64 = 10_000;

/// The node IDs of every pool, each list sorted.
pub fn assign(requests: &[IdRequest]) -> Result<BTreeMap<String, Vec<i32>>, InvalidSpec> {
    let mut used = BTreeSet::new();
    for request in requests {
        check_replicas(request)?;
        check_contiguous(request)?;
        for id in &request.existing {
            if !used.insert(*id) {
                return Err(InvalidSpec::new(
                    format!("KafkaNodePool {}: status.nodeIds", request.pool),
                    format!(
                        "node ID {id} is also used by another pool; node IDs must be unique across pools"
                    ),
                ));
            }
        }
    }

    let mut assigned = BTreeMap::new();
    // Pools that already have IDs grow first, so that new pools avoid the IDs they take.
    let (growing, new): (Vec<&IdRequest>, Vec<&IdRequest>) =
        requests.iter().partition(|r| !r.existing.is_empty());
    for request in growing {
        let ids = resize(request, &used)?;
        used.extend(&ids);
        assigned.insert(request.pool.clone(), ids);
    }

    let mut new = new;
    new.sort_by_key(|r| (!r.has_controller_role, r.pool.clone()));
    for request in new {
        let ids = place_new_pool(request, &used)?;
        used.extend(&ids);
        assigned.insert(request.pool.clone(), ids);
    }
    Ok(assigned)
}

/// The schema caps `spec.replicas`; this holds for pools stored before it did.
fn check_replicas(request: &IdRequest) -> Result<(), InvalidSpec> {
    if request.replicas <= api::MAX_REPLICAS {
        return Ok(());
    }
    Err(InvalidSpec::new(
        format!("KafkaNodePool {}: spec.replicas", request.pool),
        format!(
            "{} nodes is more than the {} a pool may have; use several pools for more",
            request.replicas,
            api::MAX_REPLICAS
        ),
    ))
}

fn check_contiguous(request: &IdRequest) -> Result<(), InvalidSpec> {
    let mut sorted = request.existing.clone();
    sorted.sort_unstable();
    let contiguous = sorted
        .windows(2)
        .all(|pair| pair[0].checked_add(1) == Some(pair[1]));
    if contiguous {
        Ok(())
    } else {
        Err(InvalidSpec::new(
            format!("KafkaNodePool {}: status.nodeIds", request.pool),
            format!(
                "node IDs {sorted:?} are not one contiguous range; a pool runs as a StatefulSet, \
                 whose pods are numbered consecutively"
            ),
        ))
    }
}

/// `count` IDs from `start`, or `None` when they would pass the largest node ID.
fn id_range(start: i32, count: i32) -> Option<Range<i32>> {
    Some(start..start.checked_add(count)?)
}

/// Keeps the lowest IDs on scale-down and takes the IDs right above the range on scale-up.
fn resize(request: &IdRequest, used: &BTreeSet<i32>) -> Result<Vec<i32>, InvalidSpec> {
    let start = *request
        .existing
        .iter()
        .min()
        .expect("existing is not empty");
    let field = format!("KafkaNodePool {}: spec.replicas", request.pool);
    let ids = id_range(start, request.replicas.max(0)).ok_or_else(|| {
        InvalidSpec::new(
            &field,
            format!(
                "cannot scale up to {} nodes: the node IDs would pass {}; add a new \
                 KafkaNodePool for the extra nodes instead",
                request.replicas,
                i32::MAX
            ),
        )
    })?;
    let current = request.existing.len();
    if let Some(taken) = ids.clone().skip(current).find(|id| used.contains(id)) {
        return Err(InvalidSpec::new(
            field,
            format!(
                "cannot scale up to {} nodes: node ID {taken} is used by another pool and a pool's \
                 node IDs must be contiguous; add a new KafkaNodePool for the extra nodes instead",
                request.replicas
            ),
        ));
    }
    Ok(ids.collect())
}

/// Takes the first free range of `replicas` IDs, starting from the pool's `next-node-ids` if given.
fn place_new_pool(request: &IdRequest, used: &BTreeSet<i32>) -> Result<Vec<i32>, InvalidSpec> {
    let count = request.replicas.max(0);
    if count == 0 {
        return Ok(Vec::new());
    }
    let preferred = match &request.next_node_ids {
        Some(annotation) => parse_id_ranges(annotation).map_err(|message| {
            InvalidSpec::new(
                format!(
                    "KafkaNodePool {}: metadata.annotations[{NEXT_NODE_IDS_ANNOTATION}]",
                    request.pool
                ),
                message,
            )
        })?,
        None => Vec::new(),
    };
    let is_free =
        |start: i32| id_range(start, count).is_some_and(|ids| used.range(ids).next().is_none());
    let start = preferred
        .into_iter()
        .flatten()
        .find(|start| is_free(*start))
        .or_else(|| lowest_free_start(count, used))
        .ok_or_else(|| {
            InvalidSpec::new(
                format!("KafkaNodePool {}: spec.replicas", request.pool),
                format!("there are no {count} free consecutive node IDs left"),
            )
        })?;
    Ok((start..start + count).collect())
}

/// The lowest start of `count` free consecutive IDs: each try skips past the highest used ID in
/// its way, so this takes at most one step per used ID.
fn lowest_free_start(count: i32, used: &BTreeSet<i32>) -> Option<i32> {
    let mut start = 0;
    loop {
        match used.range(id_range(start, count)?).next_back() {
            Some(taken) => start = taken.checked_add(1)?,
            None => return Some(start),
        }
    }
}

/// Parses Strimzi's ID list syntax: `[0, 3, 10-12]` means 0, 3, 10, 11, 12. The ranges are kept
/// as ranges and their total length capped, so an annotation cannot make the operator allocate.
fn parse_id_ranges(annotation: &str) -> Result<Vec<RangeInclusive<i32>>, String> {
    let inner = annotation
        .trim()
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| format!("{annotation:?} is not a list such as [0, 3, 10-12]"))?;
    let mut ranges = Vec::new();
    let mut total: u64 = 0;
    for item in inner.split(',').filter(|item| !item.trim().is_empty()) {
        let item = item.trim();
        let invalid = || {
            format!(
                "{item:?} in {annotation:?} is neither a node ID nor a range such as 10-12; node \
                 IDs are whole numbers from 0 to {}",
                i32::MAX
            )
        };
        let parse = |text: &str| text.trim().parse::<i32>().ok().filter(|id| *id >= 0);
        let range = match item.split_once('-') {
            Some((from, to)) => parse(from).ok_or_else(invalid)?..=parse(to).ok_or_else(invalid)?,
            None => {
                let id = parse(item).ok_or_else(invalid)?;
                id..=id
            }
        };
        if range.is_empty() {
            return Err(format!(
                "{item:?} in {annotation:?} is a range from a higher ID to a lower one; write \
                 the lower ID first"
            ));
        }
        total += range_length(&range);
        if total > MAX_ANNOTATION_IDS {
            return Err(format!(
                "{annotation:?} names more than {MAX_ANNOTATION_IDS} node IDs; name only the IDs \
                 the pool's new nodes may take"
            ));
        }
        ranges.push(range);
    }
    Ok(ranges)
}

/// How many IDs `range` holds.
fn range_length(range: &RangeInclusive<i32>) -> u64 {
    let length = i64::from(*range.end()) - i64::from(*range.start()) + 1;
    u64::try_from(length).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pool: &str, replicas: i32, controller: bool, existing: &[i32]) -> IdRequest {
        IdRequest {
            pool: pool.into(),
            replicas,
            has_controller_role: controller,
            existing: existing.to_vec(),
            next_node_ids: None,
        }
    }

    #[test]
    fn new_pools_get_controllers_first_then_brokers() {
        let ids = assign(&[
            request("broker", 3, false, &[]),
            request("controller", 3, true, &[]),
        ])
        .unwrap();
        assert_eq!(ids["controller"], [0, 1, 2]);
        assert_eq!(ids["broker"], [3, 4, 5]);
    }

    #[test]
    fn existing_ids_are_kept() {
        let ids = assign(&[
            request("a", 2, false, &[7, 8]),
            request("b", 2, true, &[0, 1]),
        ])
        .unwrap();
        assert_eq!(ids["a"], [7, 8]);
        assert_eq!(ids["b"], [0, 1]);
    }

    #[test]
    fn scale_up_extends_the_range_and_scale_down_drops_the_highest() {
        let up = assign(&[
            request("controller", 3, true, &[0, 1, 2]),
            request("broker", 5, false, &[3, 4, 5]),
        ])
        .unwrap();
        assert_eq!(up["broker"], [3, 4, 5, 6, 7]);
        let down = assign(&[request("broker", 1, false, &[3, 4, 5])]).unwrap();
        assert_eq!(down["broker"], [3]);
        let zero = assign(&[request("broker", 0, false, &[3, 4, 5])]).unwrap();
        assert!(zero["broker"].is_empty());
    }

    #[test]
    fn scale_up_into_another_pool_is_refused() {
        let error = assign(&[
            request("controller", 4, true, &[0, 1, 2]),
            request("broker", 3, false, &[3, 4, 5]),
        ])
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("node ID 3 is used by another pool")
        );
    }

    #[test]
    fn a_new_pool_takes_the_lowest_free_range() {
        let ids = assign(&[
            request("old", 2, true, &[2, 3]),
            request("new", 2, false, &[]),
            request("small", 1, false, &[]),
        ])
        .unwrap();
        assert_eq!(ids["new"], [0, 1]);
        assert_eq!(ids["small"], [4]);
    }

    #[test]
    fn next_node_ids_annotation_chooses_the_start() {
        let mut pool = request("b", 2, false, &[]);
        pool.next_node_ids = Some("[1, 10-19]".into());
        let ids = assign(&[request("a", 1, true, &[0]), pool]).unwrap();
        assert_eq!(ids["b"], [1, 2]);
        let mut pool = request("b", 2, false, &[]);
        pool.next_node_ids = Some("[10-19]".into());
        assert_eq!(assign(&[pool]).unwrap()["b"], [10, 11]);
        let mut pool = request("b", 2, false, &[]);
        pool.next_node_ids = Some("ten".into());
        assert!(assign(&[pool]).is_err());
    }

    #[test]
    fn ids_are_unique_across_pools() {
        assert!(assign(&[request("a", 1, true, &[0]), request("b", 1, false, &[0])]).is_err());
        assert!(assign(&[request("a", 2, true, &[0, 2])]).is_err());
        let ids = assign(&[
            request("a", 2, true, &[]),
            request("b", 2, true, &[]),
            request("c", 2, false, &[]),
        ])
        .unwrap();
        let all: BTreeSet<i32> = ids.values().flatten().copied().collect();
        assert_eq!(all.len(), 6);
    }

    #[test]
    fn negative_ids_and_reversed_ranges_are_refused_naming_the_item() {
        let refused = |annotation: &str| {
            let mut pool = request("b", 1, false, &[]);
            pool.next_node_ids = Some(annotation.into());
            assign(&[pool]).unwrap_err().message
        };
        assert_eq!(
            refused("[3, -5]"),
            format!(
                "\"-5\" in \"[3, -5]\" is neither a node ID nor a range such as 10-12; node IDs \
                 are whole numbers from 0 to {}",
                i32::MAX
            )
        );
        assert_eq!(
            refused("[9-3]"),
            "\"9-3\" in \"[9-3]\" is a range from a higher ID to a lower one; write the lower ID \
             first"
        );
    }

    #[test]
    fn a_huge_next_node_ids_range_is_refused_without_walking_it() {
        let started = std::time::Instant::now();
        let mut pool = request("b", 3, false, &[]);
        pool.next_node_ids = Some("[0-2000000000]".into());
        let error = assign(&[pool]).unwrap_err();
        assert!(
            error.message.contains("more than 10000 node IDs"),
            "{error}"
        );
        let mut pool = request("b", 3, false, &[]);
        pool.next_node_ids = Some("[0-4000000000]".into());
        let error = assign(&[pool]).unwrap_err();
        assert!(
            error.message.contains("is neither a node ID nor a range"),
            "{error}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Up to the cap, ranges are tried in order.
        let mut pool = request("b", 2, false, &[]);
        pool.next_node_ids = Some("[0-9999]".into());
        assert_eq!(
            assign(&[request("a", 1, true, &[0]), pool]).unwrap()["b"],
            [1, 2]
        );
    }

    #[test]
    fn ids_that_would_pass_the_largest_node_id_are_refused() {
        let max = i32::MAX;
        let error = assign(&[request("b", 3, false, &[max - 1])]).unwrap_err();
        assert_eq!(error.field, "KafkaNodePool b: spec.replicas");
        assert!(error.message.contains("would pass"), "{error}");
        // A preferred start too close to the top is skipped for the lowest free range.
        let mut pool = request("b", 2, false, &[]);
        pool.next_node_ids = Some(format!("[{max}]"));
        assert_eq!(assign(&[pool]).unwrap()["b"], [0, 1]);
    }

    #[test]
    fn pools_beyond_the_replica_cap_are_refused() {
        let error = assign(&[request("b", 1_000_000_000, false, &[])]).unwrap_err();
        assert_eq!(error.field, "KafkaNodePool b: spec.replicas");
        assert!(error.message.contains("more than the 1000"), "{error}");
        let error = assign(&[request("b", 1001, false, &[0])]).unwrap_err();
        assert_eq!(error.field, "KafkaNodePool b: spec.replicas");
        assert_eq!(
            assign(&[request("b", 1000, false, &[])]).unwrap()["b"].len(),
            1000
        );
    }

    #[test]
    fn the_lowest_free_range_skips_over_used_ids() {
        let used = BTreeSet::from([0, 1, 5, 9]);
        assert_eq!(lowest_free_start(3, &used), Some(2));
        assert_eq!(lowest_free_start(4, &used), Some(10));
        assert_eq!(
            lowest_free_start(1, &BTreeSet::from([i32::MAX - 1])),
            Some(0)
        );
    }
}
