//! Which topic resources gain or lose the topic operator's finalizer. Pure.

use std::sync::Arc;

use kube::Resource;
use runtime::finalizer::has_finalizer;

/// Of the resources whose topics are kept in sync: those that need `finalizer` and those that
/// must lose it. The finalizer goes on before a topic is created, so its deletion is never
/// missed; with deletion off, resources carry none.
pub fn finalizer_changes<'a, K: Resource + 'a>(
    syncing: impl Iterator<Item = &'a Arc<K>>,
    finalizer: &str,
    delete_topics: bool,
) -> (Vec<Arc<K>>, Vec<Arc<K>>) {
    let (finalized, not_finalized): (Vec<_>, Vec<_>) = syncing
        .cloned()
        .partition(|topic| has_finalizer(topic.as_ref(), finalizer));
    match delete_topics {
        true => (not_finalized, Vec::new()),
        false => (Vec::new(), finalized),
    }
}
